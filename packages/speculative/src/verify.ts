import { argmax, sampleIndex, type Random } from './sampling';

/** The verdict on one round of k drafted tokens. */
export interface Verdict {
  /** Drafted tokens accepted, a prefix: 0..k. */
  accepted: number;
  /** The verifier's own token after them: the correction at the first rejection, or the bonus token when all k passed. */
  next: number;
}

/**
 * Greedy verification. `rows[i]` are the verifier's logits for the position of drafted[i]
 * (rows.length = k + 1; the last row predicts the bonus token). Accepts while the draft equals
 * the verifier's argmax, so the output is exactly the verifier's own greedy decoding.
 */
export function verifyGreedy(rows: ArrayLike<number>[], drafted: readonly number[]): Verdict {
  for (let i = 0; i < drafted.length; i++) {
    const want = argmax(rows[i]);
    if (want !== drafted[i]) return { accepted: i, next: want };
  }
  return { accepted: drafted.length, next: argmax(rows[drafted.length]) };
}

/**
 * Rejection sampling (Leviathan et al. 2023, Alg. 1; Chen et al. 2023, Alg. 2). `p[i]` and `q[i]`
 * are the verifier's and the draft's distributions for the position of drafted[i] (p has one
 * more: the bonus position). Token x drawn from q is kept with probability min(1, p(x)/q(x));
 * on the first rejection the replacement is drawn from norm(max(0, p − q)); if all pass, the
 * bonus comes from p. Every emitted token is then distributed exactly as the verifier's p.
 */
export function verifySampled(
  p: ArrayLike<number>[],
  q: ArrayLike<number>[],
  drafted: readonly number[],
  random: Random,
): Verdict {
  for (let i = 0; i < drafted.length; i++) {
    const x = drafted[i];
    // u < p/q, written without the division; q(x) > 0 because x was drawn from q.
    if (random() * q[i][x] < p[i][x]) continue;
    return { accepted: i, next: sampleIndex(residual(p[i], q[i]), random) };
  }
  return { accepted: drafted.length, next: sampleIndex(p[drafted.length], random) };
}

/** norm(max(0, p − q)); falls back to p if rounding left no mass (p ≈ q, where rejection is ~impossible). */
export function residual(p: ArrayLike<number>, q: ArrayLike<number>): Float64Array {
  const r = new Float64Array(p.length);
  let sum = 0;
  for (let i = 0; i < p.length; i++) sum += r[i] = Math.max(0, p[i] - q[i]);
  if (!(sum > 0)) return Float64Array.from(p);
  for (let i = 0; i < r.length; i++) r[i] /= sum;
  return r;
}

/** The probability that a token drawn from q is accepted against p: α = Σ min(p, q). */
export function acceptanceProbability(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let a = 0;
  for (let i = 0; i < p.length; i++) a += Math.min(p[i], q[i]);
  return a;
}
