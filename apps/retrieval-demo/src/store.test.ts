import { execFile } from 'node:child_process';
import { copyFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { selectBackend } from '@matformer/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RetrievalReport } from './experiment';
import { MODEL_FILE } from './model-store';
import {
  defaultTrainSettings,
  demoConfig,
  measureReport,
  prepare,
  type PipelineOptions,
  type Prepared,
} from './pipeline';
import { TINY_FIXTURE } from './test-fixtures';

/**
 * The adaptive-retrieval table on both stores, from the same trained tiny MatViT (the fixture),
 * 2,000 MNIST digits embedded by its full encoder, 500 held-out digits as queries.
 */
describe('retrieval-demo --store: hnswlib and pgvector (PGlite) give the same table', () => {
  let runDir: string;
  let pgDir: string;
  const opened: Prepared[] = [];
  const options = (store?: string): PipelineOptions => ({
    runDir,
    settings: defaultTrainSettings(demoConfig({}, 'tiny')),
    databaseLimit: 2000,
    queryLimit: 500,
    k: 10,
    hnsw: {},
    reporter: null,
    store,
  });
  const run = async (store?: string): Promise<{ p: Prepared; report: RetrievalReport }> => {
    const p = await prepare(options(store));
    opened.push(p);
    return { p, report: await measureReport(options(store), p) };
  };
  let hnsw: RetrievalReport;
  let pg: RetrievalReport;

  beforeAll(async () => {
    await selectBackend('wasm');
    runDir = await mkdtemp(join(tmpdir(), 'retrieval-demo-store-'));
    pgDir = join(runDir, 'pg');
    await copyFile(TINY_FIXTURE, join(runDir, MODEL_FILE));
    hnsw = (await run()).report;
    const first = await run(`pglite:${pgDir}`);
    expect(first.p.db.loaded).toBe(false);
    pg = first.report;
  });
  afterAll(async () => {
    for (const p of opened) await p.db.store.close();
  });

  it("pgvector finds ≥ 95% of exact search's top-10 on MNIST embeddings, for every query encoder", () => {
    expect([pg.store, hnsw.store]).toEqual(['pgvector', 'hnsw']);
    expect(pg.database).toBe(2000);
    expect(pg.rows.length).toBeGreaterThanOrEqual(4);
    for (const row of pg.rows) expect(row.recall, row.name).toBeGreaterThanOrEqual(0.95);
  });

  it("1-NN accuracy by query width on pgvector equals hnswlib's within 0.5 points", () => {
    expect(pg.rows.map((r) => r.name)).toEqual(hnsw.rows.map((r) => r.name));
    for (let i = 0; i < pg.rows.length; i++) {
      expect(
        Math.abs(pg.rows[i].accuracy - hnsw.rows[i].accuracy),
        pg.rows[i].name,
      ).toBeLessThanOrEqual(0.005);
      // Same embeddings, same exact search: the ground truth itself must agree.
      expect(pg.rows[i].exactAccuracy).toBe(hnsw.rows[i].exactAccuracy);
    }
  });

  it('a second run reuses the PGlite table (closed and reopened) and answers the same', async () => {
    await opened[1].db.store.close();
    const again = await run(`pglite:${pgDir}`);
    expect(again.p.db.loaded).toBe(true);
    expect(again.report.rows.map((r) => r.accuracy)).toEqual(pg.rows.map((r) => r.accuracy));
    expect(again.report.rows.map((r) => r.recall)).toEqual(pg.rows.map((r) => r.recall));
  });
});

describe('retrieval-demo --store flag', () => {
  it('refuses a value that is no store, naming the choices, before any work', async () => {
    const cli = join(import.meta.dirname, 'cli.ts');
    const err = await promisify(execFile)(
      'npx',
      ['tsx', '--conditions=@matformer/source', cli, '--store', 'mysql://db'],
      { timeout: 120_000 },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(err.code).toBe(1);
    expect(err.stderr).toContain(
      '--store must be "hnsw", "pglite:<dir>" or a postgres://… URL, got "mysql://db"',
    );
  });
});
