import { resolve } from 'node:path';
import { keptLayers, storedWidths, SKIP } from '../../config';
import { CheckpointError, ConfigError } from '../../errors';
import type { MatGemmaConfig } from '../../models/matgemma/config';
import { fromHFConfig, hfTensorSpecs, toHFConfig } from '../../models/matgemma/hf';
import { readFFNSlice } from './ffn-slice';
import { openHFDirectory, writeHFDirectory, type OutTensor } from './layout';
import { checkedTensor, checkNoUnexpected } from './read';

export interface SliceHFOptions {
  /** Shard the output above this many bytes of tensor data. */
  maxShardBytes?: number;
}

/** The config of the submodel `widths` selects from `config` (as `extract` builds it). */
export function slicedConfig(config: MatGemmaConfig, widths: number[]): MatGemmaConfig {
  const kept = keptLayers(widths);
  const layerDFF = kept.map((l) => widths[l]);
  const granularities = [...new Set([...config.granularities, ...layerDFF])].sort((a, b) => a - b);
  const out: MatGemmaConfig = { ...config, nLayers: kept.length, granularities, layerDFF };
  if (kept.length < widths.length || config.sourceLayers)
    out.sourceLayers = kept.map((l) => (config.sourceLayers ? config.sourceLayers[l] : l));
  return out;
}

/** Checks widths (one per layer, 0 = skip) against what each layer stores. */
function checkWidths(config: MatGemmaConfig, widths: number[], src: string): void {
  const stored = storedWidths(config);
  if (!Array.isArray(widths) || widths.length !== config.nLayers)
    throw new ConfigError(
      `${src}: widths must list one FFN width per layer (${config.nLayers}), got ${JSON.stringify(widths)}`,
    );
  widths.forEach((w, l) => {
    if (!Number.isInteger(w) || w < 0)
      throw new ConfigError(
        `widths[${l}] must be an integer ≥ 0 (0 skips the layer), got ${JSON.stringify(w)}`,
      );
    if (w > stored[l])
      throw new ConfigError(
        `widths[${l}] = ${w} is larger than layer ${l} of ${src} stores (${stored[l]})`,
      );
  });
  if (widths.every((w) => w === SKIP))
    throw new ConfigError(`widths skip every layer of ${src}; keep at least one`);
}

/**
 * Slices a Hugging Face directory to per-layer FFN widths, streaming tensor by tensor (what
 * Google's MatFormer Lab does for Gemma 3n): gate/up keep their first w rows, down its first
 * w columns, layers at width 0 are dropped and the rest renumbered from 0; config.json gets
 * the per-layer intermediate_size (one int when all equal), num_hidden_layers and
 * matformer.source_layers, and keeps the source's other fields. Dtypes are kept. Peak memory:
 * one tensor. The output directory is written atomically.
 */
export async function sliceHFDirectory(
  src: string,
  dst: string,
  widths: number[],
  opts: SliceHFOptions = {},
): Promise<MatGemmaConfig> {
  if (resolve(src) === resolve(dst))
    throw new CheckpointError(`cannot slice ${src} onto itself; give another output directory`);
  const d = await openHFDirectory(src);
  try {
    const srcJson = d.configJson as Record<string, unknown>;
    const { config, storedWidths: stored } = fromHFConfig(srcJson, `${src}/config.json`);
    checkWidths(config, widths, src);
    const srcSpecs = hfTensorSpecs(config, stored);
    checkNoUnexpected(d, srcSpecs, config);
    const bySrcName = new Map(srcSpecs.map((s) => [s.name, s]));
    for (const s of srcSpecs) checkedTensor(d, s); // fail before writing anything
    const out = slicedConfig(config, widths);
    const kept = keptLayers(widths);
    const tensors: OutTensor[] = hfTensorSpecs(out).map((spec) => {
      // blocks.{new}.x ← blocks.{source}.x
      const srcName =
        spec.layer === undefined
          ? spec.name
          : spec.name.replace(/^blocks\.\d+\./, `blocks.${kept[spec.layer]}.`);
      const { reader, span } = d.tensors.get(bySrcName.get(srcName)!.hfName)!;
      return {
        name: spec.hfName,
        dtype: span.dtype,
        shape: spec.shape,
        body: () =>
          readFFNSlice(reader, span, spec.ffnAxis, spec.ffnAxis ? out.layerDFF![spec.layer!] : 0),
      };
    });
    const torchDtype = typeof srcJson.torch_dtype === 'string' ? srcJson.torch_dtype : 'float32';
    const json = { ...srcJson, ...toHFConfig(out, { torchDtype, intermediateSize: 'list' }) };
    await writeHFDirectory(dst, json, tensors, { maxShardBytes: opts.maxShardBytes });
    return out;
  } finally {
    await d.close();
  }
}
