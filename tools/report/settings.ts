// What the report trains and measures, in full and --quick mode. Everything a cached run depends
// on is here, so a changed setting retrains that run (runs.ts compares the whole spec).
import { matlmConfig, matvitConfig, type MatLMConfig, type MatViTConfig } from '@matformer/core';
import type { TrainOptions } from '@matformer/train';
import type { SpeculativeTraining } from '../speculative-models';

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
   * Every model (the MatLM and each baseline) is trained once per seed (weight initialisation
   * and batch order), so the tables can show how far another seed moves a loss.
   */
  seeds: number[];
  /**
   * λ per granularity (ascending widths) of a second, ablation MatLM (first seed only): the full
   * model weighted as much as the smaller ones together, to see what the uniform recipe costs the
   * largest model. Absent: no ablation.
   */
  upweightedLambdas?: number[];
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
  /**
   * Training engine: 'ort' (onnxruntime-node, ~10× faster on CPU) or 'tfjs'; 'auto' picks ort
   * where onnxruntime-node loads. Held-out losses are scored on the same engine.
   */
  engine: 'auto' | 'ort' | 'tfjs';
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
    /**
     * Decoding engines measured: tfjs, onnxruntime on the plain-op export (portable), onnxruntime on
     * the decoder graph (fused ops, in-place KV buffer); the onnxruntime ones where it loads.
     */
    engines: ('tfjs' | 'ort' | 'ort-decoder')[];
  };
  /**
   * Speculative decoding on a model large enough that a step is bound by its weights, on
   * onnxruntime's decoder graph (see speculative-large.ts).
   */
  speculativeLarge: {
    training: SpeculativeTraining;
    /** Model cache (default: the report's); the full report shares tools/bench-speculative.ts's. */
    root?: string;
    /** onnxruntime intra-op threads for decoding (batch-1 decoding of one stream). */
    threads: number;
    k: number;
    temperature: number;
    prompts: number;
    promptLength: number;
    newTokens: number;
    reps: number;
  };
  retrieval: {
    database: number;
    queries: number;
    /** Test images classified by 1-NN on raw pixels over every training image; absent = all. */
    pixelQueries?: number;
  };
}

// Full mode: about an hour on this 2-core machine when it is otherwise idle, every model on the
// onnxruntime engine, the LM family's two seeds trained side by side (`--jobs`, one process and
// one thread per seed): the LM family ~47 min (a joint MatLM step 0.32 s on one thread, the four
// baselines together ~26 min), the ViT family ~12 min, measurements ~3 min. The first run
// also trains the speculative section's `large` model and its independent draft (~50 min on one
// core; shared with tools/bench-speculative.ts, so whichever runs first trains them).
// The LM is the `mini` preset that `lm-trainer train` uses (128 wide, 4 layers, FFN granularities
// 64…512, the paper's dFF/8…dFF) at its batch (8 × 128 bytes) and learning rate, trained 4× as
// long: 4,000 steps, 4.1M tokens per model. Chosen by measurement so the granularities separate
// (the loss parity and Mix'n'Match claims need a curve that is not flat): in a trial this shape's
// smallest-to-largest spread was 0.061 bits/byte after 0.77M tokens, 0.119 after 1.5M, 0.147 after
// 2.3M and 0.153 at the end of a 3,000-step schedule; here 0.161 and 0.176 (two seeds) after 4,000.
// The earlier 128-wide model with an FFN to 1024 at batch 16 reached only 0.104 after 2.46M
// tokens, and the `small` preset 0.015–0.020 after 200k.
export function fullSettings(): Settings {
  const lmConfig = matlmConfig('mini');
  // 7×7 patches (16 tokens) and mean pooling, as in the retrieval demo: the preset's 4×4
  // patches cost 3× more per image.
  const vitConfig = matvitConfig('small', { patchSize: 7, pool: 'mean' });
  return {
    mode: 'full',
    engine: 'ort',
    lm: {
      config: lmConfig,
      train: { steps: 4000, lr: 4e-3, warmupSteps: 40, evalEvery: 500, checkpointEvery: 250, seed: 0 },
      batchSize: 8,
      seqLen: 128,
      evalWindows: 64,
      valFraction: 0.05,
      seeds: [0, 1],
    },
    vit: {
      config: vitConfig,
      // Measured: with these shifts the MatViT was at 85% test accuracy after 1,000 steps of a
      // 2,500-step schedule; 1-NN on raw pixels gets 95.2% on this split, so train longer.
      train: { steps: 4000, lr: 3e-3, warmupSteps: 100, evalEvery: 1000, checkpointEvery: 500, seed: 0 },
      batchSize: 64,
      maxShift: 2, // 29 epochs of the 8.9k training digits: shifts keep the models from memorising them
      testFraction: 1 / 9,
    },
    mix: { evaluations: 12, population: 8 },
    consistency: { windows: 16, length: 128, promptLength: 16, greedyTokens: 32 },
    speculative: { prompts: 6, promptLength: 32, newTokens: 64, k: 3, reps: 2, engines: ['tfjs', 'ort', 'ort-decoder'] },
    // The `large` preset trained 480 steps of 8 × 128 bytes (~45 minutes on one core when idle; the
    // first run trains it, tools/bench-speculative.ts and later runs reuse it).
    speculativeLarge: {
      training: { label: 'large', config: matlmConfig('large'), steps: 480, batchSize: 8, seqLen: 128 },
      root: 'runs/bench-speculative',
      threads: 1,
      k: 4,
      temperature: 0.8,
      prompts: 6,
      promptLength: 32,
      newTokens: 96,
      reps: 2,
    },
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
    engine: 'auto',
    lm: {
      config: lmConfig,
      train: { steps: 30, lr: 1e-2, warmupSteps: 3, evalEvery: 0, checkpointEvery: 0, seed: 0 },
      batchSize: 8,
      seqLen: 32,
      evalWindows: 16,
      valFraction: 0.05,
      seeds: [0, 1],
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
    speculative: { prompts: 2, promptLength: 8, newTokens: 12, k: 3, reps: 1, engines: ['tfjs', 'ort', 'ort-decoder'] },
    speculativeLarge: {
      training: { label: 'tiny', config: matlmConfig('tiny', { vocabSize: 256, maxSeqLen: 64 }), steps: 10, batchSize: 4, seqLen: 32 },
      threads: 1,
      k: 3,
      temperature: 0.8,
      prompts: 2,
      promptLength: 8,
      newTokens: 12,
      reps: 1,
    },
    retrieval: { database: 500, queries: 100, pixelQueries: 100 },
  };
}
