import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LMEngine } from '@matformer/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALIBRATION_FILE, cachedCalibration, describeCalibration } from './speculative-choice';

/** A deterministic toy LM (next token = last + 1) that takes `ms` per call. */
function toy(name: string, ms: number): LMEngine<number[]> {
  return {
    vocabSize: 8,
    maxSeqLen: 128,
    name,
    async forward(tokens, state = []) {
      const until = performance.now() + ms;
      while (performance.now() < until);
      const all = [...state, ...tokens];
      const logits = new Float32Array(tokens.length * 8);
      tokens.forEach((_, i) => (logits[i * 8 + ((all[state.length + i] + 1) % 8)] = 5));
      return { logits, state: all };
    },
    length: (s) => s.length,
    truncate: (s, n) => s.slice(0, n),
    release: () => undefined,
    dispose: () => undefined,
  };
}

describe('lm-trainer generate --speculative: calibration cached beside the model', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spec-cal-'));
    await writeFile(join(dir, 'model.safetensors'), 'weights');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('measures once, then reads the cache for the same model, engines and mode', async () => {
    const verifier = toy('v', 1.5);
    const drafts = [{ label: '8', engine: toy('d8', 0.1) as LMEngine<unknown> }];
    const logs: string[] = [];
    const log = (l: string) => logs.push(l);
    const model = join(dir, 'model.safetensors');
    const a = await cachedCalibration(model, verifier as LMEngine<unknown>, drafts, {}, log);
    expect(logs.join('\n')).toMatch(/measuring/);
    expect(a.drafts[0].alpha).toBe(1); // the draft always agrees
    expect(a.choice?.label).toBe('8');
    const file = JSON.parse(await readFile(join(dir, CALIBRATION_FILE), 'utf8'));
    expect(Object.keys(file.entries)).toHaveLength(1);
    const b = await cachedCalibration(model, verifier as LMEngine<unknown>, drafts, {}, log);
    expect(logs.at(-1)).toMatch(/cached in/);
    expect(b.choice).toEqual(a.choice);
    // Another sampling mode is another entry.
    await cachedCalibration(
      model,
      verifier as LMEngine<unknown>,
      drafts,
      { temperature: 0.8 },
      log,
    );
    const again = JSON.parse(await readFile(join(dir, CALIBRATION_FILE), 'utf8'));
    expect(Object.keys(again.entries)).toHaveLength(2);
    expect(describeCalibration(a).join('\n')).toMatch(/draft 8: step .* predicted \d+\.\d\d×/);
  });
});
