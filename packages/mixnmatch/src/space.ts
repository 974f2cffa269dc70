import { ConfigError, SKIP, storedWidths, type ModelConfig, type Widths } from '@matformer/core';

export interface SpaceOptions {
  /** Most layers one config may skip (elastic depth). Default 0: every layer is kept. */
  maxSkips?: number;
  /** Layers that may be skipped (default: every layer). */
  skippable?: number[];
}

/** Every Mix'n'Match config a search may visit: per-layer widths, optionally skipped layers. */
export interface SearchSpace {
  config: ModelConfig;
  /** Widths each layer may take, ascending: 0 (skip) first where allowed, then granularities. */
  options: number[][];
  maxSkips: number;
}

/** The canonical key of a config (cache keys, deduplication). */
export const widthsKey = (w: Widths): string => w.join(',');

/** The search space of a model: each layer any granularity it stores, plus skips if allowed. */
export function createSpace(config: ModelConfig, opts: SpaceOptions = {}): SearchSpace {
  const L = config.nLayers;
  const maxSkips = opts.maxSkips ?? 0;
  if (!Number.isInteger(maxSkips) || maxSkips < 0 || maxSkips >= L) {
    throw new ConfigError(
      `maxSkips must be an integer in [0, ${L - 1}] (a model keeps at least one of its ${L} layers), got ${maxSkips}`,
    );
  }
  const skippable = new Set(opts.skippable ?? Array.from({ length: L }, (_, l) => l));
  for (const l of skippable) {
    if (!Number.isInteger(l) || l < 0 || l >= L)
      throw new ConfigError(`skippable layer ${l} is not a layer index in [0, ${L - 1}]`);
  }
  const stored = storedWidths(config);
  const options = stored.map((s, l) => [
    ...(maxSkips > 0 && skippable.has(l) ? [SKIP] : []),
    ...config.granularities.filter((m) => m <= s),
  ]);
  return { config, options, maxSkips };
}

const skips = (w: Widths) => w.filter((m) => m === SKIP).length;

/** Why widths fall outside the space, or undefined when they are inside. */
export function outsideSpace(space: SearchSpace, w: Widths): string | undefined {
  if (!Array.isArray(w) || w.length !== space.options.length)
    return `widths must list ${space.options.length} layers, got ${JSON.stringify(w)}`;
  const bad = w.findIndex((m, l) => !space.options[l].includes(m));
  if (bad >= 0)
    return `widths[${bad}] = ${w[bad]} is not one of layer ${bad}'s options [${space.options[bad].join(', ')}]`;
  if (skips(w) > space.maxSkips)
    return `widths [${w.join(', ')}] skip ${skips(w)} layers, more than maxSkips = ${space.maxSkips}`;
  return undefined;
}

export const inSpace = (space: SearchSpace, w: Widths): boolean => !outsideSpace(space, w);

/** Number of configs in the space (layers' options multiplied, at most maxSkips skips). */
export function spaceSize(space: SearchSpace): number {
  // ways[s] = configs of the layers so far with exactly s skips.
  let ways = [1];
  for (const opts of space.options) {
    const kept = opts.filter((m) => m !== SKIP).length;
    const canSkip = opts.includes(SKIP);
    const next = Array(ways.length + 1).fill(0);
    ways.forEach((n, s) => {
      next[s] += n * kept;
      if (canSkip) next[s + 1] += n;
    });
    ways = next;
  }
  return ways.slice(0, space.maxSkips + 1).reduce((a, b) => a + b, 0);
}

/** Every config of the space, in odometer order (last layer fastest). */
export function* enumerateSpace(space: SearchSpace): Generator<Widths> {
  const L = space.options.length;
  const idx = Array(L).fill(0);
  for (;;) {
    const w = idx.map((i, l) => space.options[l][i]);
    if (skips(w) <= space.maxSkips && skips(w) < L) yield w;
    let l = L - 1;
    while (l >= 0 && ++idx[l] === space.options[l].length) idx[l--] = 0;
    if (l < 0) return;
  }
}

/** The cheapest config: the smallest width everywhere and as many skips as allowed (the last skippable layers). */
export function cheapestConfig(space: SearchSpace): Widths {
  const w = space.options.map((opts) => opts.find((m) => m !== SKIP)!);
  let left = space.maxSkips;
  for (let l = w.length - 1; l >= 0 && left > 0; l--) {
    if (space.options[l].includes(SKIP)) {
      w[l] = SKIP;
      left--;
    }
  }
  return w;
}

/** The largest config: every layer at the widest width it stores. */
export function largestConfig(space: SearchSpace): Widths {
  return space.options.map((opts) => opts[opts.length - 1]);
}

/** The explicitly trained submodels: one granularity in every layer (those the space holds). */
export function uniformConfigs(space: SearchSpace): Widths[] {
  return space.config.granularities
    .map((m) => space.options.map(() => m))
    .filter((w) => inSpace(space, w));
}
