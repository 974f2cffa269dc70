import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PROMPT_ARG_BYTES, readPrompt } from './prompt';

describe('readPrompt (issue #23: a long --prompt crashed onnxruntime-node)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'prompt-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('takes --prompt up to 16 KiB, and points a longer one to --prompt-file or stdin', async () => {
    expect(await readPrompt({}, 'default')).toBe('default');
    expect(await readPrompt({ prompt: 'x'.repeat(MAX_PROMPT_ARG_BYTES) }, '')).toHaveLength(16384);
    await expect(readPrompt({ prompt: 'x'.repeat(30_000) }, '')).rejects.toThrow(
      '--prompt is 30,000 bytes, over the 16 KiB allowed on the command line (onnxruntime-node crashes on a command line of about 29 KB): pass a long prompt with --prompt-file FILE, or on stdin with --prompt -',
    );
  });

  it('reads --prompt-file and --prompt - (stdin), any length', async () => {
    const file = join(dir, 'long.txt');
    const text = 'Call me Ishmael. '.repeat(3000); // 51 KB
    await writeFile(file, text);
    expect(await readPrompt({ promptFile: file }, '')).toBe(text);
    expect(await readPrompt({ prompt: '-' }, '', Readable.from([Buffer.from(text)]))).toBe(text);
    await expect(readPrompt({ prompt: 'a', promptFile: file }, '')).rejects.toThrow(
      'give --prompt or --prompt-file, not both',
    );
  });

  it('refuses a --prompt-file that is missing, not a regular file, or too large', async () => {
    await expect(readPrompt({ promptFile: join(dir, 'nope') }, '')).rejects.toThrow(
      `--prompt-file ${join(dir, 'nope')} does not exist`,
    );
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    await expect(readPrompt({ promptFile: fifo }, '')).rejects.toThrow(
      `--prompt-file ${fifo} is a FIFO (named pipe), not a regular file`,
    );
    const huge = join(dir, 'huge.txt');
    await writeFile(huge, '');
    await truncate(huge, 2 ** 30); // sparse
    await expect(readPrompt({ promptFile: huge }, '')).rejects.toThrow(
      `--prompt-file ${huge} is 1 GiB, over the limit of 16 MiB`,
    );
  });
});
