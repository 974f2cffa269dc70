import type { RetrievalReport } from './experiment';

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/** The demo's table: one row per query encoder, cheapest first. */
export function formatReport(r: RetrievalReport): string {
  const head = [
    'query encoder',
    'widths',
    'MFLOPs',
    '% full',
    '1-NN acc',
    '(exact)',
    `recall@${r.k}`,
    'embed q/s',
    'search q/s',
  ];
  const rows = r.rows.map((e) => [
    e.name,
    e.widths.join('/'),
    (e.flops / 1e6).toFixed(2),
    `${(100 * e.flopsRatio).toFixed(1)}%`,
    pct(e.accuracy),
    pct(e.exactAccuracy),
    e.recall.toFixed(4),
    e.embedQps.toFixed(0),
    e.searchQps.toFixed(0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The target, checked on the measured rows: smallest encoder within 2 points of full at ≤ 60% of its FLOPs. */
export function targetCheck(r: RetrievalReport): { met: boolean; text: string } {
  const smallest = r.rows.reduce((a, b) => (b.flops < a.flops ? b : a));
  const full = r.rows.reduce((a, b) => (b.flops > a.flops ? b : a));
  const gap = 100 * (full.accuracy - smallest.accuracy);
  const met = gap <= 2 && smallest.flopsRatio <= 0.6;
  return {
    met,
    text: `smallest encoder ${smallest.name}: 1-NN ${pct(smallest.accuracy)} vs full ${pct(full.accuracy)} (${gap >= 0 ? '−' : '+'}${Math.abs(gap).toFixed(2)} points) at ${(100 * smallest.flopsRatio).toFixed(1)}% of the full FLOPs: target (≤ 2 points at ≤ 60%) ${met ? 'met' : 'NOT met'}`,
  };
}
