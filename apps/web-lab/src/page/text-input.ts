import { ConfigError } from '@matformer/core';

/** Largest text file the page takes (the tab holds it, its split and the batches in memory). */
export const MAX_DROP_BYTES = 64 * 2 ** 20;

/**
 * The bytes of a dropped or chosen file if it is text a byte-level model can learn from: valid
 * UTF-8, no NUL bytes (a binary file: image, archive, model), and at most MAX_DROP_BYTES. Anything
 * else throws a ConfigError naming the file and what is wrong with it.
 */
export function checkTextBytes(bytes: Uint8Array, name: string): Uint8Array {
  if (bytes.length === 0) throw new ConfigError(`"${name}" is empty: drop a text file`);
  if (bytes.length > MAX_DROP_BYTES)
    throw new ConfigError(
      `"${name}" is ${(bytes.length / 2 ** 20).toFixed(1)} MiB; the page takes text up to ${MAX_DROP_BYTES / 2 ** 20} MiB`,
    );
  const nul = bytes.indexOf(0);
  if (nul >= 0)
    throw new ConfigError(
      `"${name}" is not text (a NUL byte at offset ${nul}: an image, archive or model file?); drop a UTF-8 .txt file`,
    );
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ConfigError(`"${name}" is not UTF-8 text; drop a UTF-8 .txt file`);
  }
  return bytes;
}
