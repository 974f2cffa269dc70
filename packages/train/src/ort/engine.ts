import * as tf from '@tensorflow/tfjs';
import {
  checkThreads,
  MatformerError,
  weightSpecs,
  type ModelConfig,
  type Widths,
} from '@matformer/core';
import {
  checkOrtDevice,
  createSession,
  cudaUnavailableMessage,
  executionProvidersOf,
  loadOrt,
  runInto,
  type OrtDevice,
  type OrtOptions,
} from '@matformer/core/onnx';
import type * as Ort from 'onnxruntime-node';
import { availableParallelism } from '../host';
import { TrainingError } from '../joint-step';
import { batchFeeds, type XYBatch } from './families';
import { GraphError } from './graph-error';
import { buildScoreGraph, buildTrainGraph, io, probeShapes } from './train-graph';

export type { OrtDevice };

/** Cache key of a submodel list, e.g. "64,64|128,128". */
const submodelsKey = (submodels: Widths[]) => submodels.map((w) => w.join(',')).join('|');

export interface OrtEngineOptions {
  /** Execution provider: 'cpu' (default; what this project tests) or 'cuda'. */
  device?: OrtDevice;
  /** Intra-op threads: an integer from 1 to the cores this process may use (the default). */
  threads?: number;
  /**
   * onnxruntime's fused contrib ops (com.microsoft FastGelu, ...) in the training and scoring
   * graphs (default true); false: standard ONNX ops only, the reference the fused graphs are
   * tested against.
   */
  fusedOps?: boolean;
  /**
   * Profile the training sessions: onnxruntime writes a JSON trace per session, named
   * `<profile>_<date>.json`, when the engine is disposed (summarizeOrtProfile reads it).
   */
  profile?: string;
}

/** A compiled training graph with its output buffers, reused every step. */
interface TrainSession {
  session: Ort.InferenceSession;
  /** Pre-allocated outputs: onnxruntime writes the gradients straight into these arrays. */
  fetches: Record<string, Ort.Tensor>;
}

/**
 * Gradients of the joint MatFormer loss on onnxruntime-node. The parameters live in
 * Float32Arrays that onnxruntime reads directly every step (the optimizer updates them in
 * place); one compiled graph per (submodels, batch shape), built once from the family's forward
 * graph and its derived backward pass, then run with the same input and output buffers.
 */
export class OrtGradientEngine {
  /** Parameters by name, in weightSpecs order: the engine's copy of the weights. */
  readonly params: Record<string, Float32Array> = {};
  private readonly paramFeeds: Record<string, Ort.Tensor> = {};
  private readonly sessions = new Map<string, Promise<TrainSession>>();
  private readonly scorers = new Map<string, Promise<Ort.InferenceSession>>();
  private readonly ortOptions: OrtOptions;
  private readonly fusedOps: boolean;
  private readonly profile?: string;

  private constructor(
    private readonly ort: typeof Ort,
    readonly config: ModelConfig,
    params: Record<string, tf.Tensor>,
    opts: OrtEngineOptions,
  ) {
    for (const [name, { shape }] of Object.entries(weightSpecs(config))) {
      const size = shape.reduce((a, b) => a * b, 1);
      if (params[name]?.size !== size)
        throw new GraphError(
          `weight "${name}" has ${params[name]?.size ?? 'no'} values; the config needs [${shape.join(', ')}]`,
        );
      this.params[name] = Float32Array.from(params[name].dataSync());
      this.paramFeeds[name] = new ort.Tensor('float32', this.params[name], shape);
    }
    this.ortOptions = {
      executionProviders: executionProvidersOf(opts.device),
      intraOpNumThreads: opts.threads ?? availableParallelism(),
      enableMemPattern: false,
    };
    this.fusedOps = opts.fusedOps ?? true;
    this.profile = opts.profile;
  }

  /** An engine holding a copy of `params` (a model's weights, by checkpoint name). */
  static async create(
    config: ModelConfig,
    params: Record<string, tf.Tensor>,
    opts: OrtEngineOptions = {},
  ): Promise<OrtGradientEngine> {
    checkThreads('threads', opts.threads, availableParallelism());
    // A bad device, or a CUDA provider that cannot start, fails here with one message (the
    // same for training and evaluation), before any graph is built.
    await checkOrtDevice(opts.device);
    return new OrtGradientEngine(await loadOrt(), config, params, opts);
  }

  /**
   * Builds (once) the training graph for these submodels and batch shape. Call it before
   * training to fail early: an unsupported op or a shape mismatch throws a GraphError here.
   */
  prepare(batch: XYBatch, submodels: Widths[]): Promise<TrainSession> {
    const key = `${submodelsKey(submodels)}@${batch.x.shape.join('x')}`;
    let s = this.sessions.get(key);
    if (!s) {
      s = this.compile(batch, submodels);
      this.sessions.set(key, s);
      s.catch(() => this.sessions.delete(key));
    }
    return s;
  }

  private async compile(batch: XYBatch, submodels: Widths[]): Promise<TrainSession> {
    const feeds = this.feeds(
      batch,
      submodels.map(() => 1),
    );
    const bytes = await buildTrainGraph(
      {
        config: this.config,
        submodels,
        inputShape: batch.x.shape,
        targets: batch.y.size,
        fusedOps: this.fusedOps,
      },
      (probe, outputs) => probeShapes(probe, outputs, feeds, this.ortOptions, batch.x.shape),
    );
    const session = await this.session(bytes, 'the training graph', this.profile);
    const fetches: Record<string, Ort.Tensor> = {};
    for (const [name, t] of Object.entries(this.paramFeeds))
      fetches[io.grad(name)] = new this.ort.Tensor('float32', new Float32Array(t.size), t.dims);
    submodels.forEach((_, i) => {
      fetches[io.loss(i)] = new this.ort.Tensor('float32', new Float32Array(1), []);
    });
    return { session, fetches };
  }

  /** An onnxruntime session; a CUDA provider that will not start gets an error that says so. */
  private async session(
    bytes: Uint8Array,
    what: string,
    profileFilePrefix?: string,
  ): Promise<Ort.InferenceSession> {
    try {
      return await createSession(bytes, what, { ...this.ortOptions, profileFilePrefix });
    } catch (e) {
      if (this.ortOptions.executionProviders?.[0] !== 'cuda') throw e;
      throw new MatformerError(cudaUnavailableMessage((e as Error).message));
    }
  }

  private feeds(batch: XYBatch, lambdas?: number[]): Record<string, Ort.Tensor> {
    const feeds = { ...this.paramFeeds, ...batchFeeds(this.ort, this.config, batch) };
    if (lambdas)
      feeds[io.lambdas] = new this.ort.Tensor('float32', Float32Array.from(lambdas), [
        lambdas.length,
      ]);
    return feeds;
  }

  /**
   * Σ_i λ_i · L_i over the submodels on one batch: each L_i and the gradient of the sum per
   * parameter. The gradient arrays are the engine's own buffers, overwritten by the next call.
   * A non-finite loss throws TrainingError (nothing is updated).
   */
  async gradients(
    batch: XYBatch,
    submodels: Widths[],
    lambdas: number[],
  ): Promise<{ losses: number[]; grads: Record<string, Float32Array> }> {
    const { session, fetches } = await this.prepare(batch, submodels);
    await runInto(session, this.feeds(batch, lambdas), fetches);
    const losses = submodels.map((_, i) => (fetches[io.loss(i)].data as Float32Array)[0]);
    losses.forEach((l, i) => {
      if (!Number.isFinite(l))
        throw new TrainingError(
          `loss of submodel widths [${submodels[i].join(', ')}] is ${l}; stopping before the update (lower the learning rate or check the data)`,
        );
    });
    const grads: Record<string, Float32Array> = {};
    for (const name of Object.keys(this.params))
      grads[name] = fetches[io.grad(name)].data as Float32Array;
    return { losses, grads };
  }

  /**
   * Mean loss of each submodel on one batch, and (`logits`) its logits [targets, classes]
   * for metrics such as accuracy. Any batch size; the graph is compiled once per submodel list.
   */
  async score(
    batch: XYBatch,
    submodels: Widths[],
    o: { logits?: boolean } = {},
  ): Promise<{ losses: number[]; logits?: Float32Array[] }> {
    const key = `${submodelsKey(submodels)}${o.logits ? '+logits' : ''}`;
    let s = this.scorers.get(key);
    if (!s) {
      s = this.session(
        buildScoreGraph(this.config, submodels, { ...o, fusedOps: this.fusedOps }),
        'the scoring graph',
      );
      this.scorers.set(key, s);
    }
    const out = await (await s).run(this.feeds(batch));
    return {
      losses: submodels.map((_, i) => (out[io.loss(i)].data as Float32Array)[0]),
      logits: o.logits
        ? submodels.map((_, i) => out[io.logits(i)].data as Float32Array)
        : undefined,
    };
  }

  /** Copies the engine's weights into a model's variables (same names and shapes). */
  copyTo(params: Record<string, tf.Variable>): void {
    for (const [name, data] of Object.entries(this.params)) {
      const v = params[name];
      const t = tf.tensor(data, v.shape);
      v.assign(t);
      t.dispose();
    }
  }

  async dispose(): Promise<void> {
    const training = [...this.sessions.values()].map((s) => s.then((t) => t.session));
    if (this.profile)
      await Promise.all(
        training.map((s) =>
          s.then(
            (x) => x.endProfiling(),
            () => undefined,
          ),
        ),
      );
    const sessions = [...training, ...this.scorers.values()];
    this.sessions.clear();
    this.scorers.clear();
    await Promise.all(
      sessions.map((s) =>
        s.then(
          (x) => x.release(),
          () => undefined,
        ),
      ),
    );
  }
}
