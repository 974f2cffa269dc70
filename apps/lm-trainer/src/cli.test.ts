import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lmTrainer } from './test-cli';

describe('lm-trainer CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lm-trainer-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('trains, reports every granularity against the unigram floor, and samples', async () => {
    const r = await lmTrainer(
      'train',
      '--preset',
      'tiny',
      '--steps',
      '30',
      '--run',
      join(dir, 'run'),
      '--eval-every',
      '0',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/submodel\s+params\s+val loss\s+bits\/byte/);
    for (const m of [8, 16, 32, 64])
      expect(r.stdout).toMatch(
        new RegExp(`^\\s+${m}\\s+[\\d,]+\\s+\\d\\.\\d{3}\\s+\\d\\.\\d{3}$`, 'm'),
      );
    expect(r.stdout).toMatch(/unigram baseline: \d\.\d{3} bits\/byte/);
    expect(r.stdout).toMatch(/--- sample, width 8 .*---\n/);
    expect(r.stdout).toMatch(/--- sample, width 64 .*---\n/);
    expect(r.stderr).toMatch(/step 30\/30/);
    for (const f of ['config.json', 'metrics.jsonl', 'checkpoint.safetensors', 'model.safetensors'])
      expect(existsSync(join(dir, 'run', f)), f).toBe(true);
  });

  it("refuses to overwrite a run, resumes it, evaluates Mix'n'Match widths and generates speculatively", async () => {
    const runDir = join(dir, 'run');
    const again = await lmTrainer('train', '--preset', 'tiny', '--steps', '30', '--run', runDir);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds a run; continue it with "lm-trainer resume/);

    const resumed = await lmTrainer('resume', '--run', runDir, '--steps', '40', '--no-sample');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming .* at step 30 of 40/);
    const steps = (await readFile(join(runDir, 'metrics.jsonl'), 'utf8'))
      .split('\n')
      .filter((l) => l.includes('"type":"step"'));
    expect(steps).toHaveLength(40);

    const ev = await lmTrainer('eval', '--run', runDir, '--widths', '8,64', '--widths', '16');
    expect(ev.code, ev.stderr).toBe(0);
    expect(ev.stdout).toMatch(/^\s+8,64\s/m);

    const gen = await lmTrainer(
      'generate',
      '--run',
      runDir,
      '--prompt',
      'the ',
      '--max-tokens',
      '8',
      '--speculative',
      '--temperature',
      '0',
    );
    expect(gen.code, gen.stderr).toBe(0);
    expect(gen.stdout).toMatch(/acceptance \d+\.\d%, \d+\.\d\d tokens per verifier call/);
  });

  it("exports a Mix'n'Match submodel to ONNX whose greedy output equals the tfjs one", async () => {
    const runDir = join(dir, 'run');
    const onnx = join(dir, 'sub.onnx');
    const ex = await lmTrainer('export', '--run', runDir, '--widths', '8,64', '--out', onnx);
    expect(ex.code, ex.stderr).toBe(0);
    expect(ex.stdout).toMatch(/wrote .*sub\.onnx: .* opset 17\nwidths \[8, 64\]/);
    const args = [
      'generate',
      '--run',
      runDir,
      '--widths',
      '8,64',
      '--prompt',
      'the ',
      '--max-tokens',
      '10',
      '--temperature',
      '0',
    ];
    const [viaTfjs, viaOrt] = await Promise.all([
      lmTrainer(...args, '--engine', 'tfjs'),
      lmTrainer(...args, '--onnx', onnx),
    ]);
    expect(viaOrt.code, viaOrt.stderr).toBe(0);
    const text = (out: string) => out.split('\n\n[')[0];
    expect(text(viaOrt.stdout)).toBe(text(viaTfjs.stdout));
    expect(viaOrt.stdout).toMatch(/\[onnxruntime/);
  });

  it('generates past the context window, plainly and speculatively, the same on both engines', async () => {
    const runDir = join(dir, 'run'); // the tiny preset: a context of 16 bytes
    const args = ['generate', '--run', runDir, '--prompt', 'the ', '--max-tokens', '40'];
    const greedy = [...args, '--temperature', '0'];
    const outs = await Promise.all([
      lmTrainer(...greedy, '--engine', 'tfjs'),
      lmTrainer(...greedy, '--engine', 'ort'),
      lmTrainer(...greedy, '--engine', 'ort', '--speculative', '--k', '3'),
      lmTrainer(...greedy, '--engine', 'tfjs', '--speculative'),
    ]);
    const text = (out: string) => out.split('\n\n[')[0];
    for (const o of outs) {
      expect(o.code, o.stderr).toBe(0);
      expect(o.stdout).toMatch(/\] 40 tokens in \d+ ms/);
      expect(text(o.stdout)).toBe(text(outs[0].stdout));
    }
  });

  it('takes the MatLM shape from flags or a config file, and names a bad field', async () => {
    const shaped = await lmTrainer(
      'train',
      '--arch',
      'matlm',
      '--preset',
      'tiny',
      '--d-model',
      '24',
      '--layers',
      '1',
      '--heads',
      '3',
      '--ffn-widths',
      '12,24,48',
      '--steps',
      '2',
      '--no-sample',
      '--run',
      join(dir, 'shape'),
    );
    expect(shaped.code, shaped.stderr).toBe(0);
    expect(shaped.stderr).toMatch(
      /"tiny" \(d 24, 1 layers, 3 heads, context 16; [\d,]+ params, granularities 12\/24\/48\)/,
    );
    for (const m of [12, 24, 48])
      expect(shaped.stdout).toMatch(new RegExp(`^\\s+${m}\\s+[\\d,]+\\s`, 'm'));
    const file = join(dir, 'shape.json');
    await writeFile(file, JSON.stringify({ dModel: 32, nHeads: 4, dFF: 64 }));
    const fromFile = await lmTrainer(
      'train',
      '--arch',
      'matlm',
      '--preset',
      'tiny',
      '--config',
      file,
      '--steps',
      '1',
      '--no-sample',
      '--run',
      join(dir, 'shape-file'),
    );
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(fromFile.stderr).toMatch(/d 32, 2 layers, 4 heads, .* granularities 8\/16\/32\/64/);
    const bad = [
      [
        ['--d-model', '100', '--heads', '3'],
        /config.dModel \(100\) must be divisible by config.nHeads \(3\)/,
      ],
      [
        ['--ffn-widths', '48,24'],
        /config.granularities must be strictly ascending, got \[48, 24\]/,
      ],
      [
        ['--ffn-widths', '8,x'],
        /--ffn-widths must be a comma list of positive integers, got "8,x" \(item 2 is "x"\)/,
      ],
    ] as const;
    for (const [flags, message] of bad) {
      const r = await lmTrainer(
        'train',
        '--arch',
        'matlm',
        '--preset',
        'tiny',
        ...flags,
        '--run',
        join(dir, 'shape-bad'),
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
    }
    await writeFile(file, JSON.stringify({ dModel: 32, vocab: 7 }));
    const badFile = await lmTrainer(
      'train',
      '--arch',
      'matlm',
      '--config',
      file,
      '--run',
      join(dir, 'shape-bad'),
    );
    expect(badFile.stderr).toMatch(
      /--config .*shape.json: unknown field "vocab"; allowed: dModel, nLayers/,
    );
  });

  it('trains on either engine, and names a bad one', async () => {
    for (const engine of ['ort', 'tfjs']) {
      const r = await lmTrainer(
        'train',
        '--arch',
        'matlm',
        '--preset',
        'tiny',
        '--steps',
        '3',
        '--engine',
        engine,
        '--no-sample',
        '--run',
        join(dir, `engine-${engine}`),
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`^engine: ${engine}`, 'm'));
    }
    const bad = await lmTrainer('train', '--engine', 'gpu', '--run', join(dir, 'engine-bad'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /--engine <name>' argument 'gpu' is invalid. Allowed choices are auto, ort, tfjs/,
    );
  });

  it('takes the MatGemma shape (grouped-query attention) from flags, and names a bad one', async () => {
    const shaped = await lmTrainer(
      'train',
      '--preset',
      'tiny',
      '--heads',
      '4',
      '--kv-heads',
      '1',
      '--steps',
      '2',
      '--no-sample',
      '--run',
      join(dir, 'gqa'),
    );
    expect(shaped.code, shaped.stderr).toBe(0);
    expect(shaped.stderr).toMatch(/MatGemma "tiny" \(d 16, 2 layers, 4 heads sharing 1 kv heads,/);
    const bad = await lmTrainer('train', '--kv-heads', '3', '--run', join(dir, 'gqa-bad'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/config.nKvHeads \(3\) must divide config.nHeads \(4\)/);
    const mha = await lmTrainer(
      'train',
      '--arch',
      'matlm',
      '--kv-heads',
      '2',
      '--run',
      join(dir, 'gqa-bad'),
    );
    expect(mha.stderr).toMatch(/--kv-heads needs --arch matgemma/);
    const arch = await lmTrainer('train', '--arch', 'gpt', '--run', join(dir, 'gqa-bad'));
    expect(arch.stderr).toMatch(/--arch must be one of matlm, matgemma, got "gpt"/);
  });

  it('names the bad flag and the allowed values', async () => {
    const a = await lmTrainer('train', '--steps', 'many', '--run', join(dir, 'x'));
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/--steps must be an integer ≥ 1, got "many"/);
    const b = await lmTrainer('train', '--preset', 'huge', '--run', join(dir, 'y'));
    expect(b.stderr).toMatch(
      /unknown preset "huge"; allowed: tiny, mini, small \(--arch matgemma\)/,
    );
    const c = await lmTrainer('generate', '--run', join(dir, 'run'), '--widths', '12');
    expect(c.stderr).toMatch(/widths\[0\] = 12 is out of range; layer 0 allows \[8, 16, 32, 64\]/);
    const d = await lmTrainer('eval', '--run', join(dir, 'nothing-here'));
    expect(d.stderr).toMatch(/is not a run directory/);
  });
});
