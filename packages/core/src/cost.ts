import { numPatches, resolveWidths, SKIP, type ModelConfig, type Widths } from './config';

/**
 * Exact number of weights a submodel uses (what `extract` at these widths stores): shared
 * embeddings, attention and norms, plus 2·m·C + m + C per FFN of width m. A skipped layer
 * (width 0) stores nothing.
 */
export function paramCount(config: ModelConfig, widths?: number | Widths): number {
  const w = resolveWidths(config, widths);
  const C = config.dModel;
  const perLayerShared = 2 * 2 * C + (3 * C * C + 3 * C) + (C * C + C); // 2 norms, qkv, out
  const block = (m: number) => (m === SKIP ? 0 : perLayerShared + 2 * m * C + m + C);
  const trunk = w.reduce((n, m) => n + block(m), 0) + 2 * C; // + final norm
  if (config.arch === 'matlm') return config.vocabSize * C + config.maxSeqLen * C + trunk;
  const patchDim = config.patchSize * config.patchSize * config.channels;
  const embed = patchDim * C + C + C + (numPatches(config) + 1) * C; // patch proj, cls, positions
  return embed + trunk + C * config.numClasses + config.numClasses;
}

/**
 * Forward FLOPs of one Transformer block for one token attending to `context` keys,
 * counting matrix multiplies only (2 FLOPs per multiply-add; norms and activations excluded).
 */
function blockFlops(C: number, m: number, context: number): number {
  if (m === SKIP) return 0; // a skipped layer is the identity
  return 2 * (3 * C * C) + 2 * (C * C) + 2 * 2 * C * context + 2 * 2 * C * m;
}

export interface FlopsOptions {
  /**
   * Keys each query attends to. Defaults to maxSeqLen for a MatLM (what a full-window forward
   * computes: the causal mask is applied to full T×T scores) and N+1 for a MatViT.
   */
  context?: number;
}

/** Forward FLOPs per token (MatLM, including the tied output head) at the given widths. */
export function flopsPerToken(
  config: ModelConfig,
  widths?: number | Widths,
  opts: FlopsOptions = {},
): number {
  const w = resolveWidths(config, widths);
  const C = config.dModel;
  const context =
    opts.context ?? (config.arch === 'matlm' ? config.maxSeqLen : numPatches(config) + 1);
  const blocks = w.reduce((n, m) => n + blockFlops(C, m, context), 0);
  return config.arch === 'matlm' ? blocks + 2 * C * config.vocabSize : blocks;
}

/** Forward FLOPs of one image through a MatViT (patch projection, every token, the head). */
export function flopsPerImage(config: ModelConfig, widths?: number | Widths): number {
  if (config.arch !== 'matvit') throw new Error('flopsPerImage needs a MatViT config');
  const N = numPatches(config);
  const C = config.dModel;
  const patchDim = config.patchSize * config.patchSize * config.channels;
  return 2 * N * patchDim * C + (N + 1) * flopsPerToken(config, widths) + 2 * C * config.numClasses;
}

/** Forward FLOPs of one example: per token for a MatLM, per image for a MatViT. */
export function forwardFlops(config: ModelConfig, widths?: number | Widths): number {
  return config.arch === 'matlm' ? flopsPerToken(config, widths) : flopsPerImage(config, widths);
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
