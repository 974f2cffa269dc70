// The browser twin of host.node.ts: cores from the navigator, no worker-thread data
// parallelism, no run directory. Everything that needs a file or a worker refuses clearly;
// training itself (tfjs or onnxruntime-web) needs neither.
import type * as NodeHost from './host.node';
import { ConfigError } from '@matformer/core';

const page = globalThis as { navigator?: { hardwareConcurrency?: number } };

export const availableParallelism: typeof NodeHost.availableParallelism = () =>
  Math.max(1, page.navigator?.hardwareConcurrency ?? 1);

const noRunDir = (dir: unknown) =>
  new ConfigError(
    `run directory "${String(dir)}": a browser has no file system; leave runDir unset and keep the metrics the reporter receives (encodeModel gives a checkpoint's bytes)`,
  );

export const existsSync = ((path: unknown) => {
  throw noRunDir(path);
}) as typeof NodeHost.existsSync;

export const runPath: typeof NodeHost.runPath = (dir) => {
  throw noRunDir(dir);
};
export const writeRunConfig: typeof NodeHost.writeRunConfig = (dir) =>
  Promise.reject(noRunDir(dir));
export const appendMetric: typeof NodeHost.appendMetric = (dir) => Promise.reject(noRunDir(dir));
export const truncateMetrics: typeof NodeHost.truncateMetrics = (dir) =>
  Promise.reject(noRunDir(dir));

/** No worker threads here: asking for parallel steps says so (the Trainer never asks by default). */
export const DataParallelGradients = {
  start: () =>
    Promise.reject(
      new ConfigError(
        'parallel: true splits tfjs steps across a Node worker thread, which a browser lacks; leave parallel unset (or use engine "ort", whose onnxruntime-web threads need no worker of ours)',
      ),
    ),
} as unknown as typeof NodeHost.DataParallelGradients;

export const WORKER_THREADS = false;
