import type { CostKind } from './budget';

/** 2_100_000 → "2.10M": counts with a k/M/G suffix, three significant digits. */
export function formatCount(n: number): string {
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [scale, suffix] of units)
    if (Math.abs(n) >= scale) return `${(n / scale).toPrecision(3)}${suffix}`;
  return String(Math.round(n));
}

/** A cost with its unit: "2.10M params", "6.71M FLOPs/token", "3.42 ms". */
export function formatCost(kind: CostKind, value: number): string {
  if (kind === 'latency') return `${value.toFixed(2)} ms`;
  return `${formatCount(value)} ${kind === 'params' ? 'params' : 'FLOPs/token'}`;
}
