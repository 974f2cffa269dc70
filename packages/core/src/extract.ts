import * as tf from '@tensorflow/tfjs';
import type { Widths } from './config';
import { MatLM } from './models/matlm';
import { MatViT } from './models/matvit';
import type { Params } from './weights';

const FFN_WEIGHT = /^blocks\.(\d+)\.ffn\.(fc1\.weight|fc1\.bias|fc2\.weight)$/;

/**
 * A standalone dense model holding only the weights the given widths use: each layer's FFN
 * keeps its first m_l hidden neurons. Its forward equals the nested forward at those widths,
 * and it shares no tensor with the parent (disposing either leaves the other intact).
 */
export function extract<M extends MatLM | MatViT>(model: M, widths?: number | Widths): M {
  const w = model.resolveWidths(widths);
  const params: Params = {};
  for (const [name, value] of Object.entries(model.params)) {
    const sliced = tf.tidy(() => {
      const m = FFN_WEIGHT.exec(name);
      if (!m) return value.clone();
      const width = w[Number(m[1])];
      return value.rank === 1
        ? value.slice(0, width)
        : value.slice([0, 0], [width, value.shape[1] as number]);
    });
    params[name] = tf.variable(sliced, true);
    sliced.dispose();
  }
  const config = { ...model.config, layerDFF: [...w] };
  return (
    model instanceof MatLM
      ? new MatLM(config as MatLM['config'], params)
      : new MatViT(config as MatViT['config'], params)
  ) as M;
}
