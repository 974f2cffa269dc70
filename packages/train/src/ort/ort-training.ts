import type { Params, Widths } from '@matformer/core';
import type { AdamW } from '../adamw';
import type { EvalRow, Submodel } from '../evaluate';
import type { Task } from '../task';
import { ArrayAdamW, globalNorm } from './array-adamw';
import { OrtGradientEngine, type OrtEngineOptions } from './engine';
import { evaluateTaskOrt } from './evaluate-ort';
import type { XYBatch } from './families';

/**
 * The trainer's onnxruntime side: gradients from the compiled joint graph, global-norm clipping
 * and AdamW on the engine's Float32Arrays (measured 45–85 ms for the 3.3M-parameter small
 * model under load, ~5–10% of a joint step: simple, exact, and left in JS for now). The model's tfjs variables and the tfjs AdamW are
 * only written on `copyTo` (checkpoints, the end of a run), so both engines share one format.
 */
export class OrtTraining {
  private constructor(
    private readonly engine: OrtGradientEngine,
    private readonly optimizer: ArrayAdamW,
  ) {}

  static async start(
    model: { config: Task['model']['config']; params: Params },
    optimizer: AdamW,
    opts: OrtEngineOptions,
  ): Promise<OrtTraining> {
    const engine = await OrtGradientEngine.create(model.config, model.params, opts);
    const ranks = Object.fromEntries(Object.entries(model.params).map(([n, p]) => [n, p.rank]));
    return new OrtTraining(engine, new ArrayAdamW(optimizer, ranks));
  }

  prepare(batch: unknown, subsets: Widths[][]): Promise<unknown> {
    return Promise.all(subsets.map((s) => this.engine.prepare(batch as XYBatch, s)));
  }

  /** One joint step: gradients, clip to `clip` (0 = off), AdamW at rate lr. */
  async step(
    batch: unknown,
    submodels: Widths[],
    lambdas: number[],
    lr: number,
    clip: number,
  ): Promise<{ losses: number[]; gradNorm: number }> {
    const { losses, grads } = await this.engine.gradients(batch as XYBatch, submodels, lambdas);
    const gradNorm = globalNorm(grads);
    const scale = clip > 0 && Number.isFinite(gradNorm) && gradNorm > clip ? clip / gradNorm : 1;
    this.optimizer.step(this.engine.params, grads, lr, scale);
    return { losses, gradNorm };
  }

  evaluate(task: Task, submodels: Submodel[]): Promise<EvalRow[]> {
    return evaluateTaskOrt(this.engine, task, submodels);
  }

  /** Writes weights into the model's variables and moments into the tfjs AdamW. */
  copyTo(model: { params: Params }, optimizer: AdamW): void {
    this.engine.copyTo(model.params);
    this.optimizer.copyTo(optimizer);
  }

  dispose(): Promise<void> {
    return this.engine.dispose();
  }
}
