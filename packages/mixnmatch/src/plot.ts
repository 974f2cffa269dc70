import type { CostKind } from './budget';
import { formatCount } from './format';
import type { Point } from './pareto';

export interface FrontPlot {
  /** Every evaluated config: a dot each. */
  points: Point[];
  /** The Pareto front: drawn as a line through its points. */
  front: Point[];
  /** The explicitly trained granularities (uniform configs): highlighted and labelled. */
  trained?: Point[];
  /** The search's chosen config and the heuristic's, ringed. */
  best?: Point;
  heuristicBest?: Point;
  /** A vertical dashed line at the budget's limit. */
  budget?: number;
  costKind: CostKind;
  title?: string;
  /** Default "loss (nats)". */
  yLabel?: string;
}

const W = 760;
const H = 480;
const M = { left: 78, right: 24, top: 44, bottom: 58 };

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** About `n` round tick values (1, 2 or 5 × 10^k apart) covering [lo, hi]. */
function ticks(lo: number, hi: number, n = 6): number[] {
  const raw = (hi - lo) / n || Math.abs(hi) || 1;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(+v.toPrecision(12));
  return out;
}

function extent(values: number[]): [number, number] {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (lo === hi) [lo, hi] = [lo - Math.abs(lo) * 0.05 - 1e-9, hi + Math.abs(hi) * 0.05 + 1e-9];
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

const xAxisLabel: Record<CostKind, string> = {
  params: 'parameters',
  flops: 'forward FLOPs per token',
  latency: 'decode-step latency (ms)',
};

/**
 * An SVG scatter of loss against cost: every evaluated config as a grey dot, the Pareto front
 * as a blue line, the trained granularities as labelled red squares, the chosen configs ringed,
 * the budget as a dashed line; axes labelled with units.
 */
export function frontSvg(plot: FrontPlot): string {
  const all = [...plot.points, ...(plot.trained ?? [])];
  if (!all.length) throw new Error('frontSvg needs at least one point');
  const [x0, x1] = extent([...all.map((p) => p.cost), ...(plot.budget ? [plot.budget] : [])]);
  const [y0, y1] = extent(all.map((p) => p.loss));
  const px = (x: number) => M.left + ((x - x0) / (x1 - x0)) * (W - M.left - M.right);
  const py = (y: number) => H - M.bottom - ((y - y0) / (y1 - y0)) * (H - M.top - M.bottom);
  const fmtX = (v: number) => (plot.costKind === 'latency' ? v.toFixed(2) : formatCount(v));
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
  ];
  if (plot.title)
    out.push(
      `<text x="${W / 2}" y="24" text-anchor="middle" font-size="15">${esc(plot.title)}</text>`,
    );
  // Grid, ticks and tick labels.
  for (const t of ticks(x0, x1)) {
    const x = px(t).toFixed(1);
    out.push(
      `<line x1="${x}" y1="${M.top}" x2="${x}" y2="${H - M.bottom}" stroke="#eee"/>`,
      `<text x="${x}" y="${H - M.bottom + 16}" text-anchor="middle">${fmtX(t)}</text>`,
    );
  }
  for (const t of ticks(y0, y1)) {
    const y = py(t).toFixed(1);
    out.push(
      `<line x1="${M.left}" y1="${y}" x2="${W - M.right}" y2="${y}" stroke="#eee"/>`,
      `<text x="${M.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${+t.toPrecision(4)}</text>`,
    );
  }
  out.push(
    `<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="black"/>`,
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="black"/>`,
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 14}" text-anchor="middle" font-size="13">${esc(xAxisLabel[plot.costKind])}</text>`,
    `<text transform="translate(18 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="13">${esc(plot.yLabel ?? 'held-out loss (nats)')}</text>`,
  );
  if (plot.budget !== undefined) {
    const x = px(plot.budget).toFixed(1);
    out.push(
      `<line x1="${x}" y1="${M.top}" x2="${x}" y2="${H - M.bottom}" stroke="#888" stroke-dasharray="5 4"/>`,
      `<text x="${x}" y="${M.top - 4}" text-anchor="middle" fill="#555">budget</text>`,
    );
  }
  const tip = (p: Point) =>
    `<title>[${p.widths.join(', ')}] cost ${fmtX(p.cost)}, loss ${p.loss.toFixed(4)}</title>`;
  for (const p of plot.points)
    out.push(
      `<circle cx="${px(p.cost).toFixed(1)}" cy="${py(p.loss).toFixed(1)}" r="3" fill="#999" fill-opacity="0.6">${tip(p)}</circle>`,
    );
  if (plot.front.length) {
    const path = plot.front
      .map((p) => `${px(p.cost).toFixed(1)},${py(p.loss).toFixed(1)}`)
      .join(' ');
    out.push(`<polyline points="${path}" fill="none" stroke="#1f77b4" stroke-width="2"/>`);
    for (const p of plot.front)
      out.push(
        `<circle cx="${px(p.cost).toFixed(1)}" cy="${py(p.loss).toFixed(1)}" r="3.5" fill="#1f77b4">${tip(p)}</circle>`,
      );
  }
  for (const p of plot.trained ?? []) {
    const [x, y] = [px(p.cost), py(p.loss)];
    out.push(
      `<rect x="${(x - 5).toFixed(1)}" y="${(y - 5).toFixed(1)}" width="10" height="10" fill="#d62728">${tip(p)}</rect>`,
      `<text x="${(x + 8).toFixed(1)}" y="${(y - 8).toFixed(1)}" fill="#d62728">${p.widths[0]}</text>`,
    );
  }
  const ring = (p: Point | undefined, color: string) => {
    if (p)
      out.push(
        `<circle cx="${px(p.cost).toFixed(1)}" cy="${py(p.loss).toFixed(1)}" r="8" fill="none" stroke="${color}" stroke-width="2.5">${tip(p)}</circle>`,
      );
  };
  ring(plot.heuristicBest, '#ff7f0e');
  ring(plot.best, '#2ca02c');
  // Legend, top right.
  const legend: [string, string][] = [
    ['<circle r="3" fill="#999"/>', 'evaluated config'],
    ['<line x1="-8" x2="8" stroke="#1f77b4" stroke-width="2"/>', 'Pareto front'],
    ['<rect x="-5" y="-5" width="10" height="10" fill="#d62728"/>', 'trained granularity'],
  ];
  if (plot.best)
    legend.push(['<circle r="7" fill="none" stroke="#2ca02c" stroke-width="2.5"/>', 'search best']);
  if (plot.heuristicBest)
    legend.push([
      '<circle r="7" fill="none" stroke="#ff7f0e" stroke-width="2.5"/>',
      'heuristic best',
    ]);
  const lx = W - M.right - 158;
  out.push(
    `<rect x="${lx}" y="${M.top + 2}" width="152" height="${legend.length * 18 + 4}" fill="white" fill-opacity="0.85" stroke="#ccc"/>`,
  );
  legend.forEach(([mark, label], i) => {
    const y = M.top + 12 + i * 18;
    const x = lx + 12;
    out.push(
      `<g transform="translate(${x} ${y})">${mark}</g>`,
      `<text x="${x + 14}" y="${y}" dominant-baseline="middle">${label}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
