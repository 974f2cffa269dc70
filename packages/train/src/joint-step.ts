import * as tf from '@tensorflow/tfjs';
import { MatformerError, type Widths } from '@matformer/core';

/** Training hit a non-finite loss or gradient; no update was applied. */
export class TrainingError extends MatformerError {}

export interface JointGradients {
  /** Gradient of Σ λ_i · L_i per parameter name. The caller disposes them. */
  grads: Record<string, tf.Tensor>;
  /** L_i of each submodel, unweighted. */
  losses: number[];
}

/**
 * The MatFormer joint objective on one batch: Σ_i λ_i · L(T_i(x), y) over the given
 * submodels. As in the official MatLM code, each submodel does its own forward+backward
 * and gradients accumulate, so peak memory is that of one graph.
 */
export function jointGradients(
  params: Record<string, tf.Variable>,
  loss: (widths: Widths) => tf.Scalar,
  submodels: Widths[],
  lambdas: number[],
): JointGradients {
  const names = Object.keys(params);
  const vars = names.map((n) => params[n]);
  const grads: Record<string, tf.Tensor> = {};
  const losses: number[] = [];
  submodels.forEach((widths, i) => {
    const { value, grads: g } = tf.variableGrads(
      () => tf.tidy(() => loss(widths).mul(lambdas[i])) as tf.Scalar,
      vars,
    );
    const weighted = value.dataSync()[0];
    value.dispose();
    losses.push(weighted / lambdas[i]);
    names.forEach((n, j) => {
      const gi = g[vars[j].name];
      if (grads[n]) {
        const sum = grads[n].add(gi);
        tf.dispose([grads[n], gi]);
        grads[n] = sum;
      } else grads[n] = gi;
    });
    if (!Number.isFinite(weighted)) {
      tf.dispose(Object.values(grads));
      throw new TrainingError(
        `loss of submodel widths [${widths.join(', ')}] is ${weighted}; stopping before the update (lower the learning rate or check the data)`,
      );
    }
  });
  return { grads, losses };
}
