import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { matgemmaConfig, type MatGemmaConfig } from '../../models/matgemma/config';
import { readSafetensorsFile, writeSafetensorsFile, type TensorEntry } from '../safetensors';
import { decodeFloats, encodeFloats } from './dtype';
import { isHFDirectory, writeHFDirectory } from './layout';
import { loadHFDirectory } from './read';
import { bytesOf, extractedConfig, randomEntries, useTempDir } from './test-helpers';
import { saveHFDirectory } from './write';

const tempDir = useTempDir();
const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

function expectSameTensors(a: Record<string, TensorEntry>, b: Record<string, TensorEntry>) {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  for (const name of Object.keys(a)) {
    expect(b[name].shape, name).toEqual(a[name].shape);
    expect(Buffer.from(bytesOf(b[name])).equals(Buffer.from(bytesOf(a[name]))), name).toBe(true);
  }
}

const configs: [string, MatGemmaConfig][] = [
  ['nested gemma (tied)', matgemmaConfig('tiny')],
  ['extracted, per-layer widths, skipped layers', extractedConfig()],
  [
    'llama (untied, silu, softcap)',
    matgemmaConfig('tiny', {
      normOffset: false,
      embedScale: false,
      tiedEmbeddings: false,
      activation: 'silu',
      ropeTheta: 500_000,
      normEps: 1e-5,
      finalSoftcap: 30,
    }),
  ],
];

describe('saveHFDirectory → loadHFDirectory', () => {
  it.each(configs)('round-trips %s bit for bit (F32)', async (_, config) => {
    const dir = join(tempDir(), 'hf');
    const entries = randomEntries(config);
    await saveHFDirectory(dir, config, entries);
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'model.safetensors']);
    const back = await loadHFDirectory(dir);
    expect(back.config).toEqual(config);
    expectSameTensors(entries, back.tensors);
  });

  it('writes the fields transformers reads, with HF names and {"format": "pt"}', async () => {
    const dir = join(tempDir(), 'hf');
    const config = matgemmaConfig('tiny');
    await saveHFDirectory(dir, config, randomEntries(config));
    const json = readJson(join(dir, 'config.json'));
    expect(json).toMatchObject({
      model_type: 'gemma',
      architectures: ['GemmaForCausalLM'],
      hidden_size: 16,
      intermediate_size: 64,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 4,
      hidden_act: 'gelu_pytorch_tanh',
      hidden_activation: 'gelu_pytorch_tanh',
      rope_theta: 10000,
      rms_norm_eps: 1e-6,
      vocab_size: 32,
      max_position_embeddings: 16,
      tie_word_embeddings: true,
      final_logit_softcapping: null,
      torch_dtype: 'float32',
      matformer: { granularities: [8, 16, 32, 64] },
    });
    const st = await readSafetensorsFile(join(dir, 'model.safetensors'));
    expect(st.metadata).toEqual({ format: 'pt' });
    const names = Object.keys(st.tensors);
    expect(names).toContain('model.embed_tokens.weight');
    expect(names).toContain('model.layers.1.mlp.down_proj.weight');
    expect(names).toContain('model.layers.0.post_attention_layernorm.weight');
    expect(names).not.toContain('lm_head.weight'); // tied: no head stored
    expect(st.tensors['model.layers.0.self_attn.k_proj.weight'].shape).toEqual([8, 16]);
  });

  it('writes per-layer widths as a list, or zero-padded to one int, and reads both back', async () => {
    const config = extractedConfig(); // layerDFF [16, 64, 32]
    const entries = randomEntries(config);
    const list = join(tempDir(), 'list');
    const padded = join(dirname(list), 'padded');
    await saveHFDirectory(list, config, entries);
    await saveHFDirectory(padded, config, entries, { intermediateSize: 'padded' });
    expect(readJson(join(list, 'config.json')).intermediate_size).toEqual([16, 64, 32]);
    const pj = readJson(join(padded, 'config.json'));
    expect(pj.intermediate_size).toBe(64);
    expect(pj.matformer).toEqual({
      granularities: [8, 16, 32, 64],
      layer_dff: [16, 64, 32],
      source_layers: [0, 2, 3],
    });
    const st = await readSafetensorsFile(join(padded, 'model.safetensors'));
    const down = st.tensors['model.layers.0.mlp.down_proj.weight']; // [C, 64], 16 used
    expect(down.shape).toEqual([16, 64]);
    const d = down.data as Float32Array;
    expect(d[1]).toBe(entries['blocks.0.ffn.down.weight'].data[1]);
    expect(d.subarray(16, 64).every((x) => x === 0)).toBe(true);
    expect(st.tensors['model.layers.2.mlp.gate_proj.weight'].shape).toEqual([64, 16]);
    for (const dir of [list, padded]) {
      const back = await loadHFDirectory(dir);
      expect(back.config).toEqual(config);
      expectSameTensors(entries, back.tensors);
    }
  });

  it.each(['F16', 'BF16'] as const)(
    'writes %s rounded to nearest even and reads it as float32',
    async (dtype) => {
      const dir = join(tempDir(), 'hf');
      const config = matgemmaConfig('tiny');
      const entries = randomEntries(config);
      const emb = entries['tok_emb'].data as Float32Array;
      emb.set([1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -24, 1e6, -Infinity, NaN, 1 + 2 ** -8]);
      await saveHFDirectory(dir, config, entries, { dtype });
      expect(readJson(join(dir, 'config.json')).torch_dtype).toBe(
        dtype === 'F16' ? 'float16' : 'bfloat16',
      );
      const st = await readSafetensorsFile(join(dir, 'model.safetensors'));
      expect(st.tensors['model.embed_tokens.weight'].dtype).toBe(dtype);
      const back = await loadHFDirectory(dir);
      const got = back.tensors['tok_emb'].data as Float32Array;
      const head = [...got.subarray(0, 7)];
      if (dtype === 'F16')
        expect(head).toEqual([1, 1 + 2 ** -9, 2 ** -24, Infinity, -Infinity, NaN, 1 + 2 ** -8]);
      else expect(head).toEqual([1, 1, 2 ** -24, 999424, -Infinity, NaN, 1]); // 1e6 → 0x4974 = 999424
      for (const [name, e] of Object.entries(entries)) {
        const expected = decodeFloats(encodeFloats(e.data as Float32Array, dtype), dtype, 't');
        expect([...(back.tensors[name].data as Float32Array)], name).toEqual([...expected]);
      }
    },
  );

  it('shards above maxShardBytes, with an index, and reads the shards back', async () => {
    const dir = join(tempDir(), 'hf');
    const config = extractedConfig();
    const entries = randomEntries(config);
    await saveHFDirectory(dir, config, entries, { maxShardBytes: 4096 });
    const files = readdirSync(dir).sort();
    const shards = files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f));
    expect(shards.length).toBeGreaterThan(2);
    expect(files).toEqual(['config.json', ...shards, 'model.safetensors.index.json'].sort());
    const index = readJson(join(dir, 'model.safetensors.index.json'));
    const total = Object.values(entries).reduce((a, e) => a + e.data.byteLength, 0);
    expect(index.metadata).toEqual({ total_size: total });
    expect(Object.keys(index.weight_map)).toHaveLength(Object.keys(entries).length);
    expect(new Set(Object.values(index.weight_map))).toEqual(new Set(shards));
    for (const s of shards) expect(readFileSync(join(dir, s)).length).toBeLessThan(4096 + 2048);
    const back = await loadHFDirectory(dir);
    expect(back.config).toEqual(config);
    expectSameTensors(entries, back.tensors);
  });

  it('replaces an earlier export, and never leaves a partial directory behind', async () => {
    const root = tempDir();
    const dir = join(root, 'hf');
    const config = matgemmaConfig('tiny');
    await saveHFDirectory(dir, config, randomEntries(config, 1));
    const entries2 = randomEntries(config, 2);
    await saveHFDirectory(dir, config, entries2);
    expectSameTensors(entries2, (await loadHFDirectory(dir)).tensors);
    const failing = join(root, 'failing');
    const body = () => {
      throw new Error('disk full');
    };
    await expect(
      writeHFDirectory(failing, {}, [
        { name: 'a', dtype: 'F32', shape: [1], body: () => new Uint8Array(4) },
        { name: 'b', dtype: 'F32', shape: [1], body },
      ]),
    ).rejects.toThrow('disk full');
    expect(readdirSync(root)).toEqual(['hf']); // no 'failing', no temp directory
  });

  it('refuses to replace a directory that is not an HF export', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const config = matgemmaConfig('tiny');
    await expect(saveHFDirectory(dir, config, randomEntries(config))).rejects.toThrow(
      /exists and is not a Hugging Face directory \(no config\.json\); refusing to replace it/,
    );
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('refuses a path that is a FIFO, a file or empty before writing, naming it', async () => {
    const root = tempDir();
    const fifo = join(root, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const file = join(root, 'file.bin');
    writeFileSync(file, 'mine');
    const config = matgemmaConfig('tiny');
    await expect(saveHFDirectory(fifo, config, randomEntries(config))).rejects.toThrow(
      `cannot write the Hugging Face directory ${fifo}: it is a FIFO (named pipe), not a directory`,
    );
    await expect(saveHFDirectory(file, config, randomEntries(config))).rejects.toThrow(
      `cannot write the Hugging Face directory ${file}: it is a regular file, not a directory`,
    );
    await expect(saveHFDirectory('', config, randomEntries(config))).rejects.toThrow(
      'cannot write the Hugging Face directory "": the name is empty',
    );
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe('mine');
    expect(readdirSync(root).sort()).toEqual(['file.bin', 'pipe']); // no temp directory left
  });

  it('refuses weights that do not fit the config, and norm/embedding mixes no HF model has', async () => {
    const dir = join(tempDir(), 'hf');
    const config = matgemmaConfig('tiny');
    const tiedWithHead = {
      ...randomEntries(config),
      'lm_head.weight': randomEntries(config)['tok_emb'],
    };
    await expect(saveHFDirectory(dir, config, tiedWithHead)).rejects.toThrow(
      /weight "lm_head.weight" is not part of this model \(tiedEmbeddings/,
    );
    const e = randomEntries(config);
    e['blocks.1.ffn.up.weight'] = { ...e['blocks.1.ffn.up.weight'], shape: [32, 16] };
    await expect(saveHFDirectory(dir, config, e)).rejects.toThrow(
      /weight "blocks.1.ffn.up.weight" has shape \[32, 16\], expected \[64, 16\]/,
    );
    const mixed = { ...config, embedScale: false };
    await expect(saveHFDirectory(dir, mixed, randomEntries(mixed))).rejects.toThrow(
      /normOffset=true with embedScale=false matches no transformers model/,
    );
    expect(existsSync(dir)).toBe(false);
  });
});

describe('loadHFDirectory: bad input', () => {
  async function goodDir(config = matgemmaConfig('tiny'), opts = {}) {
    const dir = join(tempDir(), 'hf');
    await saveHFDirectory(dir, config, randomEntries(config), opts);
    return dir;
  }
  const editConfig = (dir: string, edit: (j: Record<string, unknown>) => void) => {
    const j = readJson(join(dir, 'config.json'));
    edit(j);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(j));
  };
  async function editTensors(dir: string, edit: (t: Record<string, TensorEntry>) => void) {
    const path = join(dir, 'model.safetensors');
    const st = await readSafetensorsFile(path);
    edit(st.tensors);
    await writeSafetensorsFile(path, st.tensors, st.metadata);
  }

  it('config.json missing', async () => {
    const dir = await goodDir();
    rmSync(join(dir, 'config.json'));
    await expect(loadHFDirectory(dir)).rejects.toThrow(
      `${join(dir, 'config.json')}: config.json is missing`,
    );
  });

  it.each([
    [
      'a field missing',
      (j: Record<string, unknown>) => delete j.hidden_size,
      /config\.json: field "hidden_size" is missing/,
    ],
    [
      'kv heads not dividing heads',
      (j: Record<string, unknown>) => (j.num_key_value_heads = 3),
      /num_key_value_heads \(3\) must divide num_attention_heads \(4\)/,
    ],
    [
      'an intermediate_size list of the wrong length',
      (j: Record<string, unknown>) => (j.intermediate_size = [64, 64, 64]),
      /intermediate_size lists 3 widths but num_hidden_layers is 2/,
    ],
    [
      'two different RoPE bases',
      (j: Record<string, unknown>) =>
        (j.rope_parameters = { rope_type: 'default', rope_theta: 500000 }),
      /rope_theta \(10000\) and rope_parameters\.rope_theta \(500000\) differ/,
    ],
    [
      'an unsupported model type',
      (j: Record<string, unknown>) => (j.model_type = 'gemma3n_text'),
      /model_type "gemma3n_text" is not supported/,
    ],
    [
      'activations that disagree',
      (j: Record<string, unknown>) => (j.hidden_act = 'silu'),
      /hidden_activation "gelu_pytorch_tanh" and hidden_act "silu" disagree/,
    ],
    [
      'an invalid model',
      (j: Record<string, unknown>) => (j.matformer = { granularities: [8, 32] }),
      /config\.json: layer 0's FFN width 64 \(intermediate_size\) is not one of matformer\.granularities \[8, 32\]/,
    ],
    [
      'granularities that do not ascend',
      (j: Record<string, unknown>) => (j.matformer = { granularities: [64, 8] }),
      /config\.json does not describe a valid model: config\.granularities must be strictly ascending/,
    ],
  ])('config.json with %s', async (_, edit, message) => {
    const dir = await goodDir();
    editConfig(dir, edit);
    await expect(loadHFDirectory(dir)).rejects.toThrow(message);
  });

  it('a tensor with the wrong shape', async () => {
    const dir = await goodDir();
    editConfig(dir, (j) => (j.intermediate_size = 32));
    editConfig(dir, (j) => (j.matformer = { granularities: [8, 16, 32] }));
    await expect(loadHFDirectory(dir)).rejects.toThrow(
      /model\.safetensors: tensor "model\.layers\.0\.mlp\.gate_proj\.weight" has shape \[64, 16\], expected \[32, 16\] from config\.json/,
    );
  });

  it('a tensor missing, an unexpected one, a head in a tied model, an unsupported dtype', async () => {
    const dir = await goodDir();
    await editTensors(dir, (t) => delete t['model.norm.weight']);
    await expect(loadHFDirectory(dir)).rejects.toThrow(
      `${join(dir, 'model.safetensors')}: tensor "model.norm.weight" is missing`,
    );
    await editTensors(dir, (t) => {
      t['model.norm.weight'] = { dtype: 'F32', shape: [16], data: new Float32Array(16) };
      t['model.layers.0.mlp.extra.weight'] = {
        dtype: 'F32',
        shape: [1],
        data: new Float32Array(1),
      };
    });
    await expect(loadHFDirectory(dir)).rejects.toThrow(
      /unexpected tensor "model\.layers\.0\.mlp\.extra\.weight"/,
    );
    await editTensors(dir, (t) => {
      delete t['model.layers.0.mlp.extra.weight'];
      t['lm_head.weight'] = t['model.embed_tokens.weight'];
    });
    await expect(loadHFDirectory(dir)).rejects.toThrow(
      /unexpected tensor "lm_head\.weight" \(tie_word_embeddings is true: a tied model must not store a head\)/,
    );
    await editTensors(dir, (t) => {
      delete t['lm_head.weight'];
      t['model.norm.weight'] = { dtype: 'I32', shape: [16], data: new Int32Array(16) };
    });
    await expect(loadHFDirectory(dir)).rejects.toThrow(
      /tensor "model\.norm\.weight" has dtype I32; supported: F32, F16, BF16/,
    );
  });

  it('an untied config without its head', async () => {
    const config = matgemmaConfig('tiny', { tiedEmbeddings: false });
    const dir = await goodDir(config);
    await editTensors(dir, (t) => delete t['lm_head.weight']);
    await expect(loadHFDirectory(dir)).rejects.toThrow(/tensor "lm_head\.weight" is missing/);
  });

  it('a missing shard file, and an index that puts a tensor in the wrong shard', async () => {
    const dir = await goodDir(matgemmaConfig('tiny'), { maxShardBytes: 4096 });
    const indexPath = join(dir, 'model.safetensors.index.json');
    const index = readJson(indexPath);
    const shards = [...new Set(Object.values(index.weight_map) as string[])];
    const moved = { ...index, weight_map: { ...index.weight_map, 'model.norm.weight': shards[0] } };
    writeFileSync(indexPath, JSON.stringify(moved));
    await expect(loadHFDirectory(dir)).rejects.toThrow(
      `weight_map puts tensor "model.norm.weight" in ${shards[0]}, which does not hold it`,
    );
    writeFileSync(indexPath, JSON.stringify(index));
    rmSync(join(dir, shards[1]));
    await expect(loadHFDirectory(dir)).rejects.toThrow(
      `${indexPath}: shard file ${join(dir, shards[1])} is missing`,
    );
  });

  it('non-zero padding past matformer.layer_dff', async () => {
    const config = extractedConfig();
    const dir = await goodDir(config, { intermediateSize: 'padded' });
    await editTensors(dir, (t) => {
      (t['model.layers.0.mlp.up_proj.weight'].data as Float32Array)[16 * 16] = 1; // row 16 of 64; 16 used
    });
    await expect(loadHFDirectory(dir)).rejects.toThrow(
      /tensor "model\.layers\.0\.mlp\.up_proj\.weight" has non-zero values past width 16/,
    );
  });
});

describe('isHFDirectory', () => {
  it("tells an HF export from a training run's directory (config.json without model_type)", async () => {
    const root = tempDir();
    const config = matgemmaConfig('tiny');
    await saveHFDirectory(join(root, 'hf'), config, randomEntries(config));
    expect(isHFDirectory(join(root, 'hf'))).toBe(true);
    writeFileSync(join(root, 'config.json'), JSON.stringify({ arch: 'matlm', dModel: 16 }));
    writeFileSync(join(root, 'model.safetensors'), '');
    expect(isHFDirectory(root)).toBe(false);
    expect(isHFDirectory(join(root, 'missing'))).toBe(false);
  });
});
