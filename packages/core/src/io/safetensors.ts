import { CheckpointError } from '../errors';
import { readFile, writeFileAtomic } from './files';

/**
 * The Hugging Face safetensors format: an 8-byte little-endian u64 header length N, N bytes of
 * UTF-8 JSON header (`name → {dtype, shape, data_offsets: [begin, end]}` plus an optional
 * `"__metadata__": {string: string}`), then the raw little-endian tensor bytes, with offsets
 * relative to the start of that byte buffer. https://github.com/huggingface/safetensors
 */

export type SafetensorsDType = 'F32' | 'I32' | 'U8' | 'F64' | 'I64' | 'F16' | 'BF16';

export type TensorData =
  Float32Array | Int32Array | Uint8Array | Float64Array | BigInt64Array | Uint16Array;

/** One tensor. F16 and BF16 are kept as their raw 16-bit patterns in a Uint16Array. */
export interface TensorEntry {
  dtype: SafetensorsDType;
  shape: number[];
  data: TensorData;
}

export interface SafetensorsContents {
  tensors: Record<string, TensorEntry>;
  metadata: Record<string, string>;
}

type TypedArrayCtor = {
  new (buffer: ArrayBuffer): TensorData;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
};

const DTYPES: Record<SafetensorsDType, TypedArrayCtor> = {
  F32: Float32Array,
  I32: Int32Array,
  U8: Uint8Array,
  F64: Float64Array,
  I64: BigInt64Array,
  F16: Uint16Array,
  BF16: Uint16Array,
};

const METADATA_KEY = '__metadata__';
/** Same cap as the reference implementation: a bigger "header" means a corrupt or hostile file. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Typed arrays use host byte order and the format is little-endian; swap on the (rare) big-endian host. */
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isDType(s: unknown): s is SafetensorsDType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, s);
}

/** Reverses each `size`-byte group in place (host order ↔ little-endian on a big-endian host). */
function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isDim(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

function numElements(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Defines an own property, so a name like "__proto__" in a file cannot touch the prototype. */
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Serializes tensors (and string metadata) to safetensors bytes. Tensors are laid out sorted by
 * name and metadata keys sorted, so equal inputs give identical bytes. The header is space-padded
 * so the data buffer starts 8-byte aligned.
 */
export function encodeSafetensors(
  tensors: Record<string, TensorEntry>,
  metadata?: Record<string, string>,
): Uint8Array {
  const fail = (msg: string): never => {
    throw new CheckpointError(`cannot encode safetensors: ${msg}`);
  };
  const names = Object.keys(tensors).sort();
  let offset = 0;
  // The header is built as text, not via an object, so key order is exactly ours (JS objects put
  // integer-like keys first).
  const parts: string[] = [];
  if (metadata !== undefined) {
    if (!isPlainObject(metadata)) fail('metadata must be an object of strings');
    const keys = Object.keys(metadata).sort();
    for (const k of keys) {
      if (typeof metadata[k] !== 'string')
        fail(`metadata "${k}" must be a string, got ${typeof metadata[k]}`);
    }
    if (keys.length > 0) {
      const body = keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',');
      parts.push(`${JSON.stringify(METADATA_KEY)}:{${body}}`);
    }
  }
  for (const name of names) {
    const t = tensors[name];
    if (name === '') fail('tensor names must be non-empty');
    if (name === METADATA_KEY) fail(`"${METADATA_KEY}" is reserved and cannot name a tensor`);
    if (!isPlainObject(t)) fail(`tensor "${name}" is not an object`);
    if (!isDType(t.dtype)) fail(`tensor "${name}" has unknown dtype ${JSON.stringify(t.dtype)}`);
    const ctor = DTYPES[t.dtype];
    if (!(t.data instanceof ctor)) {
      fail(
        `tensor "${name}" has dtype ${t.dtype}, which needs a ${ctor.name}, got ${(t.data as object)?.constructor?.name ?? typeof t.data}`,
      );
    }
    if (!Array.isArray(t.shape) || !t.shape.every(isDim))
      fail(`tensor "${name}" has invalid shape ${JSON.stringify(t.shape)}`);
    const n = numElements(t.shape);
    if (n !== t.data.length)
      fail(
        `tensor "${name}" has shape [${t.shape.join(', ')}] (${n} elements) but ${t.data.length} data elements`,
      );
    const end = offset + t.data.byteLength;
    parts.push(
      `${JSON.stringify(name)}:${JSON.stringify({ dtype: t.dtype, shape: t.shape, data_offsets: [offset, end] })}`,
    );
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen); // trailing spaces: still valid JSON
  let pos = 8 + headerLen;
  for (const name of names) {
    const d = tensors[name].data;
    const raw = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
    out.set(raw, pos);
    if (!HOST_IS_LITTLE_ENDIAN) swapBytes(out.subarray(pos, pos + raw.length), d.BYTES_PER_ELEMENT);
    pos += raw.length;
  }
  return out;
}

/** One tensor's header entry: its byte range [begin, end) relative to the start of the data buffer. */
export interface TensorSpan {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

/** Bytes per element of a safetensors dtype. */
export function dtypeBytes(dtype: SafetensorsDType): number {
  return DTYPES[dtype].BYTES_PER_ELEMENT;
}

/**
 * Parses and validates a safetensors JSON header (the N bytes after the length field) against
 * a data buffer of `dataLen` bytes: dtypes, shapes, and offsets that tile the buffer exactly.
 * Spans come back sorted by offset. Throws CheckpointError naming `source` and the problem.
 */
export function parseSafetensorsHeader(
  headerBytes: Uint8Array,
  dataLen: number,
  source: string,
): { metadata: Record<string, string>; spans: TensorSpan[] } {
  const fail = (msg: string): never => {
    throw new CheckpointError(`${source}: ${msg}`);
  };
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(header)) fail('header JSON is not an object');
  const h = header as Record<string, unknown>;

  const metadata: Record<string, string> = {};
  const spans: TensorSpan[] = [];
  for (const [name, v] of Object.entries(h)) {
    if (name === METADATA_KEY) {
      if (!isPlainObject(v)) fail(`"${METADATA_KEY}" is not an object`);
      for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
        if (typeof s !== 'string')
          fail(`"${METADATA_KEY}" value "${k}" is not a string (got ${JSON.stringify(s)})`);
        setOwn(metadata, k, s as string);
      }
      continue;
    }
    const where = `tensor "${name}"`;
    if (!isPlainObject(v)) fail(`${where}: header entry is not an object`);
    const e = v as Record<string, unknown>;
    for (const field of ['dtype', 'shape', 'data_offsets']) {
      if (!(field in e)) fail(`${where}: header entry is missing "${field}"`);
    }
    if (!isDType(e.dtype))
      fail(
        `${where}: unknown dtype ${JSON.stringify(e.dtype)} (supported: ${Object.keys(DTYPES).join(', ')})`,
      );
    if (!Array.isArray(e.shape) || !e.shape.every(isDim))
      fail(`${where}: shape ${JSON.stringify(e.shape)} is not a list of non-negative integers`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every(isDim) || off[0] > off[1]) {
      fail(
        `${where}: data_offsets ${JSON.stringify(off)} is not [begin, end] with 0 <= begin <= end`,
      );
    }
    const [begin, end] = off as [number, number];
    if (end > dataLen)
      fail(
        `${where}: data_offsets [${begin}, ${end}] run past the end of the data buffer (${dataLen} bytes; truncated?)`,
      );
    const dtype = e.dtype as SafetensorsDType;
    const shape = e.shape as number[];
    const expected = numElements(shape) * DTYPES[dtype].BYTES_PER_ELEMENT;
    if (end - begin !== expected) {
      fail(
        `${where}: byte length ${end - begin} does not match shape [${shape.join(', ')}] × ${dtype} (${expected} bytes)`,
      );
    }
    spans.push({ name, dtype, shape: [...shape], begin, end });
  }

  // The tensors must tile the data buffer exactly: no overlaps, no gaps, nothing left over.
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const s of spans) {
    if (s.begin < cursor)
      fail(
        `tensor "${s.name}": data_offsets [${s.begin}, ${s.end}] overlap the previous tensor (which ends at ${cursor})`,
      );
    if (s.begin > cursor)
      fail(
        `tensor "${s.name}": data_offsets [${s.begin}, ${s.end}] leave a gap of unused bytes [${cursor}, ${s.begin}]; tensors must cover the data buffer`,
      );
    cursor = s.end;
  }
  if (cursor !== dataLen)
    fail(
      `tensors cover ${cursor} of the ${dataLen} data bytes; the rest is not described by the header`,
    );

  return { metadata, spans };
}

/**
 * Parses safetensors bytes, validating everything (header size, JSON, dtypes, shapes, offsets that
 * tile the data buffer exactly). Throws CheckpointError naming `source` and the problem. The
 * returned arrays are fresh copies, so they are aligned whatever the alignment of `bytes`.
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  source = 'safetensors data',
): SafetensorsContents {
  const fail = (msg: string): never => {
    throw new CheckpointError(`${source}: ${msg}`);
  };
  if (bytes.length < 8)
    fail(
      `file is ${bytes.length} bytes, shorter than the 8-byte header length (truncated or not a safetensors file)`,
    );
  const headerLen = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLen > BigInt(MAX_HEADER_BYTES))
    fail(`header length ${headerLen} exceeds the 100 MB limit (corrupt or not a safetensors file)`);
  const n = Number(headerLen);
  if (8 + n > bytes.length)
    fail(
      `header length ${n} is larger than the file (${bytes.length - 8} bytes after the length field; truncated?)`,
    );

  const dataStart = 8 + n;
  const { metadata, spans } = parseSafetensorsHeader(
    bytes.subarray(8, 8 + n),
    bytes.length - dataStart,
    source,
  );

  const tensors: Record<string, TensorEntry> = {};
  for (const s of spans) {
    const ctor = DTYPES[s.dtype];
    // Copy into a fresh buffer at offset 0, so the typed array is aligned. (Not `bytes.slice`: on a
    // Node Buffer, which readFile returns, slice is a view, not a copy.)
    const raw = new Uint8Array(s.end - s.begin);
    raw.set(bytes.subarray(dataStart + s.begin, dataStart + s.end));
    if (!HOST_IS_LITTLE_ENDIAN) swapBytes(raw, ctor.BYTES_PER_ELEMENT);
    setOwn(tensors, s.name, { dtype: s.dtype, shape: s.shape, data: new ctor(raw.buffer) });
  }
  return { tensors, metadata };
}

/** Reads and decodes a safetensors file; a missing or unreadable file is a CheckpointError naming the path. */
export async function readSafetensorsFile(path: string): Promise<SafetensorsContents> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === 'ENOENT'
        ? 'file does not exist'
        : err.code === 'EISDIR'
          ? 'is a directory'
          : err.message;
    throw new CheckpointError(`cannot read safetensors file ${path}: ${why}`);
  }
  return decodeSafetensors(bytes, path);
}

/** Encodes and writes a safetensors file atomically (the old file or the complete new one, never partial). */
export async function writeSafetensorsFile(
  path: string,
  tensors: Record<string, TensorEntry>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
