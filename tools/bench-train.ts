/**
 * Training throughput of the `small` MatLM on both engines, in one run (issue 13's benchmark).
 *   npm run bench:train -- [--steps 5] [--batch 8] [--seq 128] [--threads 2] [--no-rss] [--profile]
 * Prints tokens/s of joint training (all granularities per step) and plain full-width training
 * on the tfjs engine (its default backend, two threads) and on onnxruntime-node, the achieved
 * training GFLOP/s (cost model: 3 × forward FLOPs per token) as a share of the machine's fp32
 * peak — onnxruntime's MatMul at 2048³ with the same threads, measured in the same run (the FFN's
 * own shape is printed too: small shapes run below peak) — and peak RSS of ORT training
 * for `small` at batch 8 and `base` at batch 16 (each in its own process). onnxruntime rows also
 * split the step: the graph's run, the AdamW update, and the rest (JS on one thread while the
 * other core idles). --profile adds onnxruntime's kernel time by op and the matmuls by shape
 * (with their share of the peak), from a profiled run of the same steps.
 */
import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  describeBackend,
  flopsPerToken,
  MatLM,
  matlmConfig,
  median,
  selectBackend,
} from '@matformer/core';
import { createSession, DataType, encodeGraph, GraphBuilder, loadOrt } from '@matformer/core/onnx';
import {
  baselineConfig,
  lmTask,
  loadTextCorpus,
  summarizeOrtProfile,
  Trainer,
  type TrainEngine,
} from '@matformer/train';

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '5' },
    batch: { type: 'string', default: '8' },
    seq: { type: 'string', default: '128' },
    threads: { type: 'string', default: '2' },
    'no-rss': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'rss-child': { type: 'string' }, // internal: "<preset>:<batch>"
  },
});
const [steps, B, T, threads] = [args.steps, args.batch, args.seq, args.threads].map(Number);
const corpus = await loadTextCorpus();

interface Measured {
  tps: number;
  /** Median ms per step of onnxruntime's graph run, of AdamW, and of the rest (engine 'ort'). */
  phases?: { gradients: number; optimizer: number; rest: number; step: number };
}

/** tokens/s (median step) of a fresh Trainer on `engine`; with `profile`, a trace file prefix. */
async function measure(
  engine: TrainEngine,
  kind: 'joint' | 'plain',
  preset = 'small',
  batch = B,
  n = steps,
  profile?: string,
): Promise<Measured> {
  const config = matlmConfig(preset);
  const model = MatLM.create(kind === 'joint' ? config : baselineConfig(config, config.dFF));
  const task = lmTask(model, corpus, { batchSize: batch, seqLen: T });
  const trainer = new Trainer(task, { steps: 1000 }, { engine, parallel: true, threads, profile });
  await trainer.trainStep(); // warm-up: graph build, kernels, worker start
  const metrics = [];
  for (let i = 0; i < n; i++) metrics.push(await trainer.trainStep());
  await trainer.dispose();
  task.dispose();
  model.dispose();
  const step = median(metrics.map((m) => m.ms));
  const timed = metrics.filter((m) => m.phaseMs);
  const phases = timed.length
    ? {
        gradients: median(timed.map((m) => m.phaseMs!.gradients)),
        optimizer: median(timed.map((m) => m.phaseMs!.optimizer)),
        rest: median(timed.map((m) => m.ms - m.phaseMs!.gradients - m.phaseMs!.optimizer)),
        step,
      }
    : undefined;
  return { tps: (batch * T) / (step / 1000), phases };
}

if (args['rss-child']) {
  const [preset, batch] = args['rss-child'].split(':');
  await selectBackend();
  const { tps } = await measure('ort', 'joint', preset, Number(batch), 3);
  const peak = process.resourceUsage().maxRSS / 1024; // KiB → MiB
  console.log(JSON.stringify({ preset, batch: Number(batch), tps, peakMiB: peak }));
  process.exit(0);
}

/** onnxruntime's fp32 matmul rate (GFLOP/s) for [M, K] · [K, N], same threads, median of 25 after 5. */
async function ortMatmulGflops(M: number, K: number, N: number): Promise<number> {
  const ort = await loadOrt();
  const g = new GraphBuilder(17);
  const a = g.input('a', DataType.FLOAT, [M, K]);
  const b = g.input('b', DataType.FLOAT, [K, N]);
  g.op('MatMul', [a, b], {}, 'y');
  g.output('y', DataType.FLOAT, [M, N]);
  const s = await createSession(encodeGraph(g, { name: 'mm', producer: 'bench' }), 'matmul', {
    intraOpNumThreads: threads,
  });
  const feeds = {
    a: new ort.Tensor('float32', new Float32Array(M * K).fill(0.5), [M, K]),
    b: new ort.Tensor('float32', new Float32Array(K * N).fill(0.25), [K, N]),
  };
  const ms: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    await s.run(feeds);
    ms.push(performance.now() - t0);
  }
  await s.release();
  return (2 * M * K * N) / median(ms.slice(5)) / 1e6;
}

const backend = await selectBackend();
const config = matlmConfig('small');
const fullFlops = flopsPerToken(config, undefined, { context: T });
const jointFlops = config.granularities.reduce(
  (s, m) => s + flopsPerToken(config, m, { context: T }),
  0,
);
console.log(
  `small MatLM, batch ${B} × seq ${T}, ${threads} threads; median of ${steps} steps after 1 warm-up; tfjs backend: ${describeBackend(backend)}`,
);
// The process's first onnxruntime session runs its MatMul at about half speed (measured: 160 vs
// 300 GFLOP/s on this machine): take the better of two sessions as the peak.
const peak = Math.max(
  await ortMatmulGflops(2048, 2048, 2048),
  await ortMatmulGflops(2048, 2048, 2048),
);
const ffnShape = await ortMatmulGflops(B * T, config.dModel, config.dFF);
console.log(
  `fp32 peak, onnxruntime MatMul 2048³: ${peak.toFixed(0)} GFLOP/s; at the FFN's shape [${B * T}×${config.dModel}]·[${config.dModel}×${config.dFF}]: ${ffnShape.toFixed(0)} GFLOP/s (${((100 * ffnShape) / peak).toFixed(0)}% of peak)\n`,
);
console.log('engine  mode    tokens/s  train GFLOP/s  % of fp32 peak');
const results: Record<string, number> = {};
const split: string[] = [];
for (const kind of ['joint', 'plain'] as const) {
  for (const engine of ['tfjs', 'ort'] as const) {
    const { tps, phases } = await measure(engine, kind);
    const gflops = (tps * 3 * (kind === 'joint' ? jointFlops : fullFlops)) / 1e9;
    results[`${engine}-${kind}`] = tps;
    console.log(
      `${engine.padEnd(6)}  ${kind.padEnd(6)}  ${tps.toFixed(0).padStart(8)}  ${gflops.toFixed(1).padStart(13)}  ${((100 * gflops) / peak).toFixed(0).padStart(13)}%`,
    );
    if (phases) {
      const pct = (x: number) => `${((100 * x) / phases.step).toFixed(0)}%`;
      split.push(
        `ort ${kind}: step ${phases.step.toFixed(1)} ms = graph ${phases.gradients.toFixed(1)} (${pct(phases.gradients)}) + AdamW ${phases.optimizer.toFixed(1)} (${pct(phases.optimizer)}, both cores) + rest ${phases.rest.toFixed(1)} (${pct(phases.rest)}, one core idle)`,
      );
    }
  }
}
console.log(`\n${split.join('\n')}\n`);
for (const kind of ['joint', 'plain'])
  console.log(
    `${kind}: ort / tfjs = ${(results[`ort-${kind}`] / results[`tfjs-${kind}`]).toFixed(1)}×${kind === 'joint' ? ' (target ≥ 6×)' : ''}`,
  );
tf.disposeVariables();

if (args.profile) {
  const dir = await mkdtemp(join(tmpdir(), 'bench-train-profile-'));
  for (const kind of ['joint', 'plain'] as const) {
    await measure('ort', kind, 'small', B, steps, join(dir, kind));
    const file = (await readdir(dir)).find((f) => f.startsWith(`${kind}_`) && f.endsWith('.json'));
    const trace = JSON.parse(await readFile(join(dir, file!), 'utf8'));
    const p = summarizeOrtProfile(trace, { skipRuns: 1 }); // not the warm-up step
    console.log(
      `\nonnxruntime profile, ${kind} (kernel time ${p.kernelMs.toFixed(1)} ms per step, ${p.runs} runs):`,
    );
    for (const o of p.ops.slice(0, 12))
      console.log(
        `  ${o.op.padEnd(22)} ${o.ms.toFixed(1).padStart(7)} ms  ${(100 * o.share).toFixed(1).padStart(5)}%`,
      );
    console.log(`  matmuls by shape (count per step, ms per step, GFLOP/s, % of peak):`);
    for (const m of p.matmuls.slice(0, 14))
      console.log(
        `  ${m.op.padEnd(12)} ${m.shape.padEnd(24)} ${String(m.count).padStart(4)} ${m.ms.toFixed(1).padStart(7)} ${m.gflops.toFixed(0).padStart(6)} ${((100 * m.gflops) / peak).toFixed(0).padStart(5)}%`,
      );
  }
  await rm(dir, { recursive: true });
}

if (!args['no-rss']) {
  console.log('\npeak RSS of onnxruntime joint training (own process each):');
  for (const spec of ['small:8', 'base:16']) {
    const out = execFileSync(
      process.execPath,
      [
        ...process.execArgv,
        process.argv[1],
        '--rss-child',
        spec,
        '--seq',
        String(T),
        '--threads',
        String(threads),
      ],
      { encoding: 'utf8' },
    );
    const r = JSON.parse(out.trim().split('\n').pop()!);
    console.log(
      `  ${r.preset.padEnd(5)} batch ${String(r.batch).padStart(2)} × ${T}: ${r.peakMiB.toFixed(0)} MiB, ${r.tps.toFixed(0)} tokens/s`,
    );
  }
}
