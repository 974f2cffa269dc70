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

/** What `checkHnswGraph` learned from a structurally sound hnswlib graph. */
export interface HnswGraphInfo {
  dim: number;
  count: number;
  /** Item ids (hnswlib labels) marked deleted. */
  deleted: number[];
}

/**
 * Walks hnswlib's whole index file (the payload) the way its native `loadIndex` reads it, and
 * fails with an IndexFileError naming the first inconsistency, so the native loader only ever
 * sees a file it reads completely. hnswlib-node frees its old graph before reading a new one and
 * keeps a dangling pointer when the read throws (a double free at the next GC): nothing that can
 * make it throw may reach it. Layout (u64 = size_t, little-endian, 64-bit builds):
 *
 *   96-byte header: u64 offsetLevel0, maxElements, count, sizeDataPerElement, labelOffset,
 *     offsetData; i32 maxLevel; u32 enterPoint; u64 maxM, maxM0, M; f64 mult; u64 efConstruction
 *   count × sizeDataPerElement: level-0 rows [u32 links header | maxM0 × u32 | dim × f32 | u64 id]
 *   count × (u32 bytes L, L bytes of upper-level link lists, L a multiple of 4·(maxM + 1))
 *
 * The low 16 bits of a links header are its neighbour count, bit 0 of its third byte the
 * deleted mark. Checked against the file header `h`: dimension, count, capacity, M, efConstruction.
 */
export function checkHnswGraph(
  payload: Uint8Array,
  h: Pick<IndexHeader, 'dim' | 'count' | 'capacity' | 'M' | 'efConstruction'>,
  path: string,
): HnswGraphInfo {
  const fail = (what: string) =>
    new IndexFileError(`${path}: corrupt hnswlib graph (${what}); refusing to load it`);
  if (payload.length < 96) throw fail(`${payload.length} bytes, shorter than its 96-byte header`);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const u64 = (o: number) => {
    const v = view.getBigUint64(o, true);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v);
  };
  const [offsetLevel0, maxElements, count, perElement, labelOffset, offsetData] = [
    u64(0),
    u64(8),
    u64(16),
    u64(24),
    u64(32),
    u64(40),
  ];
  const maxLevel = view.getInt32(48, true);
  const enterPoint = view.getUint32(52, true);
  const [maxM, maxM0, M] = [u64(56), u64(64), u64(72)];
  const efConstruction = u64(88);
  const expect = (ok: boolean, what: string) => {
    if (!ok) throw fail(what);
  };
  expect(offsetLevel0 === 0, `level-0 offset ${offsetLevel0}, expected 0`);
  expect(count === h.count, `${count} items, the file header says ${h.count}`);
  expect(maxElements === h.capacity, `capacity ${maxElements}, the file header says ${h.capacity}`);
  expect(
    M === h.M && maxM === h.M && maxM0 === 2 * h.M,
    `M ${M}/${maxM}/${maxM0}, expected ${h.M}`,
  );
  expect(efConstruction === h.efConstruction, `efConstruction ${efConstruction}`);
  const links0 = 4 + 4 * maxM0;
  expect(offsetData === links0, `data offset ${offsetData}, expected ${links0}`);
  expect(labelOffset === links0 + 4 * h.dim, `${(labelOffset - offsetData) / 4}-dimensional rows`);
  expect(perElement === labelOffset + 8, `row size ${perElement}, expected ${labelOffset + 8}`);
  expect(count === 0 || (maxLevel >= 0 && maxLevel < 64), `top level ${maxLevel}`);
  expect(count === 0 || enterPoint < count, `entry point ${enterPoint} of ${count} items`);
  const level0End = 96 + count * perElement;
  expect(
    level0End <= payload.length,
    `truncated: ${payload.length} bytes, level 0 needs ${level0End}`,
  );
  const seen = new Uint8Array(count);
  const deleted: number[] = [];
  const checkLinks = (o: number, max: number, where: string) => {
    const n = view.getUint16(o, true);
    expect(n <= max, `${where}: ${n} links, at most ${max}`);
    for (let j = 0; j < n; j++)
      expect(view.getUint32(o + 4 + 4 * j, true) < count, `${where}: a link out of range`);
  };
  for (let i = 0; i < count; i++) {
    const row = 96 + i * perElement;
    checkLinks(row, maxM0, `item ${i}, level 0`);
    const id = u64(row + labelOffset);
    expect(
      id < count && !seen[id],
      `item ${i} has id ${id}: ids must be 0…${count - 1}, once each`,
    );
    seen[id] = 1;
    if (payload[row + 2] & 1) deleted.push(id);
  }
  const upper = 4 + 4 * maxM; // bytes of one upper-level link list
  let o = level0End;
  for (let i = 0; i < count; i++) {
    expect(o + 4 <= payload.length, `truncated: the link lists of item ${i} are missing`);
    const bytes = view.getUint32(o, true);
    o += 4;
    const levels = bytes / upper;
    expect(
      Number.isInteger(levels) && levels <= maxLevel,
      `item ${i}: ${bytes} bytes of upper-level links`,
    );
    expect(o + bytes <= payload.length, `truncated: the link lists of item ${i} end past the file`);
    for (let l = 0; l < levels; l++) checkLinks(o + l * upper, maxM, `item ${i}, level ${l + 1}`);
    o += bytes;
  }
  expect(o === payload.length, `${payload.length - o} stray bytes after the link lists`);
  return { dim: h.dim, count, deleted };
}
