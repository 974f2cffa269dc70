import type { ModelConfig } from './config';
import { familySpecs } from './models/family';
import { familyOf } from './models/registry';
import {
  checkAgainstSpecs,
  initFromSpecs,
  type Params,
  type WeightSpec,
} from './models/weight-spec';

export { countStoredParams, type Params, type WeightSpec } from './models/weight-spec';

/**
 * Every weight of a model, name → shape, in a stable order: the family's input weights, the
 * blocks, the final norm, the family's output weights. Linear weights are [in, out] except the
 * FFN's, which put the nested hidden dimension first (fc1 [dFF, C], fc2 [dFF, C]) so that
 * every granularity is a contiguous prefix of the stored buffer.
 */
export function weightSpecs(config: ModelConfig): Record<string, WeightSpec> {
  return familySpecs(familyOf(config), config);
}

/**
 * GPT-2 style initialisation: N(0, 0.02) weights, residual output projections scaled by
 * 1/sqrt(2L) so the residual stream's variance does not grow with depth; zero biases, unit gains.
 */
export function initParams(config: ModelConfig, seed = 0): Params {
  return initFromSpecs(weightSpecs(config), config.nLayers, seed);
}

/** Checks that params hold exactly the weights the config needs, with the right shapes. */
export function checkParams(
  config: ModelConfig,
  params: Record<string, { shape: number[] }>,
  source = 'params',
): void {
  checkAgainstSpecs(weightSpecs(config), params, source);
}
