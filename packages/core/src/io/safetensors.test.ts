import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../errors';
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensorsFile,
  writeSafetensorsFile,
  type TensorEntry,
} from './safetensors';

/** The raw bytes of a typed array, for bit-exact comparison (NaN payloads, -0). */
const bits = (a: ArrayBufferView) => [...new Uint8Array(a.buffer, a.byteOffset, a.byteLength)];

const f32FromBits = (u: number[]) => new Float32Array(new Uint32Array(u).buffer);

/** Every F32 edge case: quiet and signalling NaNs with payloads, ±0, ±Inf, subnormals, extremes. */
const F32_EDGE = f32FromBits([
  0x7fc00000,
  0x7fc00001,
  0xffc12345,
  0x7f800001,
  0xff800abc, // NaNs with payloads
  0x80000000,
  0x00000000,
  0x7f800000,
  0xff800000, // -0, +0, ±Inf
  0x00000001,
  0x807fffff,
  0x00400000, // subnormals
  0x7f7fffff,
  0x00800000,
  0x3fc00000,
  0xbf800000, // max, min normal, 1.5, -1
]);

function sample(): Record<string, TensorEntry> {
  return {
    'f32.edge': { dtype: 'F32', shape: [4, 4], data: F32_EDGE },
    i32: { dtype: 'I32', shape: [5], data: new Int32Array([-2147483648, -1, 0, 1, 2147483647]) },
    u8: { dtype: 'U8', shape: [2, 3], data: new Uint8Array([0, 1, 127, 128, 254, 255]) },
    f16: {
      dtype: 'F16',
      shape: [5],
      data: new Uint16Array([0x3c00, 0x8000, 0x7c00, 0x7e01, 0x0001]),
    },
    bf16: { dtype: 'BF16', shape: [3], data: new Uint16Array([0x3f80, 0xff81, 0x0000]) },
    f64: { dtype: 'F64', shape: [3], data: new Float64Array([Math.PI, -0, Number.MIN_VALUE]) },
    i64: { dtype: 'I64', shape: [2], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]) },
    scalar: { dtype: 'F32', shape: [], data: new Float32Array([-7.25]) },
    'empty.a': { dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
    'empty.b': { dtype: 'I32', shape: [2, 0], data: new Int32Array(0) },
  };
}

function expectSameTensors(
  got: Record<string, TensorEntry>,
  want: Record<string, TensorEntry>,
): void {
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  for (const [name, w] of Object.entries(want)) {
    const g = got[name];
    expect(g.dtype, name).toBe(w.dtype);
    expect(g.shape, name).toEqual(w.shape);
    expect(g.data.constructor, name).toBe(w.data.constructor);
    expect(bits(g.data), name).toEqual(bits(w.data));
  }
}

/** A file assembled by hand from the spec: u64 LE header length, header text, data bytes. */
function assemble(header: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function headerOf(bytes: Uint8Array): { n: number; json: Record<string, unknown>; text: string } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  return { n, text, json: JSON.parse(text) };
}

function decodeError(bytes: Uint8Array): CheckpointError {
  try {
    decodeSafetensors(bytes, 'model.safetensors');
  } catch (e) {
    expect(e).toBeInstanceOf(CheckpointError);
    expect((e as Error).message).toContain('model.safetensors');
    return e as CheckpointError;
  }
  throw new Error('expected decodeSafetensors to throw');
}

describe('safetensors round trip', () => {
  it('is bit-exact for every dtype, NaN payloads, -0, Inf, subnormals, scalars and zero-size tensors', () => {
    const tensors = sample();
    const { tensors: got, metadata } = decodeSafetensors(encodeSafetensors(tensors));
    expectSameTensors(got, tensors);
    expect(metadata).toEqual({});
    expect(Object.is(got.f64.data[1], -0)).toBe(true);
    expect(got.scalar.shape).toEqual([]);
  });

  it('round trips metadata', () => {
    const metadata = {
      format: 'matformer',
      config: JSON.stringify({ dModel: 16, g: [8, 16] }),
      empty: '',
      ünï: 'çødé ✓',
      '10': 'x',
    };
    const out = decodeSafetensors(encodeSafetensors(sample(), metadata));
    expect(out.metadata).toEqual(metadata);
  });

  it('is deterministic: same tensors and metadata in any insertion order give identical bytes', () => {
    const t = sample();
    const reversed = Object.fromEntries(Object.entries(t).reverse());
    const a = encodeSafetensors(t, { b: '2', a: '1', '3': 'c' });
    const b = encodeSafetensors(reversed, { '3': 'c', a: '1', b: '2' });
    expect(bits(a)).toEqual(bits(b));
    expect(bits(encodeSafetensors(t, { b: '2', a: '1', '3': 'c' }))).toEqual(bits(a));
  });

  it('encodes only the viewed part of a typed array and returns aligned copies from unaligned input', () => {
    const backing = new Float32Array([9, 1, 2, 3, 9]);
    const enc = encodeSafetensors({
      v: { dtype: 'F32', shape: [3], data: backing.subarray(1, 4) },
    });
    const shifted = new Uint8Array(enc.length + 1);
    shifted.set(enc, 1); // the whole file at an odd offset: a Float32Array view on it would throw
    const got = decodeSafetensors(shifted.subarray(1)).tensors.v;
    expect([...got.data]).toEqual([1, 2, 3]);
    expect(got.data.byteOffset).toBe(0);
    expect(got.data.buffer.byteLength).toBe(12); // its own buffer, not a view of the file
    // A Node Buffer input (what readFile gives): the result must not alias it either.
    const buf = Buffer.from(enc);
    const fromBuf = decodeSafetensors(buf).tensors.v;
    buf.fill(0);
    expect([...fromBuf.data]).toEqual([1, 2, 3]);
  });

  it('writes and reads files atomically, leaving no temp files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'matformer-st-'));
    const path = join(dir, 'nested', 'model.safetensors');
    await writeSafetensorsFile(path, sample(), { step: '1' });
    await writeSafetensorsFile(path, sample(), { step: '2' });
    const out = await readSafetensorsFile(path);
    expectSameTensors(out.tensors, sample());
    expect(out.metadata).toEqual({ step: '2' });
    expect(await readdir(join(dir, 'nested'))).toEqual(['model.safetensors']);
    expect(bits(await readFile(path))).toEqual(bits(encodeSafetensors(sample(), { step: '2' })));
  });
});

describe('safetensors byte layout follows the spec', () => {
  it('decodes a file built by hand from the spec', () => {
    const data = new Uint8Array(14);
    const dv = new DataView(data.buffer);
    dv.setFloat32(0, 1.5, true);
    dv.setFloat32(4, -2, true);
    dv.setInt32(8, -123456, true);
    dv.setUint8(12, 7);
    dv.setUint8(13, 200);
    // Tensors listed out of data order, header not 8-aligned: both allowed by the format.
    const header =
      '{"b":{"dtype":"I32","shape":[],"data_offsets":[8,12]},' +
      '"__metadata__":{"format":"pt"},' +
      '"w":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]},' +
      '"u":{"dtype":"U8","shape":[2],"data_offsets":[12,14]}}';
    const { tensors, metadata } = decodeSafetensors(assemble(header, data));
    expect(metadata).toEqual({ format: 'pt' });
    expect(tensors.w).toEqual({ dtype: 'F32', shape: [2, 1], data: new Float32Array([1.5, -2]) });
    expect(tensors.b).toEqual({ dtype: 'I32', shape: [], data: new Int32Array([-123456]) });
    expect(tensors.u).toEqual({ dtype: 'U8', shape: [2], data: new Uint8Array([7, 200]) });
    // Trailing-space padding in the header is accepted too.
    expect(decodeSafetensors(assemble(header + '     ', data)).tensors.w.shape).toEqual([2, 1]);
  });

  it('encodes: u64 LE header length, space-padded JSON header, 8-aligned data, contiguous offsets', () => {
    const enc = encodeSafetensors(
      {
        z: { dtype: 'F32', shape: [2], data: new Float32Array([0.5, -1]) },
        a: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) },
        m: { dtype: 'I64', shape: [], data: new BigInt64Array([-5n]) },
      },
      { k: 'v' },
    );
    const { n, json, text } = headerOf(enc);
    expect(n % 8).toBe(0);
    expect(text).toMatch(/^\{.*\} *$/);
    expect(text.trimEnd().length).toBeGreaterThan(n - 8); // padding is less than 8 bytes
    expect(json).toEqual({
      __metadata__: { k: 'v' },
      a: { dtype: 'U8', shape: [3], data_offsets: [0, 3] },
      m: { dtype: 'I64', shape: [], data_offsets: [3, 11] },
      z: { dtype: 'F32', shape: [2], data_offsets: [11, 19] },
    });
    expect(enc.length).toBe(8 + n + 19);
    const dv = new DataView(enc.buffer, enc.byteOffset + 8 + n);
    expect([dv.getUint8(0), dv.getUint8(1), dv.getUint8(2)]).toEqual([1, 2, 3]);
    expect(dv.getBigInt64(3, true)).toBe(-5n);
    expect([dv.getFloat32(11, true), dv.getFloat32(15, true)]).toEqual([0.5, -1]);
  });

  it('omits __metadata__ when there is none', () => {
    expect(headerOf(encodeSafetensors({})).json).toEqual({});
    expect(headerOf(encodeSafetensors({}, {})).json).toEqual({});
    expect(decodeSafetensors(encodeSafetensors({}))).toEqual({ tensors: {}, metadata: {} });
  });
});

describe('encodeSafetensors validation', () => {
  const f = (n: number) => new Float32Array(n);
  it.each([
    [
      { x: { dtype: 'F32', shape: [2, 3], data: f(5) } },
      /"x" has shape \[2, 3\] \(6 elements\) but 5 data elements/,
    ],
    [
      { x: { dtype: 'I32', shape: [2], data: f(2) } },
      /"x" has dtype I32, which needs a Int32Array, got Float32Array/,
    ],
    [{ x: { dtype: 'F16', shape: [2], data: f(2) } }, /needs a Uint16Array/],
    [{ x: { dtype: 'Q4', shape: [2], data: f(2) } }, /unknown dtype "Q4"/],
    [{ x: { dtype: 'F32', shape: [-1], data: f(0) } }, /invalid shape \[-1\]/],
    [{ '': { dtype: 'F32', shape: [1], data: f(1) } }, /non-empty/],
    [{ __metadata__: { dtype: 'F32', shape: [1], data: f(1) } }, /reserved/],
  ])('rejects %#', (tensors, message) => {
    expect(() => encodeSafetensors(tensors as unknown as Record<string, TensorEntry>)).toThrow(
      CheckpointError,
    );
    expect(() => encodeSafetensors(tensors as unknown as Record<string, TensorEntry>)).toThrow(
      message,
    );
  });

  it('rejects non-string metadata values', () => {
    expect(() => encodeSafetensors({}, { a: 1 } as unknown as Record<string, string>)).toThrow(
      /metadata "a" must be a string/,
    );
  });
});

describe('decodeSafetensors rejects corrupt files with a CheckpointError naming the problem', () => {
  const good = encodeSafetensors(sample(), { a: 'b' });
  const n = headerOf(good).n;

  it.each([0, 1, 7])('file shorter than 8 bytes (cut at %i)', (cut) => {
    expect(decodeError(good.subarray(0, cut)).message).toMatch(
      /shorter than the 8-byte header length/,
    );
  });

  it.each([8, 9, 8 + (n >> 1), 8 + n - 1])('header longer than the file (cut at %i)', (cut) => {
    expect(decodeError(good.subarray(0, cut)).message).toMatch(
      /header length \d+ is larger than the file/,
    );
  });

  it.each([8 + n, 8 + n + 1, good.length - 1])('tensor data past the end (cut at %i)', (cut) => {
    expect(decodeError(good.subarray(0, cut)).message).toMatch(
      /run past the end of the data buffer/,
    );
  });

  it('header length over 100 MB', () => {
    const bytes = new Uint8Array(16);
    new DataView(bytes.buffer).setBigUint64(0, 2n ** 40n, true);
    expect(decodeError(bytes).message).toMatch(/exceeds the 100 MB limit/);
  });

  it.each([
    ['not valid JSON', assemble('this is not json'), /header is not valid JSON/],
    ['truncated JSON', assemble('{"a":{"dtype":"F32"'), /header is not valid JSON/],
    [
      'not UTF-8',
      (() => {
        const b = assemble('{"a":1}');
        b[10] = 0xff;
        return b;
      })(),
      /header is not valid UTF-8/,
    ],
    ['an array', assemble('[1,2,3]'), /header JSON is not an object/],
    ['null', assemble('null'), /header JSON is not an object/],
    ['entry not an object', assemble('{"w":3}'), /tensor "w": header entry is not an object/],
  ])('garbage header: %s', (_, bytes, message) => {
    expect(decodeError(bytes).message).toMatch(message);
  });

  const four = new Uint8Array(4);
  it.each([
    [
      'missing dtype',
      '{"w":{"shape":[1],"data_offsets":[0,4]}}',
      four,
      /tensor "w": header entry is missing "dtype"/,
    ],
    ['missing shape', '{"w":{"dtype":"F32","data_offsets":[0,4]}}', four, /missing "shape"/],
    ['missing data_offsets', '{"w":{"dtype":"F32","shape":[1]}}', four, /missing "data_offsets"/],
    [
      'unknown dtype',
      '{"w":{"dtype":"Q4_K","shape":[1],"data_offsets":[0,4]}}',
      four,
      /tensor "w": unknown dtype "Q4_K"/,
    ],
    [
      'bad shape',
      '{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}',
      four,
      /shape \[1.5\] is not a list of non-negative integers/,
    ],
    [
      'reversed offsets',
      '{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}',
      four,
      /data_offsets \[4,0\] is not \[begin, end\]/,
    ],
    [
      'offsets past end',
      '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}',
      four,
      /data_offsets \[0, 8\] run past the end of the data buffer \(4 bytes/,
    ],
    [
      'wrong byte length',
      '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}',
      four,
      /byte length 4 does not match shape \[2\] × F32 \(8 bytes\)/,
    ],
    [
      'overlapping tensors',
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}',
      new Uint8Array(12),
      /tensor "b": data_offsets \[4, 12\] overlap the previous tensor/,
    ],
    [
      'a gap between tensors',
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}',
      new Uint8Array(12),
      /leave a gap of unused bytes \[4, 8\]/,
    ],
    [
      'data not fully covered',
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
      new Uint8Array(8),
      /tensors cover 4 of the 8 data bytes/,
    ],
    [
      'non-string metadata',
      '{"__metadata__":{"step":3}}',
      new Uint8Array(0),
      /"__metadata__" value "step" is not a string/,
    ],
    [
      'metadata not an object',
      '{"__metadata__":"x"}',
      new Uint8Array(0),
      /"__metadata__" is not an object/,
    ],
  ])('%s', (_, header, data, message) => {
    expect(decodeError(assemble(header, data)).message).toMatch(message);
  });

  it('a tensor named "__proto__" is an ordinary entry, not a prototype change', () => {
    const { tensors } = decodeSafetensors(
      assemble(
        '{"__proto__":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}',
        new Uint8Array([9]),
      ),
    );
    expect(Object.keys(tensors)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(tensors)).toBe(Object.prototype);
    expect([...tensors['__proto__'].data]).toEqual([9]);
  });

  it('readSafetensorsFile names the path of a missing file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'matformer-st-'));
    const path = join(dir, 'absent.safetensors');
    await expect(readSafetensorsFile(path)).rejects.toThrow(CheckpointError);
    await expect(readSafetensorsFile(path)).rejects.toThrow(
      `cannot read safetensors file ${path}: file does not exist`,
    );
    await expect(readSafetensorsFile(dir)).rejects.toThrow(/is a directory/);
  });
});
