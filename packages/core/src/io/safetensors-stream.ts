import { randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { CheckpointError } from '../errors';
import {
  dtypeBytes,
  MAX_HEADER_BYTES,
  parseSafetensorsHeader,
  type SafetensorsDType,
  type TensorSpan,
} from './safetensors';

/**
 * Safetensors without holding the file in memory: a reader that parses the header and then
 * reads one tensor's byte range at a time, and a writer that writes the header (computed up
 * front from the shapes) and then the tensor bodies one by one. Peak memory = one tensor.
 */

/** Reads exactly `length` bytes at `position` (fh.read may return fewer per call). */
async function readExactly(
  fh: FileHandle,
  length: number,
  position: number,
  path: string,
): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const chunk = Math.min(length - done, 1 << 30);
    const { bytesRead } = await fh.read(out, done, chunk, position + done);
    if (bytesRead === 0)
      throw new CheckpointError(
        `${path}: file ended at byte ${position + done} while reading ${length} bytes at ${position} (truncated?)`,
      );
    done += bytesRead;
  }
  return out;
}

/** Writes every byte of `bytes` at the current end (fh.write may write fewer per call). */
async function writeAll(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.byteLength - done);
    done += bytesWritten;
  }
}

/** An open safetensors file: its validated header, and tensors read on demand. */
export class SafetensorsReader {
  /** Tensors by name, in file order. */
  readonly tensors: Map<string, TensorSpan>;

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    readonly metadata: Record<string, string>,
    spans: TensorSpan[],
    private readonly dataStart: number,
  ) {
    this.tensors = new Map(spans.map((s) => [s.name, s]));
  }

  /** Opens `path` and reads its header; CheckpointError naming the path if missing or corrupt. */
  static async open(path: string): Promise<SafetensorsReader> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = err.code === 'ENOENT' ? 'file does not exist' : err.message;
      throw new CheckpointError(`cannot read safetensors file ${path}: ${why}`);
    }
    try {
      const size = (await fh.stat()).size;
      if (size < 8)
        throw new CheckpointError(
          `${path}: file is ${size} bytes, shorter than the 8-byte header length (truncated or not a safetensors file)`,
        );
      const lenBytes = await readExactly(fh, 8, 0, path);
      const headerLen = new DataView(lenBytes.buffer).getBigUint64(0, true);
      if (headerLen > BigInt(MAX_HEADER_BYTES))
        throw new CheckpointError(
          `${path}: header length ${headerLen} exceeds the 100 MB limit (corrupt or not a safetensors file)`,
        );
      const n = Number(headerLen);
      if (8 + n > size)
        throw new CheckpointError(
          `${path}: header length ${n} is larger than the file (${size - 8} bytes after the length field; truncated?)`,
        );
      const header = await readExactly(fh, n, 8, path);
      const { metadata, spans } = parseSafetensorsHeader(header, size - 8 - n, path);
      return new SafetensorsReader(path, fh, metadata, spans, 8 + n);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /** The header entry of `name`; CheckpointError naming the file if it has none. */
  span(name: string): TensorSpan {
    const s = this.tensors.get(name);
    if (!s) throw new CheckpointError(`${this.path}: no tensor "${name}"`);
    return s;
  }

  /**
   * Raw little-endian bytes of `name`, or of its element range [from, to) (flat indices) —
   * the first rows of a row-major matrix are one contiguous range. A fresh, aligned buffer.
   */
  async read(name: string, from = 0, to?: number): Promise<Uint8Array> {
    const s = this.span(name);
    const size = dtypeBytes(s.dtype);
    const count = (s.end - s.begin) / size;
    const end = to ?? count;
    if (!(0 <= from && from <= end && end <= count))
      throw new CheckpointError(
        `${this.path}: element range [${from}, ${end}) is outside tensor "${name}" (${count} elements)`,
      );
    return readExactly(
      this.fh,
      (end - from) * size,
      this.dataStart + s.begin + from * size,
      this.path,
    );
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** A tensor the writer will write: its header entry, without offsets. */
export interface TensorHeader {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
}

/** Bytes a tensor of this dtype and shape occupies. */
export function tensorBytes(t: { dtype: SafetensorsDType; shape: number[] }): number {
  return t.shape.reduce((a, b) => a * b, 1) * dtypeBytes(t.dtype);
}

/**
 * The header bytes (length field included) for tensors laid out in the given order, the data
 * buffer starting 8-byte aligned (space padding, as `encodeSafetensors` does).
 */
export function encodeSafetensorsHeader(
  tensors: TensorHeader[],
  metadata: Record<string, string> = {},
): Uint8Array {
  const parts: string[] = [];
  const keys = Object.keys(metadata).sort();
  if (keys.length > 0)
    parts.push(
      `"__metadata__":{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`,
    );
  let offset = 0;
  for (const t of tensors) {
    const end = offset + tensorBytes(t);
    parts.push(
      `${JSON.stringify(t.name)}:${JSON.stringify({ dtype: t.dtype, shape: t.shape, data_offsets: [offset, end] })}`,
    );
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen).fill(0x20, 8 + json.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  return out;
}

/**
 * Writes a safetensors file tensor by tensor: the header first (from the shapes), then for each
 * tensor in order the bytes `body(t)` returns (little-endian, exactly the tensor's size).
 * Atomic: a temp file beside `path`, fsync, rename; removed again on failure.
 */
export async function writeSafetensorsStream(
  path: string,
  tensors: TensorHeader[],
  metadata: Record<string, string>,
  body: (t: TensorHeader) => Promise<Uint8Array> | Uint8Array,
): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  const fh = await open(tmp, 'wx');
  try {
    try {
      await writeAll(fh, encodeSafetensorsHeader(tensors, metadata));
      for (const t of tensors) {
        const bytes = await body(t);
        if (bytes.byteLength !== tensorBytes(t))
          throw new CheckpointError(
            `${path}: tensor "${t.name}" [${t.shape.join(', ')}] ${t.dtype} needs ${tensorBytes(t)} bytes, got ${bytes.byteLength}`,
          );
        await writeAll(fh, bytes);
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}
