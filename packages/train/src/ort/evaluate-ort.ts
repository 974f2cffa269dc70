import {
  addBatch,
  evalRow,
  submodelSpec,
  type EvalRow,
  type EvalTotals,
  type Submodel,
} from '../evaluate';
import type { Task } from '../task';
import type { OrtGradientEngine } from './engine';
import { ortFamilies, type XYBatch } from './families';

/**
 * evaluateTask on the onnxruntime engine: the same rows (held-out loss, bits/token or
 * accuracy) from the engine's current weights, all submodels scored in one graph run per batch.
 */
export async function evaluateTaskOrt(
  engine: OrtGradientEngine,
  task: Task,
  submodels: Submodel[],
): Promise<EvalRow[]> {
  const family = ortFamilies[task.model.config.arch];
  const specs = submodels.map((s) => submodelSpec(task, s));
  const totals: EvalTotals[] = specs.map(() => ({ lossSum: 0, examples: 0, counts: {} }));
  for (const b of task.evalBatches() as XYBatch[]) {
    const { losses, logits } = await engine.score(
      b,
      specs.map((s) => s.widths),
      { logits: Boolean(family.counts) },
    );
    const labels = family.counts
      ? BigInt64Array.from(b.y.dataSync() as Int32Array, BigInt)
      : undefined;
    specs.forEach((_, i) => {
      const counts =
        family.counts && logits && labels
          ? family.counts(logits[i], labels, logits[i].length / labels.length)
          : undefined;
      addBatch(totals[i], task.batchExamples(b), losses[i], counts);
    });
  }
  return specs.map((s, i) => evalRow(task, s, totals[i]));
}
