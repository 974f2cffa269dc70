import {
  addBatch,
  evaluateTask,
  evalRow,
  submodelSpec,
  type EvalRow,
  type EvalTotals,
  type Submodel,
} from '../evaluate';
import type { Task } from '../task';
import { checkEngineDevice, type TrainEngine } from '../trainer';
import { OrtGradientEngine, type OrtEngineOptions } from './engine';
import { correctTop1, type XYBatch } from './families';

/**
 * evaluateTask on the onnxruntime engine: the same rows (held-out loss, bits/token or
 * accuracy) from the engine's current weights, all submodels scored in one graph run per batch.
 */
export async function evaluateTaskOrt(
  engine: OrtGradientEngine,
  task: Task,
  submodels: Submodel[],
): Promise<EvalRow[]> {
  // Tasks that count accuracy (task.evalCounts: top-1 correct) get it from the engine's logits.
  const counting = Boolean(task.evalCounts);
  const specs = submodels.map((s) => submodelSpec(task, s));
  const totals: EvalTotals[] = specs.map(() => ({ lossSum: 0, examples: 0, counts: {} }));
  for (const b of task.evalBatches() as XYBatch[]) {
    const { losses, logits } = await engine.score(
      b,
      specs.map((s) => s.widths),
      { logits: counting },
    );
    const labels = counting ? b.y.dataSync() : undefined;
    specs.forEach((_, i) => {
      const counts =
        logits && labels
          ? { correct: correctTop1(logits[i], labels, logits[i].length / labels.length) }
          : undefined;
      addBatch(totals[i], task.batchExamples(b), losses[i], counts);
    });
  }
  return specs.map((s, i) => evalRow(task, s, totals[i]));
}

/**
 * evaluateTask on onnxruntime for a model's current weights (an engine built for the call).
 * Submodels that skip layers (width 0) are scored by tfjs: training graphs keep every layer.
 */
export async function evaluateOnOrt(
  task: Task,
  submodels: Submodel[],
  opts: OrtEngineOptions = {},
): Promise<EvalRow[]> {
  const skips = submodels.map((s) => submodelSpec(task, s).widths.includes(0));
  const engine = await OrtGradientEngine.create(task.model.config, task.model.params, opts);
  try {
    const fast = await evaluateTaskOrt(
      engine,
      task,
      submodels.filter((_, i) => !skips[i]),
    );
    const slow = evaluateTask(
      task,
      submodels.filter((_, i) => skips[i]),
    );
    return skips.map((skip) => (skip ? slow : fast).shift()!);
  } finally {
    await engine.dispose();
  }
}

/**
 * evaluateTask on the given training engine: `evaluateOnOrt` for 'ort', tfjs's `evaluateTask`
 * for 'tfjs' (the same rows, to float rounding).
 */
export async function evaluateOn(
  engine: TrainEngine,
  task: Task,
  submodels: Submodel[],
  opts: OrtEngineOptions = {},
): Promise<EvalRow[]> {
  if (checkEngineDevice(engine ?? null, opts.device) === 'ort')
    return evaluateOnOrt(task, submodels, opts);
  return evaluateTask(task, submodels);
}
