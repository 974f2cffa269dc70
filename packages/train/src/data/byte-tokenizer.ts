/**
 * Byte-level tokenizer: token = UTF-8 byte (vocabulary 256). Lossless for any text, no
 * training, and loss per token is loss per byte, so bits/byte compare across runs directly.
 */
export const BYTE_VOCAB_SIZE = 256;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

export function encodeBytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes tokens back to text; an incomplete multi-byte character at the end becomes U+FFFD. */
export function decodeBytes(tokens: ArrayLike<number>): string {
  return decoder.decode(Uint8Array.from(tokens));
}
