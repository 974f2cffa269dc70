import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliArgv, cliEnv, lmTrainer } from './test-cli';

/** stderr without npm's own warnings (npx prints them). */
const errLines = (stderr: string) =>
  stderr.split('\n').filter((l) => l.trim() && !l.startsWith('npm warn'));

describe('lm-trainer CLI guards', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lm-trainer-guards-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('refuses a second trainer (even with --force) or a search while one runs on the directory', async () => {
    const runDir = join(dir, 'busy');
    const first = spawn(
      process.execPath,
      cliArgv('train', '--preset', 'tiny', '--steps', '100000', '--run', runDir),
      { env: cliEnv, stdio: 'ignore', detached: true },
    );
    try {
      for (let i = 0; i < 600 && !existsSync(join(runDir, '.lock')); i++)
        await new Promise((r) => setTimeout(r, 100));
      for (const args of [
        ['train', '--preset', 'tiny', '--steps', '5', '--run', runDir, '--force'],
        ['resume', '--run', runDir],
        ['search', '--run', runDir, '--budget', 'params=70%'],
      ]) {
        const r = await lmTrainer(...args);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(
          new RegExp(`${runDir} is in use by lm-trainer train \\(pid \\d+, since `),
        );
      }
    } finally {
      process.kill(-first.pid!, 'SIGKILL'); // the whole group
    }
  }, 120_000);

  it('prints one line for a bad value, and the usage only for --help', async () => {
    const bad = await lmTrainer('train', '--steps', '0x10', '--run', join(dir, 'x'));
    expect(bad.code).toBe(1);
    expect(errLines(bad.stderr)).toEqual([
      `error: option '--steps <n>' argument '0x10' is invalid. --steps must be an integer ≥ 1, got "0x10"`,
    ]);
    const help = await lmTrainer('train', '--help');
    expect(help.stdout).toMatch(/^Usage: lm-trainer train \[options\]/);
  });

  it('fails at once on a run directory under /proc', async () => {
    const r = await lmTrainer('train', '--preset', 'tiny', '--run', '/proc/matformer/run');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      'directory /proc/matformer/run cannot be created: mkdir /proc/matformer failed (ENOENT)',
    );
  });

  it('checks the prompt before writing to stdout', async () => {
    const runDir = join(dir, 'run');
    const t = await lmTrainer('train', '--preset', 'tiny', '--steps', '2', '--run', runDir);
    expect(t.code, t.stderr).toBe(0);
    const r = await lmTrainer('generate', '--run', runDir, '--prompt', '');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch('--prompt: prompt must hold at least one token');
    // A prompt longer than the context is cropped to its last maxSeqLen tokens, and says so.
    const long = await lmTrainer(
      'generate',
      '--run',
      runDir,
      '--prompt',
      'x'.repeat(100),
      '--max-tokens',
      '40',
    );
    expect(long.code, long.stderr).toBe(0);
    expect(long.stderr).toMatch(
      "note: the prompt is 100 bytes, longer than the model's context of 16: it sees only the last 16",
    );
  });
});
