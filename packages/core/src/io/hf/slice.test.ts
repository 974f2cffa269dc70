import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { matgemmaConfig, type MatGemmaConfig } from '../../models/matgemma/config';
import { readSafetensorsFile, type TensorEntry } from '../safetensors';
import { loadHFDirectory } from './read';
import { slicedConfig, sliceHFDirectory } from './slice';
import { bytesOf, randomEntries, useTempDir } from './test-helpers';
import { saveHFDirectory } from './write';

const tempDir = useTempDir();
const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

/** In memory: blocks.{l} → blocks.{new l}, gate/up first w rows, down first w columns. */
function sliceInMemory(
  entries: Record<string, TensorEntry>,
  widths: number[],
): Record<string, TensorEntry> {
  const kept = widths.flatMap((w, l) => (w ? [l] : []));
  const out: Record<string, TensorEntry> = {};
  for (const [name, e] of Object.entries(entries)) {
    const m = /^blocks\.(\d+)\.(.+)$/.exec(name);
    if (!m) {
      out[name] = e;
      continue;
    }
    const l = Number(m[1]);
    const w = widths[l];
    if (!w) continue;
    const x = e.data as Float32Array;
    let t = e;
    if (/ffn\.(gate|up)/.test(m[2]))
      t = { ...e, shape: [w, e.shape[1]], data: x.slice(0, w * e.shape[1]) };
    if (/ffn\.down/.test(m[2])) {
      const [C, M] = e.shape;
      const d = new Float32Array(C * w);
      for (let r = 0; r < C; r++) for (let c = 0; c < w; c++) d[r * w + c] = x[r * M + c];
      t = { ...e, shape: [C, w], data: d };
    }
    out[`blocks.${kept.indexOf(l)}.${m[2]}`] = t;
  }
  return out;
}

function expectSame(a: Record<string, TensorEntry>, b: Record<string, TensorEntry>) {
  expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
  for (const n of Object.keys(a)) {
    expect(b[n].shape, n).toEqual(a[n].shape);
    expect(Buffer.from(bytesOf(b[n])).equals(Buffer.from(bytesOf(a[n]))), n).toBe(true);
  }
}

const config4: MatGemmaConfig = matgemmaConfig('tiny', { nLayers: 4, tiedEmbeddings: false });

describe('sliceHFDirectory', () => {
  it('keeps the first w rows of gate/up and columns of down, drops skipped layers, renumbers', async () => {
    const root = tempDir();
    const entries = randomEntries(config4);
    await saveHFDirectory(join(root, 'src'), config4, entries);
    const srcJson = readJson(join(root, 'src', 'config.json'));
    writeFileSync(
      join(root, 'src', 'config.json'),
      JSON.stringify({ ...srcJson, bos_token_id: 2 }),
    );
    const widths = [16, 0, 64, 8];
    const out = await sliceHFDirectory(join(root, 'src'), join(root, 'dst'), widths);
    const json = readJson(join(root, 'dst', 'config.json'));
    expect(json).toMatchObject({
      num_hidden_layers: 3,
      intermediate_size: [16, 64, 8],
      matformer: {
        granularities: [8, 16, 32, 64],
        layer_dff: [16, 64, 8],
        source_layers: [0, 2, 3],
      },
      bos_token_id: 2, // the source's other fields are kept
      model_type: 'gemma',
    });
    expect(out).toEqual(slicedConfig(config4, widths));
    const st = await readSafetensorsFile(join(root, 'dst', 'model.safetensors'));
    expect(st.metadata).toEqual({ format: 'pt' });
    expect(st.tensors['model.layers.1.mlp.gate_proj.weight'].shape).toEqual([64, 16]);
    expect(st.tensors['model.layers.2.mlp.down_proj.weight'].shape).toEqual([16, 8]);
    expect(st.tensors['model.layers.3.mlp.up_proj.weight']).toBeUndefined();
    const back = await loadHFDirectory(join(root, 'dst'));
    expect(back.config).toEqual(out);
    expectSame(sliceInMemory(entries, widths), back.tensors);
  });

  it('slices a slice (source layers compose), sharded in and out, keeping F16 bytes', async () => {
    const root = tempDir();
    const entries = randomEntries(config4);
    await saveHFDirectory(join(root, 'src'), config4, entries, {
      dtype: 'F16',
      maxShardBytes: 2048,
    });
    await sliceHFDirectory(join(root, 'src'), join(root, 'a'), [32, 0, 64, 32], {
      maxShardBytes: 2048,
    });
    expect(readdirSync(join(root, 'a'))).toContain('model.safetensors.index.json');
    await sliceHFDirectory(join(root, 'a'), join(root, 'b'), [0, 16, 32]);
    const json = readJson(join(root, 'b', 'config.json'));
    expect(json.matformer.source_layers).toEqual([2, 3]);
    expect(json.intermediate_size).toEqual([16, 32]);
    expect(json.torch_dtype).toBe('float16');
    const direct = join(root, 'direct');
    await sliceHFDirectory(join(root, 'src'), direct, [0, 0, 16, 32]);
    const [viaTwo, viaOne] = await Promise.all([
      readSafetensorsFile(join(root, 'b', 'model.safetensors')),
      readSafetensorsFile(join(direct, 'model.safetensors')),
    ]);
    expect(viaTwo.tensors['model.layers.0.mlp.down_proj.weight'].dtype).toBe('F16');
    expectSame(viaOne.tensors, viaTwo.tensors);
    const full = await loadHFDirectory(join(root, 'src'));
    expectSame(
      sliceInMemory(full.tensors, [0, 0, 16, 32]),
      (await loadHFDirectory(direct)).tensors,
    );
  });

  it('slices a padded export by the widths its layers really use', async () => {
    const root = tempDir();
    const config = { ...config4, layerDFF: [32, 64, 16, 64] };
    const entries = randomEntries(config);
    await saveHFDirectory(join(root, 'src'), config, entries, { intermediateSize: 'padded' });
    await expect(
      sliceHFDirectory(join(root, 'src'), join(root, 'x'), [64, 64, 16, 64]),
    ).rejects.toThrow(/widths\[0\] = 64 is larger than layer 0 of .* stores \(32\)/);
    await sliceHFDirectory(join(root, 'src'), join(root, 'dst'), [32, 32, 0, 8]);
    expectSame(
      sliceInMemory(entries, [32, 32, 0, 8]),
      (await loadHFDirectory(join(root, 'dst'))).tensors,
    );
  });

  it('refuses bad widths before writing anything', async () => {
    const root = tempDir();
    await saveHFDirectory(join(root, 'src'), config4, randomEntries(config4));
    const src = join(root, 'src');
    const dst = join(root, 'dst');
    await expect(sliceHFDirectory(src, dst, [16, 16])).rejects.toThrow(
      /widths must list one FFN width per layer \(4\), got \[16,16\]/,
    );
    await expect(sliceHFDirectory(src, dst, [0, 0, 0, 0])).rejects.toThrow(/skip every layer/);
    await expect(sliceHFDirectory(src, dst, [16, -1, 16, 16])).rejects.toThrow(
      /widths\[1\] must be an integer ≥ 0/,
    );
    await expect(sliceHFDirectory(src, dst, [16, 128, 16, 16])).rejects.toThrow(
      /widths\[1\] = 128 is larger than layer 1 of .* stores \(64\)/,
    );
    await expect(sliceHFDirectory(src, src, [16, 16, 16, 16])).rejects.toThrow(/onto itself/);
    expect(existsSync(dst)).toBe(false);
    expect(readdirSync(root)).toEqual(['src']);
  });
});
