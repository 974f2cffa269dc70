import { join } from 'node:path';
import { MatViT, matvitConfig, selectBackend } from '@matformer/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryEncoders } from './adaptive';
import { adaptiveRetrieval, indexDatabase } from './adaptive-search';
import { RetrievalError } from './errors';
import { exactSearch } from './exact-search';
import { HnswStore } from './hnsw-store';
import { recallAtK } from './metrics';
import { openVectorStore } from './open-store';
import { PG_META_TABLE, PgVectorStore } from './pgvector-store';
import { fromPgPool, openPglite, type SqlClient } from './sql-client';
import { randomUnitVectors, seededRandom, tempDir } from './test-fixtures';
import { parseStoreSpec, redactUrl } from './vector-store';

/** n unit vectors around 20 random centres: class-structured, like trained embeddings. */
function clustered(n: number, dim: number, seed: number): Float32Array {
  const centres = randomUnitVectors(20, dim, 99);
  const noise = randomUnitVectors(n, dim, seed);
  const pick = seededRandom(seed + 1);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(pick() * 20);
    let s = 0;
    for (let j = 0; j < dim; j++) {
      out[i * dim + j] = centres[c * dim + j] + 0.6 * noise[i * dim + j];
      s += out[i * dim + j] ** 2;
    }
    for (let j = 0; j < dim; j++) out[i * dim + j] /= Math.sqrt(s);
  }
  return out;
}

/** A client whose transactions lose the connection at their `failAt`-th INSERT statement. */
function droppingClient(inner: SqlClient, failAt: number): SqlClient {
  return {
    ...inner,
    transaction: (fn) =>
      inner.transaction((tx) => {
        let inserts = 0;
        return fn({
          query: async (sql, params) => {
            if (/^\s*INSERT INTO (?!matformer)/.test(sql) && ++inserts === failAt)
              throw new Error('Connection terminated unexpectedly');
            return tx.query(sql, params);
          },
        });
      }),
  };
}

describe('PgVectorStore on PGlite with pgvector', () => {
  let dir: string;
  let client: SqlClient;
  beforeAll(async () => {
    dir = join(await tempDir(), 'pg');
    client = await openPglite(dir); // one embedded database for these tests: opening costs seconds
  });
  afterAll(() => client?.close());

  it("finds ≥ 95% of the exact top-10; distances are hnswlib's (cosine, l2, ip)", async () => {
    const dim = 16;
    const db = clustered(2000, dim, 1);
    const queries = clustered(100, dim, 2);
    const store = await PgVectorStore.open(client, {
      table: 'recall',
      dim,
      space: 'cosine',
      ef: 64,
    });
    expect(await store.add(db)).toBe(0);
    expect(await store.count()).toBe(2000);
    const found = await store.search(queries, 10);
    const exact = exactSearch(db, queries, 10, { space: 'cosine', dim });
    expect(recallAtK(found, exact)).toBeGreaterThanOrEqual(0.95);
    for (let i = 0; i < found.ids.length; i++)
      if (found.ids[i] === exact.ids[i])
        expect(found.distances[i]).toBeCloseTo(exact.distances[i], 5);
    for (const space of ['l2', 'ip'] as const) {
      const s = await PgVectorStore.open(client, { table: `dist_${space}`, dim, space, ef: 200 });
      await s.add(db.subarray(0, 200 * dim));
      const r = await s.search(queries.subarray(0, 5 * dim), 3);
      const e = exactSearch(db.subarray(0, 200 * dim), queries.subarray(0, 5 * dim), 3, {
        space,
        dim,
      });
      expect(Array.from(r.ids)).toEqual(Array.from(e.ids));
      for (let i = 0; i < r.distances.length; i++)
        expect(r.distances[i]).toBeCloseTo(e.distances[i], 5);
    }
  });

  it('adaptive retrieval runs on PgVectorStore as on HnswStore: the same 1-NN table', async () => {
    await selectBackend('wasm');
    const config = matvitConfig('tiny'); // dModel 16, granularities [8, 16, 32, 64]
    const model = MatViT.create(config, 0);
    const px = 28 * 28;
    const rand = seededRandom(5);
    const images = Float32Array.from({ length: 300 * px }, () => rand()); // [300, 28, 28, 1]
    const labels = Array.from({ length: 300 }, (_, i) => i % 7);
    const encoders = queryEncoders(config);
    // Queries: the first 40 database images, so the full encoder finds each one itself.
    const queries = { images: images.subarray(0, 40 * px), labels: labels.slice(0, 40) };
    const tables = [];
    for (const store of [
      await HnswStore.open({ dim: 16, space: 'cosine', ef: 300 }),
      await PgVectorStore.open(client, { table: 'adaptive', dim: 16, space: 'cosine', ef: 300 }),
    ]) {
      const added = await indexDatabase(model, store, images, labels);
      expect([added.first, added.vectors.length]).toEqual([0, 300 * 16]);
      const rows = await adaptiveRetrieval(model, store, encoders, queries, labels, { k: 1 });
      expect(rows.map((r) => r.encoder.name)).toEqual(encoders.map((e) => e.name));
      expect(rows.at(-1)!.accuracy).toBe(1);
      expect(Array.from(rows.at(-1)!.result.ids)).toEqual(Array.from({ length: 40 }, (_, i) => i));
      tables.push(rows.map((r) => r.accuracy));
    }
    expect(tables[1]).toEqual(tables[0]);
    await expect(
      indexDatabase(model, await HnswStore.open({ dim: 8, space: 'cosine' }), images),
    ).rejects.toThrow(
      'the model embeds into 16 dimensions; hnswlib (in memory) holds 8-dimensional vectors',
    );
    model.dispose();
  });

  it('labels come back with the ids; k is clamped to the count; ids are never reused', async () => {
    const store = await PgVectorStore.open(client, { table: 'labels', dim: 4, space: 'l2' });
    const empty = await store.search(new Float32Array(4), 5);
    expect([empty.k, empty.ids.length]).toEqual([0, 0]);
    const v = new Float32Array([0, 0, 0, 0, 1, 0, 0, 0, 0, 2, 0, 0]);
    expect(await store.add(v, [7, 8, 9])).toBe(0);
    await expect(store.add(v)).rejects.toThrow(/stores a label per item: pass labels/);
    const r = await store.search(new Float32Array([0.9, 0, 0, 0]), 50);
    expect([r.k, Array.from(r.ids), Array.from(r.labels!)]).toEqual([3, [1, 0, 2], [8, 7, 9]]);
    await expect(store.delete([1, 5])).rejects.toThrow(
      /no item with id 5 \(never added, or already deleted\); nothing deleted/,
    );
    expect(await store.count()).toBe(3);
    expect(await store.delete([1])).toBe(1);
    await expect(store.delete([1])).rejects.toThrow(/no item with id 1/);
    expect(await store.add(v.subarray(0, 4), [6])).toBe(3);
    const after = await store.search(new Float32Array([0.9, 0, 0, 0]), 2);
    expect(Array.from(after.ids)).toEqual([0, 3]);
  });

  it("refuses a dimension or metric that differs from the table's, and leaves it whole", async () => {
    const store = await PgVectorStore.open(client, { table: 'shape', dim: 8, space: 'cosine' });
    await store.add(randomUnitVectors(20, 8, 3));
    await expect(
      PgVectorStore.open(client, { table: 'shape', dim: 16, space: 'cosine' }),
    ).rejects.toThrow(
      'table shape holds 8-dimensional vectors; expected 16 (built with another model?)',
    );
    await expect(
      PgVectorStore.open(client, { table: 'shape', dim: 8, space: 'l2' }),
    ).rejects.toThrow('table shape uses the "cosine" metric; expected "l2"');
    await expect(store.add(new Float32Array(12))).rejects.toThrow(
      /vectors has 12 values, not a whole number of 8-dimensional rows/,
    );
    await expect(store.search(new Float32Array(4), 1)).rejects.toThrow(RetrievalError);
    expect(await store.count()).toBe(20);
    expect((await PgVectorStore.open(client, { table: 'shape', dim: 8 })).space).toBe('cosine');
  });

  it('rejects a batch holding NaN or ±Infinity before inserting any of it', async () => {
    const store = await PgVectorStore.open(client, { table: 'finite', dim: 4, space: 'l2' });
    for (const bad of [NaN, Infinity, -Infinity]) {
      const batch = randomUnitVectors(50, 4, 4);
      batch[30 * 4 + 2] = bad;
      await expect(store.add(batch)).rejects.toThrow(
        `vectors row 30 has a non-finite value (${bad}) at position 2`,
      );
    }
    expect(await store.count()).toBe(0);
    await expect(store.search(new Float32Array([0, NaN, 0, 0]), 1)).rejects.toThrow(/non-finite/);
    expect(await store.add(randomUnitVectors(5, 4, 5))).toBe(0); // nothing was half-added
  });

  it('a connection that drops in the middle of a batch leaves none of it (one transaction)', async () => {
    const good = await PgVectorStore.open(client, {
      table: 'drop',
      dim: 4,
      space: 'l2',
      insertBatchRows: 10,
    });
    await good.add(randomUnitVectors(15, 4, 6));
    const flaky = await PgVectorStore.open(droppingClient(client, 3), {
      table: 'drop',
      insertBatchRows: 10,
    });
    // 35 rows = 4 INSERT statements; the third fails after two have run.
    await expect(flaky.add(randomUnitVectors(35, 4, 7))).rejects.toThrow(
      'Connection terminated unexpectedly',
    );
    expect(await good.count()).toBe(15);
    expect(await good.add(randomUnitVectors(1, 4, 8))).toBe(15); // the next id did not move
    expect(await good.count()).toBe(16);
  });

  it('through a pg Pool (fromPgPool): a batch commits, or rolls back when the connection drops', async () => {
    // A stand-in pool over the embedded database: one connection, as pg hands out.
    const released: unknown[] = [];
    let inserts = 0;
    let failAt = Infinity;
    const conn = {
      query: async <R>(sql: string, params?: unknown[]) => {
        if (/^\s*INSERT INTO pooled/.test(sql) && ++inserts === failAt)
          throw new Error('Connection terminated unexpectedly');
        return client.query<R>(sql, params);
      },
      release: (err?: Error | boolean) => void released.push(err),
    };
    const pool = { query: conn.query, connect: async () => conn, end: async () => undefined };
    const store = await PgVectorStore.open(fromPgPool(pool), {
      table: 'pooled',
      dim: 4,
      space: 'l2',
      insertBatchRows: 10,
    });
    expect(await store.add(randomUnitVectors(25, 4, 30))).toBe(0);
    failAt = inserts + 2; // the second INSERT of the next batch
    await expect(store.add(randomUnitVectors(25, 4, 31))).rejects.toThrow(/Connection terminated/);
    expect(await store.count()).toBe(25);
    // Create, add, failed add: ROLLBACK worked each time, so the connection went back whole.
    expect(released).toEqual([false, false, false]);
    expect(await store.add(randomUnitVectors(1, 4, 32))).toBe(25);
  });

  it('refuses a table another program changed: column dimension, metadata row, metric, index', async () => {
    const make = async (table: string) => {
      const s = await PgVectorStore.open(client, { table, dim: 4, space: 'cosine' });
      await s.add(randomUnitVectors(3, 4, 9));
    };
    await make('t_dim');
    await client.query('DELETE FROM t_dim');
    await client.query('ALTER TABLE t_dim ALTER COLUMN embedding TYPE vector(5)');
    await expect(PgVectorStore.open(client, { table: 't_dim' })).rejects.toThrow(
      /table t_dim no longer matches its matformer_vector_stores row: column embedding is vector\(5\), the row records 4 dimensions \(changed by another program\?\)/,
    );
    await make('t_row');
    await client.query(`DELETE FROM ${PG_META_TABLE} WHERE table_name = 't_row'`);
    await expect(
      PgVectorStore.open(client, { table: 't_row', dim: 4, space: 'cosine' }),
    ).rejects.toThrow(/table t_row exists but matformer_vector_stores has no row for it/);
    await make('t_metric');
    await client.query(`UPDATE ${PG_META_TABLE} SET metric = 'l2' WHERE table_name = 't_metric'`);
    await expect(PgVectorStore.open(client, { table: 't_metric' })).rejects.toThrow(
      /no HNSW index with vector_l2_ops for the "l2" metric \(found: vector_cosine_ops\)/,
    );
    await make('t_index');
    await client.query('DROP INDEX t_index_hnsw');
    await expect(PgVectorStore.open(client, { table: 't_index' })).rejects.toThrow(
      /no HNSW index with vector_cosine_ops .* \(found: none\)/,
    );
    await make('t_gone');
    await client.query('DROP TABLE t_gone');
    await expect(PgVectorStore.open(client, { table: 't_gone' })).rejects.toThrow(
      /describes table t_gone, which does not exist/,
    );
    // A store opened before its row went away fails its next add clearly, adding nothing.
    const live = await PgVectorStore.open(client, { table: 'recall' });
    await client.query(
      `UPDATE ${PG_META_TABLE} SET table_name = 'moved' WHERE table_name = 'recall'`,
    );
    await expect(live.add(randomUnitVectors(1, 16, 1))).rejects.toThrow(/row is gone/);
    await client.query(
      `UPDATE ${PG_META_TABLE} SET table_name = 'recall' WHERE table_name = 'moved'`,
    );
    await expect(
      PgVectorStore.open(client, { table: 'Bad-Name', dim: 4, space: 'l2' }),
    ).rejects.toThrow(/table must be a plain lower-case SQL name/);
    await expect(PgVectorStore.open(client, { table: 'nothing' })).rejects.toThrow(
      /table nothing does not exist; creating it needs dim and space/,
    );
  });
});

describe('vector stores persist', () => {
  it('pglite: close, reopen the directory, same answers', async () => {
    const dir = join(await tempDir(), 'not', 'yet', 'made'); // parents are created
    const db = clustered(500, 8, 11);
    const queries = clustered(20, 8, 12);
    const labels = Array.from({ length: 500 }, (_, i) => i % 10);
    const a = await openVectorStore(`pglite:${dir}`, { dim: 8, space: 'cosine', table: 'p' });
    expect(a.kind).toBe('pgvector');
    await a.add(db, labels);
    await a.delete([3]);
    const before = await a.search(queries, 5);
    await a.close();
    await expect(a.count()).rejects.toThrow(/is closed/);
    const b = await openVectorStore(`pglite:${dir}`, { dim: 8, space: 'cosine', table: 'p' });
    expect(await b.count()).toBe(499);
    const after = await b.search(queries, 5);
    expect(Array.from(after.ids)).toEqual(Array.from(before.ids));
    expect(Array.from(after.labels!)).toEqual(Array.from(before.labels!));
    expect(Array.from(after.distances)).toEqual(Array.from(before.distances));
    expect(await b.add(db.subarray(0, 8), [1])).toBe(500);
    await b.close();
  });

  it('hnsw: close writes the file, reopen gives the same answers; a wrong dimension is refused', async () => {
    const path = join(await tempDir(), 'db.mfhnsw');
    const db = clustered(500, 8, 13);
    const queries = clustered(20, 8, 14);
    const a = await openVectorStore(undefined, { dim: 8, space: 'cosine', path });
    expect(a.kind).toBe('hnsw');
    await a.add(
      db,
      Array.from({ length: 500 }, (_, i) => i % 10),
    );
    await a.delete([3]);
    const before = await a.search(queries, 5);
    await a.close();
    const b = await HnswStore.open({ dim: 8, space: 'cosine', path });
    expect(await b.count()).toBe(499);
    const after = await b.search(queries, 5);
    expect(Array.from(after.ids)).toEqual(Array.from(before.ids));
    expect(Array.from(after.labels!)).toEqual(Array.from(before.labels!));
    await expect(HnswStore.open({ dim: 16, space: 'cosine', path })).rejects.toThrow(
      /holds 8-dimensional vectors; expected 16/,
    );
    await expect(HnswStore.open({ dim: 8, space: 'l2', path })).rejects.toThrow(
      /uses the "cosine" space; expected "l2"/,
    );
    const nan = clustered(3, 8, 15);
    nan[9] = NaN;
    await expect(b.add(nan, [1, 2, 3])).rejects.toThrow(/non-finite/);
    expect(await b.count()).toBe(499);
  });
});

describe('--store values', () => {
  it('reads hnsw, pglite:<dir> and postgres:// URLs; anything else fails naming the choices', () => {
    expect(parseStoreSpec(undefined)).toEqual({ kind: 'hnsw' });
    expect(parseStoreSpec('pglite:runs/v')).toEqual({ kind: 'pglite', dir: 'runs/v' });
    expect(parseStoreSpec('postgresql://u@h/db')).toEqual({
      kind: 'postgres',
      url: 'postgresql://u@h/db',
    });
    expect(() => parseStoreSpec('pglite:')).toThrow(/needs a directory/);
    expect(() => parseStoreSpec('mysql://x')).toThrow(
      'store must be "hnsw", "pglite:<dir>" or a postgres://… URL, got "mysql://x"',
    );
    expect(redactUrl('postgres://me:secret@host:5432/db')).toBe('postgres://me:***@host:5432/db');
  });

  it('a postgres:// URL nobody answers fails clearly, password redacted', async () => {
    await expect(
      openVectorStore('postgres://me:secret@127.0.0.1:1/none', { dim: 4, space: 'l2' }),
    ).rejects.toThrow(/^cannot connect to postgres:\/\/me:\*\*\*@127\.0\.0\.1:1\/none: /);
  });
});
