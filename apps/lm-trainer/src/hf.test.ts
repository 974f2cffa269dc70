import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createModel, matgemmaConfig, matlmConfig, saveModel } from '@matformer/core';
import { lmTrainer } from './test-cli';

const text = (out: string) => out.split('\n\n[')[0];

describe('lm-trainer and Hugging Face directories', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lm-trainer-hf-'));
    await tf.setBackend('cpu');
    const config = matgemmaConfig('tiny', { vocabSize: 256, maxSeqLen: 32, nLayers: 3 });
    const model = createModel(config, undefined, 7);
    await saveModel(join(dir, 'gemma.safetensors'), model);
    model.dispose();
    const lm = createModel(matlmConfig('tiny'));
    await saveModel(join(dir, 'matlm.safetensors'), lm);
    lm.dispose();
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('exports --format hf, streams slice-hf, and generates from either as from the checkpoint', async () => {
    const ckpt = join(dir, 'gemma.safetensors');
    const hf = join(dir, 'hf');
    const r = await lmTrainer('export', '--checkpoint', ckpt, '--format', 'hf', '--out', hf);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote .*hf: Hugging Face directory \(F32, intermediate_size list\)/);
    expect(JSON.parse(readFileSync(join(hf, 'config.json'), 'utf8')).model_type).toBe('gemma');
    const s = await lmTrainer('slice-hf', hf, '--out', join(dir, 'sliced'), '--widths', '16,0,64');
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toMatch(/wrote .*sliced: 2 layers, widths \[16, 64\]/);

    // tfjs, the reference engine: what is compared here is the weights each path loads.
    const gen = [
      'generate',
      '--engine',
      'tfjs',
      '--prompt',
      'ab',
      '--max-tokens',
      '12',
      '--temperature',
      '0',
    ];
    const outs = await Promise.all([
      lmTrainer(...gen, '--checkpoint', ckpt, '--widths', '16,0,64'),
      lmTrainer(...gen, '--checkpoint', join(dir, 'sliced')),
      lmTrainer(...gen, '--run', hf, '--widths', '16,0,64'),
    ]);
    for (const o of outs) {
      expect(o.code, o.stderr).toBe(0);
      expect(o.stdout).toMatch(/12 tokens in \d+ ms/);
      expect(text(o.stdout)).toBe(text(outs[0].stdout));
    }
  });

  it('exports a streamed slice of an HF directory, and refuses a family with no HF counterpart', async () => {
    const hf = join(dir, 'hf2');
    expect(
      (
        await lmTrainer(
          'export',
          '--checkpoint',
          join(dir, 'gemma.safetensors'),
          '--format',
          'hf',
          '--out',
          hf,
          '--dtype',
          'bf16',
          '--max-shard-mb',
          '1',
        )
      ).code,
    ).toBe(0);
    const r = await lmTrainer(
      'export',
      '--checkpoint',
      hf,
      '--format',
      'hf',
      '--out',
      join(dir, 'hf3'),
      '--widths',
      '8',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\(streamed slice\): 3 layers, widths \[8, 8, 8\]/);
    expect(JSON.parse(readFileSync(join(dir, 'hf3', 'config.json'), 'utf8')).torch_dtype).toBe(
      'bfloat16',
    );
    // A Gemma 3n-style slice file (the columns mistral.rs reads): kept widths + skipped layers.
    const csv = join(dir, 'slices.csv');
    writeFileSync(
      csv,
      'name,# Layers,# Effective Params (B),MMLU PT accuracy,FFN Hidden Dims,Layers Skipped\n' +
        'E-small,2,0.0001,,"[16, 2 * 20]",[1]\n',
    );
    const sl = await lmTrainer(
      'slice-hf',
      hf,
      '--out',
      join(dir, 'hf4'),
      '--slices',
      csv,
      '--slice',
      'E-small',
    );
    expect(sl.code, sl.stderr).toBe(0);
    const j4 = JSON.parse(readFileSync(join(dir, 'hf4', 'config.json'), 'utf8'));
    expect(j4.intermediate_size).toEqual([16, 40]); // 40: not a granularity, fine for a slice
    expect(j4.matformer.source_layers).toEqual([0, 2]);
    const bad = await lmTrainer(
      'export',
      '--checkpoint',
      join(dir, 'matlm.safetensors'),
      '--format',
      'hf',
      '--out',
      join(dir, 'x'),
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /error: cannot export a matlm as a Hugging Face directory: only matgemma/,
    );
    const fmt = await lmTrainer(
      'export',
      '--checkpoint',
      join(dir, 'gemma.safetensors'),
      '--format',
      'gguf',
    );
    expect(fmt.stderr).toMatch(/--format must be onnx or hf, got "gguf"/);
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });
});
