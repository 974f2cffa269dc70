import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { cudaUnavailableMessage } from '@matformer/core/onnx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const cli = join(import.meta.dirname, 'cli.ts');
/** Whether onnxruntime-node here has its CUDA binaries (npm installs the CPU build alone). */
const ortDir = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
const hasCuda = existsSync(
  join(ortDir, 'bin/napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so'),
);

async function demo(...args: string[]) {
  try {
    const { stdout, stderr } = await run(
      'npx',
      ['tsx', '--conditions=@matformer/source', cli, ...args],
      { env: { ...process.env, MATFORMER_BACKEND: 'wasm' }, timeout: 120_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('retrieval-demo CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'retrieval-demo-cli-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('refuses a run directory whose cache another live demo is writing', async () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const since = '2024-01-01T00:00:00.000Z';
      await writeFile(
        join(dir, '.lock'),
        JSON.stringify({
          pid: other.pid,
          host: hostname(),
          owner: 'retrieval-demo',
          since,
          token: 't',
        }),
      );
      const r = await demo('--run-dir', dir, '--preset', 'tiny');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `retrieval-demo: ${dir} is in use by retrieval-demo (pid ${other.pid}, since ${since})`,
      );
    } finally {
      other.kill('SIGKILL');
    }
  }, 120_000);

  it.skipIf(hasCuda)(
    'says in one line, before any training, that --device cuda needs the CUDA build, without the native log',
    async () => {
      const r = await demo(
        ...['--run-dir', join(dir, 'cuda'), '--preset', 'tiny', '--steps', '2'],
        ...['--database', '100', '--queries', '10', '--engine', 'ort', '--device', 'cuda'],
      );
      expect(r.code).toBe(1);
      const lines = r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('npm warn'));
      expect(lines.filter((l) => !l.startsWith('tfjs backend:'))).toEqual([
        `retrieval-demo: ${cudaUnavailableMessage('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library', '--device')}`,
      ]);
    },
    120_000,
  );

  it('reads -k as a plain decimal, with a one-line error', async () => {
    const r = await demo('-k', '0x10', '--run-dir', dir);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('npm warn'))).toEqual([
      `error: option '-k, --k <n>' argument '0x10' is invalid. -k must be an integer ≥ 1, got "0x10"`,
    ]);
  });
});
