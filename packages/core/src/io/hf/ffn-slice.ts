import { dtypeBytes, type TensorSpan } from '../safetensors';
import type { SafetensorsReader } from '../safetensors-stream';
import type { FFNAxis } from '../../models/matgemma/hf';

/**
 * Reads a tensor's raw bytes keeping only the first `width` entries along its FFN axis:
 * gate/up [m, C] keep their first `width` rows (one contiguous byte range, all that is read);
 * down [C, m] keeps the first `width` columns of each row (the tensor is read, then compacted).
 * Result: [width, C] or [C, width], same dtype. Peak memory: this one tensor.
 */
export async function readFFNSlice(
  reader: SafetensorsReader,
  span: TensorSpan,
  axis: FFNAxis,
  width: number,
): Promise<Uint8Array> {
  const [rows, cols] = span.shape;
  if (axis === null || (axis === 'rows' && width === rows) || (axis === 'cols' && width === cols))
    return reader.read(span.name);
  if (axis === 'rows') return reader.read(span.name, 0, width * cols);
  return sliceFFNBytes(
    await reader.read(span.name),
    span.shape,
    axis,
    width,
    dtypeBytes(span.dtype),
  );
}

/** In memory: the first `width` rows ([m, C] → [width, C]) or columns ([C, m] → [C, width]) of raw tensor bytes. */
export function sliceFFNBytes(
  full: Uint8Array,
  shape: number[],
  axis: 'rows' | 'cols',
  width: number,
  size: number,
): Uint8Array {
  const [rows, cols] = shape;
  if (axis === 'rows') return full.slice(0, width * cols * size);
  const out = new Uint8Array(rows * width * size);
  for (let r = 0; r < rows; r++)
    out.set(full.subarray(r * cols * size, (r * cols + width) * size), r * width * size);
  return out;
}

/** Whether the bytes past `width` along the FFN axis (padding) are all zero (±0 in any float dtype). */
export function paddingIsZero(
  bytes: Uint8Array,
  shape: number[],
  axis: 'rows' | 'cols',
  width: number,
  size: number,
): boolean {
  const [rows, cols] = shape;
  const zero = (from: number, to: number) => {
    for (let i = from; i < to; i++)
      if (bytes[i] !== 0 && !(bytes[i] === 0x80 && (i + 1) % size === 0)) return false;
    return true;
  };
  if (axis === 'rows') return zero(width * cols * size, rows * cols * size);
  for (let r = 0; r < rows; r++)
    if (!zero((r * cols + width) * size, (r + 1) * cols * size)) return false;
  return true;
}
