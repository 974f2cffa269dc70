import { storedWidths } from '../../config';
import { CheckpointError } from '../../errors';
import type { MatGemmaConfig } from '../../models/matgemma/config';
import {
  hfTensorSpecs,
  toHFConfig,
  type HFTensorSpec,
  type IntermediateSizeMode,
} from '../../models/matgemma/hf';
import type { TensorEntry } from '../safetensors';
import { encodeFloats, TORCH_DTYPE, type HFDType } from './dtype';
import { writeHFDirectory, type OutTensor } from './layout';

/** A weight as core holds it: a tf.Tensor (or anything with dataSync), or an F32 safetensors entry. */
export type WeightValues = { shape: number[]; dataSync(): ArrayLike<number> } | TensorEntry;

export interface SaveHFOptions {
  /** Stored dtype (default F32); F16/BF16 round to nearest even. */
  dtype?: HFDType;
  /** Per-layer widths that differ: a list (default) or zero-padded to the widest (one int). */
  intermediateSize?: IntermediateSizeMode;
  /** Shard above this many bytes of tensor data (model-0000i-of-0000n + index). */
  maxShardBytes?: number;
}

function valuesOf(v: WeightValues, name: string): Float32Array {
  if ('dataSync' in v) {
    const raw = v.dataSync();
    return raw instanceof Float32Array ? raw : Float32Array.from(raw);
  }
  if (!(v.data instanceof Float32Array))
    throw new CheckpointError(`weight "${name}" has dtype ${v.dtype}; expected F32 values`);
  return v.data;
}

/** [m, C] → [M, C] (zero rows after) or [C, m] → [C, M] (zero columns after). */
function padFFN(x: Float32Array, shape: number[], axis: 'rows' | 'cols', M: number): Float32Array {
  const [rows, cols] = shape;
  if (axis === 'rows') {
    const out = new Float32Array(M * cols);
    out.set(x);
    return out;
  }
  const out = new Float32Array(rows * M);
  for (let r = 0; r < rows; r++) out.set(x.subarray(r * cols, (r + 1) * cols), r * M);
  return out;
}

/**
 * Writes a MatGemma model as a Hugging Face directory: config.json (model_type gemma or
 * llama, plus our "matformer" block) and model.safetensors (or shards + index), HF tensor
 * names, metadata {"format": "pt"}. A tied model stores no lm_head.weight. Atomic: the
 * directory appears complete or not at all.
 */
export async function saveHFDirectory(
  dir: string,
  config: MatGemmaConfig,
  params: Record<string, WeightValues>,
  opts: SaveHFOptions = {},
): Promise<void> {
  const dtype = opts.dtype ?? 'F32';
  if (!(dtype in TORCH_DTYPE))
    throw new CheckpointError(`dtype must be F32, F16 or BF16, got ${JSON.stringify(dtype)}`);
  const mode = opts.intermediateSize ?? 'list';
  const configJson = toHFConfig(config, { torchDtype: TORCH_DTYPE[dtype], intermediateSize: mode });
  const widths = storedWidths(config);
  const uniform = widths.every((w) => w === widths[0]);
  const fileWidths = mode === 'padded' && !uniform ? widths.map(() => Math.max(...widths)) : widths;
  const specs = hfTensorSpecs(config, widths);
  const fileSpecs = hfTensorSpecs(config, fileWidths);
  const known = new Set(specs.map((s) => s.name));
  for (const name of Object.keys(params))
    if (!known.has(name))
      throw new CheckpointError(
        `cannot write ${dir}: weight "${name}" is not part of this model${name === 'lm_head.weight' ? ' (tiedEmbeddings: the head is the embedding)' : ''}`,
      );
  specs.forEach((spec: HFTensorSpec) => {
    const v = params[spec.name];
    if (!v) throw new CheckpointError(`cannot write ${dir}: weight "${spec.name}" is missing`);
    if (v.shape.length !== spec.shape.length || v.shape.some((n, i) => n !== spec.shape[i]))
      throw new CheckpointError(
        `cannot write ${dir}: weight "${spec.name}" has shape [${v.shape.join(', ')}], expected [${spec.shape.join(', ')}]`,
      );
  });
  const tensors: OutTensor[] = specs.map((spec, i) => {
    const fileShape = fileSpecs[i].shape;
    return {
      name: spec.hfName,
      dtype,
      shape: fileShape,
      body: () => {
        let x = valuesOf(params[spec.name], spec.name);
        if (spec.ffnAxis && fileShape.some((n, k) => n !== spec.shape[k]))
          x = padFFN(x, spec.shape, spec.ffnAxis, fileWidths[spec.layer!]);
        return encodeFloats(x, dtype);
      },
    };
  });
  await writeHFDirectory(dir, configJson, tensors, { maxShardBytes: opts.maxShardBytes });
}
