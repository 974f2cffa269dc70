import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { RetrievalError } from './errors';
import { redactUrl } from './vector-store';

/** One query's rows. */
export interface SqlResult<R> {
  rows: R[];
}

/** What a statement runs on: a connection, a pool, or an open transaction. */
export interface SqlQueryable {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<SqlResult<R>>;
}

/**
 * The little of PostgreSQL the pgvector store needs, met by a `pg` Pool and by PGlite alike:
 * statements, a transaction on one connection (BEGIN … COMMIT, ROLLBACK when `fn` throws), a
 * flush to disk, and close.
 */
export interface SqlClient extends SqlQueryable {
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  /** Makes committed work durable where that takes a step (PGlite: a checkpoint). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** The shape of a `pg` Pool this needs (structural, so users' pg versions fit). */
export interface PgPoolLike extends SqlQueryable {
  connect(): Promise<SqlQueryable & { release(err?: Error | boolean): void }>;
  end(): Promise<void>;
}

/** A `pg` Pool as a SqlClient: each transaction takes one pooled connection. */
export function fromPgPool(pool: PgPoolLike): SqlClient {
  return {
    query: (sql, params) => pool.query(sql, params),
    async transaction(fn) {
      const conn = await pool.connect();
      let broken: Error | undefined;
      try {
        await conn.query('BEGIN');
        const out = await fn(conn);
        await conn.query('COMMIT');
        return out;
      } catch (e) {
        // A connection that failed mid-transaction may be dead: drop it from the pool then.
        await conn.query('ROLLBACK').catch((r: Error) => (broken = r));
        throw e;
      } finally {
        conn.release(broken ?? false);
      }
    },
    flush: async () => undefined, // a server's COMMIT is durable
    close: () => pool.end(),
  };
}

/** The shape of a PGlite instance this needs. */
interface PgliteLike extends SqlQueryable {
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  exec(sql: string): Promise<unknown>;
  close(): Promise<void>;
}

function fromPglite(db: PgliteLike): SqlClient {
  return {
    query: (sql, params) => db.query(sql, params),
    transaction: (fn) => db.transaction(fn),
    flush: async () => {
      await db.exec('CHECKPOINT');
    },
    close: () => db.close(),
  };
}

/**
 * PGlite (PostgreSQL in WASM, from npm) with pgvector, its data in `dir` (created if missing;
 * `memory://` for none):
 * an embedded database, no server. Imported on first use, so hnswlib-only users never load it.
 */
export async function openPglite(dir: string): Promise<SqlClient> {
  const [{ PGlite }, { vector }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite/vector'),
  ]);
  try {
    // PGlite makes the data directory but not its parents ('memory://' keeps it in memory).
    if (!dir.includes('://')) await mkdir(dirname(resolve(dir)), { recursive: true });
    const db = await PGlite.create({ dataDir: dir, extensions: { vector } });
    return fromPglite(db as unknown as PgliteLike);
  } catch (e) {
    throw new RetrievalError(`cannot open the PGlite database in ${dir}: ${(e as Error).message}`);
  }
}

/**
 * A `pg` Pool on a `postgres://…` URL (the server needs the pgvector extension installed). `pg`
 * is imported on first use. The first query checks the connection, so a bad URL fails here.
 */
export async function openPostgres(url: string, max = 4): Promise<SqlClient> {
  const pg = (await import('pg')).default;
  const pool = new pg.Pool({ connectionString: url, max });
  // An idle connection that dies must not crash the process: the next query reports it.
  pool.on('error', () => undefined);
  try {
    await pool.query('SELECT 1');
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new RetrievalError(`cannot connect to ${redactUrl(url)}: ${(e as Error).message}`);
  }
  return fromPgPool(pool as unknown as PgPoolLike);
}
