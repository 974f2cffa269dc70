// The held-out table, as text: shared by the terminal reporter (progress.ts) and pages.
import type { EvalRow } from './evaluate';

export const fmt = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

/** The held-out table: one row per granularity; losses to `digits` decimals (default 3). */
export function formatEvalTable(e: { rows: EvalRow[] }, digits = 3): string {
  const hasBits = e.rows.some((r) => r.bitsPerToken !== undefined);
  const hasAcc = e.rows.some((r) => r.accuracy !== undefined);
  const head = [
    'submodel',
    'params',
    'val loss',
    ...(hasBits ? ['bits/byte'] : []),
    ...(hasAcc ? ['accuracy'] : []),
  ];
  const rows = e.rows.map((r) => [
    r.name,
    r.params.toLocaleString('en-US'),
    fmt(r.loss, digits),
    ...(hasBits ? [fmt(r.bitsPerToken!, digits)] : []),
    ...(hasAcc ? [`${(100 * r.accuracy!).toFixed(2)}%`] : []),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
