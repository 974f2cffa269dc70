import { join } from 'node:path';
import { storedWidths } from '../../config';
import { CheckpointError } from '../../errors';
import type { MatGemmaConfig } from '../../models/matgemma/config';
import {
  fromHFConfig,
  hfTensorSpecs,
  type HFConfigRead,
  type HFTensorSpec,
} from '../../models/matgemma/hf';
import { dtypeBytes, type TensorEntry } from '../safetensors';
import { decodeFloats, hfDTypes, type HFDType } from './dtype';
import { paddingIsZero, sliceFFNBytes } from './ffn-slice';
import { CONFIG_FILE, openHFDirectory, readJson, type HFDirectory } from './layout';

/** Tensors transformers may store that the model does not use (older llama: rotary tables). */
const IGNORED = /\.rotary_emb\.inv_freq$/;

/** What `loadHFDirectory` returns. */
export interface HFModelFiles {
  config: MatGemmaConfig;
  modelType: 'gemma' | 'llama';
  /** Our weight names → F32 entries (converted from F16/BF16, padding removed). */
  tensors: Record<string, TensorEntry>;
}

/** Reads only a Hugging Face directory's config.json, as a MatGemma config (see `fromHFConfig`). */
export async function readHFConfig(dir: string): Promise<HFConfigRead> {
  const path = join(dir, CONFIG_FILE);
  return fromHFConfig(await readJson(path, CONFIG_FILE), path);
}

/** The directory's tensor for `spec`, checked: present, a float dtype, the expected shape. */
export function checkedTensor(d: HFDirectory, spec: HFTensorSpec) {
  const expectedShape = spec.shape;
  const t = d.tensors.get(spec.hfName);
  if (!t) throw new CheckpointError(`${d.listing}: tensor "${spec.hfName}" is missing`);
  const { span, reader } = t;
  if (!hfDTypes.includes(span.dtype as HFDType))
    throw new CheckpointError(
      `${reader.path}: tensor "${spec.hfName}" has dtype ${span.dtype}; supported: ${hfDTypes.join(', ')}`,
    );
  if (
    span.shape.length !== expectedShape.length ||
    span.shape.some((n, i) => n !== expectedShape[i])
  )
    throw new CheckpointError(
      `${reader.path}: tensor "${spec.hfName}" has shape [${span.shape.join(', ')}], expected [${expectedShape.join(', ')}] from config.json`,
    );
  return t;
}

/** Throws naming the first tensor of the directory that the config does not describe. */
export function checkNoUnexpected(d: HFDirectory, specs: HFTensorSpec[], config: MatGemmaConfig) {
  const known = new Set(specs.map((s) => s.hfName));
  for (const [name, { reader }] of d.tensors) {
    if (known.has(name) || IGNORED.test(name)) continue;
    const why =
      name === 'lm_head.weight' && config.tiedEmbeddings
        ? ' (tie_word_embeddings is true: a tied model must not store a head)'
        : '';
    throw new CheckpointError(`${reader.path}: unexpected tensor "${name}"${why}`);
  }
}

/**
 * Reads a Hugging Face directory (config.json + model.safetensors or shards with an index) of
 * a gemma or llama model: the MatGemma config and every weight under our names as float32.
 * One tensor is read at a time. CheckpointError naming the path and the problem otherwise.
 */
export async function loadHFDirectory(dir: string): Promise<HFModelFiles> {
  const d = await openHFDirectory(dir);
  try {
    const {
      config,
      storedWidths: stored,
      modelType,
    } = fromHFConfig(d.configJson, `${dir}/config.json`);
    const used = storedWidths(config);
    const specs = hfTensorSpecs(config, stored);
    checkNoUnexpected(d, specs, config);
    const tensors: Record<string, TensorEntry> = {};
    for (const spec of specs) {
      const { reader, span } = checkedTensor(d, spec);
      let bytes = await reader.read(spec.hfName);
      let shape = span.shape;
      const w = spec.layer === undefined ? 0 : used[spec.layer];
      if (spec.ffnAxis && w < stored[spec.layer!]) {
        // A padded export: the layer uses the first w neurons; the rest must be zero.
        const size = dtypeBytes(span.dtype);
        if (!paddingIsZero(bytes, shape, spec.ffnAxis, w, size))
          throw new CheckpointError(
            `${reader.path}: tensor "${spec.hfName}" has non-zero values past width ${w} (matformer.layer_dff), so it is not zero padding`,
          );
        bytes = sliceFFNBytes(bytes, shape, spec.ffnAxis, w, size);
        shape = spec.ffnAxis === 'rows' ? [w, shape[1]] : [shape[0], w];
      }
      tensors[spec.name] = {
        dtype: 'F32',
        shape: [...shape],
        data: decodeFloats(bytes, span.dtype, reader.path),
      };
    }
    return { config, modelType, tensors };
  } finally {
    await d.close();
  }
}
