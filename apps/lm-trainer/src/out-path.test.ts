import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkOutFile } from './out-path';

describe('checkOutFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'out-path-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('says in words when --out is a directory, or its folder is missing or a file', async () => {
    expect(() => checkOutFile('--out', dir)).toThrow(
      `--out ${dir} is a directory; give the file to write, e.g. ${join(dir, 'model.onnx')}`,
    );
    expect(() => checkOutFile('--out', join(dir, 'nope', 'm.onnx'))).toThrow(
      `--out ${join(dir, 'nope', 'm.onnx')}: the folder ${join(dir, 'nope')} does not exist; create it first`,
    );
    await writeFile(join(dir, 'f'), '');
    expect(() => checkOutFile('--out', join(dir, 'f', 'm.onnx'))).toThrow(
      `${join(dir, 'f')} is a file, not a folder`,
    );
    expect(() => checkOutFile('--out', join(dir, 'm.onnx'))).not.toThrow();
  });

  it('refuses an empty path, a FIFO or a character device before any work (issue #23)', () => {
    expect(() => checkOutFile('--out', '')).toThrow('--out is empty: give the file to write');
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    expect(() => checkOutFile('--out', fifo)).toThrow(
      `cannot write --out ${fifo}: it is a FIFO (named pipe), not a regular file`,
    );
    // Checked only: checkOutFile writes nothing.
    expect(() => checkOutFile('--out', '/dev/full')).toThrow(
      'cannot write --out /dev/full: it is a character device, not a regular file',
    );
  });
});
