import { ConfigError } from '@matformer/core';

export interface TrainOptions {
  /** Optimizer steps in the whole run. */
  steps: number;
  /**
   * Length of the warmup + cosine schedule (default: `steps`). A resumed run keeps its original
   * schedule (`Trainer.resume`): extended past it, it goes on at the rate of the schedule's last
   * step (where the original run ended), so the rate never jumps.
   */
  scheduleSteps?: number;
  /** Peak learning rate (after warmup). */
  lr: number;
  /** Learning rate at the end of the cosine decay; default lr / 10. */
  minLr?: number;
  warmupSteps: number;
  /** AdamW decoupled weight decay on matrices. */
  weightDecay: number;
  beta1: number;
  beta2: number;
  /** Clip the global gradient norm to this (0 = no clipping). */
  gradClip: number;
  /**
   * Which granularities train each step: 'all' (the paper: every nested submodel on the
   * same batch) or k, a random subset of k per step (cheaper steps, same objective in expectation).
   */
  granularitiesPerStep: 'all' | number;
  /** λ_i per granularity, ascending width order; default uniform (all 1). */
  lambdas?: number[];
  /** Evaluate every n steps (and always at the end); 0 = only at the end. */
  evalEvery: number;
  /** Save the resumable checkpoint every n steps (and always at the end); 0 = only at the end. */
  checkpointEvery: number;
  seed: number;
}

export const defaultTrainOptions: TrainOptions = {
  steps: 300,
  lr: 3e-3, // small models tolerate a high peak rate; warmup keeps the start stable
  warmupSteps: 30,
  weightDecay: 0.1,
  beta1: 0.9,
  beta2: 0.95,
  gradClip: 1.0,
  granularitiesPerStep: 'all',
  evalEvery: 100,
  checkpointEvery: 100,
  seed: 0,
};

/** Merges options over the defaults and checks each one, naming the bad field. */
export function resolveTrainOptions(
  options: Partial<TrainOptions>,
  numGranularities: number,
): TrainOptions {
  // Checkpoints before 0.2 stored this option as `granularities` (also the name of the widths list).
  const { granularities: legacy, ...rest } = options as Partial<TrainOptions> & {
    granularities?: 'all' | number;
  };
  const o = { ...defaultTrainOptions, ...rest };
  if (legacy !== undefined && rest.granularitiesPerStep === undefined)
    o.granularitiesPerStep = legacy;
  const positiveInt = (f: keyof TrainOptions, allowZero = false) => {
    const v = o[f] as number;
    if (!Number.isInteger(v) || v < (allowZero ? 0 : 1))
      throw new ConfigError(
        `train option ${f} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${JSON.stringify(v)}`,
      );
  };
  positiveInt('steps');
  if (o.scheduleSteps !== undefined) positiveInt('scheduleSteps');
  positiveInt('warmupSteps', true);
  positiveInt('evalEvery', true);
  positiveInt('checkpointEvery', true);
  positiveInt('seed', true);
  if (!(o.lr > 0 && Number.isFinite(o.lr)))
    throw new ConfigError(`train option lr must be a positive number, got ${o.lr}`);
  if (o.minLr !== undefined && !(o.minLr >= 0 && o.minLr <= o.lr))
    throw new ConfigError(`train option minLr must be in [0, lr], got ${o.minLr}`);
  if (!(o.weightDecay >= 0))
    throw new ConfigError(`train option weightDecay must be ≥ 0, got ${o.weightDecay}`);
  if (!(o.gradClip >= 0))
    throw new ConfigError(`train option gradClip must be ≥ 0 (0 = off), got ${o.gradClip}`);
  for (const b of ['beta1', 'beta2'] as const)
    if (!(o[b] >= 0 && o[b] < 1))
      throw new ConfigError(`train option ${b} must be in [0, 1), got ${o[b]}`);
  const k = o.granularitiesPerStep;
  if (k !== 'all' && !(Number.isInteger(k) && k >= 1 && k <= numGranularities)) {
    throw new ConfigError(
      `train option granularitiesPerStep: the number of trained granularities must be "all" or an integer in [1, ${numGranularities}], got ${JSON.stringify(k)}`,
    );
  }
  if (
    o.lambdas !== undefined &&
    (o.lambdas.length !== numGranularities || o.lambdas.some((l) => !(l > 0)))
  ) {
    throw new ConfigError(
      `train option lambdas must be ${numGranularities} positive weights (one per granularity), got ${JSON.stringify(o.lambdas)}`,
    );
  }
  return o;
}
