// One short joint-training run of a tiny byte-level MatLM on the onnxruntime engine, defined once
// and run twice: under Node (onnxruntime-node) and bundled into a page (onnxruntime-web), so a
// test can compare the two step by step. Imports are the package's own modules, so the bundler
// picks each platform's twins (host, ort runtime) through the package "imports" conditions.
import * as tf from '@tensorflow/tfjs';
import { MatLM, matlmConfig } from '@matformer/core';
import { lmTask } from '../data/lm-task';
import { textCorpus } from '../data/text-split';
import { Trainer } from '../trainer';

export interface TinyRunSpec {
  /** Training text (byte-tokenized); the last 10% is held out. */
  text: string;
  seed: number;
  steps: number;
  batchSize: number;
  seqLen: number;
  lr: number;
  /** MatLM preset (default 'tiny': 2 layers, d 16; 'mini' for speed measurements). */
  preset?: 'tiny' | 'mini';
  /** onnxruntime-node intra-op threads (default 1; a page's threads come from configureOrtWeb). */
  threads?: number;
}

export interface TinyRunResult {
  /** Σ λ_i · L_i of each step. */
  loss: number[];
  /** Each step's loss per trained width (keyed by width, as StepMetrics.losses). */
  losses: Record<number, number>[];
  /** Wall time of each step (ms; the first compiles the training graph). */
  ms: number[];
  /** Held-out loss of each granularity after the last step. */
  evalLoss: Record<string, number>;
  /** The tfjs backend that held the weights and batches. */
  tfjsBackend: string;
}

/** A short deterministic text: learnable in a few steps by a tiny model. */
export function tinyRunText(lines = 120): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++)
    out.push(`line ${i % 10}: the cat sat on the mat and the dog ran to the log.`);
  return out.join('\n');
}

/**
 * Trains every granularity jointly for `spec.steps` steps (engine 'ort') and reports the losses.
 * tfjs runs on its 'cpu' backend on both platforms, so the initial weights and the batches are
 * bit-identical and the only difference left is onnxruntime's.
 */
export async function tinyTrainingRun(spec: TinyRunSpec): Promise<TinyRunResult> {
  await tf.setBackend('cpu');
  await tf.ready();
  const model = MatLM.create(
    matlmConfig(spec.preset ?? 'tiny', { vocabSize: 256, maxSeqLen: spec.seqLen }),
    spec.seed,
  );
  const corpus = textCorpus(spec.text, 'tiny-run', { valFraction: 0.1 });
  const task = lmTask(model, corpus, {
    batchSize: spec.batchSize,
    seqLen: spec.seqLen,
    evalWindows: 8,
  });
  const trainer = new Trainer(
    task,
    {
      steps: spec.steps,
      lr: spec.lr,
      warmupSteps: 2,
      seed: spec.seed,
      evalEvery: 0,
      checkpointEvery: 0,
    },
    { engine: 'ort', threads: spec.threads ?? 1 },
  );
  try {
    const loss: number[] = [];
    const losses: Record<number, number>[] = [];
    const ms: number[] = [];
    for (let s = 0; s < spec.steps; s++) {
      const m = await trainer.trainStep();
      loss.push(m.loss);
      losses.push(m.losses);
      ms.push(m.ms);
    }
    const { rows } = await trainer.evaluate();
    return {
      loss,
      losses,
      ms,
      evalLoss: Object.fromEntries(rows.map((r) => [r.name, r.loss])),
      tfjsBackend: tf.getBackend(),
    };
  } finally {
    await trainer.dispose();
    task.dispose();
    model.dispose();
  }
}
