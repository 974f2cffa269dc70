// What the Trainer and the onnxruntime engine need from their platform besides compute: the
// cores, a worker thread for tfjs data parallelism, and the run directory's files. This is
// Node's; host.web.ts is the browser's, picked by the "browser" condition of package.json
// "imports" (src/host.ts re-exports whichever applies).
export { availableParallelism } from 'node:os';
export { existsSync } from 'node:fs';
export { DataParallelGradients } from './parallel/data-parallel';
export { TwoThreadAdamW } from './parallel/two-thread-adamw';
export { appendMetric, runPath, truncateMetrics, writeRunConfig } from './run-dir';

/** Whether tfjs steps may split a batch across a worker thread (parallel/grad-worker.ts). */
export const WORKER_THREADS: boolean = true;
