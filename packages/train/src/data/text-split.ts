import { ConfigError } from '@matformer/core';
import { encodeBytes } from './byte-tokenizer';

/** Token streams for training and held-out evaluation. */
export interface TextCorpus {
  name: string;
  train: Uint8Array;
  val: Uint8Array;
}

export interface TextSplitOptions {
  /** Share of the bytes held out for evaluation (default 0.05). */
  valFraction?: number;
  /** Held-out bytes at least (default 1024). */
  minValBytes?: number;
}

/**
 * Splits text (a string, byte-tokenized as UTF-8, or its bytes) into a training stream and a
 * held-out tail (`valFraction` of the bytes; the tail, not a random sample, so no training window
 * overlaps a held-out one). No file access: a page builds its corpus with this.
 */
export function textCorpus(
  text: string | Uint8Array,
  name = 'text',
  { valFraction = 0.05, minValBytes = 1024 }: TextSplitOptions = {},
): TextCorpus {
  if (!(valFraction > 0 && valFraction < 1))
    throw new ConfigError(`valFraction must be in (0, 1), got ${valFraction}`);
  const bytes = typeof text === 'string' ? encodeBytes(text) : text;
  if (!(bytes instanceof Uint8Array))
    throw new ConfigError(`text of "${name}" must be a string or a Uint8Array of its bytes`);
  if (bytes.length === 0) throw new ConfigError(`text source "${name}" is empty`);
  const valBytes = Math.max(minValBytes, Math.floor(bytes.length * valFraction));
  if (bytes.length < 2 * valBytes) {
    throw new ConfigError(
      `text source "${name}" has ${bytes.length} bytes; need at least ${2 * valBytes} for a training stream and a ${valBytes}-byte held-out split`,
    );
  }
  const cut = bytes.length - valBytes;
  return { name, train: bytes.subarray(0, cut), val: bytes.subarray(cut) };
}
