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
  const batches = task.evalBatches();
  return submodels.map((s) => {
    const spec = submodelSpec(task, s);
    const total: EvalTotals = { lossSum: 0, examples: 0, counts: {} };
    for (const b of batches) {
      const l = tf.tidy(() => task.loss(b, spec.widths));
      addBatch(total, task.batchExamples(b), l.dataSync()[0], task.evalCounts?.(b, spec.widths));
      l.dispose();
    }
    return evalRow(task, spec, total);
  });
}

/** Sums of one submodel's held-out results over batches. */
export interface EvalTotals {
  lossSum: number;
  examples: number;
  counts: Record<string, number>;
}

/** Adds one batch's mean loss (over `examples`) and summed counts. */
export function addBatch(
  t: EvalTotals,
  examples: number,
  meanLoss: number,
  counts: Record<string, number> = {},
): void {
  t.lossSum += meanLoss * examples;
  t.examples += examples;
  for (const [k, v] of Object.entries(counts)) t.counts[k] = (t.counts[k] ?? 0) + v;
}

/** A submodel's display name and resolved per-layer widths. */
export function submodelSpec(task: Task, s: Submodel): { name: string; widths: Widths } {
  const spec =
    typeof s === 'object' && !Array.isArray(s)
      ? s
      : { name: Array.isArray(s) ? s.join(',') : String(s), widths: s };
  return { name: spec.name, widths: resolveWidths(task.model.config, spec.widths) };
}

/** The table row of one submodel from its totals. */
export function evalRow(
  task: Task,
  spec: { name: string; widths: Widths },
  t: EvalTotals,
): EvalRow {
  const config = task.model.config;
  const loss = t.lossSum / t.examples;
  const row: EvalRow = { ...spec, params: paramCount(config, spec.widths), loss };
  Object.assign(row, familyOf(config).lossMetrics(loss)); // e.g. bits/token for a language model
  if (t.counts.correct !== undefined) row.accuracy = t.counts.correct / t.examples;
  return row;
}
