import { HnswStore } from './hnsw-store';
import { PgVectorStore } from './pgvector-store';
import { openPglite, openPostgres } from './sql-client';
import type { Space } from './vectors';
import { parseStoreSpec, redactUrl, type StoreParams, type VectorStore } from './vector-store';

export interface OpenStoreOptions extends Partial<StoreParams> {
  dim: number;
  space: Space;
  /** hnsw: the index file (loaded if present, written on persist/close); none: in memory. */
  path?: string;
  /** pgvector: the table (default `matformer_vectors`). */
  table?: string;
}

/**
 * Opens the store a `--store` value names: `hnsw` (default; `opts.path` is its file),
 * `pglite:<dir>` (PostgreSQL + pgvector embedded, in that directory) or `postgres://…` (a server
 * with pgvector). The store owns the connection it opened and closes it on close().
 */
export async function openVectorStore(
  spec: string | undefined,
  opts: OpenStoreOptions,
): Promise<VectorStore> {
  const s = parseStoreSpec(spec);
  if (s.kind === 'hnsw') return HnswStore.open(opts);
  const client = s.kind === 'pglite' ? await openPglite(s.dir) : await openPostgres(s.url);
  try {
    return await PgVectorStore.open(client, {
      ...opts,
      ownsClient: true,
      location: s.kind === 'pglite' ? `pglite:${s.dir}` : redactUrl(s.url),
    });
  } catch (e) {
    await client.close().catch(() => undefined);
    throw e;
  }
}
