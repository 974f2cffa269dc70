export {
  createRng,
  resolveSampling,
  argmax,
  logitsRow,
  probabilities,
  sampleIndex,
  pickToken,
  type SamplingOptions,
  type Random,
} from './sampling';
export { checkPrompt, type StopReason } from './checks';
export {
  generate,
  type GenerateOptions,
  type GenerateResult,
  type GenerateStats,
} from './generate';
export {
  speculativeGenerate,
  type SpeculativeOptions,
  type SpeculativeResult,
  type SpeculativeStats,
  type RoundInfo,
} from './speculative';
export { speculativeGenerateSharedCache } from './shared-cache';
export { TimedEngine } from './timed-engine';
export {
  verifyGreedy,
  verifySampled,
  residual,
  acceptanceProbability,
  type Verdict,
} from './verify';
export { analyticSpeedup, expectedTokensPerCall, bestDraftLength } from './analytic';
export {
  consistency,
  klDivergence,
  tokenWindows,
  type ConsistencyOptions,
  type ConsistencyReport,
} from './consistency';
export {
  calibrateSpeculative,
  forwardTimes,
  type CalibrateOptions,
  type SpeculativeCalibration,
  type DraftCalibration,
} from './calibrate';
