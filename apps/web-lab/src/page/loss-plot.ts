const SVG = 'http://www.w3.org/2000/svg';

/** One color per granularity, smallest first (colour-blind-safe Okabe–Ito picks). */
export const SERIES_COLORS = ['#E69F00', '#56B4E9', '#009E73', '#D55E00', '#CC79A7', '#0072B2'];

interface Series {
  train: [step: number, loss: number][];
  heldOut: [step: number, loss: number][];
}

/**
 * A live SVG line plot: one line of training loss per granularity, held-out losses as dots of
 * the same colour. Redrawn whole on each point (a few hundred points: cheap).
 */
export class LossPlot {
  private series = new Map<number, Series>();
  private totalSteps = 1;
  private readonly W = 900;
  private readonly H = 260;

  constructor(private readonly svg: SVGSVGElement) {}

  /** Starts over for a run of `steps` steps over these granularities. */
  reset(granularities: number[], steps: number): void {
    this.series = new Map(granularities.map((g) => [g, { train: [], heldOut: [] }]));
    this.totalSteps = Math.max(1, steps);
    this.draw();
  }

  addTrain(step: number, losses: Record<number, number>): void {
    for (const [g, l] of Object.entries(losses)) this.series.get(Number(g))?.train.push([step, l]);
    this.draw();
  }

  addHeldOut(step: number, losses: Record<number, number>): void {
    for (const [g, l] of Object.entries(losses))
      this.series.get(Number(g))?.heldOut.push([step, l]);
    this.draw();
  }

  private el(name: string, attrs: Record<string, string | number>, text?: string): SVGElement {
    const n = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
    if (text !== undefined) n.textContent = text;
    this.svg.appendChild(n);
    return n;
  }

  private draw(): void {
    const { W, H } = this;
    const [L, R, T, B] = [48, 120, 12, 30];
    this.svg.replaceChildren();
    const all = [...this.series.values()].flatMap((s) => [...s.train, ...s.heldOut]);
    const losses = all
      .map(([, l]) => l)
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    // The top of the scale ignores the highest 1% of points (a spike early in training would
    // flatten the rest of the curve); points above it are drawn at the top edge.
    const top = losses[Math.floor(0.99 * (losses.length - 1))];
    const lo = losses.length ? Math.floor(losses[0] * 4) / 4 : 0;
    const hi = losses.length ? Math.ceil(Math.max(top, lo + 0.25) * 4) / 4 : 1;
    const x = (step: number) => L + ((W - L - R) * step) / this.totalSteps;
    const y = (l: number) =>
      T + (H - T - B) * (1 - (Math.min(l, hi) - lo) / Math.max(1e-9, hi - lo));
    this.el('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: '#888' });
    this.el('line', { x1: L, y1: T, x2: L, y2: H - B, stroke: '#888' });
    for (let i = 0; i <= 4; i++) {
      const v = lo + ((hi - lo) * i) / 4;
      this.el(
        'text',
        { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', 'font-size': 11 },
        v.toFixed(2),
      );
      const s = Math.round((this.totalSteps * i) / 4);
      this.el(
        'text',
        { x: x(s), y: H - B + 16, 'text-anchor': 'middle', 'font-size': 11 },
        String(s),
      );
    }
    this.el(
      'text',
      { x: (L + W - R) / 2, y: H - 2, 'text-anchor': 'middle', 'font-size': 11 },
      'step',
    );
    this.el(
      'text',
      {
        x: 12,
        y: T + (H - T - B) / 2,
        'font-size': 11,
        transform: `rotate(-90 12 ${T + (H - T - B) / 2})`,
        'text-anchor': 'middle',
      },
      'loss (nats/byte)',
    );
    // Lines first, then every dot on top of them, then the legend.
    const series = [...this.series.entries()].map(([g, s], i) => ({
      g,
      s,
      i,
      color: SERIES_COLORS[i % SERIES_COLORS.length],
    }));
    for (const { g, s, color } of series)
      if (s.train.length > 1) {
        const d = s.train.map(
          ([st, l], j) => `${j ? 'L' : 'M'}${x(st).toFixed(1)},${y(l).toFixed(1)}`,
        );
        this.el('path', {
          d: d.join(''),
          fill: 'none',
          stroke: color,
          'stroke-width': 1.5,
          'data-width': g,
        });
      }
    for (const { g, s, color } of series)
      for (const [st, l] of s.heldOut)
        this.el('circle', {
          cx: x(st),
          cy: y(l),
          r: 4,
          fill: color,
          stroke: '#fff',
          'data-width': g,
        });
    for (const { g, i, color } of series) {
      const ly = T + 14 + 18 * i;
      this.el('rect', { x: W - R + 14, y: ly - 9, width: 10, height: 10, fill: color });
      this.el('text', { x: W - R + 30, y: ly, 'font-size': 12 }, `width ${g}`);
    }
  }
}
