import { readFile } from 'node:fs/promises';
import { ConfigError } from '@matformer/core';
import { validateDataset, type ImageDataset } from './image-dataset';

/** Parses an IDX file (the format of the original MNIST distribution): magic, dims, big-endian data. */
export function parseIdx(
  bytes: Uint8Array,
  source = 'IDX data',
): { dims: number[]; data: Uint8Array } {
  if (bytes.length < 4)
    throw new ConfigError(`${source}: ${bytes.length} bytes is too short for an IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0) !== 0)
    throw new ConfigError(`${source} is not an IDX file (first two bytes must be 0)`);
  const type = bytes[2];
  if (type !== 0x08)
    throw new ConfigError(
      `${source}: IDX element type 0x${type.toString(16)} is not supported (only 0x08, unsigned bytes)`,
    );
  const rank = bytes[3];
  const headerLen = 4 + 4 * rank;
  if (rank < 1 || bytes.length < headerLen)
    throw new ConfigError(`${source}: truncated IDX header (rank ${rank})`);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.length - headerLen !== count) {
    throw new ConfigError(
      `${source}: header says [${dims.join('×')}] = ${count} bytes of data, file holds ${bytes.length - headerLen}`,
    );
  }
  return { dims, data: bytes.subarray(headerLen) };
}

/** Images (rank-3 IDX, N×H×W bytes) and labels (rank-1 IDX) as a dataset scaled to [0, 1]. */
export async function loadIdxDataset(
  imagesPath: string,
  labelsPath: string,
  name = 'idx',
): Promise<ImageDataset> {
  const images = parseIdx(await readFile(imagesPath), imagesPath);
  const labels = parseIdx(await readFile(labelsPath), labelsPath);
  if (images.dims.length !== 3)
    throw new ConfigError(
      `${imagesPath}: expected N×H×W images, got dims [${images.dims.join(', ')}]`,
    );
  if (labels.dims.length !== 1 || labels.dims[0] !== images.dims[0]) {
    throw new ConfigError(
      `${labelsPath}: expected ${images.dims[0]} labels, got dims [${labels.dims.join(', ')}]`,
    );
  }
  const maxLabel = labels.data.reduce((m, l) => Math.max(m, l), 0);
  return validateDataset({
    name,
    images: Float32Array.from(images.data, (v) => v / 255),
    labels: Int32Array.from(labels.data),
    height: images.dims[1],
    width: images.dims[2],
    channels: 1,
    classes: Array.from({ length: maxLabel + 1 }, (_, i) => String(i)),
  });
}
