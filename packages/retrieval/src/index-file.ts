import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { writeFileAtomic } from '@matformer/core';
import { IndexFileError } from './errors';
import { spaces, type Space } from './vectors';

/**
 * The on-disk layout of a saved index, one file:
 *
 *   8 bytes   magic "MFHNSW\0\x01"
 *   4 bytes   u32 LE: length H of the header
 *   H bytes   UTF-8 JSON header (IndexHeader)
 *   P bytes   hnswlib's own index file, byte for byte (P = header.payloadBytes)
 *   4·L bytes item labels, i32 LE (L = header.labelCount: 0, or one per item)
 *
 * The header's SHA-256 covers the other header fields, the payload and the labels, so a
 * truncated or corrupted file (a flipped dimension included) is rejected here, before hnswlib's
 * native loader, which trusts its input, ever sees it.
 */
const MAGIC = Buffer.from('MFHNSW\0\x01', 'latin1');
const PREFIX_BYTES = MAGIC.length + 4;
const MAX_HEADER_BYTES = 1 << 20;
export const INDEX_FORMAT = 'matformer-hnsw';
export const INDEX_FORMAT_VERSION = 1;

export interface IndexHeader {
  format: typeof INDEX_FORMAT;
  version: typeof INDEX_FORMAT_VERSION;
  space: Space;
  dim: number;
  count: number;
  capacity: number;
  M: number;
  efConstruction: number;
  ef: number;
  seed: number;
  payloadBytes: number;
  labelCount: number;
  sha256: string;
}

export interface IndexFileContents {
  header: IndexHeader;
  payload: Uint8Array;
  labels?: Int32Array;
}

/** Header fields the checksum covers, in a fixed order (JSON key order is not to be trusted). */
const COVERED = [
  'format',
  'version',
  'space',
  'dim',
  'count',
  'capacity',
  'M',
  'efConstruction',
  'ef',
  'seed',
  'payloadBytes',
  'labelCount',
] as const;

function digest(
  header: Omit<IndexHeader, 'sha256'>,
  payload: Uint8Array,
  labelBytes: Uint8Array,
): string {
  return createHash('sha256')
    .update(JSON.stringify(COVERED.map((f) => header[f])))
    .update(payload)
    .update(labelBytes)
    .digest('hex');
}

function labelsToBytes(labels?: Int32Array): Uint8Array {
  if (!labels) return new Uint8Array(0);
  const buf = Buffer.alloc(labels.length * 4);
  labels.forEach((l, i) => buf.writeInt32LE(l, i * 4));
  return buf;
}

/** Writes the file atomically (temp file + rename): readers see the old file or the new one. */
export async function writeIndexFile(
  path: string,
  fields: Omit<IndexHeader, 'format' | 'version' | 'payloadBytes' | 'labelCount' | 'sha256'>,
  payload: Uint8Array,
  labels?: Int32Array,
): Promise<void> {
  const labelBytes = labelsToBytes(labels);
  const covered: Omit<IndexHeader, 'sha256'> = {
    format: INDEX_FORMAT,
    version: INDEX_FORMAT_VERSION,
    ...fields,
    payloadBytes: payload.length,
    labelCount: labels?.length ?? 0,
  };
  const header: IndexHeader = { ...covered, sha256: digest(covered, payload, labelBytes) };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(PREFIX_BYTES);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt32LE(json.length, MAGIC.length);
  await writeFileAtomic(path, Buffer.concat([prefix, json, payload, labelBytes]));
}

const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;

/** Every header field checked, so nothing implausible reaches the native loader. */
function checkHeader(h: Record<string, unknown>, path: string): IndexHeader {
  const bad = (field: string, want: string) =>
    new IndexFileError(
      `${path}: corrupt index header: ${field} is ${JSON.stringify(h[field])}, expected ${want}`,
    );
  if (h.format !== INDEX_FORMAT) throw bad('format', `"${INDEX_FORMAT}"`);
  if (h.version !== INDEX_FORMAT_VERSION)
    throw new IndexFileError(
      `${path}: index format version ${JSON.stringify(h.version)}; this library reads version ${INDEX_FORMAT_VERSION}`,
    );
  if (!spaces.includes(h.space as Space)) throw bad('space', spaces.join(' or '));
  for (const f of ['dim', 'M', 'efConstruction', 'ef', 'capacity'])
    if (!isCount(h[f]) || (h[f] as number) < 1) throw bad(f, 'a positive integer');
  for (const f of ['count', 'seed', 'payloadBytes', 'labelCount'])
    if (!isCount(h[f])) throw bad(f, 'a non-negative integer');
  if ((h.count as number) > (h.capacity as number))
    throw bad('count', `≤ capacity (${h.capacity})`);
  if (h.labelCount !== 0 && h.labelCount !== h.count)
    throw bad('labelCount', `0 or count (${h.count})`);
  if (typeof h.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(h.sha256))
    throw bad('sha256', 'a hex SHA-256 digest');
  return h as unknown as IndexHeader;
}

/** Reads and fully validates a file written by `writeIndexFile`; clear errors name the problem. */
export async function readIndexFile(path: string): Promise<IndexFileContents> {
  let bytes: Buffer;
  try {
    if (!(await stat(path)).isFile()) throw new IndexFileError(`${path} is not a file`);
    bytes = await readFile(path);
  } catch (e) {
    if (e instanceof IndexFileError) throw e;
    throw new IndexFileError(`cannot read index file ${path}: ${(e as Error).message}`);
  }
  if (bytes.length < PREFIX_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC))
    throw new IndexFileError(
      `${path} is not a MatFormer hnsw index file (bad magic number; truncated, or another format)`,
    );
  const headerBytes = bytes.readUInt32LE(MAGIC.length);
  if (headerBytes > MAX_HEADER_BYTES || PREFIX_BYTES + headerBytes > bytes.length)
    throw new IndexFileError(
      `${path}: corrupt or truncated index file (header length ${headerBytes}, file is ${bytes.length} bytes)`,
    );
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerBytes).toString('utf8'));
  } catch {
    throw new IndexFileError(`${path}: corrupt index file (header is not valid JSON)`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new IndexFileError(`${path}: corrupt index file (header is not a JSON object)`);
  const header = checkHeader(raw as Record<string, unknown>, path);
  const start = PREFIX_BYTES + headerBytes;
  const expected = start + header.payloadBytes + 4 * header.labelCount;
  if (bytes.length !== expected)
    throw new IndexFileError(
      `${path}: ${bytes.length < expected ? 'truncated' : 'corrupt'} index file: ${bytes.length} bytes, the header promises ${expected}`,
    );
  const payload = bytes.subarray(start, start + header.payloadBytes);
  const labelBytes = bytes.subarray(start + header.payloadBytes);
  if (digest(header, payload, labelBytes) !== header.sha256)
    throw new IndexFileError(`${path}: corrupt index file (checksum mismatch)`);
  let labels: Int32Array | undefined;
  if (header.labelCount > 0) {
    labels = new Int32Array(header.labelCount);
    for (let i = 0; i < labels.length; i++) labels[i] = labelBytes.readInt32LE(i * 4);
  }
  return { header, payload, labels };
}

/**
 * The vector dimension stored in hnswlib's own index file (the payload): its header begins with
 * size_t offsetLevel0, maxElements, curElementCount, sizeDataPerElement, labelOffset, offsetData
 * (little-endian u64 on the 64-bit builds hnswlib-node ships); each row keeps its float32 vector
 * between offsetData and labelOffset. Undefined when the payload is too short or inconsistent.
 */
export function hnswGraphDim(payload: Uint8Array): number | undefined {
  if (payload.length < 48) return undefined;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const u64 = (i: number) => Number(view.getBigUint64(8 * i, true));
  const [perElement, labelOffset, offsetData] = [u64(3), u64(4), u64(5)];
  const bytes = labelOffset - offsetData;
  if (!(bytes > 0 && bytes % 4 === 0 && labelOffset < perElement)) return undefined;
  return bytes / 4;
}
