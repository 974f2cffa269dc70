import * as tf from '@tensorflow/tfjs';
import { TfjsLMEngine, type MatLM } from '@matformer/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, probabilities, sampleIndex, type SamplingOptions } from './sampling';
import { speculativeGenerate } from './speculative';
import { MemoEngine, TableEngine } from './test-engines';
import { randomTinyLM } from './test-models';
import { rateTolerance, support, tally, tvDistance as tv, tvTolerance } from './test-stats';
import { acceptanceProbability, residual, verifySampled } from './verify';

const N = 20_000;

describe('rejection sampling preserves the verifier’s distribution', () => {
  it('one step, hand-made p and q: output ~ p, acceptance = Σ min(p, q)', () => {
    const p = [0.5, 0.2, 0.2, 0.1, 0];
    const q = [0.1, 0.1, 0.3, 0.2, 0.3];
    const random = createRng(1);
    const counts = new Map<string, number>();
    let accepted = 0;
    for (let i = 0; i < N; i++) {
      const x = sampleIndex(q, random);
      const v = verifySampled([p, p], [q], [x], random);
      const out = v.accepted === 1 ? x : v.next;
      tally(counts, out);
      accepted += v.accepted;
    }
    const pm = new Map(p.map((x, i) => [String(i), x]));
    expect(tv(pm, counts, N)).toBeLessThan(tvTolerance(p.length, N));
    expect(acceptanceProbability(p, q)).toBeCloseTo(0.5, 12);
    expect(Math.abs(accepted / N - 0.5)).toBeLessThan(rateTolerance(N));
    // The residual is norm(max(0, p − q)) exactly.
    expect(Array.from(residual(p, q))).toEqual([0.4 / 0.5, 0.1 / 0.5, 0, 0, 0]);
  });

  describe('end to end through speculativeGenerate on a nested tiny MatLM (20k seeded runs)', () => {
    let model: MatLM;
    let draft: MemoEngine<unknown>;
    let verifier: MemoEngine<unknown>;
    const prompt = [5, 17, 2, 9];
    const warp: SamplingOptions = { temperature: 1, topK: 4 }; // support ≤ 4: few prefixes to score
    beforeAll(async () => {
      await tf.setBackend('wasm');
      model = randomTinyLM(3, 3, 10);
      // Real tfjs logits, memoised by prefix: each distinct prefix costs one forward, once.
      draft = new MemoEngine(new TfjsLMEngine(model, 8));
      verifier = new MemoEngine(new TfjsLMEngine(model));
    });
    afterAll(() => model.dispose());

    it('first two tokens ~ p(x1)·p(x2 | x1); first-draft acceptance = Σ min(p, q)', async () => {
      const counts = { first: new Map<string, number>(), joint: new Map<string, number>() };
      const second = new Map<number, Map<string, number>>(); // x1 → counts of x2
      let firstAccepted = 0;
      for (let seed = 0; seed < N; seed++) {
        let round1 = -1;
        const { tokens } = await speculativeGenerate(draft, verifier, prompt, {
          ...warp,
          mode: 'sample',
          maxNewTokens: 3, // round 1 drafts 2: both in-round positions are exercised
          k: 2,
          adaptive: false,
          seed,
          onRound: (r) => {
            if (r.round === 1) round1 = r.accepted;
          },
        });
        const [a, b] = tokens;
        tally(counts.first, a);
        tally(counts.joint, `${a},${b}`);
        tally(second.get(a) ?? second.set(a, new Map()).get(a)!, b);
        if (round1 >= 1) firstAccepted++;
      }

      const p1 = probabilities(await verifier.row(prompt), warp);
      const q1 = probabilities(await draft.row(prompt), warp);
      // The test has power: the draft's distribution is far from the verifier's.
      const tvPQ = 0.5 * p1.reduce((s, x, i) => s + Math.abs(x - q1[i]), 0);
      expect(tvPQ).toBeGreaterThan(0.15);

      const first = new Map(support(p1).map(([i, x]) => [String(i), x]));
      expect(tv(first, counts.first, N)).toBeLessThan(tvTolerance(4, N)); // ≈ 0.022

      const joint = new Map<string, number>();
      for (const [a, pa] of support(p1)) {
        const p2 = probabilities(await verifier.row([...prompt, a]), warp);
        for (const [b, pb] of support(p2)) joint.set(`${a},${b}`, pa * pb);
      }
      expect(tv(joint, counts.joint, N)).toBeLessThan(tvTolerance(16, N)); // ≈ 0.029 < 0.03

      // The second token given a fixed first (the most likely one).
      const [a] = support(p1).sort((x, y) => y[1] - x[1])[0];
      const p2 = probabilities(await verifier.row([...prompt, a]), warp);
      const given = second.get(a)!;
      const nA = [...given.values()].reduce((s, c) => s + c, 0);
      expect(nA).toBeGreaterThan(N / 5);
      const cond = new Map(support(p2).map(([i, x]) => [String(i), x]));
      expect(tv(cond, given, nA)).toBeLessThan(tvTolerance(4, nA));

      // α = Σ min(p, q) is the chance the first drafted token survives.
      expect(Math.abs(firstAccepted / N - acceptanceProbability(p1, q1))).toBeLessThan(
        rateTolerance(N),
      );
      expect(verifier.innerCalls).toBeLessThan(100); // the memo did its job
    });
  });

  it('deeper drafts (k = 3) on fakes: the first three tokens ~ the verifier’s joint distribution', async () => {
    const V = 4;
    const verifier = new TableEngine(V, 16, { seed: 5, scale: 1.5 });
    const draft = new TableEngine(V, 16, { seed: 5, scale: 1.5, noise: 1.2, noiseSeed: 3 });
    const warp: SamplingOptions = { temperature: 0.9, topP: 0.95 };
    const prompt = [1, 3];
    const counts = new Map<string, number>();
    for (let seed = 0; seed < N; seed++) {
      const { tokens } = await speculativeGenerate(draft, verifier, prompt, {
        ...warp,
        mode: 'sample',
        maxNewTokens: 4,
        k: 3,
        adaptive: false,
        seed: seed * 7919 + 1,
      });
      tally(counts, tokens.slice(0, 3).join(','));
    }
    // Exact joint: Π_t p(x_t | prefix), from the verifier's logits.
    const row = async (prefix: number[]) => {
      const out = await verifier.forward(prefix);
      return probabilities(out.logits.subarray((prefix.length - 1) * V), warp);
    };
    const joint = new Map<string, number>();
    const walk = async (prefix: number[], mass: number, depth: number): Promise<void> => {
      if (depth === 3) return void joint.set(prefix.slice(prompt.length).join(','), mass);
      for (const [x, px] of support(await row(prefix)))
        await walk([...prefix, x], mass * px, depth + 1);
    };
    await walk(prompt, 1, 0);
    expect(tv(joint, counts, N)).toBeLessThan(tvTolerance(joint.size, N));
  });
});
