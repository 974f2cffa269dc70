import * as tf from '@tensorflow/tfjs';
import { familyOf, paramCount, resolveWidths, type Widths } from '@matformer/core';
import type { Task } from './task';

export interface EvalRow {
  /** "128" for a uniform granularity, or the Mix'n'Match name. */
  name: string;
  widths: Widths;
  params: number;
  loss: number;
  /** Bits per token (= per byte with the byte-level tokenizer); LM only. */
  bitsPerToken?: number;
  /** Top-1 accuracy; image tasks only. */
  accuracy?: number;
}

/** A submodel to evaluate: a uniform width or per-layer widths, with an optional display name. */
export type Submodel = number | Widths | { name: string; widths: number | Widths };

/** Held-out loss (and accuracy or bits/token) of each submodel over the task's fixed eval batches. */
export function evaluateTask(task: Task, submodels: Submodel[]): EvalRow[] {
  const config = task.model.config;
  const batches = task.evalBatches();
  return submodels.map((s) => {
    const spec =
      typeof s === 'object' && !Array.isArray(s)
        ? s
        : { name: Array.isArray(s) ? s.join(',') : String(s), widths: s };
    const widths = resolveWidths(config, spec.widths);
    let lossSum = 0;
    let examples = 0;
    const counts: Record<string, number> = {};
    for (const b of batches) {
      const n = task.batchExamples(b);
      const l = tf.tidy(() => task.loss(b, widths));
      lossSum += l.dataSync()[0] * n;
      l.dispose();
      examples += n;
      for (const [k, v] of Object.entries(task.evalCounts?.(b, widths) ?? {}))
        counts[k] = (counts[k] ?? 0) + v;
    }
    const loss = lossSum / examples;
    const row: EvalRow = { name: spec.name, widths, params: paramCount(config, widths), loss };
    Object.assign(row, familyOf(config).lossMetrics(loss)); // e.g. bits/token for a language model
    if (counts.correct !== undefined) row.accuracy = counts.correct / examples;
    return row;
  });
}
