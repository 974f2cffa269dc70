import * as tf from '@tensorflow/tfjs';
import {
  checkChoice,
  checkThreads,
  ConfigError,
  resolveWidths,
  Rng,
  type Widths,
} from '@matformer/core';
import { AdamW } from './adamw';
import { evaluateTask, type EvalRow } from './evaluate';
import { clipByGlobalNorm } from './clip';
import { jointGradients, type JointGradients } from './joint-step';
import type { SplittableBatch } from './parallel/data-parallel';
import { resolveTrainOptions, type TrainOptions } from './options';
import {
  appendMetric,
  availableParallelism,
  DataParallelGradients,
  existsSync,
  runPath,
  truncateMetrics,
  WORKER_THREADS,
  writeRunConfig,
} from './host';
import { warmupCosine, type Schedule } from './schedule';
import type { Task } from './task';
import { loadTrainState, saveTrainState } from './train-state';
import type { OrtDevice } from './ort/engine';
import type { OrtTraining } from './ort/ort-training';

/** Where gradients are computed: tfjs (the reference) or onnxruntime-node (fast; optional peer). */
export type TrainEngine = 'tfjs' | 'ort';

export interface StepMetrics {
  step: number;
  lr: number;
  /** Σ λ_i · L_i, the objective the step minimised. */
  loss: number;
  /** Loss of each trained granularity (keyed by its width). */
  losses: Record<number, number>;
  gradNorm: number;
  ms: number;
  /** Tokens or images per second in this step. */
  throughput: number;
  /**
   * Engine 'ort': where the step's time went, ms: onnxruntime's run of the joint graph, and the
   * clipped AdamW update in JS (the rest of `ms` is batch sampling and bookkeeping).
   */
  phaseMs?: { gradients: number; optimizer: number };
}

export interface EvalResult {
  step: number;
  rows: EvalRow[];
}

/** Receives progress; `ProgressReporter` draws a bar, tests use none. */
export interface TrainReporter {
  onStart?(trainer: Trainer): void;
  onStep?(m: StepMetrics, trainer: Trainer): void;
  onEval?(e: EvalResult, trainer: Trainer): void;
  onCheckpoint?(path: string, trainer: Trainer): void;
  onEnd?(trainer: Trainer): void;
}

export interface TrainerInit {
  /**
   * Split each batch across two threads (a second tfjs instance in a worker). Default: on when
   * the machine has ≥ 2 cores, the task allows it and the model has ≥ 200k weights, since
   * tfjs-wasm uses one core under Node.
   */
  parallel?: boolean;
  /** Directory for config.json, metrics.jsonl and checkpoints; none = nothing written. */
  runDir?: string;
  reporter?: TrainReporter;
  /** Extra facts recorded in config.json (e.g. the backend). */
  meta?: Record<string, unknown>;
  /**
   * 'tfjs' (default: the reference implementation, any tfjs backend) or 'ort': the same
   * joint step on onnxruntime-node (an optional peer dependency), ~10× faster on a CPU. Both
   * write the same checkpoints, so a run may switch engines on resume.
   */
  engine?: TrainEngine;
  /** onnxruntime execution provider for engine 'ort': 'cpu' (default) or 'cuda'. */
  device?: OrtDevice;
  /**
   * onnxruntime intra-op threads for engine 'ort': an integer from 1 to os.availableParallelism()
   * (default: all of them). More threads than cores only slow onnxruntime down.
   */
  threads?: number;
  /**
   * Engine 'ort': onnxruntime's fused contrib ops in the training graph (default true); false
   * builds it from standard ONNX ops only, the reference the fused graph is tested against.
   */
  fusedOps?: boolean;
  /**
   * Engine 'ort': profile the training graph's runs; onnxruntime writes a JSON trace named
   * `<profile>_<date>.json` when the trainer is disposed (summarizeOrtProfile reads it).
   */
  profile?: string;
}

/** The values of TrainerInit.engine. */
export const TRAIN_ENGINES = ['tfjs', 'ort'] as const;

/**
 * Checks an engine and a device option (ConfigError naming the bad one and its values): device
 * 'cuda' is onnxruntime's, so it needs engine 'ort'. Returns the engine (default 'tfjs').
 */
export function checkEngineDevice(engine: unknown, device: unknown): TrainEngine {
  const e = checkChoice('engine', engine, TRAIN_ENGINES, true) ?? 'tfjs';
  const d = checkChoice('device', device, ['cpu', 'cuda'] as const, true);
  if (e === 'tfjs' && d === 'cuda')
    throw new ConfigError(
      'device "cuda" needs engine "ort" (onnxruntime); engine "tfjs" runs on its tfjs backend (selectBackend)',
    );
  return e;
}

/** Checks a TrainerInit's fixed-value options, naming the bad one (ConfigError). */
function checkInit(init: TrainerInit): void {
  checkEngineDevice(init.engine, init.device);
  checkThreads('threads', init.threads, availableParallelism());
}

/**
 * Joint MatFormer training, model-agnostic: it knows a Task's loss and batches, never the
 * model's insides. Each step trains the chosen nested submodels on one batch with one AdamW update.
 */
export class Trainer {
  readonly options: TrainOptions;
  readonly optimizer: AdamW;
  readonly rng: Rng;
  /** Optimizer steps done. */
  step = 0;
  private readonly schedule: Schedule;
  private parallel?: Promise<DataParallelGradients>;
  private ort?: Promise<OrtTraining>;
  private readonly granularities: number[];

  constructor(
    readonly task: Task,
    options: Partial<TrainOptions> = {},
    readonly init: TrainerInit = {},
  ) {
    checkInit(init);
    this.granularities = task.model.config.granularities;
    this.options = resolveTrainOptions(options, this.granularities.length);
    const o = this.options;
    this.rng = new Rng(o.seed);
    this.optimizer = new AdamW(task.model.params, {
      beta1: o.beta1,
      beta2: o.beta2,
      weightDecay: o.weightDecay,
    });
    const scheduleSteps = o.scheduleSteps ?? o.steps;
    const base = warmupCosine({
      peakLr: o.lr,
      warmupSteps: o.warmupSteps,
      totalSteps: scheduleSteps,
      minLr: o.minLr,
    });
    // Past the schedule (an extended run), the rate stays where the original run ended.
    this.schedule = (step) => base(Math.min(step, scheduleSteps - 1));
  }

  /** The learning rate of step `step` (0-based) under this run's schedule. */
  lrAt(step: number): number {
    return this.schedule(step);
  }

  get runDir(): string | undefined {
    return this.init.runDir;
  }

  /** Uniform widths of each granularity this model can run (an extracted model: those it stores). */
  private uniformWidths(m: number): Widths {
    return resolveWidths(this.task.model.config, m);
  }

  /** Indices of the granularities to train this step (all, or k drawn from the rng). */
  private pickGranularities(): number[] {
    const g = this.granularities.length;
    const k = this.options.granularitiesPerStep;
    return k === 'all' ? [...Array(g).keys()] : this.rng.sample(g, k);
  }

  get engine(): TrainEngine {
    return this.init.engine ?? 'tfjs';
  }

  /** The onnxruntime engine, started on first use from the model's current weights and moments. */
  private ortTraining(): Promise<OrtTraining> {
    this.ort ??= import('./ort/ort-training').then(({ OrtTraining }) =>
      OrtTraining.start(this.task.model, this.optimizer, {
        device: this.init.device,
        threads: this.init.threads,
        fusedOps: this.init.fusedOps,
        profile: this.init.profile,
      }),
    );
    return this.ort;
  }

  /**
   * Builds the training graph(s) now, so an unsupported model fails before the first step
   * (engine 'ort'; a no-op for tfjs).
   */
  async prepare(): Promise<void> {
    if (this.engine !== 'ort') return;
    const ort = await this.ortTraining();
    const batch = this.task.nextBatch(new Rng(0)); // a throw-away batch of the training shape
    try {
      await ort.prepare(
        batch,
        this.subsets().map((s) => s.map((i) => this.uniformWidths(this.granularities[i]))),
      );
    } finally {
      this.task.disposeBatch(batch);
    }
  }

  /**
   * The granularity subsets to compile before step 1: all of them, or each one alone when one is
   * sampled per step; samples of k > 1 (many possible subsets) compile on first use.
   */
  private subsets(): number[][] {
    const k = this.options.granularitiesPerStep;
    const g = this.granularities.length;
    if (k === 'all') return [[...Array(g).keys()]];
    return k === 1 ? [...Array(g).keys()].map((i) => [i]) : [];
  }

  /** Writes the onnxruntime engine's weights and moments into the model and optimizer. */
  async syncModel(): Promise<void> {
    if (this.ort) (await this.ort).copyTo(this.task.model, this.optimizer);
  }

  /** Whether steps split batches across two threads. */
  get isParallel(): boolean {
    // Worth a thread only when a step is big enough to amortise shipping weights and gradients.
    const auto =
      WORKER_THREADS && availableParallelism() >= 2 && this.task.model.storedParamCount >= 200_000;
    // onnxruntime's own intra-op threads replace the worker thread there.
    return this.engine === 'tfjs' && Boolean(this.task.splittable) && (this.init.parallel ?? auto);
  }

  private gradients(
    batch: unknown,
    submodels: Widths[],
    lambdas: number[],
  ): Promise<JointGradients> | JointGradients {
    // A one-row batch cannot be split: the worker would get no rows.
    const splittable = this.isParallel && (batch as SplittableBatch).x.shape[0] >= 2;
    if (!splittable)
      return jointGradients(
        this.task.model.params,
        (widths) => this.task.loss(batch, widths),
        submodels,
        lambdas,
      );
    this.parallel ??= DataParallelGradients.start(this.task.model);
    return this.parallel.then((dp) =>
      dp.jointGradients(batch as SplittableBatch, submodels, lambdas),
    );
  }

  /** One optimizer step on one batch. */
  async trainStep(): Promise<StepMetrics> {
    const t0 = performance.now();
    const picked = this.pickGranularities();
    const batch = this.task.nextBatch(this.rng);
    const lr = this.schedule(this.step);
    const lambdas = picked.map((i) => this.options.lambdas?.[i] ?? 1);
    let losses: number[];
    let gradNorm: number;
    try {
      if (this.engine === 'ort') {
        const submodels = picked.map((i) => this.uniformWidths(this.granularities[i]));
        const ort = await this.ortTraining();
        const done = await ort.step(batch, submodels, lambdas, lr, this.options.gradClip);
        return {
          ...this.finishStep(t0, lr, picked, lambdas, done.losses, done.gradNorm),
          phaseMs: done.phaseMs,
        };
      }
      const joint = await this.gradients(
        batch,
        picked.map((i) => this.uniformWidths(this.granularities[i])),
        lambdas,
      );
      losses = joint.losses;
      const clipped = clipByGlobalNorm(
        joint.grads,
        this.options.gradClip > 0 ? this.options.gradClip : Infinity,
      );
      tf.dispose(Object.values(joint.grads));
      gradNorm = clipped.norm;
      this.optimizer.step(clipped.grads, lr);
      tf.dispose(Object.values(clipped.grads));
    } finally {
      this.task.disposeBatch(batch);
    }
    return this.finishStep(t0, lr, picked, lambdas, losses, gradNorm);
  }

  private finishStep(
    t0: number,
    lr: number,
    picked: number[],
    lambdas: number[],
    losses: number[],
    gradNorm: number,
  ): StepMetrics {
    this.step++;
    const ms = performance.now() - t0;
    const m: StepMetrics = {
      step: this.step,
      lr,
      loss: losses.reduce((s, l, i) => s + lambdas[i] * l, 0),
      losses: Object.fromEntries(picked.map((i, j) => [this.granularities[i], losses[j]])),
      gradNorm,
      ms,
      throughput: (this.task.unitsPerBatch / ms) * 1000,
    };
    return m;
  }

  /** Held-out loss (and accuracy or bits/token) of every granularity, on the training engine. */
  async evaluate(): Promise<EvalResult> {
    const rows = this.ort
      ? await (await this.ort).evaluate(this.task, this.granularities)
      : evaluateTask(this.task, this.granularities);
    return { step: this.step, rows };
  }

  /** Trains to options.steps, evaluating and checkpointing as configured. */
  async run(): Promise<EvalResult> {
    const { runDir, reporter } = this.init;
    if (runDir && this.step === 0) {
      await writeRunConfig(runDir, {
        model: this.task.model.config,
        train: this.options,
        data: this.task.describe(),
        ...this.init.meta,
      });
    }
    reporter?.onStart?.(this);
    let last: EvalResult | undefined;
    while (this.step < this.options.steps) {
      const m = await this.trainStep();
      reporter?.onStep?.(m, this);
      if (runDir) await appendMetric(runDir, { type: 'step', ...m });
      const done = this.step === this.options.steps;
      if (done || (this.options.evalEvery > 0 && this.step % this.options.evalEvery === 0)) {
        last = await this.evaluate();
        reporter?.onEval?.(last, this);
        if (runDir) await appendMetric(runDir, { type: 'eval', ...last });
      }
      if (
        runDir &&
        (done ||
          (this.options.checkpointEvery > 0 && this.step % this.options.checkpointEvery === 0))
      ) {
        await this.save();
      }
    }
    await this.syncModel();
    reporter?.onEnd?.(this);
    return last ?? this.evaluate();
  }

  /** Writes the resumable checkpoint (weights, optimizer moments, step, RNG) into the run directory. */
  async save(): Promise<string> {
    const dir = this.init.runDir;
    if (!dir) throw new Error('Trainer.save needs a runDir');
    const path = runPath(dir, 'checkpoint');
    await this.syncModel();
    await saveTrainState(path, this.task.model, this.optimizer.stateTensors(), {
      step: this.step,
      rngState: this.rng.state,
      adamT: this.optimizer.t,
      options: this.options,
    });
    this.init.reporter?.onCheckpoint?.(path, this);
    return path;
  }

  /**
   * Continues a run from its directory's checkpoint: same weights, optimizer moments, step
   * and data position, so the result equals an uninterrupted run. `makeTask` rebuilds the
   * task around the restored model.
   *
   * `steps` moves where the run ends, not its learning-rate schedule: the warmup and cosine
   * stay those of the original run (options.scheduleSteps), so past its end the rate stays at
   * the rate of its last step (about minLr after a full cosine). An extended run is therefore NOT the same as an uninterrupted run of
   * the longer length (whose cosine would be stretched); it is the original run plus steps at
   * the final rate. `steps` at or below the checkpoint's step throws ConfigError (nothing to train).
   */
  static async resume(
    runDir: string,
    makeTask: (model: Task['model']) => Task | Promise<Task>,
    init: Omit<TrainerInit, 'runDir'> & { steps?: number } = {},
  ): Promise<Trainer> {
    const path = runPath(runDir, 'checkpoint');
    if (!existsSync(path))
      throw new Error(`cannot resume: ${path} does not exist (the run saved no checkpoint yet)`);
    const { model, optimizerState, progress } = await loadTrainState(path);
    if (init.steps !== undefined && !(init.steps > progress.step)) {
      model.dispose();
      throw new ConfigError(
        `steps ${init.steps}: the run in ${runDir} is already at step ${progress.step}, so nothing would be trained; give more than ${progress.step} steps to extend it`,
      );
    }
    const task = await makeTask(model);
    // The schedule stays the original run's (see above); steps only moves the end.
    const scheduleSteps = progress.options.scheduleSteps ?? progress.options.steps;
    const trainer = new Trainer(
      task,
      { ...progress.options, scheduleSteps, ...(init.steps ? { steps: init.steps } : {}) },
      { ...init, runDir },
    );
    trainer.optimizer.loadState(optimizerState, progress.adamT, path);
    trainer.step = progress.step;
    trainer.rng.state = progress.rngState;
    await truncateMetrics(runDir, progress.step);
    return trainer;
  }

  /** Frees the optimizer state and stops the worker thread (the model belongs to the caller). */
  async dispose(): Promise<void> {
    await (await this.ort)?.dispose();
    this.optimizer.dispose();
    await (await this.parallel)?.close();
  }
}
