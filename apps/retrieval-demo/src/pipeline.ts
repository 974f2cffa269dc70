import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  lockDir,
  matvitConfig,
  writeFileAtomic,
  type MatViTConfig,
  type ViTPresetName,
} from '@matformer/core';
import { queryEncoders, type HnswParams } from '@matformer/retrieval';
import {
  datasetSize,
  resolveEngine,
  type EngineChoice,
  type OrtDevice,
  type TrainOptions,
  type TrainReporter,
} from '@matformer/train';
import { loadDigits, type DigitSplits } from './data';
import {
  databaseIndex,
  demoMixes,
  evaluateEncoders,
  type DatabaseIndex,
  type RetrievalReport,
} from './experiment';
import { loadOrTrain, type StoredModel, type TrainSettings } from './model-store';
import type { DemoState } from './query';

export const DEFAULT_RUN_DIR = 'runs/retrieval-default';

/**
 * The demo MatViT: the `small` preset (d 64, 4 layers, FFN 256, granularities 32/64/128/256)
 * with 7×7 patches (16 tokens) and mean pooling. The preset's 4×4 patches (49 tokens) cost 3×
 * more per image and, trained for the same few minutes, reached only ~57% held-out accuracy
 * (see the README); these train to a useful embedding in the time a demo can spend.
 */
export function demoConfig(
  overrides: Partial<Pick<MatViTConfig, 'patchSize' | 'pool'>> = {},
  preset: ViTPresetName = 'small',
): MatViTConfig {
  return matvitConfig(preset, { patchSize: 7, pool: 'mean', ...overrides });
}

/** Joint training of the demo MatViT: a few minutes on 2 cores (see the README for the measured table). */
export const defaultTrainSettings = (config: MatViTConfig = demoConfig()): TrainSettings => ({
  config,
  train: {
    steps: 2000,
    lr: 3e-3,
    warmupSteps: 100,
    // One granularity per step, drawn at random: 3× cheaper steps than all four, and every
    // step still trains the smallest width (it is a prefix of whichever width is drawn).
    granularitiesPerStep: 1,
    evalEvery: 500,
    checkpointEvery: 500,
    seed: 0,
  },
  batchSize: 32,
  maxShift: 1,
  evalExamples: 500,
});

export interface PipelineOptions {
  runDir?: string;
  settings: TrainSettings;
  retrain?: boolean;
  /** Use only the first n train digits as the database / n held-out digits as queries. */
  databaseLimit?: number;
  queryLimit?: number;
  k: number;
  hnsw: Partial<HnswParams>;
  reporter?: TrainReporter | null;
  log?: (s: string) => void;
  /** Training engine: 'auto' (default: onnxruntime where installed), 'ort' or 'tfjs'. */
  engine?: EngineChoice;
  /** onnxruntime execution provider for engine 'ort'. */
  device?: OrtDevice;
  /** Where the database lives: 'hnsw' (default), 'pglite:<dir>' or a postgres://… URL. */
  store?: string;
}

export interface Prepared {
  data: DigitSplits;
  stored: StoredModel;
  db: DatabaseIndex;
}

/**
 * Runs `fn` holding the run directory's lock: the model, index and results cached there are
 * written by one demo at a time (a second one fails, naming the first). Creates the directory.
 */
export async function withRunDir<T>(o: PipelineOptions, fn: () => Promise<T>): Promise<T> {
  const lock = lockDir(o.runDir ?? DEFAULT_RUN_DIR, 'retrieval-demo');
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/** Data, then the trained (or loaded) model, then the full-encoder database index. */
export async function prepare(o: PipelineOptions): Promise<Prepared> {
  const data = loadDigits({ train: o.databaseLimit, test: o.queryLimit });
  const runDir = o.runDir ?? DEFAULT_RUN_DIR;
  const engine = await resolveEngine(o.engine);
  // Before anything is trained: a CUDA provider that cannot start is one clear line, not
  // onnxruntime's native log and a failed training graph.
  if (engine === 'ort' && o.device === 'cuda')
    await (await import('@matformer/core/onnx')).checkOrtDevice('cuda', '--device');
  const stored = await loadOrTrain(runDir, data, o.settings, {
    retrain: o.retrain,
    reporter: o.reporter,
    log: o.log,
    engine,
    device: o.device,
  });
  const db = await databaseIndex(
    stored.model,
    data,
    runDir,
    stored.fingerprint,
    o.hnsw,
    o.log,
    o.store,
  );
  return { data, stored, db };
}

function reportPath(runDir: string, p: Prepared, k: number): string {
  // hnswlib's results keep their old name (cached runs stay valid); pgvector's get their own.
  const store = p.db.store.kind === 'hnsw' ? '' : `-${p.db.store.kind}`;
  return join(
    runDir,
    `results-${p.stored.fingerprint}-${datasetSize(p.data.train)}-${datasetSize(p.data.test)}-k${k}${store}.json`,
  );
}

/** The accuracy-vs-compute table of every query encoder, measured now and saved in the run directory. */
export async function measureReport(o: PipelineOptions, p: Prepared): Promise<RetrievalReport> {
  const report = await evaluateEncoders(p.stored.model, p.data, p.db, {
    k: o.k,
    fingerprint: p.stored.fingerprint,
    log: o.log,
  });
  await writeFileAtomic(
    reportPath(o.runDir ?? DEFAULT_RUN_DIR, p, o.k),
    JSON.stringify(report, null, 2) + '\n',
  );
  return report;
}

/** The saved table for this model and these splits, if the CLI measured it before. */
export async function savedReport(
  o: PipelineOptions,
  p: Prepared,
): Promise<RetrievalReport | undefined> {
  const path = reportPath(o.runDir ?? DEFAULT_RUN_DIR, p, o.k);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(await readFile(path, 'utf8')) as RetrievalReport;
  } catch {
    return undefined; // unreadable cache: measure again
  }
}

export function demoState(p: Prepared, k: number, report?: RetrievalReport): DemoState {
  const config = p.stored.model.config;
  return {
    model: p.stored.model,
    data: p.data,
    store: p.db.store,
    databaseSize: p.db.count,
    encoders: queryEncoders(config, demoMixes(config.granularities, config.nLayers)),
    report,
    k,
  };
}

export function partialTrain(o: Partial<TrainOptions>): Partial<TrainOptions> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
