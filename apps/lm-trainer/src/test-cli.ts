import { execFile } from 'node:child_process';
import { join } from 'node:path';

const cli = join(import.meta.dirname, 'cli.ts');
/** The environment the CLI runs in: the wasm backend, whatever the machine has. */
export const cliEnv = { ...process.env, MATFORMER_BACKEND: 'wasm' };

/** Node's arguments that run lm-trainer from source with `args` (for spawn). */
export const cliArgv = (...args: string[]): string[] => [
  '--import',
  'tsx/esm',
  '--conditions=@matformer/source',
  cli,
  ...args,
];

/** Runs lm-trainer from source (tsx), returning exit code and output; never throws. */
export function lmTrainer(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      cliArgv(...args),
      { env: cliEnv, timeout: 240_000, maxBuffer: 2 ** 26 },
      (e, stdout, stderr) =>
        resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
