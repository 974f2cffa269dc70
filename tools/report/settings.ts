// What the report trains and measures, in full and --quick mode. Everything a cached run depends
// on is here, so a changed setting retrains that run (runs.ts compares the whole spec).
import { matlmConfig, matvitConfig, type MatLMConfig, type MatViTConfig } from '@matformer/core';
import type { TrainOptions } from '@matformer/train';

export interface LMSettings {
  config: MatLMConfig;
  train: Partial<TrainOptions>;
  batchSize: number;
  seqLen: number;
  /** Held-out windows for the loss table (the same windows for every model). */
  evalWindows: number;
  /** Fraction of Moby Dick held out (its tail). */
  valFraction: number;
  /**
   * λ per granularity (ascending widths) of a second, ablation MatLM: the full model weighted as
   * much as the smaller ones together, to see what the uniform recipe costs the largest model.
   */
  upweightedLambdas: number[];
}

export interface ViTSettings {
  config: MatViTConfig;
  train: Partial<TrainOptions>;
  batchSize: number;
  maxShift: number;
  /**
   * MNIST test fraction: within each class, every k-th digit (k = 1/fraction) is held out
   * (splitDataset is class-stratified).
   */
  testFraction: number;
}

export interface Settings {
  mode: 'full' | 'quick';
  lm: LMSettings;
  vit: ViTSettings;
  /**
   * Mix'n'Match: an evolutionary search (from @matformer/mixnmatch) at a params budget halfway
   * between each pair of neighbouring granularities, where a mixed config can beat both.
   */
  mix: {
    /** Distinct configs each search evaluates. */
    evaluations: number;
    population: number;
  };
  consistency: { windows: number; length: number; promptLength: number; greedyTokens: number };
  speculative: {
    prompts: number;
    promptLength: number;
    newTokens: number;
    /** Draft length per round (fixed, so acceptance rates compare across drafts). */
    k: number;
    /** Timing repetitions; per prompt and config the fastest counts. */
    reps: number;
  };
  retrieval: { database: number; queries: number };
}

// Full mode: about 70 minutes on this 2-core machine when it is otherwise idle (measured
// 2026-11-24, wasm backend, two training threads): the MatLM and its λ ablation ≈ 16.5 min each
// (a joint step of 4 granularities ≈ 4 s), the four baseline LMs ≈ 20 min together, the MatViT
// family ≈ 8 min (7×7 patches, batch 64), the measurements after training ≈ 6 min.
export function fullSettings(): Settings {
  const lmConfig = matlmConfig('small');
  // 7×7 patches (16 tokens) and mean pooling, as in the retrieval demo: the preset's 4×4
  // patches cost 3× more per image and learn slower at this budget.
  const vitConfig = matvitConfig('small', { patchSize: 7, pool: 'mean' });
  return {
    mode: 'full',
    lm: {
      config: lmConfig,
      train: { steps: 250, lr: 3e-3, warmupSteps: 25, evalEvery: 0, checkpointEvery: 50, seed: 0 },
      batchSize: 8,
      seqLen: 128,
      evalWindows: 64,
      valFraction: 0.05,
      upweightedLambdas: [1, 1, 1, 3],
    },
    vit: {
      config: vitConfig,
      train: { steps: 500, lr: 3e-3, warmupSteps: 50, evalEvery: 0, checkpointEvery: 100, seed: 0 },
      batchSize: 64,
      maxShift: 0, // half an epoch: augmentation would only slow learning down
      testFraction: 1 / 9,
    },
    mix: { evaluations: 12, population: 8 },
    consistency: { windows: 16, length: 128, promptLength: 16, greedyTokens: 32 },
    speculative: { prompts: 6, promptLength: 32, newTokens: 64, k: 3, reps: 2 },
    retrieval: { database: 6000, queries: 1000 },
  };
}

// --quick: tiny models and a handful of steps. The numbers mean little; the point is that every
// table and plot is produced, end to end, in a couple of minutes (CI).
export function quickSettings(): Settings {
  const lmConfig = matlmConfig('tiny', { vocabSize: 256, maxSeqLen: 32 }); // bytes need 256 ids
  const vitConfig = matvitConfig('tiny');
  return {
    mode: 'quick',
    lm: {
      config: lmConfig,
      train: { steps: 30, lr: 1e-2, warmupSteps: 3, evalEvery: 0, checkpointEvery: 0, seed: 0 },
      batchSize: 8,
      seqLen: 32,
      evalWindows: 16,
      valFraction: 0.05,
      upweightedLambdas: [1, 1, 1, 3],
    },
    vit: {
      config: vitConfig,
      train: { steps: 30, lr: 1e-2, warmupSteps: 3, evalEvery: 0, checkpointEvery: 0, seed: 0 },
      batchSize: 32,
      maxShift: 0,
      testFraction: 1 / 9,
    },
    mix: { evaluations: 4, population: 4 },
    consistency: { windows: 4, length: 32, promptLength: 8, greedyTokens: 8 },
    speculative: { prompts: 2, promptLength: 8, newTokens: 12, k: 3, reps: 1 },
    retrieval: { database: 500, queries: 100 },
  };
}
