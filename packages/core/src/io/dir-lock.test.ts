import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockDir, LOCK_FILE } from './dir-lock';

/** The pid of a process that has already exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

const holder = (pid: number, owner = 'lm-trainer train') =>
  JSON.stringify({ pid, host: hostname(), owner, since: '2024-01-01T00:00:00.000Z', token: 'x' });

describe('lockDir', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dir-lock-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('creates the directory, holds it exclusively, and frees it on release', () => {
    const run = join(dir, 'a', 'b');
    const lock = lockDir(run, 'first');
    expect(existsSync(join(run, LOCK_FILE))).toBe(true);
    expect(() => lockDir(run, 'second')).toThrow(
      new RegExp(`is in use by first \\(pid ${process.pid}, since .*\\); wait for it to finish`),
    );
    lock.release();
    expect(existsSync(join(run, LOCK_FILE))).toBe(false);
    lockDir(run, 'second').release();
  });

  it('refuses a lock held by another live process and takes over once it is killed', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      await writeFile(join(dir, LOCK_FILE), holder(child.pid!));
      expect(() => lockDir(dir, 'me')).toThrow(
        `is in use by lm-trainer train (pid ${child.pid}, since 2024-01-01T00:00:00.000Z)`,
      );
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    const lock = lockDir(dir, 'me');
    expect(lock.path).toBe(join(dir, LOCK_FILE));
    lock.release();
  });

  it('takes over a stale lock from a dead process and an unreadable one', async () => {
    await writeFile(join(dir, LOCK_FILE), holder(deadPid()));
    lockDir(dir, 'me').release();
    await writeFile(join(dir, LOCK_FILE), '{"pid":');
    lockDir(dir, 'me').release();
    expect(await readdir(dir)).toEqual([]);
  });

  it("removes temp files left by killed atomic writes, keeping live writers' ones", async () => {
    const dead = deadPid();
    await writeFile(join(dir, `metrics.jsonl.tmp-${dead}-0a1b2c3d4e5f`), 'partial');
    await writeFile(join(dir, `model.safetensors.tmp-${process.pid}-00ff00ff00ff`), 'mine');
    await writeFile(join(dir, 'notes.tmp-draft'), 'user file');
    const lock = lockDir(dir, 'me');
    expect((await readdir(dir)).sort()).toEqual(
      [LOCK_FILE, `model.safetensors.tmp-${process.pid}-00ff00ff00ff`, 'notes.tmp-draft'].sort(),
    );
    lock.release();
  });

  it.runIf(process.platform === 'linux')(
    'fails at once on a directory that cannot be created (under /proc or /sys)',
    () => {
      const t0 = performance.now();
      expect(() => lockDir('/proc/matformer-test/run', 'me')).toThrow(
        /directory \/proc\/matformer-test\/run cannot be created: mkdir \/proc\/matformer-test failed \(ENOENT\)/,
      );
      expect(() => lockDir('/sys/matformer-test', 'me')).toThrow(/cannot be created|not writable/);
      expect(performance.now() - t0).toBeLessThan(1000);
    },
  );

  it('says when the path is a file', async () => {
    await writeFile(join(dir, 'f'), '');
    expect(() => lockDir(join(dir, 'f'), 'me')).toThrow(/exists and is not a directory/);
  });
});
