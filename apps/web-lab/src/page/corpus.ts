import { ConfigError } from '@matformer/core';
import type { TextCorpus } from '@matformer/train';
import { DATA_DEFAULTS } from './settings';

/** Bytes held out at least (loadTextCorpus's minValBytes), so evaluation has windows to score. */
const MIN_VAL_BYTES = 1024;

/**
 * Splits text bytes into a training stream and a held-out tail, by the rule of @matformer/train's
 * loadTextCorpus (the tail's valFraction, at least 1 KiB), so the page trains and evaluates on
 * exactly the bytes `lm-trainer train --data` would.
 */
export function corpusOf(bytes: Uint8Array, name: string): TextCorpus {
  const valBytes = Math.max(MIN_VAL_BYTES, Math.floor(bytes.length * DATA_DEFAULTS.valFraction));
  if (bytes.length < 2 * valBytes)
    throw new ConfigError(
      `"${name}" has ${bytes.length} bytes; the page needs at least ${2 * valBytes} (a training stream and a ${valBytes}-byte held-out tail)`,
    );
  const cut = bytes.length - valBytes;
  return { name, train: bytes.subarray(0, cut), val: bytes.subarray(cut) };
}
