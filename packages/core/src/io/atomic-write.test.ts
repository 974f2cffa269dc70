import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { writeFileAtomic, writeFileAtomicSync } from './atomic-write';

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
