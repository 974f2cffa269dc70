import type { Params, Widths } from '@matformer/core';
import type { AdamW } from '../adamw';
import type { EvalRow, Submodel } from '../evaluate';
import type { Task } from '../task';
import { availableParallelism, TwoThreadAdamW, WORKER_THREADS } from '../host';
import { ArrayAdamW } from './array-adamw';
import { OrtGradientEngine, type OrtEngineOptions } from './engine';
import { evaluateTaskOrt } from './evaluate-ort';
import type { XYBatch } from './families';

/** AdamW on the engine's arrays: one thread, or two (TwoThreadAdamW), the same update either way. */
type ArrayOptimizer = Pick<ArrayAdamW, 'clipAndStep' | 'copyTo'> & { close?(): Promise<void> };

/** Below this many weights a second AdamW thread costs more than it saves. */
const TWO_THREAD_ADAMW_MIN_PARAMS = 200_000;

/**
 * The trainer's onnxruntime side: gradients from the compiled joint graph, global-norm clipping
 * and AdamW on the engine's Float32Arrays (in JS: 25 ms for the 3.3M-parameter small model on
 * one thread, so it runs on two where onnxruntime has two). The model's tfjs variables and the
 * tfjs AdamW are only written on `copyTo` (checkpoints, the end of a run), so both engines
 * share one format.
 */
export class OrtTraining {
  private constructor(
    private readonly engine: OrtGradientEngine,
    private readonly optimizer: ArrayOptimizer,
  ) {}

  static async start(
    model: { config: Task['model']['config']; params: Params },
    optimizer: AdamW,
    opts: OrtEngineOptions,
  ): Promise<OrtTraining> {
    const engine = await OrtGradientEngine.create(model.config, model.params, opts);
    const ranks = Object.fromEntries(Object.entries(model.params).map(([n, p]) => [n, p.rank]));
    const size = Object.values(engine.params).reduce((s, p) => s + p.length, 0);
    const twoThreads =
      WORKER_THREADS &&
      (opts.threads ?? availableParallelism()) >= 2 &&
      size >= TWO_THREAD_ADAMW_MIN_PARAMS;
    const adamw = twoThreads
      ? TwoThreadAdamW.start(optimizer, ranks, engine.params)
      : new ArrayAdamW(optimizer, ranks);
    return new OrtTraining(engine, adamw);
  }

  prepare(batch: unknown, subsets: Widths[][]): Promise<unknown> {
    return Promise.all(subsets.map((s) => this.engine.prepare(batch as XYBatch, s)));
  }

  /** One joint step: gradients, clip to `clip` (0 = off), AdamW at rate lr; with each phase's time. */
  async step(
    batch: unknown,
    submodels: Widths[],
    lambdas: number[],
    lr: number,
    clip: number,
  ): Promise<{
    losses: number[];
    gradNorm: number;
    phaseMs: { gradients: number; optimizer: number };
  }> {
    const t0 = performance.now();
    const { losses, grads } = await this.engine.gradients(batch as XYBatch, submodels, lambdas);
    const t1 = performance.now();
    const gradNorm = this.optimizer.clipAndStep(this.engine.params, grads, lr, clip);
    const phaseMs = { gradients: t1 - t0, optimizer: performance.now() - t1 };
    return { losses, gradNorm, phaseMs };
  }

  evaluate(task: Task, submodels: Submodel[]): Promise<EvalRow[]> {
    return evaluateTaskOrt(this.engine, task, submodels);
  }

  /** Writes weights into the model's variables and moments into the tfjs AdamW. */
  copyTo(model: { params: Params }, optimizer: AdamW): void {
    this.engine.copyTo(model.params);
    this.optimizer.copyTo(optimizer);
  }

  async dispose(): Promise<void> {
    await this.optimizer.close?.();
    await this.engine.dispose();
  }
}
