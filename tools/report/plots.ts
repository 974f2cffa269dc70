// The report's figures, from the results: file name → SVG document.
import { engineLabel } from './decoding';
import type { Results } from './results';
import { palette, plotSvg, si, type Series } from './svg';

export const BITS = 1 / Math.LN2; // nats → bits (per byte, with the byte-level tokenizer)

const pct = (v: number) => `${Number((100 * v).toPrecision(3))}%`;
const widthLabel = (w: number) => `d_ff ${w}`;

export interface Figure {
  file: string;
  title: string;
  svg: string;
}

export function figures(r: Results): Figure[] {
  const out: Figure[] = [];
  const add = (file: string, spec: Parameters<typeof plotSvg>[0]) =>
    out.push({ file, title: spec.title, svg: plotSvg(spec) });

  // (1) Loss vs params, with Mix'n'Match.
  // Uniform configs are the granularities themselves (already drawn); plot only the mixed ones.
  const mixed = r.lm.mix.points.filter((p) => !p.widths.every((w) => w === p.widths[0]));
  const front = r.lm.mix.front.filter((p) => mixed.includes(p));
  const lo = (xs: number[]) => Math.min(...xs) * BITS;
  const hi = (xs: number[]) => Math.max(...xs) * BITS;
  const nSeeds = r.settings.lm.seeds.length;
  const upLambdas = r.settings.lm.upweightedLambdas;
  /** A family's seed-mean loss per width, with the seed range as an error bar. */
  const seedMeans = (family: 'matformer' | 'baseline', labelled: boolean) =>
    r.lm.losses.map((l) => ({
      x: l.params,
      y: l[family] * BITS,
      yLo: lo(l[`${family}Seeds`]),
      yHi: hi(l[`${family}Seeds`]),
      label: labelled ? String(l.width) : undefined,
    }));
  const lossSeries: Series[] = [
    {
      name: `MatLM (${nSeeds}-seed mean, range)`,
      color: palette.matformer,
      marker: 'circle',
      line: true,
      points: seedMeans('matformer', true),
    },
    {
      name: `baselines (${nSeeds}-seed mean, range)`,
      color: palette.baseline,
      marker: 'square',
      line: true,
      points: seedMeans('baseline', false),
    },
    {
      name: `MatLM seed ${r.settings.lm.seeds[0]} (Mix'n'Match's)`,
      color: palette.matformer,
      marker: 'dot',
      line: true,
      dashed: true,
      points: r.lm.losses.map((l) => ({ x: l.params, y: l.matformerSeeds[0] * BITS })),
    },
  ];
  if (upLambdas && r.lm.losses.every((l) => l.upweighted !== undefined))
    lossSeries.push({
      name: `MatLM, λ = ${upLambdas.join(',')} (seed ${r.settings.lm.seeds[0]})`,
      color: palette.extra,
      marker: 'circle',
      line: true,
      dashed: true,
      points: r.lm.losses.map((l) => ({ x: l.params, y: l.upweighted! * BITS })),
    });
  lossSeries.push(
    {
      name: "Mix'n'Match configs",
      color: palette.mix,
      marker: 'dot',
      points: mixed.map((p) => ({ x: p.params, y: p.loss * BITS })),
    },
    {
      name: "Mix'n'Match Pareto front",
      color: palette.front,
      marker: 'diamond',
      points: front.map((p) => ({ x: p.params, y: p.loss * BITS })),
    },
  );
  add('lm-loss-vs-params.svg', {
    title: 'Held-out loss vs parameters (MatLM on Moby Dick)',
    xLabel: 'parameters',
    yLabel: 'validation loss (bits/byte)',
    xLog: true,
    series: lossSeries,
  });

  // (2) Consistency.
  const cons = r.lm.consistency;
  add('lm-consistency-top1.svg', {
    title: 'Top-1 agreement with the full model',
    xLabel: 'submodel parameters',
    yLabel: 'top-1 agreement with the full model',
    xLog: true,
    yFormat: pct,
    series: [
      {
        name: 'MatLM submodel vs MatLM',
        color: palette.matformer,
        marker: 'circle',
        line: true,
        points: cons.map((c) => ({ x: c.params, y: c.matformer.top1Agreement, label: String(c.width) })),
      },
      {
        name: 'baseline vs full baseline',
        color: palette.baseline,
        marker: 'square',
        line: true,
        points: cons.map((c) => ({ x: c.params, y: c.baseline.top1Agreement })),
      },
    ],
  });
  add('lm-consistency-kl.svg', {
    title: 'KL(full ‖ submodel) over held-out positions',
    xLabel: 'submodel parameters',
    yLabel: 'mean KL (nats)',
    xLog: true,
    yInclude: [0],
    series: [
      {
        name: 'MatLM submodel vs MatLM',
        color: palette.matformer,
        marker: 'circle',
        line: true,
        points: cons.map((c) => ({ x: c.params, y: c.matformer.meanKL, label: String(c.width) })),
      },
      {
        name: 'baseline vs full baseline',
        color: palette.baseline,
        marker: 'square',
        line: true,
        points: cons.map((c) => ({ x: c.params, y: c.baseline.meanKL })),
      },
    ],
  });

  // (3) Speculative decoding. Acceptance does not depend on the engine (greedy): the first one's.
  const spec = r.lm.speculative[0]?.rows ?? [];
  add('lm-speculative-acceptance.svg', {
    title: `Speculative decoding: draft acceptance (greedy, k = ${r.settings.speculative.k})`,
    xLabel: 'draft parameters',
    yLabel: 'accepted / drafted tokens',
    xLog: true,
    yFormat: pct,
    yInclude: [0],
    series: [
      {
        name: 'MatLM draft → MatLM',
        color: palette.matformer,
        marker: 'circle',
        line: true,
        points: spec.map((s) => ({ x: s.params, y: s.matformer.acceptanceRate, label: String(s.width) })),
      },
      {
        name: 'baseline draft → baseline',
        color: palette.baseline,
        marker: 'square',
        line: true,
        points: spec.map((s) => ({ x: s.params, y: s.baseline.acceptanceRate })),
      },
    ],
  });
  const speedSeries: Series[] = [];
  const markers = [
    ['circle', 'square'],
    ['triangle', 'diamond'],
    ['triangle', 'diamond'],
  ] as const;
  for (const [i, res] of r.lm.speculative.entries()) {
    const dashed = i > 0;
    const tag = engineLabel(res);
    const [matMarker, baseMarker] = markers[Math.min(i, markers.length - 1)];
    speedSeries.push(
      {
        name: `MatLM draft, ${tag}`,
        color: palette.matformer,
        marker: matMarker,
        line: true,
        dashed,
        points: res.rows.map((s) => ({ x: s.params, y: s.matformer.speedup, label: dashed ? undefined : String(s.width) })),
      },
      {
        name: `baseline draft, ${tag}`,
        color: palette.baseline,
        marker: baseMarker,
        line: true,
        dashed,
        points: res.rows.map((s) => ({ x: s.params, y: s.baseline.speedup })),
      },
    );
  }
  speedSeries.push(
    {
      name: 'MatLM (FLOPs model)',
      color: palette.extra,
      marker: 'dot',
      line: true,
      dashed: true,
      points: spec.map((s) => ({ x: s.params, y: s.matformer.analytic })),
    },
    {
      name: 'baseline (FLOPs model)',
      color: palette.front,
      marker: 'dot',
      line: true,
      dashed: true,
      points: spec.map((s) => ({ x: s.params, y: s.baseline.analytic })),
    },
  );
  add('lm-speculative-speedup.svg', {
    title: 'Speculative decoding: wall-clock speed-up over plain greedy',
    xLabel: 'draft parameters',
    yLabel: 'speed-up (×)',
    xLog: true,
    yInclude: [1],
    series: speedSeries,
  });

  // (4) Retrieval.
  const ret = r.vit.retrieval.rows;
  add('vit-retrieval.svg', {
    title: 'MNIST 1-NN retrieval vs query compute (database: full model)',
    xLabel: 'query encoder FLOPs per image',
    yLabel: '1-NN accuracy',
    xLog: true,
    yFormat: pct,
    series: [
      {
        name: 'MatViT queries',
        color: palette.matformer,
        marker: 'circle',
        line: true,
        points: ret.map((x) => ({ x: x.flopsPerImage, y: x.matformer, label: widthLabel(x.width) })),
      },
      {
        name: 'baseline ViT queries',
        color: palette.baseline,
        marker: 'square',
        line: true,
        points: ret.map((x) => ({ x: x.flopsPerImage, y: x.baseline })),
      },
      {
        name: 'MatViT, re-indexed DB',
        color: palette.matformer,
        marker: 'dot',
        line: true,
        dashed: true,
        points: ret.map((x) => ({ x: x.flopsPerImage, y: x.matformerOwnDb })),
      },
      {
        name: 'baseline, re-indexed DB',
        color: palette.baseline,
        marker: 'dot',
        line: true,
        dashed: true,
        points: ret.map((x) => ({ x: x.flopsPerImage, y: x.baselineOwnDb })),
      },
      {
        name: '1-NN on raw pixels (L2)',
        color: palette.grey,
        marker: 'none',
        line: true,
        dashed: true,
        points: [ret[0], ret[ret.length - 1]].map((x) => ({ x: x.flopsPerImage, y: r.vit.retrieval.pixels.retrievalAccuracy })),
      },
    ],
  });

  // Training curves: a sanity check that both families trained (same steps, same data).
  // Per-step losses are noisy (one small batch each): plot a trailing moving average.
  const n = r.curves.matformer[0]?.length ?? 0;
  const window = Math.max(1, Math.round(n / 25));
  const smooth = (c: { step: number; loss: number }[]) =>
    c.map((p, i) => {
      const w = c.slice(Math.max(0, i - window + 1), i + 1);
      return { x: p.step, y: (w.reduce((s, q) => s + q.loss, 0) / w.length) * BITS };
    });
  const seeds = r.settings.lm.seeds;
  const curves: Series[] = [
    ...r.curves.matformer.map((c, i) => ({
      name: `MatLM (full width), seed ${seeds[i]}`,
      color: palette.matformer,
      marker: 'none' as const,
      line: true,
      dashed: i > 0,
      points: smooth(c),
    })),
    ...r.curves.baseline.map((c, i) => ({
      name: `baseline (full width), seed ${seeds[i]}`,
      color: palette.baseline,
      marker: 'none' as const,
      line: true,
      dashed: i > 0,
      points: smooth(c),
    })),
  ];
  // Held-out loss of every granularity during training: how the widths separate with tokens.
  const tokensPerStep = r.settings.lm.batchSize * r.settings.lm.seqLen;
  const widthColors = [palette.mix, palette.front, palette.extra, palette.matformer];
  add('lm-heldout-vs-tokens.svg', {
    title: 'Held-out loss of each MatLM granularity during training',
    xLabel: 'training tokens',
    yLabel: 'validation loss (bits/byte)',
    xFormat: si,
    series: r.settings.lm.config.granularities.flatMap((w, wi) =>
      r.lm.heldOut.map((evals, si_) => ({
        name: `d_ff ${w}, seed ${r.settings.lm.seeds[si_]}`,
        color: widthColors[wi % widthColors.length],
        marker: (si_ === 0 ? 'circle' : 'triangle') as 'circle' | 'triangle',
        line: true,
        dashed: si_ > 0,
        points: evals.map((e) => ({ x: e.step * tokensPerStep, y: e.losses[wi] * BITS })),
      })),
    ),
  });
  add('lm-training.svg', {
    title: `Training loss, full-width models${window > 1 ? ` (mean of the last ${window} steps)` : ''}`,
    xLabel: 'step',
    yLabel: 'training loss (bits/byte)',
    xFormat: si,
    series: curves,
  });
  return out;
}
