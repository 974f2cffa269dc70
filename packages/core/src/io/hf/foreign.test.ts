import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadHFDirectory } from './read';
import { useTempDir } from './test-helpers';

/**
 * Directories written the way transformers writes them, by hand from its docs (LlamaConfig /
 * GemmaConfig `to_json_string`, `save_pretrained` tensor names, the safetensors spec), with no
 * code of ours on the writing side: the loader must read what others wrote.
 */

const tempDir = useTempDir();

/** A safetensors file built byte by byte from the spec: u64 LE header length, JSON, raw data. */
function handSafetensors(tensors: [string, 'F32' | 'BF16', number[], number[]][]): Buffer {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  const bodies: Buffer[] = [];
  let offset = 0;
  for (const [name, dtype, shape, values] of tensors) {
    const size = dtype === 'F32' ? 4 : 2;
    const b = Buffer.alloc(values.length * size);
    // BF16 values here are chosen exactly representable: the top 16 bits of the float32.
    values.forEach((v, i) =>
      dtype === 'F32'
        ? b.writeFloatLE(v, 4 * i)
        : b.writeUInt16LE(Buffer.from(new Float32Array([v]).buffer).readUInt16LE(2), 2 * i),
    );
    header[name] = { dtype, shape, data_offsets: [offset, offset + b.length] };
    offset += b.length;
    bodies.push(b);
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, ...bodies]);
}

/** Values k·0.5 + c (exact in bf16 for small k), distinct per tensor. */
const ramp = (n: number, c: number) => Array.from({ length: n }, (_, k) => (k % 16) * 0.5 + c);

describe('loadHFDirectory on directories transformers-style tools wrote', () => {
  it('reads a tiny llama (4.x config.json, untied head, rotary table stored, F32)', async () => {
    const dir = tempDir();
    // LlamaConfig(vocab_size=32, hidden_size=16, intermediate_size=40, num_hidden_layers=2,
    //   num_attention_heads=4, num_key_value_heads=2).save_pretrained(dir), as printed by 4.57.
    writeFileSync(
      join(dir, 'config.json'),
      `{
  "architectures": ["LlamaForCausalLM"],
  "attention_bias": false,
  "attention_dropout": 0.0,
  "bos_token_id": 1,
  "eos_token_id": 2,
  "head_dim": 4,
  "hidden_act": "silu",
  "hidden_size": 16,
  "initializer_range": 0.02,
  "intermediate_size": 40,
  "max_position_embeddings": 2048,
  "mlp_bias": false,
  "model_type": "llama",
  "num_attention_heads": 4,
  "num_hidden_layers": 2,
  "num_key_value_heads": 2,
  "pretraining_tp": 1,
  "rms_norm_eps": 1e-05,
  "rope_scaling": null,
  "rope_theta": 10000.0,
  "tie_word_embeddings": false,
  "torch_dtype": "float32",
  "transformers_version": "4.57.0",
  "use_cache": true,
  "vocab_size": 32
}
`,
    );
    const t: [string, 'F32', number[], number[]][] = [];
    const add = (name: string, shape: number[]) =>
      t.push([
        name,
        'F32',
        shape,
        ramp(
          shape.reduce((a, b) => a * b),
          t.length,
        ),
      ]);
    add('lm_head.weight', [32, 16]);
    add('model.embed_tokens.weight', [32, 16]);
    for (const l of [0, 1]) {
      const p = `model.layers.${l}.`;
      add(`${p}input_layernorm.weight`, [16]);
      add(`${p}mlp.down_proj.weight`, [16, 40]);
      add(`${p}mlp.gate_proj.weight`, [40, 16]);
      add(`${p}mlp.up_proj.weight`, [40, 16]);
      add(`${p}post_attention_layernorm.weight`, [16]);
      add(`${p}self_attn.k_proj.weight`, [8, 16]);
      add(`${p}self_attn.o_proj.weight`, [16, 16]);
      add(`${p}self_attn.q_proj.weight`, [16, 16]);
      add(`${p}self_attn.rotary_emb.inv_freq`, [2]);
      add(`${p}self_attn.v_proj.weight`, [8, 16]);
    }
    add('model.norm.weight', [16]);
    writeFileSync(join(dir, 'model.safetensors'), handSafetensors(t));

    const { config, tensors, modelType } = await loadHFDirectory(dir);
    expect(modelType).toBe('llama');
    expect(config).toEqual({
      arch: 'matgemma',
      dModel: 16,
      nLayers: 2,
      nHeads: 4,
      nKvHeads: 2,
      headDim: 4,
      dFF: 40,
      granularities: [40],
      normEps: 1e-5,
      vocabSize: 32,
      maxSeqLen: 2048,
      ropeTheta: 10000,
      activation: 'silu',
      normOffset: false,
      embedScale: false,
      tiedEmbeddings: false,
      finalSoftcap: 0,
    });
    const byName = Object.fromEntries(t.map(([n, , , v]) => [n, v]));
    expect([...(tensors['blocks.1.ffn.down.weight'].data as Float32Array)]).toEqual(
      byName['model.layers.1.mlp.down_proj.weight'],
    );
    expect(tensors['blocks.1.ffn.down.weight'].shape).toEqual([16, 40]);
    expect([...(tensors['lm_head.weight'].data as Float32Array)]).toEqual(byName['lm_head.weight']);
    expect([...(tensors['blocks.0.attn.k.weight'].data as Float32Array)]).toEqual(
      byName['model.layers.0.self_attn.k_proj.weight'],
    );
    expect(Object.keys(tensors)).toHaveLength(2 + 2 * 9 + 1); // inv_freq ignored
  });

  it('reads a Gemma 3n-style sliced gemma (5.x rope_parameters, per-layer list, tied, BF16 shards)', async () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    // GemmaConfig as 5.x writes it: rope_parameters instead of rope_theta, hidden_act; a
    // MatFormer-Lab slice's per-layer intermediate_size; no "matformer" block of ours.
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({
        architectures: ['GemmaForCausalLM'],
        model_type: 'gemma',
        vocab_size: 32,
        hidden_size: 16,
        intermediate_size: [24, 48],
        num_hidden_layers: 2,
        num_attention_heads: 2,
        num_key_value_heads: 1,
        head_dim: 8,
        hidden_act: 'gelu_pytorch_tanh',
        max_position_embeddings: 64,
        rms_norm_eps: 1e-6,
        rope_parameters: { rope_type: 'default', rope_theta: 10000.0 },
        tie_word_embeddings: true,
        dtype: 'bfloat16',
      }),
    );
    const shard1: [string, 'BF16', number[], number[]][] = [];
    const shard2: [string, 'BF16', number[], number[]][] = [];
    const weightMap: Record<string, string> = {};
    const add = (shard: typeof shard1, file: string, name: string, shape: number[]) => {
      shard.push([
        name,
        'BF16',
        shape,
        ramp(
          shape.reduce((a, b) => a * b),
          shard.length,
        ),
      ]);
      weightMap[name] = file;
    };
    const f1 = 'model-00001-of-00002.safetensors';
    const f2 = 'model-00002-of-00002.safetensors';
    add(shard1, f1, 'model.embed_tokens.weight', [32, 16]);
    [24, 48].forEach((m, l) => {
      const [s, f] = l === 0 ? [shard1, f1] : [shard2, f2];
      const p = `model.layers.${l}.`;
      add(s, f, `${p}input_layernorm.weight`, [16]);
      add(s, f, `${p}self_attn.q_proj.weight`, [16, 16]);
      add(s, f, `${p}self_attn.k_proj.weight`, [8, 16]);
      add(s, f, `${p}self_attn.v_proj.weight`, [8, 16]);
      add(s, f, `${p}self_attn.o_proj.weight`, [16, 16]);
      add(s, f, `${p}post_attention_layernorm.weight`, [16]);
      add(s, f, `${p}mlp.gate_proj.weight`, [m, 16]);
      add(s, f, `${p}mlp.up_proj.weight`, [m, 16]);
      add(s, f, `${p}mlp.down_proj.weight`, [16, m]);
    });
    add(shard2, f2, 'model.norm.weight', [16]);
    writeFileSync(join(dir, f1), handSafetensors(shard1));
    writeFileSync(join(dir, f2), handSafetensors(shard2));
    writeFileSync(
      join(dir, 'model.safetensors.index.json'),
      JSON.stringify({ metadata: { total_size: 9999 }, weight_map: weightMap }),
    );

    const { config, tensors } = await loadHFDirectory(dir);
    expect(config).toMatchObject({
      nHeads: 2,
      nKvHeads: 1,
      headDim: 8,
      dFF: 48,
      granularities: [24, 48],
      layerDFF: [24, 48],
      ropeTheta: 10000,
      activation: 'gelu_tanh',
      normOffset: true,
      embedScale: true,
      tiedEmbeddings: true,
    });
    expect(config.sourceLayers).toBeUndefined();
    const down1 = shard2.find(([n]) => n === 'model.layers.1.mlp.down_proj.weight')!;
    expect([...(tensors['blocks.1.ffn.down.weight'].data as Float32Array)]).toEqual(down1[3]);
    expect(tensors['blocks.0.ffn.gate.weight'].shape).toEqual([24, 16]);
    expect(tensors['lm_head.weight']).toBeUndefined();
  });
});
