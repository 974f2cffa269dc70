import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { HnswIndex } from './hnsw-index';
import { readIndexFile, writeIndexFile } from './index-file';
import { randomUnitVectors, tempDir } from './test-fixtures';

const run = promisify(execFile);

/**
 * Loads `path` in a child node (so a native crash fails this test instead of killing vitest),
 * then forces two garbage collections: a native index left half-initialised by a failed read
 * used to be freed twice there (a segfault, exit signal SIGSEGV).
 */
async function loadInChild(path: string) {
  const script = `
    import { HnswIndex } from ${JSON.stringify(join(import.meta.dirname, 'hnsw-index.ts'))};
    let message = 'loaded';
    try { await HnswIndex.load(process.argv[1]); } catch (e) { message = e.message; }
    for (let i = 0; i < 3; i++) { gc(); await new Promise((r) => setTimeout(r, 20)); }
    console.log(JSON.stringify({ message }));
  `;
  try {
    const { stdout } = await run(
      process.execPath,
      [
        '--expose-gc',
        '--import',
        'tsx',
        '--conditions=@matformer/source',
        '--input-type=module',
        '-e',
        script,
        path,
      ],
      { timeout: 60_000 },
    );
    return {
      code: 0,
      signal: null,
      message: JSON.parse(stdout.trim().split('\n').at(-1)!).message as string,
    };
  } catch (e) {
    const err = e as { code: number; signal: string | null; stderr: string };
    return { code: err.code, signal: err.signal, message: err.stderr };
  }
}

describe('HnswIndex.load of a crafted file (child process)', () => {
  it('a graph truncated behind a valid header and checksum fails cleanly and survives GC', async () => {
    const dir = await tempDir();
    const good = join(dir, 'good.mfhnsw');
    await HnswIndex.build(randomUnitVectors(300, 8, 1), { space: 'l2', dim: 8 }).save(good);
    const { header, payload, labels } = await readIndexFile(good);
    // Same header fields, checksum recomputed: only hnswlib's own structure is wrong.
    const crafted = join(dir, 'crafted.mfhnsw');
    await writeIndexFile(crafted, header, payload.subarray(0, payload.length - 1000), labels);
    const r = await loadInChild(crafted);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    expect(r.message).toMatch(/crafted\.mfhnsw/);
    expect(r.message).not.toBe('loaded');
    // The untouched file loads in a child too (the harness itself works).
    expect((await loadInChild(good)).message).toBe('loaded');
  });
});
