// The vector stores side by side (`bench-retrieval.ts --stores …` calls this): the same database
// inserted into each in batches, then, per ef, queries/s and recall@k against exact search; the
// smallest ef reaching recall ≥ 0.95 is the operating point reported, with the on-disk size.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  measureQps,
  openVectorStore,
  parseStoreSpec,
  PgVectorStore,
  recallAtK,
  type KnnResult,
  type VectorStore,
} from '@matformer/retrieval';

export interface StoreBenchOptions {
  dim: number;
  k: number;
  M: number;
  efConstruction: number;
  /** Rows per add() call (each one transaction on pgvector). */
  batch: number;
  efs: number[];
}

export interface StoreBenchRow {
  store: string;
  insertPerSec: number;
  insertMs: number;
  sweep: { ef: number; qps: number; recall: number }[];
  at95?: { ef: number; qps: number; recall: number };
  diskBytes: number;
  diskNote: string;
}

const fmt = (x: number, d = 0) =>
  x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/** Bytes under a path (a file, or a directory's files), as `du -sb` counts them. */
function diskBytes(path: string): number {
  if (statSync(path).isFile()) return statSync(path).size;
  return Number(execFileSync('du', ['-sb', path], { encoding: 'utf8' }).split('\t')[0]);
}

/** One store: insert, sweep ef (best of two timed runs each), persist, measure the disk. */
async function benchOne(
  spec: string,
  db: Float32Array,
  queries: Float32Array,
  truth: KnnResult,
  o: StoreBenchOptions,
): Promise<StoreBenchRow> {
  const s = parseStoreSpec(spec);
  const scratch = await mkdtemp(join(tmpdir(), 'bench-stores-'));
  const path = s.kind === 'hnsw' ? join(scratch, 'db.mfhnsw') : undefined;
  const table = `bench_${process.pid}`;
  const open = () =>
    openVectorStore(spec, {
      dim: o.dim,
      space: 'cosine',
      path,
      table,
      M: o.M,
      efConstruction: o.efConstruction,
    });
  const store: VectorStore = await open();
  const n = db.length / o.dim;
  const q = queries.length / o.dim;
  const t0 = performance.now();
  for (let i = 0; i < n; i += o.batch)
    await store.add(db.subarray(i * o.dim, Math.min(n, i + o.batch) * o.dim));
  await store.persist();
  const insertMs = performance.now() - t0;
  console.log(
    `${spec}: inserted ${fmt(n)} in ${(insertMs / 1000).toFixed(1)} s (${fmt(n / (insertMs / 1000))} vectors/s, batches of ${o.batch}, HNSW M=${o.M} efConstruction=${o.efConstruction})`,
  );
  const sweep: StoreBenchRow['sweep'] = [];
  for (const ef of o.efs) {
    await store.search(queries.subarray(0, 20 * o.dim), o.k, { ef }); // warm-up
    const a = await measureQps(q, () => store.search(queries, o.k, { ef }));
    const b = await measureQps(q, () => store.search(queries, o.k, { ef }));
    const row = { ef, qps: Math.max(a.qps, b.qps), recall: recallAtK(a.result, truth, o.k) };
    sweep.push(row);
    console.log(
      `  ef ${String(ef).padStart(4)}: ${fmt(row.qps).padStart(7)} q/s, recall@${o.k} ${row.recall.toFixed(4)}`,
    );
    if (row.recall >= 0.99) break; // the operating point is behind us
  }
  let bytes: number;
  let diskNote: string;
  if (store instanceof PgVectorStore) {
    const tableBytes = await store.relationBytes();
    await store.close();
    if (s.kind === 'pglite') {
      bytes = diskBytes(s.dir);
      diskNote = `PGlite directory ${fmt(bytes / 2 ** 20, 1)} MiB in all (table + HNSW index ${fmt(tableBytes / 2 ** 20, 1)} MiB; the rest is PostgreSQL's own files and WAL)`;
    } else {
      bytes = tableBytes;
      diskNote = `table + HNSW index ${fmt(tableBytes / 2 ** 20, 1)} MiB on the server`;
    }
  } else {
    await store.close();
    bytes = diskBytes(path!);
    diskNote = `index file ${fmt(bytes / 2 ** 20, 1)} MiB`;
  }
  const at95 = sweep.find((r) => r.recall >= 0.95);
  console.log(
    `  → ${at95 ? `ef ${at95.ef}: ${fmt(at95.qps)} q/s at recall@${o.k} ${at95.recall.toFixed(4)}` : `no ef reached recall@${o.k} ≥ 0.95`}; ${diskNote}`,
  );
  return {
    store: spec,
    insertPerSec: n / (insertMs / 1000),
    insertMs,
    sweep,
    at95,
    diskBytes: bytes,
    diskNote,
  };
}

/** Every store in `specs` on the same data; `truth` is exact search's top-k of the queries. */
export async function benchStores(
  specs: string[],
  db: Float32Array,
  queries: Float32Array,
  truth: KnnResult,
  o: StoreBenchOptions,
): Promise<StoreBenchRow[]> {
  const rows: StoreBenchRow[] = [];
  for (const spec of specs) rows.push(await benchOne(spec, db, queries, truth, o));
  console.log(
    `\n${'store'.padEnd(28)} ${'insert/s'.padStart(9)} ${'ef@0.95'.padStart(8)} ${'q/s@0.95'.padStart(9)} ${'disk MiB'.padStart(9)}`,
  );
  for (const r of rows)
    console.log(
      `${r.store.padEnd(28)} ${fmt(r.insertPerSec).padStart(9)} ${String(r.at95?.ef ?? '—').padStart(8)} ${(r.at95 ? fmt(r.at95.qps) : '—').padStart(9)} ${fmt(r.diskBytes / 2 ** 20, 1).padStart(9)}`,
    );
  return rows;
}
