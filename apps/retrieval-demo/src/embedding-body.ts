import { MatformerError } from '@matformer/core';
import { unitVector } from '../static/query-input.js';

/** A refused embedding, with the HTTP status that says why. */
export class EmbeddingError extends MatformerError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** How the page sends an embedding: its raw float32 values, little-endian, nothing else. */
export const EMBEDDING_CONTENT_TYPE = 'application/octet-stream';
/** Bodies past this are refused while they arrive (413); a real one is 4 bytes per dimension. */
export const MAX_EMBEDDING_BYTES = 64 * 1024;

/**
 * The query vector in a POSTed embedding body: exactly `dim` finite float32 values
 * (little-endian), not all zero; returned at unit length (static/query-input.js), as the
 * server's own embeddings are. Anything else is an EmbeddingError naming the problem.
 */
export function parseEmbedding(
  body: Uint8Array,
  contentType: string | undefined,
  dim: number,
): Float32Array {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type !== EMBEDDING_CONTENT_TYPE)
    throw new EmbeddingError(
      415,
      `embedding Content-Type must be ${EMBEDDING_CONTENT_TYPE} (raw little-endian float32 values), got ${JSON.stringify(contentType ?? '')}`,
    );
  if (body.length !== 4 * dim) {
    const values = body.length % 4 === 0 ? `${body.length / 4} values` : 'not whole float32s';
    throw new EmbeddingError(
      400,
      `the embedding must be ${dim} float32 values (${4 * dim} bytes), got ${body.length} bytes (${values})`,
    );
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const values = new Float32Array(dim);
  for (let i = 0; i < dim; i++) {
    const v = view.getFloat32(4 * i, true);
    if (!Number.isFinite(v))
      throw new EmbeddingError(
        400,
        `embedding value ${i} is ${v}; every value must be a finite number`,
      );
    values[i] = v;
  }
  if (values.every((v) => v === 0))
    throw new EmbeddingError(400, 'the embedding is all zeros: it has no direction to search');
  return unitVector(values);
}
