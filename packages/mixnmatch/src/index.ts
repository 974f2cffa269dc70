export { BudgetError, SliceError } from './errors';
export {
  createSpace,
  spaceSize,
  enumerateSpace,
  inSpace,
  outsideSpace,
  cheapestConfig,
  largestConfig,
  uniformConfigs,
  widthsKey,
  type SearchSpace,
  type SpaceOptions,
} from './space';
export {
  parseBudget,
  budgetLimit,
  checkFeasible,
  costKinds,
  type Budget,
  type CostKind,
} from './budget';
export {
  paramsCost,
  flopsCost,
  latencyCost,
  decodeLatency,
  costModelFor,
  type CostModel,
  type DecodeLatencyOptions,
} from './cost';
export {
  EvaluationCache,
  CachedEvaluator,
  modelHash,
  fileHash,
  type Quality,
  type EvalFn,
} from './evaluator';
export {
  lmEvaluator,
  vitEvaluator,
  type LMDataOptions,
  type DataEvaluator,
  type SliceEvaluator,
  type LMSliceOptions,
} from './lm-evaluator';
export { searchAndReportHalves, type SearchAndReport } from './held-out';
export { paretoFront, type Point } from './pareto';
export { SearchContext } from './context';
export { heuristicConfigs, heuristicSearch } from './strategies/heuristic';
export { exhaustiveSearch, EXHAUSTIVE_LIMIT } from './strategies/exhaustive';
export { evolutionarySearch, type EvolutionOptions } from './strategies/evolutionary';
export {
  search,
  strategyNames,
  type StrategyName,
  type SearchOptions,
  type SearchResult,
} from './search';
export { frontSvg, type FrontPlot } from './plot';
export { frontFile, type FrontFile } from './front-file';
export { formatCount, formatCost } from './format';
export {
  GEMMA_COLUMNS,
  EXTRA_COLUMNS,
  sliceFromWidths,
  sliceWidths,
  parseSlicesCsv,
  parseSlicesJson,
  slicesToCsv,
  slicesToJson,
  readSliceFile,
  writeSliceFile,
  resolveSlice,
  widthsFromSliceArgs,
  type Slice,
} from './slices';
