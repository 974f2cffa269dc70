import {
  flopsPerImage,
  median,
  paramCount,
  resolveWidths,
  type MatViT,
  type MatViTConfig,
  type Widths,
} from '@matformer/core';
import { embedImages } from './embed';
import { RetrievalError } from './errors';

/** A query encoder: one nested submodel of the MatViT, with its cost from the core cost model. */
export interface QueryEncoder {
  name: string;
  widths: Widths;
  /** Forward FLOPs per query image, and the fraction of the full model's. */
  flops: number;
  flopsRatio: number;
  params: number;
}

/**
 * The candidate query encoders: every granularity (uniform widths, named `uniform-<m>`; the
 * largest also answers to `full`) and each named Mix'n'Match config, sorted by FLOPs ascending.
 */
export function queryEncoders(
  config: MatViTConfig,
  mixes: Record<string, Widths> = {},
): QueryEncoder[] {
  const full = flopsPerImage(config);
  const make = (name: string, widths: Widths): QueryEncoder => {
    const w = resolveWidths(config, widths);
    const flops = flopsPerImage(config, w);
    return { name, widths: w, flops, flopsRatio: flops / full, params: paramCount(config, w) };
  };
  const list = [
    ...config.granularities.map((m) => make(`uniform-${m}`, Array(config.nLayers).fill(m))),
    ...Object.entries(mixes).map(([name, w]) => make(name, w)),
  ];
  const names = new Set<string>();
  for (const e of list) {
    if (names.has(e.name)) throw new RetrievalError(`two query encoders are named "${e.name}"`);
    names.add(e.name);
  }
  return list.sort((a, b) => a.flops - b.flops);
}

const sameWidths = (a: Widths, b: Widths) => a.length === b.length && a.every((w, i) => w === b[i]);

/**
 * Picks an encoder by name (`full` = the largest granularity), by a uniform width (a number),
 * or by per-layer widths; the error lists what is allowed.
 */
export function pickEncoder(
  encoders: QueryEncoder[],
  choice: string | number | Widths,
): QueryEncoder {
  if (encoders.length === 0) throw new RetrievalError('no query encoders to pick from');
  let found: QueryEncoder | undefined;
  if (choice === 'full') {
    const maxLayer = Math.max(...encoders.flatMap((e) => e.widths));
    found = encoders.find((e) => e.widths.every((w) => w === maxLayer));
  } else if (typeof choice === 'string') found = encoders.find((e) => e.name === choice);
  else if (typeof choice === 'number')
    found = encoders.find((e) => e.widths.every((w) => w === choice));
  else if (Array.isArray(choice)) found = encoders.find((e) => sameWidths(e.widths, choice));
  if (!found)
    throw new RetrievalError(
      `unknown query encoder ${JSON.stringify(choice)}; allowed: full, ${encoders
        .map((e) => `${e.name} [${e.widths.join(', ')}]`)
        .join(', ')}`,
    );
  return found;
}

export interface LatencyOptions {
  /** Untimed queries first (JIT, kernel caches). */
  warmup?: number;
  /** Timed single-image queries; the median is reported. */
  repeats?: number;
}

/** Median wall-clock ms to embed one query image with this encoder, measured here and now. */
export async function measureEncoderLatency(
  model: MatViT,
  encoder: QueryEncoder,
  sampleImages: Float32Array, // [S, H, W, Ch], queries cycle through them
  { warmup = 3, repeats = 15 }: LatencyOptions = {},
): Promise<number> {
  const { imageSize: S, channels: Ch } = model.config;
  const px = S * S * Ch;
  const n = Math.floor(sampleImages.length / px);
  if (n < 1 || sampleImages.length % px !== 0)
    throw new RetrievalError(`sampleImages must hold whole ${S}×${S}×${Ch} images (at least one)`);
  const one = (i: number) => sampleImages.subarray((i % n) * px, ((i % n) + 1) * px);
  for (let i = 0; i < warmup; i++) await embedImages(model, one(i), { widths: encoder.widths });
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await embedImages(model, one(i), { widths: encoder.widths });
    times.push(performance.now() - t0);
  }
  return median(times);
}

export interface BudgetChoice {
  encoder: QueryEncoder;
  /** Every candidate's measured median latency (ms per query), in FLOPs order. */
  measured: { name: string; ms: number }[];
}

/**
 * The most capable encoder (most FLOPs) whose latency, measured on this machine, fits
 * `budgetMs` per query: the best accuracy the budget buys. Latency is measured, never predicted
 * from FLOPs. Fails clearly, with the fastest measured latency, when no encoder fits.
 */
export async function encoderForBudget(
  model: MatViT,
  encoders: QueryEncoder[],
  budgetMs: number,
  sampleImages: Float32Array,
  opts: LatencyOptions = {},
): Promise<BudgetChoice> {
  if (!(budgetMs > 0 && Number.isFinite(budgetMs)))
    throw new RetrievalError(`budgetMs must be a positive number, got ${budgetMs}`);
  if (encoders.length === 0) throw new RetrievalError('no query encoders to choose from');
  const measured: BudgetChoice['measured'] = [];
  for (const e of [...encoders].sort((a, b) => a.flops - b.flops))
    measured.push({ name: e.name, ms: await measureEncoderLatency(model, e, sampleImages, opts) });
  const fits = measured.filter((m) => m.ms <= budgetMs);
  if (fits.length === 0) {
    const fastest = measured.reduce((a, b) => (b.ms < a.ms ? b : a));
    throw new RetrievalError(
      `no query encoder meets ${budgetMs} ms per query here; the fastest, ${fastest.name}, took ${fastest.ms.toFixed(2)} ms`,
    );
  }
  const best = fits[fits.length - 1];
  return { encoder: encoders.find((e) => e.name === best.name)!, measured };
}
