import { storedWidths, validateTrunk } from '../../config';
import { CheckpointError, MatformerError } from '../../errors';
import { validateMatGemma, type GatedActivation, type MatGemmaConfig } from './config';

/**
 * MatGemma ↔ Hugging Face (transformers `gemma` / `llama`): config.json fields and tensor names.
 * Our weights are stored in HF orientation ([out, in]) and the norm weight with the same
 * convention as the model type (an offset for gemma), so conversion is a pure rename.
 * See /work/shared/HF-LAYOUT.md for the conventions and traps.
 */

/** How a model whose layers store different FFN widths writes `intermediate_size`. */
export type IntermediateSizeMode = 'list' | 'padded';

/** Our extra config.json block (transformers ignores unknown fields), so a nested model round-trips. */
export interface MatformerBlock {
  /** The nested widths, ascending, last = dFF. */
  granularities: number[];
  /** config.layerDFF when set: the widths each layer really uses (≤ what intermediate_size stores). */
  layer_dff?: number[];
  /** config.sourceLayers when set. */
  source_layers?: number[];
}

const ACT_TO_HF: Record<GatedActivation, string> = { gelu_tanh: 'gelu_pytorch_tanh', silu: 'silu' };
/** transformers' names for the activations we have (gelu_pytorch_tanh and gelu_new are the same function). */
const ACT_FROM_HF: Record<string, GatedActivation> = {
  gelu_pytorch_tanh: 'gelu_tanh',
  gelu_new: 'gelu_tanh',
  silu: 'silu',
  swish: 'silu',
};

/** The transformers model type a config corresponds to; throws explaining why when none does. */
export function hfModelType(config: MatGemmaConfig): 'gemma' | 'llama' {
  if (config.normOffset && config.embedScale) return 'gemma';
  if (!config.normOffset && !config.embedScale) return 'llama';
  throw new CheckpointError(
    `cannot write a Hugging Face config: normOffset=${config.normOffset} with embedScale=${config.embedScale} matches no transformers model (gemma has both, llama neither)`,
  );
}

/**
 * config.json for a MatGemma config. `intermediate_size` is one int when every layer stores
 * the same width; otherwise a per-layer list ('list': what Gemma 3n and mistral.rs slicing
 * write; stock llama/gemma refuse it) or the widest width ('padded': the writer zero-pads the
 * narrower layers, exactly equivalent, loads everywhere).
 */
export function toHFConfig(
  config: MatGemmaConfig,
  opts: { torchDtype: string; intermediateSize?: IntermediateSizeMode },
): Record<string, unknown> {
  const modelType = hfModelType(config);
  const widths = storedWidths(config);
  const uniform = widths.every((w) => w === widths[0]);
  const mode = opts.intermediateSize ?? 'list';
  const matformer: MatformerBlock = { granularities: [...config.granularities] };
  if (config.layerDFF) matformer.layer_dff = [...config.layerDFF];
  if (config.sourceLayers) matformer.source_layers = [...config.sourceLayers];
  return {
    architectures: [modelType === 'gemma' ? 'GemmaForCausalLM' : 'LlamaForCausalLM'],
    model_type: modelType,
    vocab_size: config.vocabSize,
    hidden_size: config.dModel,
    intermediate_size: uniform ? widths[0] : mode === 'list' ? widths : Math.max(...widths),
    num_hidden_layers: config.nLayers,
    num_attention_heads: config.nHeads,
    num_key_value_heads: config.nKvHeads,
    head_dim: config.headDim,
    hidden_act: ACT_TO_HF[config.activation],
    hidden_activation: ACT_TO_HF[config.activation],
    max_position_embeddings: config.maxSeqLen,
    rms_norm_eps: config.normEps,
    rope_theta: config.ropeTheta,
    rope_scaling: null,
    attention_bias: false,
    attention_dropout: 0,
    mlp_bias: false,
    tie_word_embeddings: config.tiedEmbeddings,
    final_logit_softcapping: config.finalSoftcap > 0 ? config.finalSoftcap : null,
    torch_dtype: opts.torchDtype,
    matformer,
  };
}

/** What `fromHFConfig` returns: the config, and the FFN width each layer's tensors store. */
export interface HFConfigRead {
  config: MatGemmaConfig;
  /** intermediate_size per layer: the stored rows of gate/up, columns of down (≥ layerDFF: padding). */
  storedWidths: number[];
  modelType: 'gemma' | 'llama';
}

/**
 * A MatGemma config from a transformers config.json (gemma or llama), with transformers'
 * defaults for missing fields. Throws CheckpointError naming `source` and the field.
 */
export function fromHFConfig(json: unknown, source: string): HFConfigRead {
  const fail = (msg: string): never => {
    throw new CheckpointError(`${source}: ${msg}`);
  };
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    fail('config.json is not a JSON object');
  const j = json as Record<string, unknown>;
  const modelType = j.model_type;
  if (modelType !== 'gemma' && modelType !== 'llama')
    fail(
      `model_type ${JSON.stringify(modelType)} is not supported (gemma or llama: RMSNorm, rotary, GQA, gated FFN)`,
    );
  const gemma = modelType === 'gemma';
  const has = (f: string): boolean => j[f] !== undefined && j[f] !== null;
  const int = (f: string, fallback?: number): number => {
    const v = has(f) ? j[f] : fallback;
    if (v === undefined) fail(`field "${f}" is missing`);
    if (!Number.isInteger(v) || (v as number) <= 0)
      fail(`field "${f}" must be a positive integer, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const num = (f: string, fallback: number): number => {
    const v = has(f) ? j[f] : fallback;
    if (typeof v !== 'number' || !Number.isFinite(v))
      fail(`field "${f}" must be a number, got ${JSON.stringify(v)}`);
    return v as number;
  };
  for (const f of ['attention_bias', 'mlp_bias'])
    if (j[f] === true) fail(`field "${f}" is true; biases are not supported`);
  if (has('rope_scaling')) fail(`rope_scaling ${JSON.stringify(j.rope_scaling)} is not supported`);

  const dModel = int('hidden_size');
  const nLayers = int('num_hidden_layers');
  const nHeads = int('num_attention_heads');
  // transformers' defaults: llama kv heads = heads, head_dim = hidden/heads; gemma 16 and 256.
  const nKvHeads = int('num_key_value_heads', gemma ? 16 : nHeads);
  const headDim = int('head_dim', gemma ? 256 : Math.floor(dModel / nHeads));
  if (nHeads % nKvHeads !== 0)
    fail(`num_key_value_heads (${nKvHeads}) must divide num_attention_heads (${nHeads})`);

  const act = [j.hidden_activation, j.hidden_act].filter((a) => a !== undefined && a !== null);
  if (act.length === 0) act.push(gemma ? 'gelu_pytorch_tanh' : 'silu');
  const acts = act.map((a) => ACT_FROM_HF[a as string]);
  // transformers 4.x gemma reads hidden_activation and 5.x hidden_act: two different
  // functions would give two different models, so refuse (e.g. gemma-2b's "gelu" beside it).
  if (act.length === 2 && acts[0] !== acts[1])
    fail(
      `hidden_activation ${JSON.stringify(j.hidden_activation)} and hidden_act ${JSON.stringify(j.hidden_act)} disagree`,
    );
  if (acts[0] === undefined)
    fail(
      `activation ${JSON.stringify(act[0])} is not supported (${Object.keys(ACT_FROM_HF).join(', ')})`,
    );

  const rp = j.rope_parameters as Record<string, unknown> | undefined;
  const thetas = [j.rope_theta, rp?.rope_theta].filter((t) => t !== undefined && t !== null);
  if (thetas.length === 2 && thetas[0] !== thetas[1])
    fail(`rope_theta (${thetas[0]}) and rope_parameters.rope_theta (${thetas[1]}) differ`);
  if (rp?.rope_type !== undefined && rp.rope_type !== 'default')
    fail(`rope_parameters.rope_type ${JSON.stringify(rp.rope_type)} is not supported`);
  const ropeTheta = thetas.length ? thetas[0] : 10_000;
  if (typeof ropeTheta !== 'number')
    fail(`rope_theta must be a number, got ${JSON.stringify(ropeTheta)}`);

  const is = j.intermediate_size;
  let stored: number[] = [];
  if (Array.isArray(is)) {
    if (is.length !== nLayers)
      fail(`intermediate_size lists ${is.length} widths but num_hidden_layers is ${nLayers}`);
    stored = is as number[];
  } else stored = Array(nLayers).fill(is);
  stored.forEach((w, l) => {
    if (!Number.isInteger(w) || w <= 0)
      fail(
        `intermediate_size${Array.isArray(is) ? `[${l}]` : ''} must be a positive integer, got ${JSON.stringify(w)}`,
      );
  });

  const mf = (j.matformer ?? {}) as Partial<MatformerBlock>;
  const layerDFF = mf.layer_dff;
  if (layerDFF !== undefined) {
    if (!Array.isArray(layerDFF) || layerDFF.length !== nLayers)
      fail(`matformer.layer_dff must list ${nLayers} widths, got ${JSON.stringify(layerDFF)}`);
    layerDFF.forEach((w, l) => {
      if (!(w <= stored[l]))
        fail(
          `matformer.layer_dff[${l}] = ${w} is larger than intermediate_size (${stored[l]}) stores`,
        );
    });
  }
  const used = layerDFF ?? stored;
  const granularities = mf.granularities ?? [...new Set(used)].sort((a, b) => a - b);
  if (Array.isArray(granularities))
    used.forEach((w, l) => {
      if (!granularities.includes(w))
        fail(
          `layer ${l}'s FFN width ${w} (${layerDFF ? 'matformer.layer_dff' : 'intermediate_size'}) is not one of matformer.granularities [${granularities.join(', ')}]`,
        );
    });
  const dFF = Array.isArray(granularities) ? granularities[granularities.length - 1] : NaN;
  const softcap = j.final_logit_softcapping;
  const config: MatGemmaConfig = {
    arch: 'matgemma',
    dModel,
    nLayers,
    nHeads,
    dFF,
    granularities,
    ...(layerDFF ? { layerDFF } : used.some((w) => w !== dFF) ? { layerDFF: used } : {}),
    ...(mf.source_layers ? { sourceLayers: mf.source_layers } : {}),
    normEps: num('rms_norm_eps', 1e-6),
    vocabSize: int('vocab_size'),
    maxSeqLen: int('max_position_embeddings', gemma ? 8192 : 2048),
    nKvHeads,
    headDim,
    ropeTheta: ropeTheta as number,
    activation: acts[0],
    normOffset: gemma,
    embedScale: gemma,
    tiedEmbeddings: typeof j.tie_word_embeddings === 'boolean' ? j.tie_word_embeddings : gemma,
    finalSoftcap: softcap === undefined || softcap === null ? 0 : (softcap as number),
  };
  try {
    validateTrunk(config);
    validateMatGemma(config);
  } catch (e) {
    fail(`config.json does not describe a valid model: ${(e as MatformerError).message}`);
  }
  return { config, storedWidths: stored, modelType: gemma ? 'gemma' : 'llama' };
}

/** How a tensor is sliced along the FFN hidden dimension. */
export type FFNAxis = 'rows' | 'cols' | null;

/** One weight: our name, the HF name, its shape in the file, and where the FFN width sits. */
export interface HFTensorSpec {
  name: string;
  hfName: string;
  /** [out, in] for linears, [C] for norms. */
  shape: number[];
  /** Layer index (blocks only). */
  layer?: number;
  /** gate/up: the FFN width is the row count; down: the column count. */
  ffnAxis: FFNAxis;
}

/**
 * Every tensor of a MatGemma model in file order (embedding, layers, norm, head), with FFN
 * widths `widths` per layer (default: what each layer stores).
 */
export function hfTensorSpecs(
  config: MatGemmaConfig,
  widths: number[] = storedWidths(config),
): HFTensorSpec[] {
  const C = config.dModel;
  const q = config.nHeads * config.headDim;
  const kv = config.nKvHeads * config.headDim;
  const specs: HFTensorSpec[] = [
    {
      name: 'tok_emb',
      hfName: 'model.embed_tokens.weight',
      shape: [config.vocabSize, C],
      ffnAxis: null,
    },
  ];
  for (let l = 0; l < config.nLayers; l++) {
    const m = widths[l];
    const p = `model.layers.${l}.`;
    const b = `blocks.${l}.`;
    const add = (name: string, hfName: string, shape: number[], ffnAxis: FFNAxis = null) =>
      specs.push({ name: b + name, hfName: p + hfName, shape, layer: l, ffnAxis });
    add('attn_norm.weight', 'input_layernorm.weight', [C]);
    add('attn.q.weight', 'self_attn.q_proj.weight', [q, C]);
    add('attn.k.weight', 'self_attn.k_proj.weight', [kv, C]);
    add('attn.v.weight', 'self_attn.v_proj.weight', [kv, C]);
    add('attn.o.weight', 'self_attn.o_proj.weight', [C, q]);
    add('ffn_norm.weight', 'post_attention_layernorm.weight', [C]);
    add('ffn.gate.weight', 'mlp.gate_proj.weight', [m, C], 'rows');
    add('ffn.up.weight', 'mlp.up_proj.weight', [m, C], 'rows');
    add('ffn.down.weight', 'mlp.down_proj.weight', [C, m], 'cols');
  }
  specs.push({ name: 'norm.weight', hfName: 'model.norm.weight', shape: [C], ffnAxis: null });
  if (!config.tiedEmbeddings)
    specs.push({
      name: 'lm_head.weight',
      hfName: 'lm_head.weight',
      shape: [config.vocabSize, C],
      ffnAxis: null,
    });
  return specs;
}
