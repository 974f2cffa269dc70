import type { ImageHeader } from './image-header';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A PNG whose chunk layout is broken: the decoder would fail on it, or read another canvas. */
export class PngStructureError extends Error {}

/** Whether the bytes start with the PNG signature. */
export const isPng = (b: Uint8Array) => b.length >= 8 && SIGNATURE.every((v, i) => b[i] === v);

/**
 * The canvas of a PNG, from a walk over every chunk header up to IEND (nothing is inflated).
 * The PNG spec allows exactly one IHDR, as the first chunk; the decoder (pngjs) sizes its
 * buffers from the *last* IHDR it meets, so a file with a second one is refused here, else a
 * 2×2 first IHDR would pass the pixel cap and a 16384×16384 second one be allocated.
 * Returns undefined without the PNG signature; throws PngStructureError for a broken layout.
 */
export function pngHeader(b: Uint8Array): ImageHeader | undefined {
  if (!isPng(b)) return undefined;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let header: ImageHeader | undefined;
  for (let at = 8; ;) {
    if (at + 8 > b.length)
      throw new PngStructureError(
        header ? `no IEND chunk: the file ends at byte ${b.length}` : 'no IHDR chunk',
      );
    const length = view.getUint32(at);
    const type = String.fromCharCode(b[at + 4], b[at + 5], b[at + 6], b[at + 7]);
    if (at + 12 + length > b.length)
      throw new PngStructureError(
        `the ${JSON.stringify(type)} chunk at byte ${at} declares ${length} bytes, past the end of the ${b.length}-byte file`,
      );
    if (!header) {
      if (type !== 'IHDR')
        throw new PngStructureError(`the first chunk is ${JSON.stringify(type)}, not IHDR`);
      if (length !== 13)
        throw new PngStructureError(`the IHDR chunk is ${length} bytes long, not 13`);
      header = {
        format: 'PNG',
        width: view.getUint32(at + 8),
        height: view.getUint32(at + 12),
        bitDepth: b[at + 16],
        interlaced: b[at + 20] !== 0,
      };
    } else if (type === 'IHDR') {
      const claim =
        length >= 8 ? ` claiming ${view.getUint32(at + 8)}×${view.getUint32(at + 12)}` : '';
      throw new PngStructureError(
        `a second IHDR chunk at byte ${at}${claim}; a PNG has exactly one`,
      );
    } else if (type === 'IEND') {
      return header; // the decoder stops here: bytes after IEND are never read
    }
    at += 12 + length;
  }
}
