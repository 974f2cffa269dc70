import { readFileSync } from 'node:fs';
import { checkInputFile, ConfigError, formatBytes } from '@matformer/core';

/**
 * Longest `--prompt` taken on the command line: 16 KiB. onnxruntime-node 1.30 crashes
 * (segmentation fault) while creating any inference session once the process command line
 * reaches about 29,000 bytes (measured: 28,900 fine, 28,950 crashes); 16 KiB leaves room for
 * the other arguments. Longer prompts come from a file or stdin, which do not count.
 */
export const MAX_PROMPT_ARG_BYTES = 16 * 1024;

/** Longest prompt read from --prompt-file or stdin (the model sees only its last context bytes). */
export const MAX_PROMPT_FILE_BYTES = 16 * 2 ** 20;

const tooLong = (what: string, bytes: number) =>
  new ConfigError(
    `${what} is ${formatBytes(bytes)}, over the limit of ${formatBytes(MAX_PROMPT_FILE_BYTES)}`,
  );

/** Reads all of a stream (stdin), refusing more than `max` bytes. */
async function readAll(stream: AsyncIterable<Buffer | string>, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    const b = typeof c === 'string' ? Buffer.from(c) : c;
    n += b.length;
    if (n > max) throw tooLong('the prompt on stdin (--prompt -)', n);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The prompt of `generate`: `--prompt TEXT` (at most MAX_PROMPT_ARG_BYTES), `--prompt -`
 * (stdin), `--prompt-file FILE`, or the default. Checked before any onnxruntime session exists.
 */
export async function readPrompt(
  o: { prompt?: string; promptFile?: string },
  fallback: string,
  stdin: AsyncIterable<Buffer | string> = process.stdin,
): Promise<string> {
  if (o.promptFile !== undefined && o.prompt !== undefined)
    throw new ConfigError('give --prompt or --prompt-file, not both');
  if (o.promptFile !== undefined) {
    checkInputFile(o.promptFile, {
      what: '--prompt-file',
      maxBytes: MAX_PROMPT_FILE_BYTES,
      allowEmpty: true, // an empty prompt gets the same message as --prompt ''
    });
    return readFileSync(o.promptFile, 'utf8');
  }
  if (o.prompt === '-') return readAll(stdin, MAX_PROMPT_FILE_BYTES);
  if (o.prompt === undefined) return fallback;
  const bytes = Buffer.byteLength(o.prompt);
  if (bytes > MAX_PROMPT_ARG_BYTES)
    throw new ConfigError(
      `--prompt is ${bytes.toLocaleString('en-US')} bytes, over the ${formatBytes(MAX_PROMPT_ARG_BYTES)} allowed on the command line (onnxruntime-node crashes on a command line of about 29 KB): pass a long prompt with --prompt-file FILE, or on stdin with --prompt -`,
    );
  return o.prompt;
}
