import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { UploadError } from './upload';

export interface DecodeRequest {
  id: number;
  bytes: Uint8Array;
  contentType?: string;
  size: number;
  maxBytes: number;
}

export type DecodeReply =
  | { id: number; pixels: Float32Array; error?: undefined }
  | { id: number; pixels?: undefined; error: { status: number; message: string } }
  | { ready: true; id?: undefined };

export interface DecodePoolOptions {
  /** Uploads waiting for the decoder beyond the one it works on; more get 503. */
  maxQueue?: number;
  /** A decode running longer is abandoned (the worker is replaced). */
  timeoutMs?: number;
}

/**
 * The worker script beside this module: the compiled .js when bundled; from source (tests,
 * tsx) the .ts file through tsx's loader, resolving workspace packages to their sources.
 */
function spawnWorker(): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(fileURLToPath(new URL('./decode-worker.js', import.meta.url)));
  const file = new URL('./decode-worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(file)}); });`;
  return new Worker(boot, { eval: true, execArgv: ['--conditions=@matformer/source'] });
}

interface Job {
  request: Omit<DecodeRequest, 'id'>;
  resolve: (pixels: Float32Array) => void;
  reject: (e: Error) => void;
}

/**
 * Uploads are decoded one at a time on a worker thread, so a heavy image never blocks the
 * thread that answers other users (the machine has two cores: one serves, one decodes), and
 * a bounded queue keeps a flood of uploads from piling up memory.
 */
export class DecodePool {
  private worker?: Worker;
  private current?: Job & { id: number; timer?: NodeJS.Timeout };
  /** Whether the worker has loaded its modules: a decode's time limit starts from then. */
  private ready = false;
  private readonly queue: Job[] = [];
  private nextId = 0;
  private closed = false;
  private readonly maxQueue: number;
  private readonly timeoutMs: number;

  constructor(opts: DecodePoolOptions = {}) {
    this.maxQueue = opts.maxQueue ?? 8;
    this.timeoutMs = opts.timeoutMs ?? 5000;
  }

  /** Starts the worker now (it loads the decoders once), so the first upload does not wait. */
  warm(): void {
    this.ensureWorker();
  }

  decode(request: Omit<DecodeRequest, 'id'>): Promise<Float32Array> {
    if (this.closed) return Promise.reject(new UploadError(503, 'the server is shutting down'));
    if (this.current && this.queue.length >= this.maxQueue)
      return Promise.reject(
        new UploadError(503, `too many uploads are waiting to be decoded; try again shortly`),
      );
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0))
      job.reject(new UploadError(503, 'the server is shutting down'));
    this.fail(new UploadError(503, 'the server is shutting down'));
    await this.worker?.terminate();
    this.worker = undefined;
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = spawnWorker();
    w.unref(); // an idle decoder must not keep the process alive
    this.ready = false;
    w.on('message', (m: DecodeReply) => {
      if ('ready' in m) {
        this.ready = true;
        if (this.current) this.startTimer(w);
        return;
      }
      const job = this.current;
      if (!job || job.id !== m.id) return;
      clearTimeout(job.timer);
      this.current = undefined;
      if (m.pixels) job.resolve(m.pixels);
      else job.reject(new UploadError(m.error.status, m.error.message));
      this.pump();
    });
    const lost = (why: string) => {
      if (this.worker !== w) return;
      this.worker = undefined;
      this.fail(new UploadError(400, `the uploaded image could not be decoded (${why})`));
      this.pump();
    };
    w.on('error', (e) => lost(e.message));
    w.on('exit', (code) => lost(`the decoder exited with code ${code}`));
    this.worker = w;
    return w;
  }

  /** Rejects the job in flight, if any. */
  private fail(e: Error): void {
    const job = this.current;
    if (!job) return;
    clearTimeout(job.timer);
    this.current = undefined;
    job.reject(e);
  }

  private pump(): void {
    if (this.current || this.closed) return;
    const job = this.queue.shift();
    if (!job) return;
    const worker = this.ensureWorker();
    const id = this.nextId++;
    this.current = { ...job, id };
    if (this.ready) this.startTimer(worker);
    worker.postMessage({ id, ...job.request } satisfies DecodeRequest);
  }

  /** Abandons a decode that takes too long: the worker is replaced, the queue moves on. */
  private startTimer(worker: Worker): void {
    this.current!.timer = setTimeout(() => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      void worker.terminate();
      this.fail(
        new UploadError(413, `the uploaded image took over ${this.timeoutMs} ms to decode`),
      );
      this.pump();
    }, this.timeoutMs);
  }
}
