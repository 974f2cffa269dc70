/**
 * MatLM (GPT-2 block) against MatGemma (Gemma 3n / Llama block) at about equal parameters, in one
 * run on one machine (issue 20's benchmark):
 *   npx tsx --conditions=@matformer/source tools/bench-families.ts [--preset small] [--steps 5]
 *     [--batch 8] [--seq 128] [--threads 2] [--tokens 128] [--gemma-run runs/gemma]
 * 1. joint-training tokens/s on onnxruntime (every granularity per step; median step);
 * 2. decode tokens/s at batch 1 on each family's onnxruntime decoder graph (greedy, one thread);
 * 3. MatGemma speculative decoding, full model verifying a nested int8 draft at each smaller
 *    granularity, against plain decoding (greedy: identical output). Acceptance only means
 *    something on a trained model: pass --gemma-run (a run directory or checkpoint).
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import {
  createModel,
  languageModelOf,
  loadModel,
  median,
  matgemmaConfig,
  matlmConfig,
  selectBackend,
  type LanguageModel,
} from '@matformer/core';
import { OnnxDecoderEngine } from '@matformer/core/onnx';
import { generate, speculativeGenerate } from '@matformer/speculative';
import { lmTask, loadTextCorpus, runPath, Trainer } from '@matformer/train';

const { values: args } = parseArgs({
  options: {
    preset: { type: 'string', default: 'small' },
    steps: { type: 'string', default: '5' },
    batch: { type: 'string', default: '8' },
    seq: { type: 'string', default: '128' },
    threads: { type: 'string', default: '2' },
    tokens: { type: 'string', default: '128' },
    'gemma-run': { type: 'string' },
  },
});
const [steps, B, T, threads, newTokens] = [
  args.steps,
  args.batch,
  args.seq,
  args.threads,
  args.tokens,
].map(Number);
await selectBackend();
const corpus = await loadTextCorpus();
const prompt = Array.from(new TextEncoder().encode('Call me Ishmael. Some years ago'));

const models: [string, () => LanguageModel][] = [
  ['MatLM', () => createModel(matlmConfig(args.preset as 'small')) as LanguageModel],
  ['MatGemma', () => createModel(matgemmaConfig(args.preset as 'small')) as LanguageModel],
];

/** Median joint-step tokens/s of a fresh Trainer on onnxruntime. */
async function trainTokensPerSecond(model: LanguageModel): Promise<number> {
  const task = lmTask(model, corpus, { batchSize: B, seqLen: T });
  const trainer = new Trainer(task, { steps: 1000 }, { engine: 'ort', parallel: true, threads });
  await trainer.trainStep(); // warm-up: graph build
  const ms: number[] = [];
  for (let i = 0; i < steps; i++) ms.push((await trainer.trainStep()).ms);
  await trainer.dispose();
  task.dispose();
  return (B * T) / (median(ms) / 1000);
}

/** Greedy decode tokens/s (median of 3) after the prompt. */
async function decodeTokensPerSecond(engine: OnnxDecoderEngine): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await generate(engine, prompt, { maxNewTokens: newTokens });
    runs.push(r.stats.tokensPerSecond);
  }
  return median(runs);
}

console.log(
  `preset ${args.preset}: joint training batch ${B} × ${T}, ${threads} threads, median of ${steps} steps; decoding batch 1, ${newTokens} tokens, 1 thread`,
);
console.log('family     params  train tokens/s  decode tokens/s');
for (const [name, make] of models) {
  const model = make();
  const tps = await trainTokensPerSecond(model);
  const engine = await OnnxDecoderEngine.fromModel(model, { intraOpNumThreads: 1 });
  const dps = await decodeTokensPerSecond(engine);
  engine.dispose();
  console.log(
    `${name.padEnd(8)} ${model.storedParamCount.toLocaleString('en-US').padStart(9)}  ${tps.toFixed(0).padStart(14)}  ${dps.toFixed(0).padStart(15)}`,
  );
  model.dispose();
}

// Speculative decoding on MatGemma: nested int8 drafts verified by the float full model.
const source = args['gemma-run'];
const gemma = source
  ? languageModelOf(
      await loadModel(source.endsWith('.safetensors') ? source : runPath(source, 'model')),
    )
  : (createModel(matgemmaConfig(args.preset as 'small')) as LanguageModel);
console.log(
  `\nMatGemma speculative decoding (${source ?? 'random init: acceptance means nothing'}), greedy, ${newTokens} tokens:`,
);
const verifier = await OnnxDecoderEngine.fromModel(gemma, { intraOpNumThreads: 1 });
const plain = await decodeTokensPerSecond(verifier);
console.log(`  plain                      ${plain.toFixed(0).padStart(6)} tokens/s`);
for (const m of gemma.config.granularities.slice(0, -1)) {
  const draft = await OnnxDecoderEngine.fromModel(gemma, {
    widths: m,
    quantize: 'int8',
    intraOpNumThreads: 1,
  });
  for (const k of [3, 6]) {
    const runs = [];
    for (let i = 0; i < 3; i++)
      runs.push(await speculativeGenerate(draft, verifier, prompt, { maxNewTokens: newTokens, k }));
    const tps = median(runs.map((r) => r.stats.tokensPerSecond));
    const acc = runs[0].stats.accepted / runs[0].stats.drafted;
    console.log(
      `  int8 draft width ${String(m).padStart(4)}, k ${k}: ${tps.toFixed(0).padStart(6)} tokens/s (${(tps / plain).toFixed(2)}×), acceptance ${(100 * acc).toFixed(0)}%`,
    );
  }
  draft.dispose();
}
verifier.dispose();
gemma.dispose();
tf.disposeVariables();
