// npm run bench -w @matformer/web-lab: the page against Node on one model, in one run.
//  - training tokens/s: the page (onnxruntime-web, wasm threads) vs onnxruntime-node, same
//    settings, steps after the first (the first includes session warm-up on both sides);
//  - greedy decoding tokens/s: the page vs onnxruntime-node on the same decoder graph;
//  - what the page fetched: its JS and onnxruntime-web's wasm, raw and gzipped.
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createModel, selectBackend, type LanguageModel } from '@matformer/core';
import { OnnxDecoderEngine } from '@matformer/core/onnx';
import { generate } from '@matformer/speculative';
import { encodeBytes, lmTask, loadTextCorpus, MOBY_DICK, Trainer } from '@matformer/train';
import { CHROMIUM, hasChromium, launchChromium } from './chromium';
import { buildPage } from './build-page';
import { configOf, DATA_DEFAULTS, trainOptionsOf, type TrainSettings } from './page/settings';
import { startServer } from './server';

const SETTINGS: TrainSettings = {
  arch: 'matlm',
  preset: 'mini',
  steps: 16,
  batchSize: 8,
  lr: 0.004,
  seed: 0,
  evalEvery: 0,
};
const PROMPT = 'Call me Ishmael. ';
const DECODE_TOKENS = 100;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const tokensPerSecond = (stepMs: number[], tokensPerStep: number) => {
  const ms = stepMs.slice(1); // after the first step
  return (1000 * tokensPerStep * ms.length) / ms.reduce((a, b) => a + b, 0);
};
const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;

async function nodeSide(tokensPerStep: number) {
  await selectBackend(); // tfjs (weights and init) as the CLI picks it; the steps are onnxruntime's
  const corpus = await loadTextCorpus(MOBY_DICK, { valFraction: DATA_DEFAULTS.valFraction });
  const model = createModel(configOf(SETTINGS), undefined, SETTINGS.seed) as LanguageModel;
  const task = lmTask(model, corpus, { batchSize: SETTINGS.batchSize, evalWindows: 8 });
  const trainer = new Trainer(task, trainOptionsOf(SETTINGS), { engine: 'ort' });
  const stepMs: number[] = [];
  try {
    await trainer.prepare();
    while (trainer.step < SETTINGS.steps) stepMs.push((await trainer.trainStep()).ms);
    await trainer.syncModel();
    // The engine the page decodes with (and lm-trainer generate on the CPU): the decoder graph.
    const engine = await OnnxDecoderEngine.fromModel(model);
    try {
      const prompt = Array.from(encodeBytes(PROMPT));
      await generate(engine, prompt, { maxNewTokens: 8, temperature: 0 }); // warm-up
      const r = await generate(engine, prompt, { maxNewTokens: DECODE_TOKENS, temperature: 0 });
      return {
        train: tokensPerSecond(stepMs, tokensPerStep),
        stepMs: median(stepMs.slice(1)),
        decode: r.stats.tokensPerSecond,
      };
    } finally {
      engine.dispose();
    }
  } finally {
    await trainer.dispose();
    task.dispose();
    model.dispose();
  }
}

async function main(): Promise<void> {
  if (!hasChromium) throw new Error(`${CHROMIUM} not found: the bench drives Chromium`);
  const tmp = await mkdtemp(join(tmpdir(), 'web-lab-bench-'));
  const server = await startServer({ port: 0, pageDir: join(tmp, 'page') });
  const context = await launchChromium(join(tmp, 'profile'));
  try {
    await buildPage(join(tmp, 'page'));
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(600_000);
    const fetched: { url: string; bytes: number; gzip: number }[] = [];
    page.on('response', (res) => {
      void res.body().then(
        (b) =>
          fetched.push({
            url: new URL(res.url()).pathname,
            bytes: b.length,
            gzip: gzipSync(b).length,
          }),
        () => undefined,
      );
    });
    await page.goto(server.url + (process.env.WEB_LAB_QUERY ?? ''));
    await page.waitForSelector('body[data-state="ready"]');
    await page.selectOption('#preset', SETTINGS.preset);
    for (const [id, v] of Object.entries({
      steps: SETTINGS.steps,
      batch: SETTINGS.batchSize,
      lr: SETTINGS.lr,
      seed: SETTINGS.seed,
      'eval-every': 0,
    }))
      await page.fill(`#${id}`, String(v));
    await page.click('#train');
    await page.waitForFunction(
      () => document.body.dataset.trainings === '1' && document.body.dataset.state === 'ready',
    );
    const { threads, backend, stepMs } = await page.evaluate(() => ({
      threads: Number(document.body.dataset.threads),
      backend: document.body.dataset.backend,
      stepMs: JSON.parse(document.body.dataset.stepMs!) as number[],
    }));
    const maxSeqLen = configOf(SETTINGS).maxSeqLen; // the page trains at the preset's context
    const tokensPerStep = SETTINGS.batchSize * maxSeqLen;
    const pageTrain = tokensPerSecond(stepMs, tokensPerStep);
    await page.fill('#prompt', PROMPT);
    await page.fill('#max-tokens', '8');
    await page.click('#generate'); // warm-up, as on the Node side
    await page.waitForFunction(
      () => document.body.dataset.generations === '1' && document.body.dataset.state === 'ready',
    );
    await page.fill('#max-tokens', String(DECODE_TOKENS));
    await page.click('#generate');
    await page.waitForFunction(
      () => document.body.dataset.generations === '2' && document.body.dataset.state === 'ready',
    );
    const pageDecode = await page.evaluate(
      () => JSON.parse(document.body.dataset.generation!).tokensPerSecond as number,
    );
    const node = await nodeSide(tokensPerStep);

    const load = loadavg()
      .map((l) => l.toFixed(2))
      .join(', ');
    const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(0)}%`;
    const lines = [
      `web-lab bench: ${SETTINGS.arch} ${SETTINGS.preset}, batch ${SETTINGS.batchSize} × ${maxSeqLen}, ${SETTINGS.steps} steps (all 4 granularities per step); load average ${load}; ${availableParallelism()} cores`,
      `page runtime: ${backend}, ${threads} threads`,
      '',
      `| | page (onnxruntime-web) | Node (onnxruntime-node) | page / Node |`,
      `|---|---:|---:|---:|`,
      `| training tokens/s | ${pageTrain.toFixed(0)} | ${node.train.toFixed(0)} | ${pct(pageTrain, node.train)} |`,
      `| median joint step (ms) | ${median(stepMs.slice(1)).toFixed(0)} | ${node.stepMs.toFixed(0)} | |`,
      `| greedy decoding tokens/s (full width, ${DECODE_TOKENS} tokens) | ${pageDecode.toFixed(1)} | ${node.decode.toFixed(1)} | ${pct(pageDecode, node.decode)} |`,
      '',
      '| fetched by the page | bytes | gzipped | times |',
      '|---|---:|---:|---:|',
      ...[...new Set(fetched.map((f) => f.url))]
        .filter((url) => /\.(js|mjs|wasm)$/.test(url))
        .map((url) => {
          const f = fetched.find((g) => g.url === url)!;
          const times = fetched.filter((g) => g.url === url).length; // the loader: page and worker
          return `| ${url} | ${kib(f.bytes)} | ${kib(f.gzip)} | ${times} |`;
        }),
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await context.close();
    await server.close();
    await rm(tmp, { recursive: true, force: true });
  }
}

await main();
