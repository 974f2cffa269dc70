import { CheckpointError } from '../../errors';
import type { SafetensorsDType } from '../safetensors';

/** The float dtypes a Hugging Face directory is read from and written in. */
export type HFDType = 'F32' | 'F16' | 'BF16';
export const hfDTypes: readonly HFDType[] = ['F32', 'F16', 'BF16'];

/** config.json's `torch_dtype` for each. */
export const TORCH_DTYPE: Record<HFDType, string> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
};

const f32 = new Float32Array(1);
/** Typed arrays use host byte order; the format is little-endian (copy bytes as they are on such a host). */
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const u32 = new Uint32Array(f32.buffer);

/** float32 → bfloat16 bits, rounding to nearest even; NaN stays a (quiet) NaN, overflow → ±inf. */
export function f32ToBF16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if ((b & 0x7fffffff) > 0x7f800000) return ((b >>> 16) | 0x40) & 0xffff; // NaN: keep sign, set quiet bit
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/** bfloat16 bits → float32 (exact). */
export function bf16BitsToF32(h: number): number {
  u32[0] = h << 16;
  return f32[0];
}

/**
 * float32 → IEEE half bits, rounding to nearest even: subnormal halves for |x| < 2^-14,
 * ±0 below half the smallest subnormal (2^-25, ties to 0), ±inf from 65520 up, NaN kept.
 */
export function f32ToF16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15; // the half's biased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below 2^-25: rounds to zero
    const m = mant | 0x800000; // implicit bit; value = m · 2^(exp-150), half = value / 2^-24
    const shift = 14 - e;
    let half = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && half & 1)) half++; // may carry into the smallest normal
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++; // a carry may reach inf: correct
  return sign | half;
}

/** IEEE half bits → float32 (exact, subnormals included). */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) {
    u32[0] = ((h & 0x8000) << 16) | 0x7f800000 | (m << 13);
    return f32[0];
  }
  u32[0] = ((h & 0x8000) << 16) | ((e + 112) << 23) | (m << 13);
  return f32[0];
}

/** Raw little-endian tensor bytes of a float dtype → float32 values. */
export function decodeFloats(
  bytes: Uint8Array,
  dtype: SafetensorsDType,
  source: string,
): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === 'F32') {
    // Byte copy on a little-endian host: keeps every bit (NaN payloads too).
    if (HOST_LE) return new Float32Array(bytes.slice().buffer);
    const out = new Float32Array(bytes.byteLength / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
    return out;
  }
  if (dtype === 'F16' || dtype === 'BF16') {
    const out = new Float32Array(bytes.byteLength / 2);
    const conv = dtype === 'F16' ? f16BitsToF32 : bf16BitsToF32;
    for (let i = 0; i < out.length; i++) out[i] = conv(view.getUint16(2 * i, true));
    return out;
  }
  throw new CheckpointError(
    `${source}: dtype ${dtype} is not supported for weights (supported: ${hfDTypes.join(', ')})`,
  );
}

/** float32 values → raw little-endian bytes of `dtype` (F16/BF16 rounded to nearest even); F32 may be a view of `values`. */
export function encodeFloats(values: Float32Array, dtype: HFDType): Uint8Array {
  if (dtype === 'F32' && HOST_LE)
    return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const size = dtype === 'F32' ? 4 : 2;
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  if (dtype === 'F32')
    for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i], true);
  else {
    const conv = dtype === 'F16' ? f32ToF16Bits : f32ToBF16Bits;
    for (let i = 0; i < values.length; i++) view.setUint16(2 * i, conv(values[i]), true);
  }
  return out;
}
