/**
 * Training throughput of the `small` MatLM on both engines, in one run (issue 13's benchmark).
 *   npm run bench:train -- [--steps 5] [--batch 8] [--seq 128] [--threads 2] [--no-rss]
 * Prints tokens/s of joint training (all granularities per step) and plain full-width training
 * on the tfjs engine (its default backend, two threads) and on onnxruntime-node, the achieved
 * training GFLOP/s (cost model: 3 × forward FLOPs per token) as a share of onnxruntime's raw
 * fp32 matmul rate measured in the same run at the FFN's shape, and peak RSS of ORT training
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

/** onnxruntime's fp32 matmul rate at the FFN's shape [B·T, C] × [C, dFF], same threads. */
async function ortMatmulGflops(C: number, F: number): Promise<number> {
  const ort = await loadOrt();
  const g = new GraphBuilder(17);
  const a = g.input('a', DataType.FLOAT, [B * T, C]);
  const b = g.input('b', DataType.FLOAT, [C, F]);
  g.op('MatMul', [a, b], {}, 'y');
  g.output('y', DataType.FLOAT, [B * T, F]);
  const s = await createSession(encodeGraph(g, { name: 'mm', producer: 'bench' }), 'matmul', {
    intraOpNumThreads: threads,
  });
  const feeds = {
    a: new ort.Tensor('float32', new Float32Array(B * T * C).fill(0.5), [B * T, C]),
    b: new ort.Tensor('float32', new Float32Array(C * F).fill(0.25), [C, F]),
  };
  const ms: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    await s.run(feeds);
    ms.push(performance.now() - t0);
  }
  await s.release();
  return (2 * B * T * C * F) / median(ms.slice(5)) / 1e6;
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
const raw = await ortMatmulGflops(config.dModel, config.dFF);
console.log(
  `onnxruntime raw fp32 matmul [${B * T}×${config.dModel}]·[${config.dModel}×${config.dFF}]: ${raw.toFixed(0)} GFLOP/s\n`,
);
console.log('engine  mode    tokens/s  train GFLOP/s  % of raw matmul');
const results: Record<string, number> = {};
for (const kind of ['joint', 'plain'] as const) {
  for (const engine of ['tfjs', 'ort'] as const) {
    const tps = await tokensPerSecond(engine, kind);
    const gflops = (tps * 3 * (kind === 'joint' ? jointFlops : fullFlops)) / 1e9;
    results[`${engine}-${kind}`] = tps;
    console.log(
      `${engine.padEnd(6)}  ${kind.padEnd(6)}  ${tps.toFixed(0).padStart(8)}  ${gflops.toFixed(1).padStart(13)}  ${((100 * gflops) / raw).toFixed(0).padStart(14)}%`,
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
