// The vision family: a jointly trained MatViT and one independently trained baseline ViT per
// granularity on MNIST (train/test split), then adaptive retrieval: the database embedded once
// by each family's full model, queries embedded by each smaller model, exact cosine 1-NN.
import { flopsPerImage, MatViT, paramCount, type MatViTConfig } from '@matformer/core';
import {
  baselineConfig,
  evaluateOn,
  imageTask,
  loadMnist,
  splitDataset,
  subset,
  type EvalRow,
  type ImageDataset,
  type TrainEngine,
} from '@matformer/train';
import { embedImages, exactSearch, oneNNAccuracy } from '@matformer/retrieval';
import { RECIPE_VERSION, trainOrReuse, type TrainedRun } from './runs';
import type { Settings, ViTSettings } from './settings';

export interface ViTFamily {
  config: MatViTConfig;
  data: { train: ImageDataset; test: ImageDataset };
  engine: TrainEngine;
  matformer: TrainedRun<MatViT>;
  baselines: Map<number, TrainedRun<MatViT>>;
  imagesPerModel: number;
}

/** 1-NN on raw pixels (L2, exact): the floor a learned classifier or embedding should beat. */
export interface PixelNN {
  /** Every training image as the database, every test image as a query. */
  accuracy: number;
  database: number;
  queries: number;
  /** The retrieval section's database and queries (the same images its encoders embed). */
  retrievalAccuracy: number;
}

export interface AccuracyRow {
  width: number;
  params: number;
  flopsPerImage: number;
  matformer: { loss: number; accuracy: number };
  baseline: { loss: number; accuracy: number };
}

export interface RetrievalRow {
  width: number;
  flopsPerImage: number;
  /** 1-NN accuracy with queries from this width against the family's full-model database. */
  matformer: number;
  baseline: number;
  /** The same queries against a database embedded by the same model (re-indexing: no savings). */
  matformerOwnDb: number;
  baselineOwnDb: number;
}

export interface RetrievalResult {
  rows: RetrievalRow[];
  database: number;
  queries: number;
  pixels: PixelNN;
}

export async function trainViTFamily(
  s: ViTSettings,
  engine: TrainEngine,
  root: string,
  log: (line: string) => void,
): Promise<ViTFamily> {
  const data = splitDataset(loadMnist(), s.testFraction);
  const taskOptions = { batchSize: s.batchSize, maxShift: s.maxShift };
  const spec = { source: 'mnist', testFraction: s.testFraction, ...taskOptions };
  const train = (name: string, config: MatViTConfig) =>
    trainOrReuse({
      root,
      spec: { name, model: config, train: s.train, data: spec, recipe: RECIPE_VERSION, engine },
      create: () => MatViT.create(config, s.train.seed ?? 0),
      makeTask: (m) => imageTask(m, data, taskOptions),
      log,
    });
  log(`ViT family: MatViT ${s.config.granularities.join('/')} + ${s.config.granularities.length} baselines, ${s.train.steps} steps each on MNIST, engine ${engine}`);
  const matformer = await train('matvit', s.config);
  const baselines = new Map<number, TrainedRun<MatViT>>();
  for (const w of s.config.granularities)
    baselines.set(w, await train(`baseline-vit-${w}`, baselineConfig(s.config, w)));
  return {
    config: s.config,
    data,
    engine,
    matformer,
    baselines,
    imagesPerModel: (s.train.steps ?? 0) * s.batchSize,
  };
}

/** Test loss and accuracy of every MatViT granularity and of the baseline of the same width. */
export async function accuracyRows(f: ViTFamily): Promise<AccuracyRow[]> {
  const evalOf = async (m: MatViT, widths: number[]): Promise<EvalRow[]> => {
    const task = imageTask(m, f.data, { batchSize: 250 });
    try {
      return await evaluateOn(f.engine, task, widths);
    } finally {
      task.dispose();
    }
  };
  const mat = await evalOf(f.matformer.model, f.config.granularities);
  const rows: AccuracyRow[] = [];
  for (const [i, w] of f.config.granularities.entries()) {
    const b = (await evalOf(f.baselines.get(w)!.model, [w]))[0];
    rows.push({
      width: w,
      params: paramCount(f.config, w),
      flopsPerImage: flopsPerImage(f.config, w),
      matformer: { loss: mat[i].loss, accuracy: mat[i].accuracy! },
      baseline: { loss: b.loss, accuracy: b.accuracy! },
    });
  }
  return rows;
}

/** Exact L2 1-NN accuracy of `queries` against `db` on raw pixels (784 values in [0, 1]). */
function pixelAccuracy(
  db: { images: Float32Array; labels: Int32Array },
  queries: { images: Float32Array; labels: Int32Array },
): number {
  const hits = exactSearch(db.images, queries.images, 1, { space: 'l2', dim: 28 * 28 });
  return oneNNAccuracy(hits, db.labels, queries.labels);
}

export async function retrieval(f: ViTFamily, s: Settings['retrieval']): Promise<RetrievalResult> {
  const n = Math.min(s.database, f.data.train.labels.length);
  const q = Math.min(s.queries, f.data.test.labels.length);
  const db = subset(f.data.train, Array.from({ length: n }, (_, i) => i));
  const queries = subset(f.data.test, Array.from({ length: q }, (_, i) => i));
  const dim = f.config.dModel;
  const accuracy = (dbVectors: Float32Array, qVectors: Float32Array) =>
    oneNNAccuracy(exactSearch(dbVectors, qVectors, 1, { space: 'cosine', dim }), db.labels, queries.labels);
  const embed = async (m: MatViT, images: Float32Array, widths?: number) =>
    (await embedImages(m, images, { widths, batchSize: 250 })).vectors;

  const full = f.config.dFF;
  const matModel = f.matformer.model;
  const baseFull = f.baselines.get(full)!.model;
  const matDb = await embed(matModel, db.images);
  const baseDb = await embed(baseFull, db.images);
  const rows: RetrievalRow[] = [];
  for (const w of f.config.granularities) {
    const base = f.baselines.get(w)!.model;
    const matQ = await embed(matModel, queries.images, w);
    const baseQ = await embed(base, queries.images);
    const isFull = w === full;
    rows.push({
      width: w,
      flopsPerImage: flopsPerImage(f.config, w),
      matformer: accuracy(matDb, matQ),
      baseline: accuracy(baseDb, baseQ),
      matformerOwnDb: isFull ? accuracy(matDb, matQ) : accuracy(await embed(matModel, db.images, w), matQ),
      baselineOwnDb: isFull ? accuracy(baseDb, baseQ) : accuracy(await embed(base, db.images), baseQ),
    });
  }
  // The whole test split unless settings cap it (--quick: exact search over 8.9k images is slow).
  const pq = Math.min(s.pixelQueries ?? Infinity, f.data.test.labels.length);
  const pixelQueries = subset(f.data.test, Array.from({ length: pq }, (_, i) => i));
  const pixels: PixelNN = {
    accuracy: pixelAccuracy(f.data.train, pixelQueries),
    database: f.data.train.labels.length,
    queries: pq,
    retrievalAccuracy: pixelAccuracy(db, queries),
  };
  return { rows, database: n, queries: q, pixels };
}
