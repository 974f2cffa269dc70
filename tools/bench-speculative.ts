// Speculative decoding with MatFormer drafts: a benchmark, not a test. Prints tables.
//
//   npm run bench:speculative -- [options]   (= npx tsx --conditions=@matformer/source tools/bench-speculative.ts)
//     --preset large     MatLM preset of the verifier (large: 25.5M params, decoding bound by weights)
//     --steps 480 --batch 8 --seq 128   training (onnxruntime engine) when no cached run is found
//     --train-only       train or load the models, then stop
//     --prompts 8        held-out Moby Dick prompts, each --prompt-len 32 bytes, --new 96 new tokens
//     --reps 3           timing repetitions (per prompt and config the median counts)
//     --temperature 0.8  sampling rows
//     --engines onnx     engines: onnx (the decoder graph: in-place KV buffer, fused ops; int8
//                        drafts too), onnx-plain (the portable plain-op export), tfjs
//     --ort-threads 1    onnxruntime intra-op threads
//
// Models (cached under runs/bench-speculative/ by ./speculative-models.ts, trained on first use,
// resumed if interrupted): the preset's MatFormer trained jointly on Moby Dick, and an
// independent dense model at the smallest width (`baselineConfig`), same data, steps, recipe.
//
// Printed: consistency of each draft with the full model (expected sampling acceptance Σ min(p, q),
// top-1 agreement, KL, greedy match); per-call cost of the plain export vs the decoder graph;
// then per engine, verifier = the full model, draft = each smaller granularity (extracted to a
// dense model, as one would deploy it, float32 or int8 weights) or the independent model,
// greedy at several k and adaptive, with a shared KV cache, and rejection sampling:
// acceptance, α, tokens per verifier call, tokens/s and wall-clock speed-up over plain decoding of
// the full model (same engine, prompts and run), Leviathan et al.'s bound from the measured α and
// cost ratio c (median single-token forward times), measured/bound, and where the time went.
// Greedy outputs are checked to be identical to plain greedy decoding. Results also go to
// runs/bench-speculative/results.json.
import { mkdir } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import {
  MatLM,
  TfjsLMEngine,
  describeBackend,
  extract,
  matlmConfig,
  median,
  selectBackend,
  writeFileAtomic,
  type LMEngine,
  type LMPresetName,
} from '@matformer/core';
import { loadTextCorpus } from '@matformer/train';
import {
  analyticSpeedup,
  consistency,
  expectedTokensPerCall,
  forwardTimes,
  generate,
  speculativeGenerate,
  speculativeGenerateSharedCache,
  TimedEngine,
  tokenWindows,
  type SpeculativeResult,
} from '@matformer/speculative';
import { pct } from './report/format';
import { speculativeModels } from './speculative-models';

const { values: args } = parseArgs({
  options: {
    preset: { type: 'string', default: 'large' },
    steps: { type: 'string', default: '480' },
    batch: { type: 'string', default: '8' },
    seq: { type: 'string', default: '128' },
    'train-threads': { type: 'string' },
    'train-only': { type: 'boolean', default: false },
    prompts: { type: 'string', default: '8' },
    'prompt-len': { type: 'string', default: '32' },
    new: { type: 'string', default: '96' },
    reps: { type: 'string', default: '3' },
    engines: { type: 'string', default: 'onnx' },
    'ort-threads': { type: 'string', default: '1' },
    temperature: { type: 'string', default: '0.8' },
  },
});
const preset = args.preset as LMPresetName;
const steps = Number(args.steps);
const batchSize = Number(args.batch);
const seqLen = Number(args.seq);
const nPrompts = Number(args.prompts);
const promptLen = Number(args['prompt-len']);
const newTokens = Number(args.new);
const reps = Number(args.reps);
const engineKinds = args.engines!.split(',');
const ortThreads = Number(args['ort-threads']);
const temperature = Number(args.temperature);
const trainThreads = args['train-threads'] ? Number(args['train-threads']) : undefined;
const outDir = 'runs/bench-speculative';
const t00 = performance.now();

const f2 = (x: number) => x.toFixed(2);
const elapsed = () => `${((performance.now() - t00) / 1000).toFixed(0)} s`;

function table(header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const w = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  for (const [j, r] of cells.entries()) {
    console.log(r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  '));
    if (j === 0) console.log(w.map((n) => '-'.repeat(n)).join('  '));
  }
}

// ---------------------------------------------------------------------------------------------
// Engines: verifier = the full model, drafts = extracted submodels.

/** An engine for `model` (at `width`); `int8`: int8 weights (decoder graph only: drafts). */
type Factory = (model: MatLM, width?: number, int8?: boolean) => Promise<LMEngine<unknown>>;

async function engineFactory(kind: string): Promise<Factory | string> {
  if (kind === 'tfjs')
    return async (model, width) =>
      new TfjsLMEngine(width === undefined ? model : extract(model, width)) as LMEngine<unknown>;
  if (kind === 'onnx' || kind === 'onnx-plain') {
    try {
      const onnx = await import('@matformer/core/onnx');
      await onnx.loadOrt();
      // 'onnx': the decoder graph (in-place KV buffer, fused attention); 'onnx-plain': the
      // portable plain-op export, whose every call feeds and returns the whole cache.
      if (kind === 'onnx')
        return async (model, width, int8) =>
          (await onnx.OnnxDecoderEngine.fromModel(model, {
            widths: width,
            intraOpNumThreads: ortThreads,
            quantize: int8 ? 'int8' : undefined,
          })) as LMEngine<unknown>;
      return async (model, width) =>
        (await onnx.OnnxLMEngine.fromBytes(toBytes(onnx, model, width), {
          intraOpNumThreads: ortThreads,
        })) as LMEngine<unknown>;
    } catch (e) {
      return `onnx engine unavailable: ${(e as Error).message.split('\n')[0]}`;
    }
  }
  return `unknown engine "${kind}" (allowed: tfjs, onnx, onnx-plain)`;
}

function toBytes(
  onnx: typeof import('@matformer/core/onnx'),
  model: MatLM,
  width?: number,
): Uint8Array {
  return onnx.toOnnx(model, width === undefined ? {} : { widths: width }).bytes;
}

/** ms of each of `n` forwards of `T` tokens after a cache of `ctx` positions (a letter pattern). */
const forwardMs = (engine: LMEngine<unknown>, ctx: number, T: number, n: number) =>
  forwardTimes(
    engine,
    Array.from({ length: ctx }, (_, i) => 97 + (i % 26)),
    T,
    n,
  );

// ---------------------------------------------------------------------------------------------

interface Config {
  label: string;
  /** Key of the draft engine: "<width>", "<width> int8", "baseline", "baseline int8". */
  draft?: string;
  k?: number;
  adaptive?: boolean;
  shared?: boolean;
  /** Sample at temperature 1 (rejection sampling) instead of greedy. */
  sample?: boolean;
}

interface Row {
  config: Config;
  ms: number;
  tokens: number;
  drafted: number;
  accepted: number;
  rejections: number;
  verifierCalls: number;
  draftCalls: number;
  kSum: number;
  rounds: number;
  identical: number;
  /** ms inside verifier forwards, draft forwards, truncate + release; the rest is the loop's own. */
  split: { verifier: number; draft: number; cache: number };
}

async function benchEngine(
  kind: string,
  make: Factory,
  model: MatLM,
  baseline: MatLM,
  prompts: number[][],
): Promise<Record<string, unknown>> {
  const g = model.config.granularities;
  const drafts = g.slice(0, -1);
  console.log(
    `\n== engine: ${kind}  (verifier: full width ${g[g.length - 1]}; drafts: extracted widths ${drafts.join(', ')})`,
  );
  const verifier = new TimedEngine(await make(model));
  // Drafts: each nested width extracted (as one would deploy it), the independent dense model,
  // and on the decoder engine their int8-weight versions too (a quarter of the bytes per step).
  const int8 = kind === 'onnx';
  const draftEngines = new Map<string, TimedEngine<unknown>>();
  for (const w of drafts) draftEngines.set(`${w}`, new TimedEngine(await make(model, w)));
  draftEngines.set('baseline', new TimedEngine(await make(baseline)));
  if (int8) {
    for (const w of drafts)
      draftEngines.set(`${w} int8`, new TimedEngine(await make(model, w, true)));
    draftEngines.set('baseline int8', new TimedEngine(await make(baseline, undefined, true)));
  }
  const nameOf = (d: string) =>
    d.startsWith('baseline') ? d.replace('baseline', `independent ${g[0]}`) : `draft ${d}`;

  // Cost ratio c = draft step / verifier step (single token, mid-generation context), interleaved.
  const ctx = promptLen + Math.floor(newTokens / 2);
  const nTime = kind === 'tfjs' ? 15 : 40;
  const cost = new Map<string, number>();
  const vTimes: number[] = [];
  const dTimes = new Map<string, number[]>();
  for (let r = 0; r < 3; r++) {
    vTimes.push(...(await forwardMs(verifier, ctx, 1, nTime)));
    for (const [w, e] of draftEngines)
      dTimes.set(w, [...(dTimes.get(w) ?? []), ...(await forwardMs(e, ctx, 1, nTime))]);
  }
  const vStep = median(vTimes);
  for (const [w, t] of dTimes) cost.set(w, median(t) / vStep);
  // The bound assumes verifying k + 1 tokens costs one step; measure what it really costs.
  const verifyCost = new Map<number, number>();
  for (let k = 1; k <= 6; k++)
    verifyCost.set(k, median(await forwardMs(verifier, ctx, k + 1, nTime)) / vStep);
  console.log(
    `verifier step ${f2(vStep)} ms; draft steps (ms) and c = draft step / verifier step:\n  ${[
      ...cost,
    ]
      .map(([w, c]) => `${nameOf(w)}: ${f2(c * vStep)} (c ${f2(c)})`)
      .join('\n  ')}`,
  );
  console.log(
    `verifier forward of k+1 tokens / of 1 token: ${[...verifyCost].map(([k, v]) => `k=${k}: ${f2(v)}`).join(', ')}`,
  );

  const T = f2(temperature);
  const configs: Config[] = [
    { label: 'plain greedy (full)' },
    { label: `plain sampling T=${T} (full)`, sample: true },
  ];
  const add = (d: string, k: number, extra: Partial<Config> = {}) =>
    configs.push({
      label: `${nameOf(d)}${extra.shared ? ' shared cache' : ''}${extra.sample ? ` sampling T=${T}` : ''}, ${extra.adaptive ? 'adaptive (k0=3)' : `k=${k}`}`,
      draft: d,
      k,
      adaptive: false,
      ...extra,
    });
  const ks = kind === 'tfjs' ? [1, 2, 3] : [2, 3, 4, 6]; // tfjs steps are ~15× slower: fewer rows
  for (const [i, w] of drafts.entries()) {
    // The widest float draft costs most of a step: only short drafts can pay.
    for (const k of i === 0 ? ks : int8 ? [] : ks.slice(1, 2)) add(`${w}`, k);
    add(`${w}`, 3, { adaptive: true });
  }
  for (const k of [3, 4]) add('baseline', k);
  if (int8) {
    for (const w of drafts) {
      for (const k of [3, 4, 6]) add(`${w} int8`, k);
      add(`${w} int8`, 3, { adaptive: true });
    }
    for (const k of [3, 4]) add('baseline int8', k);
    add('baseline int8', 3, { adaptive: true });
  }
  add(`${drafts[0]}`, 4, { shared: true });
  if (int8) add(`${drafts[1]} int8`, 4, { shared: true });
  for (const d of int8
    ? [`${drafts[0]}`, `${drafts[0]} int8`, `${drafts[1]} int8`, 'baseline int8']
    : [`${drafts[0]}`, 'baseline'])
    for (const k of [3, 4]) add(d, k, { sample: true });

  // Every config on every prompt, `reps` times in rotated order; per (config, prompt) the
  // median run counts (and its split of the time).
  type Timed = { ms: number; split: { verifier: number; draft: number; cache: number } };
  const runs: Timed[][][] = configs.map(() => prompts.map(() => []));
  const last: (SpeculativeResult | { tokens: number[] } | undefined)[][] = configs.map(() =>
    prompts.map(() => undefined),
  );
  const reference: number[][] = [];
  for (let rep = 0; rep < reps; rep++) {
    for (const [pi, prompt] of prompts.entries()) {
      for (let j = 0; j < configs.length; j++) {
        const ci = (j + rep * 7 + pi) % configs.length;
        const c = configs[ci];
        const draftEngine = c.draft === undefined ? undefined : draftEngines.get(c.draft)!;
        verifier.reset();
        draftEngine?.reset();
        const t0 = performance.now();
        let out: SpeculativeResult | { tokens: number[] };
        const sampling = c.sample ? { temperature, seed: pi + 1000 * rep } : {};
        if (c.draft === undefined)
          out = await generate(verifier, prompt, { maxNewTokens: newTokens, ...sampling });
        else {
          const run = c.shared ? speculativeGenerateSharedCache : speculativeGenerate;
          out = await run(draftEngine!, verifier, prompt, {
            maxNewTokens: newTokens,
            k: c.k,
            adaptive: c.adaptive,
            ...sampling,
          });
        }
        const ms = performance.now() - t0;
        runs[ci][pi].push({
          ms,
          split: {
            verifier: verifier.forwardMs,
            draft: draftEngine?.forwardMs ?? 0,
            cache: verifier.otherMs + (draftEngine?.otherMs ?? 0),
          },
        });
        last[ci][pi] = out;
        if (c.draft === undefined && !c.sample) reference[pi] = out.tokens;
      }
    }
    console.log(`  timing rep ${rep + 1}/${reps} done [${elapsed()}]`);
  }
  const medianRun = (r: Timed[]) =>
    [...r].sort((a, b) => a.ms - b.ms)[Math.floor((r.length - 1) / 2)];
  const best = runs.map((c) => c.map((r) => medianRun(r).ms));
  const split = runs.map((c) => c.map((r) => medianRun(r).split));

  const rows: Row[] = configs.map((config, ci) => {
    const row: Row = {
      config,
      ms: 0,
      tokens: 0,
      drafted: 0,
      accepted: 0,
      rejections: 0,
      verifierCalls: 0,
      draftCalls: 0,
      kSum: 0,
      rounds: 0,
      identical: 0,
      split: { verifier: 0, draft: 0, cache: 0 },
    };
    prompts.forEach((_, pi) => {
      const out = last[ci][pi]!;
      row.ms += best[ci][pi];
      row.split.verifier += split[ci][pi].verifier;
      row.split.draft += split[ci][pi].draft;
      row.split.cache += split[ci][pi].cache;
      row.tokens += out.tokens.length;
      if (out.tokens.join() === reference[pi].join()) row.identical++;
      if ('stats' in out) {
        const s = out.stats;
        row.drafted += s.drafted;
        row.accepted += s.accepted;
        row.rejections += s.rejections;
        row.verifierCalls += s.verifierCalls;
        row.draftCalls += s.draftCalls;
        row.kSum += s.meanK * s.rounds;
        row.rounds += s.rounds;
      }
    });
    return row;
  });
  const plainOf = (c: Config) => rows[c.sample ? 1 : 0];
  const plainTps = (rows[0].tokens / rows[0].ms) * 1000;
  console.log(
    `\nplain decoding of the full model: greedy ${f2(plainTps)} tokens/s (${rows[0].tokens} tokens, ${(rows[0].ms / 1000).toFixed(1)} s); ` +
      `sampling ${f2((rows[1].tokens / rows[1].ms) * 1000)} tokens/s`,
  );
  const out: Record<string, unknown>[] = [];
  const tableRows = rows.slice(2).map((r) => {
    const alpha = r.accepted / Math.max(1, r.accepted + r.rejections);
    const c = cost.get(r.config.draft!)!;
    const k = r.config.adaptive ? r.kSum / r.rounds : r.config.k!;
    const kInt = Math.max(1, Math.round(k));
    const bound = analyticSpeedup(alpha, kInt, c);
    // Same formula with the verifier's measured cost of a (k+1)-token forward instead of 1.
    const boundV =
      expectedTokensPerCall(alpha, kInt) / (kInt * c + (verifyCost.get(Math.min(6, kInt)) ?? 1));
    const plain = plainOf(r.config);
    const speedup = plain.ms / plain.tokens / (r.ms / r.tokens); // per generated token
    out.push({
      ...r.config,
      ms: r.ms,
      split: r.split,
      tokens: r.tokens,
      verifierCalls: r.verifierCalls,
      draftCalls: r.draftCalls,
      alpha,
      acceptance: r.accepted / r.drafted,
      c,
      speedup,
      bound,
      boundWithVerifyCost: boundV,
      ofStepTimeBound: speedup / boundV,
      tokensPerVerifierCall: r.tokens / r.verifierCalls,
      tokensPerSecond: (r.tokens / r.ms) * 1000,
      identical: r.identical,
      prompts: prompts.length,
    });
    return [
      r.config.label,
      f2((r.tokens / r.ms) * 1000),
      pct(r.accepted / r.drafted),
      f2(alpha),
      f2(r.tokens / r.verifierCalls),
      f2(k),
      f2(c),
      `${f2(speedup)}×`,
      `${f2(bound)}×`,
      `${f2(boundV)}×`,
      pct(speedup / boundV),
      r.config.sample ? '-' : `${r.identical}/${prompts.length}`,
    ];
  });
  table(
    [
      'config',
      'tok/s',
      'accept',
      'α',
      'tok/vcall',
      'k',
      'c',
      'speed-up',
      'bound(v=1)',
      'step-time bound',
      'meas/bound',
      'same as plain',
    ],
    tableRows,
  );
  console.log(
    'accept = accepted/drafted; α = accepted/(accepted + rejections), the per-token acceptance of the bound;\n' +
      'bound(v=1) = (1 − α^{k+1}) / ((1 − α)(k·c + 1)) (Leviathan et al.: a (k+1)-token verification costs one step);\n' +
      "step-time bound = the same with the verifier's measured (k+1)-token forward in place of 1 (every cost a measured\n" +
      'step time); meas/bound = speed-up ÷ step-time bound; speed-up = plain time / speculative time per token, same prompts,\n' +
      'same run (sampling rows against plain sampling; their outputs differ by design: same distribution, other draws).',
  );

  // Where the time goes: inside the engines' forwards, in cache rollback/release, and in the loop itself.
  const plainCallMs = rows[0].split.verifier / rows[0].tokens; // plain decoding: one call per token
  console.log(
    '\nwhere the time goes, in ms per generated token (verifier forwards, draft forwards, cache truncate +\n' +
      "release, the loop's own work), and per call; c(run) = draft ms/call ÷ plain decoding's verifier ms/call",
  );
  table(
    [
      'config',
      'ms/tok',
      'verifier',
      'draft',
      'cache',
      'loop',
      'v calls',
      'ms/vcall',
      'd calls',
      'ms/dcall',
      'c(run)',
    ],
    rows.map((r) => {
      const isPlain = r.config.draft === undefined;
      const calls = isPlain ? r.tokens : r.verifierCalls;
      const dCall = r.draftCalls ? r.split.draft / r.draftCalls : 0;
      return [
        r.config.label,
        f2(r.ms / r.tokens),
        f2(r.split.verifier / r.tokens),
        f2(r.split.draft / r.tokens),
        f2(r.split.cache / r.tokens),
        f2((r.ms - r.split.verifier - r.split.draft - r.split.cache) / r.tokens),
        calls,
        f2(r.split.verifier / calls),
        isPlain ? '-' : r.draftCalls,
        isPlain ? '-' : f2(dCall),
        isPlain ? '-' : f2(dCall / plainCallMs),
      ];
    }),
  );

  verifier.dispose();
  for (const e of draftEngines.values()) e.dispose();
  return {
    engine: kind,
    verifierStepMs: vStep,
    plainTokensPerSecond: plainTps,
    plainSamplingTokensPerSecond: (rows[1].tokens / rows[1].ms) * 1000,
    cost: Object.fromEntries(cost),
    verifyCost: Object.fromEntries(verifyCost),
    rows: out,
  };
}

// ---------------------------------------------------------------------------------------------

const backend = await selectBackend();
console.log(
  `backend: ${describeBackend(backend)}; ${availableParallelism()} cores, load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
const corpus = await loadTextCorpus();
console.log(
  `data: Moby Dick, ${corpus.train.length} training bytes, ${corpus.val.length} held-out bytes`,
);

// The verifier: the preset's MatFormer, jointly trained here on onnxruntime (cached under runs/:
// trained once, reused or resumed after; the report uses the same cache). The independent draft: a
// dense model of the smallest width, same data, steps and recipe.
const { model, baseline } = await speculativeModels({
  root: outDir,
  training: { label: preset, config: matlmConfig(preset), steps, batchSize, seqLen },
  corpus,
  threads: trainThreads,
  log: (line) => console.log(`${line} [${elapsed()}]`),
});
const trainedSteps = steps;
const g0 = model.config.granularities[0];
if (args['train-only']) {
  console.log(`models ready [${elapsed()}]`);
  process.exit(0);
}
if (promptLen + newTokens > Math.min(seqLen, model.config.maxSeqLen))
  console.log(
    `  note: prompt + new (${promptLen + newTokens}) exceeds the training window ${seqLen}`,
  );

// Held-out prompts (byte windows) and consistency windows.
const prompts = tokenWindows(corpus.val, nPrompts, promptLen);
const windows = tokenWindows(corpus.val, 16, Math.min(64, model.config.maxSeqLen));

// Consistency does not depend on the engine (up to float rounding): use the fastest that loads.
const factories = new Map<string, Factory | string>();
for (const kind of engineKinds) factories.set(kind, await engineFactory(kind));
const [consKind, consMake] =
  [...factories].find(([k, f]) => k === 'onnx' && typeof f !== 'string') ??
  (['tfjs', (await engineFactory('tfjs')) as Factory] as const);
console.log(
  `\n== consistency with the full model (${consKind}; ${windows.length} held-out windows of ${windows[0].length} bytes; greedy match on ${nPrompts} prompts × ${Math.min(newTokens, 48)})`,
);
const consTokens = Math.min(newTokens, 48); // greedy match over the first 48 new tokens
const full = await (consMake as Factory)(model);
const consRows: (string | number)[][] = [];
const cons: Record<string, unknown> = {};
const candidates: [string, MatLM, number | undefined, boolean][] = [
  ...model.config.granularities
    .slice(0, -1)
    .map((w): [string, MatLM, number, boolean] => [`MatFormer width ${w}`, model, w, false]),
  [`independent width ${g0}`, baseline, undefined, false],
];
if (consKind === 'onnx')
  candidates.push(
    ...model.config.granularities
      .slice(0, -1)
      .map((w): [string, MatLM, number, boolean] => [`MatFormer width ${w} int8`, model, w, true]),
    [`independent width ${g0} int8`, baseline, undefined, true],
  );
for (const [label, m, w, q] of candidates) {
  const engine = await (consMake as Factory)(m, w, q);
  const r = await consistency(full, engine, windows, { prompts, greedyTokens: consTokens });
  engine.dispose();
  cons[label] = r;
  consRows.push([
    label,
    pct(r.expectedAcceptance),
    pct(r.top1Agreement),
    r.meanKL.toFixed(3),
    pct(r.greedyMatch),
    f2(r.greedyPrefix),
  ]);
}
full.dispose();
table(
  ['draft', 'E[α] sampling', 'top-1 agree', 'KL(full‖draft)', 'greedy match', 'greedy prefix'],
  consRows,
);
console.log(`[${elapsed()}]`);

// Per-call cost, before (the plain-op export: every call feeds the whole cache in and gets a new,
// longer one back) and after (the decoder graph: static KV buffer appended in place, fused ops).
// The tiny preset shows the fixed cost of a call; the benchmark's model how much of a step it is.
const perCall: Record<string, unknown>[] = [];
const plainMake = await engineFactory('onnx-plain');
const decoderMake = await engineFactory('onnx');
if (typeof plainMake !== 'string' && typeof decoderMake !== 'string') {
  console.log(
    `\n== per-call cost on onnxruntime (${ortThreads} thread(s); median ms of one forward of T tokens after ctx cached positions)`,
  );
  const tiny = MatLM.create(matlmConfig('tiny', { vocabSize: 256, maxSeqLen: 256 }), 0);
  const cases: [string, MatLM, number | undefined][] = [
    ['tiny (13k params)', tiny, undefined],
    [`${preset} full`, model, undefined],
    [`${preset} width ${g0}`, model, g0],
  ];
  const rowsOut: (string | number)[][] = [];
  for (const [label, m, w] of cases) {
    const engines = { plain: await plainMake(m, w), decoder: await decoderMake(m, w) };
    for (const ctx of [...new Set([64, Math.min(192, m.config.maxSeqLen - 6)])]) {
      const t: Record<string, number> = {};
      for (let r = 0; r < 3; r++)
        for (const [name, e] of Object.entries(engines))
          for (const T of [1, 5]) {
            const key = `${name} T=${T}`;
            const times = await forwardMs(e, ctx, T, 15);
            t[key] = t[key] === undefined ? median(times) : Math.min(t[key], median(times));
          }
      rowsOut.push([
        label,
        ctx,
        f2(t['plain T=1']),
        f2(t['decoder T=1']),
        f2(t['plain T=5']),
        f2(t['decoder T=5']),
      ]);
      perCall.push({ model: label, ctx, ...t });
    }
    Object.values(engines).forEach((e) => e.dispose());
  }
  tiny.dispose();
  table(['model', 'ctx', 'plain T=1', 'decoder T=1', 'plain T=5', 'decoder T=5'], rowsOut);
  console.log(
    '(best of 3 interleaved medians of 15 calls each; T=5 = verifying k=4 drafts in one call)',
  );
}

const results: Record<string, unknown>[] = [];
for (const kind of engineKinds) {
  const make = factories.get(kind)!;
  if (typeof make === 'string') {
    console.log(`\n== engine: ${kind}: skipped (${make})`);
    continue;
  }
  results.push(await benchEngine(kind, make, model, baseline, prompts));
  console.log(`[${elapsed()}]`);
}

await mkdir(outDir, { recursive: true });
await writeFileAtomic(
  `${outDir}/results.json`,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      load: loadavg(),
      steps: trainedSteps,
      preset,
      perCall,
      consistency: cons,
      engines: results,
    },
    null,
    2,
  ),
);
console.log(`\nresults written to ${outDir}/results.json; total ${elapsed()}`);
model.dispose();
baseline.dispose();
process.exit(0);
