// @matformer/train for browsers (the "browser" export condition): the Trainer with its
// onnxruntime-web step path (engine 'ort') and tfjs path, the onnxruntime training engine, AdamW,
// the schedule, evaluation, and the byte-level text task built from a string. Left out: what
// needs Node (run directories and cached runs, file and MNIST loaders, the terminal progress bar,
// PNG/JPEG decoding). The Trainer's own file and worker access goes through host.web.ts.
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
export { ArrayAdamW, globalNorm } from './ort/array-adamw';
export { summarizeOrtProfile, type ProfileSummary, type MatmulShape } from './ort/profile';
export { buildTrainGraph, buildScoreGraph, type TrainGraphSpec } from './ort/train-graph';
export { GraphError } from './ort/graph-error';
export { evaluateOn, evaluateOnOrt } from './ort/evaluate-ort';
export { ENGINE_CHOICES, resolveEngine, type EngineChoice } from './engine-choice';
export { evaluateTask, type EvalRow, type Submodel } from './evaluate';
export { defaultTrainOptions, resolveTrainOptions, type TrainOptions } from './options';
export { jointGradients, TrainingError, type JointGradients } from './joint-step';
export { AdamW, type AdamWOptions } from './adamw';
export { clipByGlobalNorm } from './clip';
export { warmupCosine, type Schedule, type WarmupCosineOptions } from './schedule';
export { Rng } from '@matformer/core';
export { baselineConfig } from './baseline';
export type { Task } from './task';
export { formatEvalTable } from './format-eval';
export { BYTE_VOCAB_SIZE, encodeBytes, decodeBytes } from './data/byte-tokenizer';
export { textCorpus, type TextCorpus, type TextSplitOptions } from './data/text-split';
export { lmTask, type LMBatch, type LMTaskOptions } from './data/lm-task';
export {
  splitDataset,
  subset,
  validateDataset,
  datasetSize,
  type ImageDataset,
} from './data/image-dataset';
export { imageTask, type ImageBatch, type ImageTaskOptions } from './data/image-task';
