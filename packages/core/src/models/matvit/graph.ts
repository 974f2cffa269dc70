import { DataType } from '../../onnx/data-type';
import type { GraphBuilder } from '../../onnx/graph';
import { block, layerNorm, type WeightFn } from '../../onnx/layers';
import { numPatches, type MatViTConfig } from './config';

export const vitSignature = { inputs: ['pixel_values'], outputs: ['embedding', 'logits'] };

/**
 * MatViT encoder: pixel_values [batch, S, S, Ch] (channels last, as MatViT takes them) →
 * embedding [batch, C] (pooled, after the final norm: what MatViT.embed returns) and
 * logits [batch, K].
 */
export function buildViTGraph(g: GraphBuilder, config: MatViTConfig, w: WeightFn): void {
  const { imageSize: S, channels: Ch } = config;
  const pixels = g.input('pixel_values', DataType.FLOAT, ['batch', S, S, Ch]);
  vitForward(g, config, w, pixels, { embedding: 'embedding', logits: 'logits' });
  g.output('embedding', DataType.FLOAT, ['batch', config.dModel]);
  g.output('logits', DataType.FLOAT, ['batch', config.numClasses]);
}

/**
 * The MatViT forward pass on float pixels [B, S, S, Ch]: the pooled embedding [B, C] and the
 * logits [B, K], optionally under explicit value names. Export, serving and the onnxruntime
 * training engine all build the model from this one function.
 */
export function vitForward(
  g: GraphBuilder,
  config: MatViTConfig,
  w: WeightFn,
  pixels: string,
  names: { embedding?: string; logits?: string } = {},
): { embedding: string; logits: string } {
  const { dModel: C, nHeads: H, patchSize: P, channels: Ch } = config;
  const N = numPatches(config);
  const grid = config.imageSize / P;
  const dims = { C, H, eps: config.normEps };

  const B1 = g.scope('shapes', () =>
    g.op('Gather', [g.op('Shape', [pixels]), g.i64([0])], { axis: { int: 0 } }),
  ); // [1]
  const qkvShape = g.scope('shapes', () =>
    g.op('Concat', [B1, g.i64([N + 1, 3, H, C / H])], { axis: { int: 0 } }),
  ); // [5]

  let x = g.scope('embed', () => {
    // Same patch order as MatViT.patchify: row-major over the grid, each patch (py, px, ch).
    const grid6 = g.op('Reshape', [pixels, g.i64([-1, grid, P, grid, P, Ch])]); // [B, gy, P, gx, P, Ch]
    const patches = g.op('Transpose', [grid6], { perm: { ints: [0, 1, 3, 2, 4, 5] } }); // [B, gy, gx, P, P, Ch]
    const flat = g.op('Reshape', [patches, g.i64([-1, P * P * Ch])]); // [B·N, P·P·Ch]
    const emb = g.op('Gemm', [flat, w('patch_emb.weight'), w('patch_emb.bias')]); // [B·N, C]
    const emb3 = g.op('Reshape', [emb, g.i64([-1, N, C])]); // [B, N, C]
    const cls = g.op('Expand', [
      w('cls_token'),
      g.op('Concat', [B1, g.i64([1, C])], { axis: { int: 0 } }),
    ]); // [B, 1, C]
    const tokens = g.op('Add', [g.op('Concat', [cls, emb3], { axis: { int: 1 } }), w('pos_emb')]); // [B, N+1, C]
    return g.op('Reshape', [tokens, g.i64([-1, C])]); // [B·(N+1), C]
  });
  for (let l = 0; l < config.nLayers; l++) x = block(g, w, l, dims, { x, qkvShape });

  return g.scope('head', () => {
    const h = layerNorm(g, x, w, 'ln_f', config.normEps);
    const h3 = g.op('Reshape', [h, g.i64([-1, N + 1, C])]); // [B, N+1, C]
    let embedding: string;
    if (config.pool === 'cls') {
      embedding = g.op('Gather', [h3, g.i64([0], [])], { axis: { int: 1 } }, names.embedding); // [B, C]
    } else if (g.opset >= 18) {
      // ReduceMean takes its axes as an input from opset 18, as an attribute before.
      embedding = g.op('ReduceMean', [h3, g.i64([1])], { keepdims: { int: 0 } }, names.embedding);
    } else {
      embedding = g.op(
        'ReduceMean',
        [h3],
        { axes: { ints: [1] }, keepdims: { int: 0 } },
        names.embedding,
      );
    }
    const logits = g.op('Gemm', [embedding, w('head.weight'), w('head.bias')], {}, names.logits); // [B, K]
    return { embedding, logits };
  });
}
