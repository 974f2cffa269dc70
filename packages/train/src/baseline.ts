import { validateConfig, type ModelConfig } from '@matformer/core';

/**
 * The config of a plain (non-nested) model whose every FFN has width `width`: the
 * independently trained baseline the paper compares each MatFormer granularity with.
 * Same trainer, same data, one granularity.
 */
export function baselineConfig<C extends ModelConfig>(config: C, width: number): C {
  return validateConfig({ ...config, dFF: width, granularities: [width], layerDFF: undefined });
}
