import { keptLayers, resolveWidths, SKIP, type ModelConfig, type Widths } from './config';
import { familySpecs } from './models/family';
import { familyOf } from './models/registry';
import { specsSize } from './models/weight-spec';

/**
 * Exact number of weights a submodel uses: the size of the weights `extract` at these widths
 * stores (its family's specs for the kept layers at their widths). For the GPT-2 trunk that is
 * the embeddings and head, shared attention and norms, plus 2·m·C + m + C per FFN of width m.
 * A skipped layer (width 0) stores nothing.
 */
export function paramCount(config: ModelConfig, widths?: number | Widths): number {
  const w = resolveWidths(config, widths);
  const kept = keptLayers(w);
  const dense = { ...config, nLayers: kept.length, layerDFF: kept.map((l) => w[l]) };
  return specsSize(familySpecs(familyOf(config), dense as ModelConfig));
}

/**
 * Forward FLOPs of one GPT-2 block for one token attending to `context` keys, counting matrix
 * multiplies only (2 FLOPs per multiply-add; norms and activations excluded).
 */
function gpt2BlockFlops(C: number, m: number, context: number): number {
  return 2 * (3 * C * C) + 2 * (C * C) + 2 * 2 * C * context + 2 * 2 * C * m;
}

export interface FlopsOptions {
  /**
   * Keys each query attends to. Defaults to the family's full-forward context: maxSeqLen for a
   * MatLM (the causal mask is applied to full T×T scores) and N+1 for a MatViT.
   */
  context?: number;
}

/** Forward FLOPs per token (for a MatLM including the tied output head) at the given widths. */
export function flopsPerToken(
  config: ModelConfig,
  widths?: number | Widths,
  opts: FlopsOptions = {},
): number {
  const w = resolveWidths(config, widths);
  const family = familyOf(config);
  const context = opts.context ?? family.context(config);
  const block = (m: number) =>
    m === SKIP // a skipped layer is the identity
      ? 0
      : family.blockFlops
        ? family.blockFlops(config, m, context)
        : gpt2BlockFlops(config.dModel, m, context);
  return w.reduce((n, m) => n + block(m), 0) + family.tokenFlops(config);
}

/** Forward FLOPs of one image through a MatViT (patch projection, every token, the head). */
export function flopsPerImage(config: ModelConfig, widths?: number | Widths): number {
  if (familyOf(config).unit !== 'image')
    throw new Error('flopsPerImage needs an image model config (a MatViT)');
  return forwardFlops(config, widths);
}

/** Forward FLOPs of one example: per token for a MatLM, per image for a MatViT. */
export function forwardFlops(config: ModelConfig, widths?: number | Widths): number {
  const w = resolveWidths(config, widths);
  return familyOf(config).exampleFlops(config, flopsPerToken(config, w), w);
}

export interface CostRow {
  name: string;
  widths: Widths;
  params: number;
  /** Forward FLOPs per token (MatLM) or per image (MatViT). */
  flops: number;
  /** Fractions of the full model's params and FLOPs. */
  paramsRatio: number;
  flopsRatio: number;
}

/** Cost of every granularity (uniform widths), then of each named Mix'n'Match config. */
export function costTable(config: ModelConfig, mixes: Record<string, Widths> = {}): CostRow[] {
  const full = { params: paramCount(config), flops: forwardFlops(config) };
  const rows: [string, Widths][] = config.granularities.map((m) => [
    `uniform ${m}`,
    Array(config.nLayers).fill(m),
  ]);
  rows.push(...Object.entries(mixes));
  return rows.map(([name, widths]) => {
    const params = paramCount(config, widths);
    const flops = forwardFlops(config, widths);
    return {
      name,
      widths,
      params,
      flops,
      paramsRatio: params / full.params,
      flopsRatio: flops / full.flops,
    };
  });
}
