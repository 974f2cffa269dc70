import * as tf from '@tensorflow/tfjs';
import { keptLayers, type ModelConfig, type Widths } from './config';
import { familyOf, type AnyModel } from './models/registry';
import { BLOCK_WEIGHT, slicePrefix } from './models/weight-spec';
import { weightSpecs, type Params } from './weights';

/**
 * A standalone dense model holding only the weights the given widths use: each layer's FFN
 * keeps its first m_l hidden neurons, and a layer at width 0 is dropped altogether (the kept
 * blocks are renumbered 0..n-1; `config.sourceLayers` records where each came from). Its
 * forward equals the nested forward at those widths, and it shares no tensor with the parent
 * (disposing either leaves the other intact).
 */
export function extract<M extends AnyModel>(model: M, widths?: number | Widths): M {
  const w = model.resolveWidths(widths);
  const kept = keptLayers(w);
  const newIndex = new Map(kept.map((src, dst) => [src, dst]));
  const specs = weightSpecs(model.config);
  const params: Params = {};
  for (const [name, value] of Object.entries(model.params)) {
    const b = BLOCK_WEIGHT.exec(name);
    if (b && !newIndex.has(Number(b[1]))) continue; // a skipped layer's weights
    const axis = specs[name].nested;
    // A nested FFN weight keeps its first m_l hidden units along its nested axis.
    const sliced =
      b && axis !== undefined ? slicePrefix(value, axis, w[Number(b[1])]) : value.clone();
    const newName = b ? `blocks.${newIndex.get(Number(b[1]))}.${b[2]}` : name;
    params[newName] = tf.variable(sliced, true);
    sliced.dispose();
  }
  const config: ModelConfig = {
    ...model.config,
    nLayers: kept.length,
    layerDFF: kept.map((l) => w[l]),
  };
  if (kept.length < w.length || model.config.sourceLayers) {
    // Compose with an earlier extraction so indices always name the original model's layers.
    const parentSource = model.config.sourceLayers;
    config.sourceLayers = kept.map((l) => (parentSource ? parentSource[l] : l));
  }
  return familyOf(config).create(config, params) as M;
}
