/**
 * Training throughput of the default `small` MatLM on the default backend (issue 3's benchmark).
 *   npx tsx --conditions=@matformer/source tools/bench-train.ts [--steps 4] [--batch 8] [--seq 128]
 * Prints tokens/s of joint training (all granularities) and of plain full-width training, one
 * and two threads, the achieved training GFLOP/s (cost model: 3 × forward FLOPs per token) and
 * the backend's raw matmul GFLOP/s measured in the same run.
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { describeBackend, flopsPerToken, MatLM, matlmConfig, selectBackend } from '@matformer/core';
import { baselineConfig, lmTask, loadTextCorpus, Trainer } from '@matformer/train';

const { values: args } = parseArgs({ options: { steps: { type: 'string', default: '4' }, batch: { type: 'string', default: '8' }, seq: { type: 'string', default: '128' } } });
const [steps, B, T] = [Number(args.steps), Number(args.batch), Number(args.seq)];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const choice = await selectBackend();
console.log(`backend: ${describeBackend(choice)}; batch ${B} × seq ${T}; median of ${steps} steps after 1 warm-up`);

/** Raw fp32 matmul speed of the backend at the FFN's shapes: [B·T, C] × [C, dFF]. */
function rawMatmulGflops(): number {
  const a = tf.randomNormal([B * T, 256]);
  const b = tf.randomNormal([256, 1024]);
  const times: number[] = [];
  for (let i = 0; i < 8; i++) {
    const t0 = performance.now();
    tf.matMul(a, b).dispose();
    tf.matMul(a, b).dataSync();
    times.push((performance.now() - t0) / 2);
  }
  tf.dispose([a, b]);
  return (2 * B * T * 256 * 1024) / median(times.slice(2)) / 1e6;
}

const config = matlmConfig('small');
const corpus = await loadTextCorpus();
const fullFlops = flopsPerToken(config, undefined, { context: T });
const jointFlops = config.granularities.reduce((s, m) => s + flopsPerToken(config, m, { context: T }), 0);

async function tokensPerSecond(kind: 'joint' | 'plain', parallel: boolean): Promise<number> {
  const model = MatLM.create(kind === 'joint' ? config : baselineConfig(config, config.dFF));
  const task = lmTask(model, corpus, { batchSize: B, seqLen: T });
  const trainer = new Trainer(task, { steps: 1000 }, { parallel });
  await trainer.trainStep(); // warm-up: kernels, worker start
  const ms: number[] = [];
  for (let i = 0; i < steps; i++) ms.push((await trainer.trainStep()).ms);
  await trainer.dispose();
  task.dispose();
  model.dispose();
  return (B * T) / (median(ms) / 1000);
}

const raw = rawMatmulGflops();
console.log(`raw matmul: ${raw.toFixed(1)} GFLOP/s (one thread)\n`);
console.log('mode            threads  tokens/s  train GFLOP/s  % of raw (per thread)');
const results: Record<string, number> = {};
for (const parallel of [false, true]) {
  for (const kind of ['plain', 'joint'] as const) {
    const tps = await tokensPerSecond(kind, parallel);
    const gflops = (tps * 3 * (kind === 'joint' ? jointFlops : fullFlops)) / 1e9;
    const threads = parallel ? 2 : 1;
    results[`${kind}-${threads}`] = tps;
    console.log(`${kind.padEnd(15)} ${String(threads).padStart(7)}  ${tps.toFixed(0).padStart(8)}  ${gflops.toFixed(1).padStart(13)}  ${((100 * gflops) / (raw * threads)).toFixed(0).padStart(5)}%`);
  }
}
const flopRatio = fullFlops / jointFlops;
for (const threads of [1, 2]) {
  const predicted = results[`plain-${threads}`] * flopRatio;
  console.log(
    `\n${threads} thread(s): joint/plain FLOP ratio predicts ${predicted.toFixed(0)} tokens/s for joint; measured ${results[`joint-${threads}`].toFixed(0)} = ${((100 * results[`joint-${threads}`]) / predicted).toFixed(0)}% of prediction (target ≥ 80%)`,
  );
}
console.log(`2 threads vs 1 (joint): ${(results['joint-2'] / results['joint-1']).toFixed(2)}×`);
