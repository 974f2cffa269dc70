import { Worker, type WorkerOptions } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

/**
 * Starts the worker script `name` (no extension) that sits beside this module: the compiled .js
 * when built (tsup makes each worker its own entry); from source (tests, tsx) the .ts file
 * through tsx's loader, resolving workspace packages to their sources.
 */
export function spawnWorker(name: string, opts: WorkerOptions = {}): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(fileURLToPath(new URL(`./${name}.js`, import.meta.url)), opts);
  const file = new URL(`./${name}.ts`, import.meta.url).href;
  const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(file)}); });`;
  return new Worker(boot, { ...opts, eval: true, execArgv: ['--conditions=@matformer/source'] });
}
