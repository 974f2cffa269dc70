/**
 * Tolerance for the total-variation distance between an empirical distribution of n draws
 * over `cells` outcomes and the true one, exceeded with probability < δ:
 * E[TV] ≤ ½ Σ √(p_i/n) ≤ ½ √(cells/n) (Jensen, then Cauchy–Schwarz), and TV moves by at most
 * 1/n per draw, so McDiarmid adds √(ln(1/δ) / 2n).
 */
export function tvTolerance(cells: number, n: number, delta = 1e-4): number {
  return 0.5 * Math.sqrt(cells / n) + Math.sqrt(Math.log(1 / delta) / (2 * n));
}

/** Hoeffding: |empirical rate − true rate| over n Bernoulli draws stays below this with prob. ≥ 1 − δ. */
export function rateTolerance(n: number, delta = 1e-4): number {
  return Math.sqrt(Math.log(2 / delta) / (2 * n));
}

/** TV between a distribution and counts of n draws, both keyed by outcome. */
export function tvDistance(p: Map<string, number>, counts: Map<string, number>, n: number): number {
  const keys = new Set([...p.keys(), ...counts.keys()]);
  let s = 0;
  for (const k of keys) s += Math.abs((p.get(k) ?? 0) - (counts.get(k) ?? 0) / n);
  return s / 2;
}

/** Increments counts[key]. */
export function tally(counts: Map<string, number>, key: string | number): void {
  counts.set(String(key), (counts.get(String(key)) ?? 0) + 1);
}

/** [index, probability] of every outcome with nonzero probability. */
export const support = (p: ArrayLike<number>): [number, number][] =>
  Array.from(p, (x, i): [number, number] => [i, x]).filter(([, x]) => x > 0);
