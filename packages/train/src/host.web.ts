// The browser twin of host.node.ts: cores from the navigator, no worker-thread data
// parallelism, no run directory. Everything that needs a file or a worker refuses clearly;
// training itself (tfjs or onnxruntime-web) needs neither. It names no Node-only module, not
// even for types, so a page's typecheck never reaches them; host-twins.ts checks the two agree.
import { ConfigError, type AnyModel, type Widths } from '@matformer/core';
import type { AdamW } from './adamw';
import type { JointGradients } from './joint-step';
import type { ArrayAdamW } from './ort/array-adamw';
import type { SplittableBatch } from './parallel/data-parallel';

const page = globalThis as { navigator?: { hardwareConcurrency?: number } };

export function availableParallelism(): number {
  return Math.max(1, page.navigator?.hardwareConcurrency ?? 1);
}

const noRunDir = (dir: unknown) =>
  new ConfigError(
    `run directory "${String(dir)}": a browser has no file system; leave runDir unset and keep the metrics the reporter receives (encodeModel gives a checkpoint's bytes)`,
  );

export function existsSync(path: unknown): boolean {
  throw noRunDir(path);
}
export function runPath(dir: string, _file: string): string {
  throw noRunDir(dir);
}
export const writeRunConfig = (dir: string, _config: unknown): Promise<void> =>
  Promise.reject(noRunDir(dir));
export const appendMetric = (dir: string, _record: Record<string, unknown>): Promise<void> =>
  Promise.reject(noRunDir(dir));
export const truncateMetrics = (dir: string, _step: number): Promise<void> =>
  Promise.reject(noRunDir(dir));

/** No worker threads here: asking for parallel steps says so (the Trainer never asks by default). */
export class DataParallelGradients {
  private constructor() {}

  static start(_model: AnyModel): Promise<DataParallelGradients> {
    return Promise.reject(
      new ConfigError(
        'parallel: true splits tfjs steps across a Node worker thread, which a browser lacks; leave parallel unset (or use engine "ort", whose onnxruntime-web threads need no worker of ours)',
      ),
    );
  }

  jointGradients(
    _batch: SplittableBatch,
    _submodels: Widths[],
    _lambdas: number[],
  ): Promise<JointGradients> {
    throw new Error('unreachable: a DataParallelGradients never starts in a browser');
  }

  async close(): Promise<void> {}
}

/**
 * No worker threads here: the onnxruntime engine's AdamW runs on the page's thread (ArrayAdamW).
 * The signatures are the Node class's, so ort-training.ts typechecks under this condition too.
 */
export class TwoThreadAdamW implements Pick<ArrayAdamW, 'clipAndStep' | 'copyTo'> {
  private constructor() {}

  static start(
    _reference: AdamW,
    _ranks: Record<string, number>,
    _params: Record<string, Float32Array>,
  ): TwoThreadAdamW {
    throw new Error(
      'unreachable: a TwoThreadAdamW never starts in a browser (WORKER_THREADS is false)',
    );
  }

  clipAndStep(): ReturnType<ArrayAdamW['clipAndStep']> {
    throw new Error('unreachable: a TwoThreadAdamW never starts in a browser');
  }

  copyTo(): void {
    throw new Error('unreachable: a TwoThreadAdamW never starts in a browser');
  }

  async close(): Promise<void> {}
}

export const WORKER_THREADS: boolean = false;
