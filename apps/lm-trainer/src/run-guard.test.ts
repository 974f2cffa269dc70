import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockRun, startClean } from './run-guard';

describe('run directory guard', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'run-guard-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('lets one process own a run directory; --force cannot bypass a live owner', () => {
    const run = join(dir, 'run');
    const lock = lockRun(run, 'train');
    expect(() => lockRun(run, 'resume')).toThrow(
      new RegExp(`^${run} is in use by lm-trainer train \\(pid ${process.pid}, since `),
    );
    lock.release();
  });

  it('refuses a directory left by a run killed before its first checkpoint', async () => {
    const run = join(dir, 'run');
    await mkdir(run);
    await writeFile(join(run, 'metrics.jsonl'), '{"type":"step","step":1}\n');
    await writeFile(join(run, 'config.json'), '{}\n');
    const lock = lockRun(run, 'train');
    await expect(startClean(run, false)).rejects.toThrow(
      `${run} is not empty (it holds config.json, metrics.jsonl); a new run starts in an empty directory: pass --force to start over, or choose another --run`,
    );
    await writeFile(join(run, 'checkpoint.safetensors'), '');
    await expect(startClean(run, false)).rejects.toThrow(
      `${run} already holds a run; continue it with "lm-trainer resume --run ${run}"`,
    );
    await writeFile(join(run, 'slices.csv'), '');
    await writeFile(join(run, 'notes.txt'), 'mine');
    await startClean(run, true);
    expect((await readdir(run)).sort()).toEqual(['.lock', 'notes.txt']);
    lock.release();
  });

  it('resume does not create a missing directory', () => {
    expect(() => lockRun(join(dir, 'nope'), 'resume')).toThrow(
      `${join(dir, 'nope')} is not a run directory (it does not exist)`,
    );
    expect(existsSync(join(dir, 'nope'))).toBe(false);
  });
});
