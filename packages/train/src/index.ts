export {
  Trainer,
  type StepMetrics,
  type EvalResult,
  type TrainReporter,
  type TrainerInit,
  type TrainEngine,
  TRAIN_ENGINES,
  checkEngineDevice,
} from './trainer';
export { OrtGradientEngine, type OrtDevice, type OrtEngineOptions } from './ort/engine';
export { GraphError } from './ort/graph-error';
export { summarizeOrtProfile, type ProfileSummary, type MatmulShape } from './ort/profile';
export { evaluateOn, evaluateOnOrt } from './ort/evaluate-ort';
export { ENGINE_CHOICES, resolveEngine, type EngineChoice } from './engine-choice';
export { evaluateTask, type EvalRow, type Submodel } from './evaluate';
export { defaultTrainOptions, resolveTrainOptions, type TrainOptions } from './options';
export { jointGradients, TrainingError, type JointGradients } from './joint-step';
export { AdamW, type AdamWOptions } from './adamw';
export { clipByGlobalNorm } from './clip';
export { warmupCosine, type Schedule, type WarmupCosineOptions } from './schedule';
export { Rng } from '@matformer/core'; // re-exported: Trainer and tasks take one
export { baselineConfig } from './baseline';
export type { Task } from './task';
export {
  saveTrainState,
  loadTrainState,
  type TrainProgress,
  type LoadedTrainState,
} from './train-state';
export { runFiles, runPath, readRunConfig, readMetrics } from './run-dir';
export {
  loadOrTrain,
  canonicalJson,
  RUN_SPEC_FILE,
  type LoadOrTrainOptions,
  type LoadedRun,
} from './cached-run';
export { ProgressReporter, formatEvalTable } from './progress';
export { BYTE_VOCAB_SIZE, encodeBytes, decodeBytes } from './data/byte-tokenizer';
export {
  loadTextCorpus,
  loadTextBytes,
  MAX_TEXT_BYTES,
  MOBY_DICK,
  type TextCorpus,
  type TextSourceOptions,
} from './data/text-corpus';
export { lmTask, type LMBatch, type LMTaskOptions } from './data/lm-task';
export { loadMnist } from './data/mnist';
export { parseIdx, loadIdxDataset } from './data/idx';
export { decodeImage, toTensorData, type RawImage } from './data/image-decode';
export { readImageHeader, type ImageHeader } from './data/image-header';
export { pngHeader, isPng, PngStructureError } from './data/png-header';
export { loadImageFolder } from './data/image-folder';
export {
  splitDataset,
  subset,
  validateDataset,
  datasetSize,
  type ImageDataset,
} from './data/image-dataset';
export { imageTask, type ImageBatch, type ImageTaskOptions } from './data/image-task';
