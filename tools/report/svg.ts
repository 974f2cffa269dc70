// Line/scatter plots as standalone SVG: axes, ticks, labels, legend. No plotting dependency;
// the report needs a handful of 2-D charts, and SVG text diffs cleanly in the repository.

export type Marker = 'circle' | 'square' | 'triangle' | 'diamond' | 'dot' | 'none';

export interface Point {
  x: number;
  y: number;
  /** Drawn next to the marker (e.g. a width). */
  label?: string;
  /** An error bar from yLo to yHi (e.g. the range over seeds); both or neither. */
  yLo?: number;
  yHi?: number;
}

export interface Series {
  name: string;
  points: Point[];
  color: string;
  marker: Marker;
  /** Join the points (in the given order) with a line. */
  line?: boolean;
  dashed?: boolean;
}

export interface PlotSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  xLog?: boolean;
  /** Force the y range to include these values (e.g. 0 and 1 for a fraction). */
  yInclude?: number[];
  yFormat?: (v: number) => string;
  xFormat?: (v: number) => string;
}

const W = 820;
const H = 480;
const M = { left: 78, right: 230, top: 48, bottom: 62 }; // the legend lives in the right margin
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

export const palette = {
  matformer: '#1f6fb4',
  baseline: '#d1571b',
  mix: '#6a9f3a',
  front: '#2f8f5b',
  extra: '#7b4fa0',
  grey: '#777777',
};

export function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** Compact number: 1.2k, 3.4M, 0.25. */
export function si(v: number): string {
  const a = Math.abs(v);
  const trim = (x: number) => String(Number(x.toPrecision(3)));
  if (a >= 1e9) return `${trim(v / 1e9)}G`;
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e3) return `${trim(v / 1e3)}k`;
  return trim(v);
}

/** "Nice" linear ticks (steps of 1, 2 or 5 × 10^k) covering [lo, hi]. */
export function linearTicks(lo: number, hi: number, target = 6): number[] {
  const span = hi - lo;
  const raw = span / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => span / s <= target) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step)
    ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Log ticks at 1, 2, 5 × 10^k inside [lo, hi]; within a decade or so, nice linear ticks instead. */
export function logTicks(lo: number, hi: number): number[] {
  if (hi / lo < 12) {
    const lin = linearTicks(lo, hi, 5).filter((t) => t > 0);
    if (lin.length >= 3) return lin;
  }
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++)
    for (const f of [1, 2, 5]) {
      const t = f * 10 ** e;
      if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)) ticks.push(t);
    }
  return ticks.length >= 2 ? ticks : [lo, hi];
}

function range(values: number[], log: boolean): [number, number] {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (log) {
    // A little air on each side, in log space.
    const pad = Math.max((Math.log10(hi) - Math.log10(lo)) * 0.08, 0.05);
    return [10 ** (Math.log10(lo) - pad), 10 ** (Math.log10(hi) + pad)];
  }
  if (hi - lo < 1e-12) {
    // Flat data (e.g. a quick run where every model is equally untrained): open a visible band.
    const d = Math.max(Math.abs(hi) * 0.05, 1e-3);
    return [lo - d, hi + d];
  }
  const pad = (hi - lo) * 0.08;
  return [lo - pad, hi + pad];
}

function markerSvg(m: Marker, x: number, y: number, color: string): string {
  const f = `fill="${color}" stroke="#ffffff" stroke-width="1"`;
  switch (m) {
    case 'none':
      return '';
    case 'circle':
      return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="5" ${f}/>`;
    case 'dot':
      return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3" fill="${color}" fill-opacity="0.75"/>`;
    case 'square':
      return `<rect x="${(x - 4.5).toFixed(1)}" y="${(y - 4.5).toFixed(1)}" width="9" height="9" ${f}/>`;
    case 'triangle':
      return `<path d="M${x.toFixed(1)},${(y - 6).toFixed(1)} L${(x + 5.5).toFixed(1)},${(y + 4).toFixed(1)} L${(x - 5.5).toFixed(1)},${(y + 4).toFixed(1)} Z" ${f}/>`;
    case 'diamond':
      return `<path d="M${x.toFixed(1)},${(y - 6).toFixed(1)} L${(x + 6).toFixed(1)},${y.toFixed(1)} L${x.toFixed(1)},${(y + 6).toFixed(1)} L${(x - 6).toFixed(1)},${y.toFixed(1)} Z" ${f}/>`;
  }
}

/** Renders a plot to an SVG document string. Throws if no series has a finite point. */
/** Whether a point carries an error bar (both ends, finite). */
function hasBar(p: Point): p is Point & { yLo: number; yHi: number } {
  return Number.isFinite(p.yLo) && Number.isFinite(p.yHi);
}

export function plotSvg(spec: PlotSpec): string {
  const finite = (p: Point) =>
    Number.isFinite(p.x) && Number.isFinite(p.y) && (!spec.xLog || p.x > 0);
  const series = spec.series.map((s) => ({ ...s, points: s.points.filter(finite) }));
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) throw new Error(`plot "${spec.title}" has no finite points to draw`);
  const xLog = Boolean(spec.xLog);
  const [x0, x1] = range(
    all.map((p) => p.x),
    xLog,
  );
  const bars = all.flatMap((p) => (hasBar(p) ? [p.yLo, p.yHi] : []));
  const [y0, y1] = range([...all.map((p) => p.y), ...bars, ...(spec.yInclude ?? [])], false);
  const sx = (x: number) =>
    M.left +
    (xLog
      ? ((Math.log10(x) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0))) * PW
      : ((x - x0) / (x1 - x0)) * PW);
  const sy = (y: number) => M.top + PH - ((y - y0) / (y1 - y0)) * PH;
  const fx = spec.xFormat ?? si;
  const fy = spec.yFormat ?? ((v: number) => String(Number(v.toPrecision(4))));

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${M.left + PW / 2}" y="26" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(spec.title)}</text>`,
  );
  // Grid and ticks.
  const xt = xLog ? logTicks(x0, x1) : linearTicks(x0, x1);
  for (const t of xt) {
    const x = sx(t).toFixed(1);
    out.push(
      `<line x1="${x}" y1="${M.top}" x2="${x}" y2="${M.top + PH}" stroke="#e6e6e6"/>`,
      `<line x1="${x}" y1="${M.top + PH}" x2="${x}" y2="${M.top + PH + 5}" stroke="#333333"/>`,
      `<text x="${x}" y="${M.top + PH + 19}" text-anchor="middle">${escapeXml(fx(t))}</text>`,
    );
  }
  for (const t of linearTicks(y0, y1)) {
    const y = sy(t).toFixed(1);
    out.push(
      `<line x1="${M.left}" y1="${y}" x2="${M.left + PW}" y2="${y}" stroke="#e6e6e6"/>`,
      `<line x1="${M.left - 5}" y1="${y}" x2="${M.left}" y2="${y}" stroke="#333333"/>`,
      `<text x="${M.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(fy(t))}</text>`,
    );
  }
  // Axes and their labels.
  out.push(
    `<rect x="${M.left}" y="${M.top}" width="${PW}" height="${PH}" fill="none" stroke="#333333"/>`,
    `<text x="${M.left + PW / 2}" y="${H - 16}" text-anchor="middle" font-size="13">${escapeXml(spec.xLabel + (xLog ? ' (log scale)' : ''))}</text>`,
    `<text x="18" y="${M.top + PH / 2}" text-anchor="middle" font-size="13" transform="rotate(-90 18 ${M.top + PH / 2})">${escapeXml(spec.yLabel)}</text>`,
  );
  // Data: lines first, markers on top.
  for (const s of series) {
    if (s.line && s.points.length > 1) {
      const d = s.points
        .map((p, i) => `${i ? 'L' : 'M'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`)
        .join(' ');
      out.push(
        `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      );
    }
  }
  for (const s of series) {
    for (const p of s.points) {
      if (hasBar(p) && p.yHi > p.yLo) {
        const x = sx(p.x);
        const [a, b] = [sy(p.yLo).toFixed(1), sy(p.yHi).toFixed(1)];
        out.push(
          `<path d="M${x.toFixed(1)},${a} L${x.toFixed(1)},${b} M${(x - 4).toFixed(1)},${a} L${(x + 4).toFixed(1)},${a} M${(x - 4).toFixed(1)},${b} L${(x + 4).toFixed(1)},${b}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`,
        );
      }
      if (s.marker !== 'none') out.push(markerSvg(s.marker, sx(p.x), sy(p.y), s.color));
      if (p.label)
        out.push(
          `<text x="${(sx(p.x) + 7).toFixed(1)}" y="${(sy(p.y) - 7).toFixed(1)}" font-size="10" fill="${s.color}">${escapeXml(p.label)}</text>`,
        );
    }
  }
  // Legend, in the right margin so it never covers data.
  const lx = M.left + PW + 16;
  series.forEach((s, i) => {
    const ly = M.top + 10 + i * 22;
    if (s.line)
      out.push(
        `<path d="M${lx},${ly} L${lx + 26},${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      );
    if (s.marker !== 'none') out.push(markerSvg(s.marker, lx + 13, ly, s.color));
    out.push(
      `<text x="${lx + 34}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
