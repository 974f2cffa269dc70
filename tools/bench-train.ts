/**
 * Training throughput of the `small` MatLM on both engines, in one run (issue 13's benchmark).
 *   npm run bench:train -- [--steps 5] [--batch 8] [--seq 128] [--threads 2] [--no-rss]
 * Prints tokens/s of joint training (all granularities per step) and plain full-width training
 * on the tfjs engine (its default backend, two threads) and on onnxruntime-node, the achieved
 * training GFLOP/s (cost model: 3 × forward FLOPs per token) as a share of the machine's fp32
 * peak — onnxruntime's MatMul at 2048³ with the same threads, measured in the same run (the FFN's
 * own shape is printed too: small shapes run below peak) — and peak RSS of ORT training
 * for `small` at batch 8 and `base` at batch 16 (each in its own process).
 */
import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
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
    'rss-child': { type: 'string' }, // internal: "<preset>:<batch>"
  },
});
const [steps, B, T, threads] = [args.steps, args.batch, args.seq, args.threads].map(Number);
const corpus = await loadTextCorpus();

/** tokens/s (median step) of a fresh Trainer on `engine`. */
async function tokensPerSecond(
  engine: TrainEngine,
  kind: 'joint' | 'plain',
  preset = 'small',
  batch = B,
  n = steps,
): Promise<number> {
  const config = matlmConfig(preset);
  const model = MatLM.create(kind === 'joint' ? config : baselineConfig(config, config.dFF));
  const task = lmTask(model, corpus, { batchSize: batch, seqLen: T });
  const trainer = new Trainer(task, { steps: 1000 }, { engine, parallel: true, threads });
  await trainer.trainStep(); // warm-up: graph build, kernels, worker start
  const ms: number[] = [];
  for (let i = 0; i < n; i++) ms.push((await trainer.trainStep()).ms);
  await trainer.dispose();
  task.dispose();
  model.dispose();
  return (batch * T) / (median(ms) / 1000);
}

if (args['rss-child']) {
  const [preset, batch] = args['rss-child'].split(':');
  await selectBackend();
  const tps = await tokensPerSecond('ort', 'joint', preset, Number(batch), 3);
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
for (const kind of ['joint', 'plain'] as const) {
  for (const engine of ['tfjs', 'ort'] as const) {
    const tps = await tokensPerSecond(engine, kind);
    const gflops = (tps * 3 * (kind === 'joint' ? jointFlops : fullFlops)) / 1e9;
    results[`${engine}-${kind}`] = tps;
    console.log(
      `${engine.padEnd(6)}  ${kind.padEnd(6)}  ${tps.toFixed(0).padStart(8)}  ${gflops.toFixed(1).padStart(13)}  ${((100 * gflops) / peak).toFixed(0).padStart(13)}%`,
    );
  }
}
for (const kind of ['joint', 'plain'])
  console.log(
    `${kind}: ort / tfjs = ${(results[`ort-${kind}`] / results[`tfjs-${kind}`]).toFixed(1)}×${kind === 'joint' ? ' (target ≥ 6×)' : ''}`,
  );
tf.disposeVariables();

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
