import { describe, expect, it } from 'vitest';
import {
  bf16BitsToF32,
  decodeFloats,
  encodeFloats,
  f16BitsToF32,
  f32ToBF16Bits,
  f32ToF16Bits,
} from './dtype';

const hex = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;

describe('float32 → float16 (round to nearest even)', () => {
  // [value, expected half bits], each worked out by hand from the IEEE 754 binary16 layout.
  const cases: [number, number][] = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff], // largest half
    [65519, 0x7bff], // below the halfway point to 65536
    [65520, 0x7c00], // halfway between 65504 and 2^16: ties to even (the odd 0x7bff loses) → inf
    [1e6, 0x7c00],
    [-1e6, 0xfc00],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [1 + 2 ** -11, 0x3c00], // halfway between 1 and 1 + 2^-10: ties to the even 0x3c00
    [1 + 3 * 2 ** -11, 0x3c02], // halfway between 0x3c01 and 0x3c02: to the even 0x3c02
    [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above halfway: up
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [1023 * 2 ** -24, 0x03ff], // largest subnormal
    [2 ** -25, 0x0000], // halfway between 0 and 2^-24: ties to 0
    [1.5 * 2 ** -25, 0x0001], // above halfway: up to the smallest subnormal
    [3 * 2 ** -25, 0x0002], // 1.5 · 2^-24: ties to the even 2
    [2 ** -30, 0x0000],
    [-(2 ** -24), 0x8001],
    [(2047 / 2048) * 2 ** -14, 0x0400], // rounds up out of the subnormals into the smallest normal
  ];
  it.each(cases)('%s → %s', (x, bits) => {
    expect(hex(f32ToF16Bits(x))).toBe(hex(bits));
  });
  it('keeps NaN a NaN', () => {
    const h = f32ToF16Bits(NaN);
    expect(h & 0x7c00).toBe(0x7c00);
    expect(h & 0x3ff).not.toBe(0);
    expect(f16BitsToF32(h)).toBeNaN();
  });
  it('decodes exactly, subnormals and specials included', () => {
    expect(f16BitsToF32(0x3c00)).toBe(1);
    expect(f16BitsToF32(0x0001)).toBe(2 ** -24);
    expect(f16BitsToF32(0x03ff)).toBe(1023 * 2 ** -24);
    expect(f16BitsToF32(0x8001)).toBe(-(2 ** -24));
    expect(Object.is(f16BitsToF32(0x8000), -0)).toBe(true);
    expect(f16BitsToF32(0x7bff)).toBe(65504);
    expect(f16BitsToF32(0x7c00)).toBe(Infinity);
    expect(f16BitsToF32(0xfc00)).toBe(-Infinity);
    expect(f16BitsToF32(0x7e00)).toBeNaN();
    expect(f16BitsToF32(0x3555)).toBe(0.333251953125); // 1365/4096
  });
  it('round-trips every half exactly', () => {
    for (let h = 0; h < 0x10000; h++) {
      const x = f16BitsToF32(h);
      if (Number.isNaN(x)) continue;
      expect(f32ToF16Bits(x)).toBe(h);
    }
  });
});

describe('float32 → bfloat16 (round to nearest even)', () => {
  const cases: [number, number][] = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3f80],
    [-2, 0xc000],
    [1 + 2 ** -8, 0x3f80], // halfway between 1 and 1 + 2^-7: ties to even
    [1 + 3 * 2 ** -8, 0x3f82], // halfway between 0x3f81 and 0x3f82: to the even one
    [1 + 2 ** -8 + 2 ** -20, 0x3f81], // above halfway: up
    [3.4028234663852886e38, 0x7f80], // float32 max rounds up to inf
    [Infinity, 0x7f80],
    [-Infinity, 0xff80],
    [2 ** -133, 0x0001], // a float32 subnormal that bfloat16 keeps exactly
    [2 ** -149, 0x0000], // smallest float32 subnormal: below half of bf16's smallest → 0
  ];
  it.each(cases)('%s → %s', (x, bits) => {
    expect(hex(f32ToBF16Bits(x))).toBe(hex(bits));
  });
  it('keeps NaN a NaN (never rounds it to inf)', () => {
    const h = f32ToBF16Bits(NaN);
    expect(bf16BitsToF32(h)).toBeNaN();
    // A NaN whose payload sits only in the low 16 bits would become inf if rounded blindly.
    const u = new Uint32Array([0x7f800001]);
    expect(bf16BitsToF32(f32ToBF16Bits(new Float32Array(u.buffer)[0]))).toBeNaN();
  });
  it('decodes exactly', () => {
    expect(bf16BitsToF32(0x3f80)).toBe(1);
    expect(bf16BitsToF32(0x4049)).toBe(3.140625);
    expect(bf16BitsToF32(0x0001)).toBe(2 ** -133);
  });
});

describe('encodeFloats / decodeFloats', () => {
  it('F32 keeps every bit, NaN payloads included', () => {
    const bits = new Uint32Array([0x3f800000, 0x7fc00001, 0xff800000, 0x00000001, 0x80000000]);
    const x = new Float32Array(bits.buffer);
    const back = decodeFloats(encodeFloats(x, 'F32').slice(), 'F32', 'test');
    expect([...new Uint32Array(back.buffer)]).toEqual([...bits]);
  });
  it('writes little-endian 16-bit patterns', () => {
    const x = new Float32Array([1, -2]);
    expect([...encodeFloats(x, 'F16')]).toEqual([0x00, 0x3c, 0x00, 0xc0]);
    expect([...encodeFloats(x, 'BF16')]).toEqual([0x80, 0x3f, 0x00, 0xc0]);
    expect([...decodeFloats(encodeFloats(x, 'BF16'), 'BF16', 't')]).toEqual([1, -2]);
  });
  it('refuses a non-float dtype, naming the source', () => {
    expect(() => decodeFloats(new Uint8Array(4), 'I32', 'w.safetensors')).toThrow(
      /w\.safetensors: dtype I32 is not supported for weights \(supported: F32, F16, BF16\)/,
    );
  });
});
