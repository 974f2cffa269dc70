import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  appendFileChecked,
  checkWritablePath,
  writeFileAtomic,
  writeFileAtomicSync,
} from './atomic-write';

// Fault injection: the real fs, except for the step a test asks to fail.
const faults = vi.hoisted(() => ({ rename: false, write: false }));
const enospc = () =>
  Object.assign(new Error('ENOSPC: no space left on device (injected)'), { code: 'ENOSPC' });

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    rename: (...a: Parameters<typeof actual.rename>) =>
      faults.rename ? Promise.reject(enospc()) : actual.rename(...a),
    open: async (...a: Parameters<typeof actual.open>) => {
      const handle = await actual.open(...a);
      if (faults.write) {
        // Write half the data, then fail: a partial temp file exists when the error surfaces.
        handle.writeFile = (async (data: Uint8Array | string) => {
          await actual.writeFile(
            a[0],
            typeof data === 'string'
              ? data.slice(0, data.length >> 1)
              : data.subarray(0, data.length >> 1),
          );
          throw enospc();
        }) as typeof handle.writeFile;
      }
      return handle;
    },
  };
});

vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  return {
    ...actual,
    renameSync: (...a: Parameters<typeof actual.renameSync>) => {
      if (faults.rename) throw enospc();
      return actual.renameSync(...a);
    },
    writeFileSync: (...a: Parameters<typeof actual.writeFileSync>) => {
      if (faults.write && typeof a[0] === 'number') {
        const data = a[1] as Uint8Array | string;
        actual.writeFileSync(
          a[0],
          typeof data === 'string'
            ? data.slice(0, data.length >> 1)
            : data.subarray(0, data.length >> 1),
        );
        throw enospc();
      }
      return actual.writeFileSync(...a);
    },
  };
});

afterEach(() => {
  faults.rename = false;
  faults.write = false;
});

const tempDir = () => mkdtemp(join(tmpdir(), 'matformer-atomic-'));
const OLD = 'old content, complete';
const NEW = 'new content that is longer than the old one '.repeat(1000);

describe('writeFileAtomic', () => {
  it('creates missing parent directories and writes strings and bytes', async () => {
    const dir = await tempDir();
    const target = join(dir, 'a', 'b', 'file.bin');
    await writeFileAtomic(target, new Uint8Array([1, 2, 3, 255]));
    expect([...(await readFile(target))]).toEqual([1, 2, 3, 255]);
    await writeFileAtomic(target, 'héllo');
    expect(await readFile(target, 'utf8')).toBe('héllo');
    expect(await readdir(join(dir, 'a', 'b'))).toEqual(['file.bin']);
  });

  it('replaces existing content and leaves no temp files', async () => {
    const dir = await tempDir();
    const target = join(dir, 'ckpt');
    await writeFile(target, OLD);
    await writeFileAtomic(target, NEW);
    expect(await readFile(target, 'utf8')).toBe(NEW);
    expect(await readdir(dir)).toEqual(['ckpt']);
  });

  it.each([
    ['the write fails midway', 'write'],
    ['the rename fails', 'rename'],
  ] as const)('keeps the old file intact and removes the temp file when %s', async (_, step) => {
    const dir = await tempDir();
    const target = join(dir, 'ckpt');
    await writeFile(target, OLD);
    faults[step] = true;
    await expect(writeFileAtomic(target, NEW)).rejects.toThrow(/ENOSPC/);
    expect(await readFile(target, 'utf8')).toBe(OLD);
    expect(await readdir(dir)).toEqual(['ckpt']);
  });

  it('fails cleanly (real errors) when the target is a directory or its parent is a file', async () => {
    const dir = await tempDir();
    const asDir = join(dir, 'taken');
    mkdirSync(asDir);
    writeFileSync(join(asDir, 'inside'), OLD);
    await expect(writeFileAtomic(asDir, NEW)).rejects.toThrow();
    expect(readFileSync(join(asDir, 'inside'), 'utf8')).toBe(OLD);
    expect((await readdir(dir)).sort()).toEqual(['taken']);

    const file = join(dir, 'plain');
    await writeFile(file, OLD);
    await expect(writeFileAtomic(join(file, 'child'), NEW)).rejects.toThrow();
    expect(await readFile(file, 'utf8')).toBe(OLD);
    expect((await readdir(dir)).sort()).toEqual(['plain', 'taken']);
  });

  it('concurrent writers: the file ends as exactly one complete version', async () => {
    const dir = await tempDir();
    const target = join(dir, 'ckpt');
    const versions = Array.from({ length: 16 }, (_, i) =>
      `${i}:`.padEnd(20_000 + i * 1000, String.fromCharCode(97 + i)),
    );
    await Promise.all(versions.map((v) => writeFileAtomic(target, v)));
    expect(versions).toContain(await readFile(target, 'utf8'));
    expect(await readdir(dir)).toEqual(['ckpt']);
  });
});

describe('writeFileAtomicSync', () => {
  it('creates parent directories, replaces content, leaves no temp files', async () => {
    const dir = await tempDir();
    const target = join(dir, 'sub', 'ckpt');
    writeFileAtomicSync(target, OLD);
    writeFileAtomicSync(target, new TextEncoder().encode(NEW));
    expect(readFileSync(target, 'utf8')).toBe(NEW);
    expect(await readdir(join(dir, 'sub'))).toEqual(['ckpt']);
  });

  it.each([
    ['the write fails midway', 'write'],
    ['the rename fails', 'rename'],
  ] as const)('keeps the old file intact and removes the temp file when %s', async (_, step) => {
    const dir = await tempDir();
    const target = join(dir, 'ckpt');
    writeFileSync(target, OLD);
    faults[step] = true;
    expect(() => writeFileAtomicSync(target, NEW)).toThrow(/ENOSPC/);
    faults[step] = false;
    expect(readFileSync(target, 'utf8')).toBe(OLD);
    expect(await readdir(dir)).toEqual(['ckpt']);
  });
});

describe('only regular files or new paths are written (issue #23)', () => {
  it('refuses a FIFO before writing anything, naming the path, and leaves the FIFO in place', async () => {
    const dir = await tempDir();
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const message = `cannot write ${fifo}: it is a FIFO (named pipe), not a regular file`;
    await expect(writeFileAtomic(fifo, NEW)).rejects.toThrow(message);
    expect(() => writeFileAtomicSync(fifo, NEW)).toThrow(message);
    // Appending would block on a FIFO without a reader: the check must come first.
    await expect(appendFileChecked(fifo, NEW)).rejects.toThrow(message);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(await readdir(dir)).toEqual(['pipe']);
  });

  it('refuses a directory up front, for each writer', async () => {
    const dir = await tempDir();
    const message = `cannot write ${dir}: it is a directory, not a regular file`;
    await expect(writeFileAtomic(dir, NEW)).rejects.toThrow(message);
    expect(() => writeFileAtomicSync(dir, NEW)).toThrow(message);
    await expect(appendFileChecked(dir, NEW)).rejects.toThrow(message);
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses character devices (checked only: nothing here may write to /dev)', () => {
    // checkWritablePath is the first thing every writer runs; calling it alone cannot touch /dev.
    for (const dev of ['/dev/null', '/dev/full'])
      expect(() => checkWritablePath(dev, '--out')).toThrow(
        `cannot write --out ${dev}: it is a character device, not a regular file`,
      );
  });

  it('accepts a regular file or a new path', async () => {
    const dir = await tempDir();
    expect(() => checkWritablePath(join(dir, 'new.bin'))).not.toThrow();
    await writeFile(join(dir, 'old.bin'), OLD);
    expect(() => checkWritablePath(join(dir, 'old.bin'))).not.toThrow();
    await appendFileChecked(join(dir, 'log', 'metrics.jsonl'), 'a\n');
    await appendFileChecked(join(dir, 'log', 'metrics.jsonl'), 'b\n');
    expect(await readFile(join(dir, 'log', 'metrics.jsonl'), 'utf8')).toBe('a\nb\n');
  });

  it("errors name the caller's path, never the temp file", async () => {
    await expect(writeFileAtomic('', NEW)).rejects.toThrow(
      'cannot write "": the file name is empty',
    );
    expect(() => writeFileAtomicSync('', NEW)).toThrow('the file name is empty');
    const proc = '/proc/x.onnx';
    const err = await writeFileAtomic(proc, NEW).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/^cannot write \/proc\/x\.onnx: E[A-Z]+: /);
    expect(err?.message).not.toContain('.tmp-');
    const dir = await tempDir();
    const target = join(dir, 'ckpt');
    faults.write = true;
    const midway = await writeFileAtomic(target, NEW).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(midway?.message).toBe(
      `cannot write ${target}: ENOSPC: no space left on device (injected)`,
    );
  });
});
