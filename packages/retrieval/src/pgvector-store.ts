import { RetrievalError } from './errors';
import { defaultHnswParams } from './hnsw-index';
import type { SqlClient, SqlQueryable } from './sql-client';
import { checkDim, checkFinite, checkK, checkSpace, rowCount, spaces, type Space } from './vectors';
import type { StoreParams, StoreSearchResult, VectorStore } from './vector-store';

/** The table recording, per vector table, what it holds: one row each. */
export const PG_META_TABLE = 'matformer_vector_stores';
const FORMAT = 1;
/** pgvector's HNSW scan returns at most hnsw.ef_search rows, and ef_search is at most 1000. */
const MAX_EF_SEARCH = 1000;

/** pgvector operator class and distance operator per space. */
const OPS: Record<Space, { opclass: string; op: string }> = {
  cosine: { opclass: 'vector_cosine_ops', op: '<=>' }, // 1 − cos
  l2: { opclass: 'vector_l2_ops', op: '<->' }, // Euclidean (squared here, as hnswlib's)
  ip: { opclass: 'vector_ip_ops', op: '<#>' }, // −a·b (1 + it here: hnswlib's 1 − a·b)
};
const toHnswDistance: Record<Space, (d: number) => number> = {
  cosine: (d) => d,
  l2: (d) => d * d,
  ip: (d) => 1 + d,
};

export interface PgVectorStoreOptions extends Partial<StoreParams> {
  /** The vector table (a plain lower-case SQL name); default `matformer_vectors`. */
  table?: string;
  /** Needed to create the table; checked against an existing one. */
  dim?: number;
  space?: Space;
  /** Rows per INSERT statement inside an add's transaction (default 1000). */
  insertBatchRows?: number;
  /** Close the client when the store closes (true when the store opened it). */
  ownsClient?: boolean;
  /** Names the database in messages (a PGlite directory, a redacted URL). */
  location?: string;
}

interface MetaRow {
  dim: number;
  metric: string;
  m: number;
  ef_construction: number;
  labeled: boolean | null;
  next_id: string | number;
  format: number;
}

const positiveInt = (field: string, v: unknown): number => {
  if (!Number.isInteger(v) || (v as number) < 1)
    throw new RetrievalError(`${field} must be a positive integer, got ${JSON.stringify(v)}`);
  return v as number;
};

/** `[x,y,…]`: pgvector's text form of one row; JS prints each float32 exactly. */
function vectorLiteral(v: Float32Array, from: number, dim: number): string {
  let s = '[';
  for (let j = 0; j < dim; j++) s += (j ? ',' : '') + v[from + j];
  return s + ']';
}

/** A PostgreSQL array literal of pgvector texts: {"[…]","[…]"}. */
const vectorArray = (v: Float32Array, rows: number, dim: number, first = 0) =>
  `{${Array.from({ length: rows }, (_, i) => `"${vectorLiteral(v, (first + i) * dim, dim)}"`).join(',')}}`;

/**
 * A VectorStore in PostgreSQL with pgvector: table `(id bigint primary key, label integer,
 * embedding vector(dim))` with an HNSW index whose operator class matches the metric, and a row
 * in `matformer_vector_stores` recording dimension, metric, graph parameters and the next id.
 * Every add is one transaction (all rows or none); opening checks the table against that row,
 * so a table another program changed fails clearly instead of answering wrongly.
 */
export class PgVectorStore implements VectorStore {
  readonly kind = 'pgvector' as const;
  readonly location: string;
  private efValue: number;
  private closed = false;

  private constructor(
    private readonly client: SqlClient,
    readonly table: string,
    readonly dim: number,
    readonly space: Space,
    private readonly graph: { M: number; efConstruction: number },
    ef: number,
    private readonly insertBatchRows: number,
    private readonly ownsClient: boolean,
    location: string | undefined,
  ) {
    this.efValue = ef;
    this.location = `${location ?? 'postgres'} table ${table}`;
  }

  /**
   * Opens the table (creating it, its index and its metadata row when none exists; `dim` and
   * `space` are needed then). An existing table must match `dim`/`space` when given, and its
   * metadata row, column type and index must agree with each other.
   */
  static async open(client: SqlClient, opts: PgVectorStoreOptions = {}): Promise<PgVectorStore> {
    const table = opts.table ?? 'matformer_vectors';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(table))
      throw new RetrievalError(
        `table must be a plain lower-case SQL name ([a-z_][a-z0-9_]*, ≤ 63 characters), got ${JSON.stringify(table)}`,
      );
    const ef = positiveInt('ef', opts.ef ?? defaultHnswParams.ef);
    const insertBatchRows = positiveInt('insertBatchRows', opts.insertBatchRows ?? 1000);
    if (opts.dim !== undefined) checkDim(opts.dim);
    if (opts.space !== undefined) checkSpace(opts.space);
    const where = opts.location ?? 'postgres';
    try {
      await client.query('CREATE EXTENSION IF NOT EXISTS vector');
    } catch (e) {
      throw new RetrievalError(
        `${where}: cannot enable pgvector (CREATE EXTENSION vector): ${(e as Error).message}`,
      );
    }
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${PG_META_TABLE} (table_name text PRIMARY KEY, dim integer NOT NULL, metric text NOT NULL, m integer NOT NULL, ef_construction integer NOT NULL, labeled boolean, next_id bigint NOT NULL, format integer NOT NULL)`,
    );
    let meta = await readMeta(client, table);
    const exists = await tableExists(client, table);
    if (!meta && !exists) {
      if (opts.dim === undefined || opts.space === undefined)
        throw new RetrievalError(
          `${where}: table ${table} does not exist; creating it needs dim and space`,
        );
      const M = positiveInt('M', opts.M ?? defaultHnswParams.M);
      const efc = positiveInt(
        'efConstruction',
        opts.efConstruction ?? defaultHnswParams.efConstruction,
      );
      await client.transaction(async (tx) => {
        await tx.query(
          `CREATE TABLE ${table} (id bigint PRIMARY KEY, label integer, embedding vector(${opts.dim}) NOT NULL)`,
        );
        await tx.query(
          `CREATE INDEX ${table}_hnsw ON ${table} USING hnsw (embedding ${OPS[opts.space!].opclass}) WITH (m = ${M}, ef_construction = ${efc})`,
        );
        await tx.query(
          `INSERT INTO ${PG_META_TABLE} (table_name, dim, metric, m, ef_construction, labeled, next_id, format) VALUES ($1, $2, $3, $4, $5, NULL, 0, $6)`,
          [table, opts.dim, opts.space, M, efc, FORMAT],
        );
      });
      meta = (await readMeta(client, table))!;
    } else if (!meta)
      throw new RetrievalError(
        `${where}: table ${table} exists but ${PG_META_TABLE} has no row for it (created or changed by another program?); refusing to use it`,
      );
    else if (!exists)
      throw new RetrievalError(
        `${where}: ${PG_META_TABLE} describes table ${table}, which does not exist (dropped by another program?)`,
      );
    const checked = await checkTable(client, table, meta, where);
    if (opts.dim !== undefined && opts.dim !== checked.dim)
      throw new RetrievalError(
        `${where}: table ${table} holds ${checked.dim}-dimensional vectors; expected ${opts.dim} (built with another model?)`,
      );
    if (opts.space !== undefined && opts.space !== checked.space)
      throw new RetrievalError(
        `${where}: table ${table} uses the "${checked.space}" metric; expected "${opts.space}"`,
      );
    return new PgVectorStore(
      client,
      table,
      checked.dim,
      checked.space,
      { M: meta.m, efConstruction: meta.ef_construction },
      ef,
      insertBatchRows,
      opts.ownsClient ?? false,
      opts.location,
    );
  }

  get params(): StoreParams {
    return { ...this.graph, ef: this.efValue };
  }

  get ef(): number {
    return this.efValue;
  }
  set ef(v: number) {
    this.efValue = positiveInt('ef', v);
  }

  private check(): void {
    if (this.closed) throw new RetrievalError(`the vector store ${this.location} is closed`);
  }

  async add(vectors: Float32Array, labels?: ArrayLike<number>): Promise<number> {
    this.check();
    // Everything is validated before the first statement: a bad batch changes nothing.
    const n = rowCount(vectors, this.dim, 'vectors');
    checkFinite(vectors, this.dim, 'vectors');
    if (labels !== undefined && labels.length !== n)
      throw new RetrievalError(`labels has ${labels.length} entries for ${n} vectors`);
    for (let i = 0; i < (labels?.length ?? 0); i++)
      if (!Number.isInteger(labels![i]) || labels![i] < -(2 ** 31) || labels![i] >= 2 ** 31)
        throw new RetrievalError(`labels[${i}] must be a 32-bit integer, got ${labels![i]}`);
    return this.client.transaction(async (tx) => {
      // FOR UPDATE: concurrent adders queue here, so ids never collide.
      const meta = await readMeta(tx, this.table, true);
      if (!meta)
        throw new RetrievalError(
          `${this.location}: its ${PG_META_TABLE} row is gone (deleted by another program?)`,
        );
      const first = Number(meta.next_id);
      if (n === 0) return first;
      const labeled = labels !== undefined;
      if (meta.labeled !== null && meta.labeled !== labeled)
        throw new RetrievalError(
          meta.labeled
            ? `${this.location} stores a label per item: pass labels to add()`
            : `${this.location} was filled without labels: add() cannot start adding them`,
        );
      for (let s = 0; s < n; s += this.insertBatchRows) {
        const b = Math.min(this.insertBatchRows, n - s);
        const ids = `{${Array.from({ length: b }, (_, i) => first + s + i).join(',')}}`;
        const vecs = vectorArray(vectors, b, this.dim, s);
        if (labeled)
          await tx.query(
            `INSERT INTO ${this.table} (id, label, embedding) SELECT * FROM unnest($1::bigint[], $2::integer[], $3::vector[])`,
            [
              ids,
              `{${Array.from(labels!)
                .slice(s, s + b)
                .join(',')}}`,
              vecs,
            ],
          );
        else
          await tx.query(
            `INSERT INTO ${this.table} (id, embedding) SELECT * FROM unnest($1::bigint[], $2::vector[])`,
            [ids, vecs],
          );
      }
      await tx.query(
        `UPDATE ${PG_META_TABLE} SET next_id = $2, labeled = $3 WHERE table_name = $1`,
        [this.table, first + n, labeled],
      );
      return first;
    });
  }

  async search(
    queries: Float32Array,
    k: number,
    opts: { ef?: number } = {},
  ): Promise<StoreSearchResult> {
    this.check();
    checkK(k);
    const q = rowCount(queries, this.dim, 'queries');
    checkFinite(queries, this.dim, 'queries');
    const ef = positiveInt('ef', opts.ef ?? this.efValue);
    const count = await this.count();
    const kk = Math.min(k, count);
    if (kk > MAX_EF_SEARCH)
      throw new RetrievalError(
        `k = ${k}: pgvector's HNSW search returns at most ${MAX_EF_SEARCH} neighbours per query`,
      );
    const ids = new Int32Array(q * kk).fill(-1);
    const distances = new Float32Array(q * kk).fill(Infinity);
    const labels = new Int32Array(q * kk).fill(-1);
    let labeled = false;
    if (kk > 0 && q > 0) {
      const toD = toHnswDistance[this.space];
      const op = OPS[this.space].op;
      await this.client.transaction(async (tx) => {
        // ef ≥ k, or pgvector would return fewer than k rows.
        await tx.query(`SET LOCAL hnsw.ef_search = ${Math.min(MAX_EF_SEARCH, Math.max(ef, kk))}`);
        // The HNSW index, always: on a small table the planner would rather scan it all (exact,
        // and ef would be no knob at all).
        await tx.query('SET LOCAL enable_seqscan = off');
        const chunk = 100;
        for (let s = 0; s < q; s += chunk) {
          const b = Math.min(chunk, q - s);
          // One statement per chunk: each query's top-k by an index scan (LATERAL … LIMIT k).
          const { rows } = await tx.query<{
            i: number;
            id: string;
            label: number | null;
            d: number;
          }>(
            `SELECT q.i::integer AS i, n.id, n.label, n.d FROM unnest($1::vector[]) WITH ORDINALITY AS q(v, i)
             CROSS JOIN LATERAL (SELECT id, label, embedding ${op} q.v AS d FROM ${this.table} ORDER BY embedding ${op} q.v LIMIT ${kk}) n
             ORDER BY q.i, n.d, n.id`,
            [vectorArray(queries, b, this.dim, s)],
          );
          let prev = -1;
          let j = 0;
          for (const r of rows) {
            const qi = s + r.i - 1;
            j = qi === prev ? j + 1 : 0;
            prev = qi;
            if (j >= kk) continue;
            ids[qi * kk + j] = Number(r.id);
            distances[qi * kk + j] = toD(r.d);
            if (r.label !== null) {
              labels[qi * kk + j] = r.label;
              labeled = true;
            }
          }
        }
      });
    }
    return { k: kk, ids, distances, ...(labeled ? { labels } : {}) };
  }

  async delete(ids: ArrayLike<number>): Promise<number> {
    this.check();
    const set = new Set<number>();
    for (let i = 0; i < ids.length; i++) {
      if (!Number.isSafeInteger(ids[i]) || ids[i] < 0)
        throw new RetrievalError(`ids[${i}] = ${ids[i]} is not an item id`);
      if (set.has(ids[i])) throw new RetrievalError(`ids[${i}] = ${ids[i]} is listed twice`);
      set.add(ids[i]);
    }
    if (set.size === 0) return 0;
    return this.client.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: string }>(
        `DELETE FROM ${this.table} WHERE id = ANY($1::bigint[]) RETURNING id`,
        [`{${[...set].join(',')}}`],
      );
      if (rows.length !== set.size) {
        const gone = new Set(rows.map((r) => Number(r.id)));
        const missing = [...set].filter((id) => !gone.has(id)).slice(0, 5);
        throw new RetrievalError(
          `${this.location}: no item with id ${missing.join(', ')} (never added, or already deleted); nothing deleted`,
        );
      }
      return rows.length;
    });
  }

  async count(): Promise<number> {
    this.check();
    const { rows } = await this.client.query<{ n: number }>(
      `SELECT count(*)::integer AS n FROM ${this.table}`,
    );
    return rows[0].n;
  }

  /** Bytes the table, its HNSW index and its key index take (pg_total_relation_size). */
  async relationBytes(): Promise<number> {
    this.check();
    const { rows } = await this.client.query<{ b: string }>(
      `SELECT pg_total_relation_size($1::regclass)::text AS b`,
      [this.table],
    );
    return Number(rows[0].b);
  }

  async persist(): Promise<void> {
    this.check();
    await this.client.flush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.persist();
    this.closed = true;
    if (this.ownsClient) await this.client.close();
  }
}

async function readMeta(
  db: SqlQueryable,
  table: string,
  forUpdate = false,
): Promise<MetaRow | undefined> {
  const { rows } = await db.query<MetaRow>(
    `SELECT dim, metric, m, ef_construction, labeled, next_id, format FROM ${PG_META_TABLE} WHERE table_name = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [table],
  );
  return rows[0];
}

async function tableExists(db: SqlQueryable, table: string): Promise<boolean> {
  const { rows } = await db.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [
    table,
  ]);
  return rows[0].ok;
}

/**
 * The metadata row, the table's columns and its HNSW index must tell one story; another program
 * altering any of them (a column's dimension, the metric, the index) is refused here.
 */
async function checkTable(
  db: SqlQueryable,
  table: string,
  meta: MetaRow,
  where: string,
): Promise<{ dim: number; space: Space }> {
  const changed = (what: string) =>
    new RetrievalError(
      `${where}: table ${table} no longer matches its ${PG_META_TABLE} row: ${what} (changed by another program?); refusing to use it`,
    );
  if (meta.format !== FORMAT) throw changed(`format ${meta.format}, this library reads ${FORMAT}`);
  if (!spaces.includes(meta.metric as Space))
    throw changed(`metric ${JSON.stringify(meta.metric)} is none of ${spaces.join(', ')}`);
  if (!(Number.isInteger(meta.dim) && meta.dim >= 1)) throw changed(`dim ${meta.dim}`);
  const { rows: cols } = await db.query<{ name: string; type: string; typmod: number }>(
    `SELECT a.attname AS name, t.typname AS type, a.atttypmod AS typmod FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
     WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`,
    [table],
  );
  const col = (name: string) => cols.find((c) => c.name === name);
  const emb = col('embedding');
  if (!emb || emb.type !== 'vector') throw changed('it has no vector column "embedding"');
  if (emb.typmod !== meta.dim)
    throw changed(
      `column embedding is vector(${emb.typmod}), the row records ${meta.dim} dimensions`,
    );
  if (col('id')?.type !== 'int8' || col('label')?.type !== 'int4')
    throw changed('columns id bigint and label integer are not both there');
  const { rows: idx } = await db.query<{ opclass: string }>(
    `SELECT opc.opcname AS opclass FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
     JOIN pg_opclass opc ON opc.oid = i.indclass[0] WHERE i.indrelid = to_regclass($1) AND am.amname = 'hnsw'`,
    [table],
  );
  const want = OPS[meta.metric as Space].opclass;
  if (!idx.some((r) => r.opclass === want))
    throw changed(
      `no HNSW index with ${want} for the "${meta.metric}" metric (found: ${idx.map((r) => r.opclass).join(', ') || 'none'})`,
    );
  return { dim: meta.dim, space: meta.metric as Space };
}
