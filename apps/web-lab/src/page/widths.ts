import { ConfigError, resolveWidths, type TrunkConfig, type Widths } from '@matformer/core';

/**
 * Per-layer FFN widths typed on the page: "128" (every layer) or "64, 128, 256, 512" (one per
 * layer). Anything else — a word, a width that is not a granularity, the wrong count — throws a
 * ConfigError that names the problem and the allowed values.
 */
export function parseWidths(text: string, config: TrunkConfig): Widths {
  const parts = text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  const allowed = config.granularities.join(', ');
  if (parts.length === 0)
    throw new ConfigError(`widths are empty: give one of ${allowed}, or one per layer`);
  const values = parts.map((p, i) => {
    if (!/^\d+$/.test(p))
      throw new ConfigError(
        `width ${i + 1} ("${p}") is not a whole number; the granularities are ${allowed}`,
      );
    return Number(p);
  });
  if (values.length !== 1 && values.length !== config.nLayers)
    throw new ConfigError(
      `${values.length} widths for ${config.nLayers} layers: give one width, or one per layer`,
    );
  const list = values.length === 1 ? Array<number>(config.nLayers).fill(values[0]) : values;
  list.forEach((w, l) => {
    if (!config.granularities.includes(w))
      throw new ConfigError(
        `layer ${l + 1} width ${w} is not a granularity of this model; allowed: ${allowed}`,
      );
  });
  return resolveWidths(config, list);
}
