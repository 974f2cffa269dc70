// Inference on the onnxruntime engines, defined once and run under Node and in a page: export a
// tiny MatLM's decoder graph and a tiny MatViT's encoder graph (at a Mix'n'Match width), then
// decode greedily and embed images. A test compares the two runtimes' outputs.
import * as tf from '@tensorflow/tfjs';
import { MatLM, MatViT, matlmConfig, matvitConfig, Rng } from '@matformer/core';
import { OnnxDecoderEngine, OnnxViTEncoder, toOnnx, toOnnxDecoder } from '@matformer/core/onnx';

export interface InferenceSpec {
  seed: number;
  prompt: number[];
  newTokens: number;
  /** MNIST-shaped images to embed (28×28, values from the seed). */
  images: number;
}

export interface InferenceResult {
  /** Byte sums of the exported graphs: the same model definition gives the same bytes. */
  decoderChecksum: number;
  encoderChecksum: number;
  /** Logits of the prompt's last position (full-width decoder). */
  promptLogits: number[];
  /** Greedy continuation of the prompt, full width and the smallest width. */
  greedy: number[];
  greedySmall: number[];
  /** Normalised embeddings [images, C] of the half-width encoder. */
  embeddings: number[];
}

const checksum = (b: Uint8Array) => b.reduce((s, x, i) => (s + x * ((i % 251) + 1)) % 2 ** 31, 0);

async function greedyDecode(engine: OnnxDecoderEngine, prompt: number[], n: number) {
  let { logits, state } = await engine.forward(prompt);
  const V = engine.vocabSize;
  const last = (l: Float32Array) => l.subarray(l.length - V); // [V] of the last position
  const promptLogits = Array.from(last(logits));
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = last(logits);
    let best = 0;
    for (let v = 1; v < V; v++) if (row[v] > row[best]) best = v;
    out.push(best);
    ({ logits, state } = await engine.forward([best], state));
  }
  engine.release(state);
  return { promptLogits, out };
}

export async function inferenceRun(spec: InferenceSpec): Promise<InferenceResult> {
  await tf.setBackend('cpu');
  const lm = MatLM.create(matlmConfig('tiny', { vocabSize: 256, maxSeqLen: 32 }), spec.seed);
  const vit = MatViT.create(matvitConfig('tiny'), spec.seed);
  try {
    const small = lm.config.granularities[0];
    const full = toOnnxDecoder(lm);
    const decoder = await OnnxDecoderEngine.fromBytes(full.bytes, {}, 'full-width decoder');
    const smallDecoder = await OnnxDecoderEngine.fromBytes(
      toOnnxDecoder(lm, { widths: small }).bytes,
      {},
      'smallest decoder',
    );
    const { promptLogits, out: greedy } = await greedyDecode(decoder, spec.prompt, spec.newTokens);
    const { out: greedySmall } = await greedyDecode(smallDecoder, spec.prompt, spec.newTokens);
    decoder.dispose();
    smallDecoder.dispose();

    const { bytes: encoderBytes } = toOnnx(vit, { widths: vit.config.granularities[1] });
    const encoder = await OnnxViTEncoder.fromBytes(encoderBytes, {}, 'half-width encoder');
    const rng = new Rng(spec.seed);
    const pixels = Float32Array.from({ length: spec.images * 28 * 28 }, () => rng.next());
    const embeddings = Array.from(await encoder.embed(pixels, spec.images)); // [images, C]
    encoder.dispose();
    return {
      decoderChecksum: checksum(full.bytes),
      encoderChecksum: checksum(encoderBytes),
      promptLogits,
      greedy,
      greedySmall,
      embeddings,
    };
  } finally {
    lm.dispose();
    vit.dispose();
  }
}
