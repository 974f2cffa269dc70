import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createModel,
  flopsPerToken,
  languageModelOf,
  loadModel,
  selectBackend,
  paramCount,
  saveModel,
  type LanguageModel,
  type Widths,
} from '@matformer/core';
import { OnnxDecoderEngine, OnnxLMEngine } from '@matformer/core/onnx';
import { generate } from '@matformer/speculative';
import {
  encodeBytes,
  evaluateOnOrt,
  lmTask,
  loadTextCorpus,
  MOBY_DICK,
  Trainer,
  type TextCorpus,
} from '@matformer/train';
import { CHROMIUM, hasChromium, launchChromium } from './chromium';
import { buildPage } from './build-page';
import { configOf, DATA_DEFAULTS, trainOptionsOf, type TrainSettings } from './page/settings';
import { startServer, type RunningServer } from './server';

// Debian's Chromium, driven by playwright-core (which ships no browser). CI installs it (.ci/run).
if (!hasChromium)
  console.warn(
    `web.test.ts skipped: ${CHROMIUM} not found. Install it with \`apt-get install chromium\` to run the browser test.`,
  );

/** The run both sides train: the tiny MatLM, a few steps, Moby Dick. */
const SETTINGS: TrainSettings = {
  arch: 'matlm',
  preset: 'tiny',
  steps: 24,
  batchSize: 8,
  lr: 0.01,
  seed: 3,
  evalEvery: 12,
};
const PROMPT = 'Call me Ishmael. ';
const MAX_TOKENS = 40;

type Body = Record<string, string | undefined>;
const body = (page: Page): Promise<Body> => page.evaluate(() => ({ ...document.body.dataset }));
const json = <T>(s: string | undefined): T => JSON.parse(s ?? 'null') as T;

/**
 * Does `action` (a click, a file chosen) and waits until the page is ready again with counter
 * `key` (data-trainings, data-generations, …) one higher. An action that failed instead (data-
 * errors grew, unless errors are what is awaited) fails the test with the page's message.
 * The counters are read before the action, so a fast action cannot be missed.
 */
async function perform(page: Page, key: string, action: () => Promise<unknown>): Promise<Body> {
  const before = await body(page);
  const [n, errors] = [Number(before[key] ?? 0), Number(before.errors ?? 0)];
  await action();
  await page.waitForFunction(
    ([k, v, e]) => {
      const d = document.body.dataset;
      if (d.state !== 'ready') return false;
      return Number(d[k] ?? 0) > v || (k !== 'errors' && Number(d.errors ?? 0) > e);
    },
    [key, n, errors] as const,
  );
  const b = await body(page);
  if (key !== 'errors' && Number(b.errors ?? 0) > errors)
    throw new Error(`the page showed an error instead: ${b.error}`);
  return b;
}

/** Relative difference of two loss lists, entry by entry (the largest). */
function maxRelDiff(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  return Math.max(...a.map((x, i) => Math.abs(x - b[i]) / Math.abs(b[i])));
}

/** The last-position logits of `prompt` from a Node engine (onnxruntime-node). */
async function nodeNextLogits(engine: OnnxLMEngine | OnnxDecoderEngine, prompt: number[]) {
  const { logits, state } = await engine.forward(prompt);
  (engine as OnnxLMEngine).release(state as never);
  return Array.from(logits.slice(logits.length - engine.vocabSize));
}

/** Greedy decoding in Node as `lm-trainer generate --temperature 0` runs it (onnxruntime-node). */
async function cliGreedy(model: LanguageModel, widths: Widths): Promise<number[]> {
  const engine = await OnnxDecoderEngine.fromModel(model, { widths, executionProviders: ['cpu'] });
  try {
    const r = await generate(engine, Array.from(encodeBytes(PROMPT)), {
      maxNewTokens: MAX_TOKENS,
      temperature: 0,
      window: 'slide',
    });
    return r.tokens;
  } finally {
    engine.dispose();
  }
}

interface Losses {
  /** Training loss of every step, by granularity. */
  train: Record<string, number[]>;
  heldOutSteps: number[];
  /** Held-out loss at each of heldOutSteps, by granularity. */
  heldOut: Record<string, number[]>;
}

/**
 * The same run in Node: @matformer/train's Trainer on engine ort (onnxruntime-node), evaluated
 * before the first step, every evalEvery steps and at the end, as the page does.
 */
async function nodeRun(settings: TrainSettings, corpus: TextCorpus): Promise<Losses> {
  const model = createModel(configOf(settings), undefined, settings.seed) as LanguageModel;
  const task = lmTask(model, corpus, {
    batchSize: settings.batchSize,
    seqLen: model.config.maxSeqLen,
    evalWindows: DATA_DEFAULTS.evalWindows,
  });
  const trainer = new Trainer(task, trainOptionsOf(settings), { engine: 'ort' });
  const widths = model.config.granularities.map(String);
  const out: Losses = {
    train: Object.fromEntries(widths.map((w) => [w, []])),
    heldOutSteps: [],
    heldOut: Object.fromEntries(widths.map((w) => [w, []])),
  };
  const evaluate = async () => {
    out.heldOutSteps.push(trainer.step);
    for (const r of (await trainer.evaluate()).rows) out.heldOut[String(r.widths[0])].push(r.loss);
  };
  try {
    await trainer.prepare();
    await evaluate();
    while (trainer.step < settings.steps) {
      const m = await trainer.trainStep();
      for (const w of widths) out.train[w].push(m.losses[Number(w)]);
      if (trainer.step % settings.evalEvery === 0 || trainer.step === settings.steps)
        await evaluate();
    }
    return out;
  } finally {
    await trainer.dispose();
    task.dispose();
    model.dispose();
  }
}

/** Page and Node losses agree within float tolerance (1e-4 relative), step by step. */
function expectSameLosses(page: Losses, node: Losses): void {
  expect(page.heldOutSteps).toEqual(node.heldOutSteps);
  expect(Object.keys(page.train)).toEqual(Object.keys(node.train));
  for (const w of Object.keys(node.train)) {
    expect(maxRelDiff(page.train[w], node.train[w]), `training loss, width ${w}`).toBeLessThan(
      1e-4,
    );
    expect(maxRelDiff(page.heldOut[w], node.heldOut[w]), `held-out loss, width ${w}`).toBeLessThan(
      1e-4,
    );
  }
}

describe.skipIf(!hasChromium)(`web-lab page in Chromium (${CHROMIUM})`, () => {
  let server: RunningServer;
  let context: BrowserContext;
  let page: Page;
  let tmp: string;
  let corpus: TextCorpus;
  const pageErrors: string[] = [];
  /** The model the page downloaded, read back in Node. */
  let downloaded: LanguageModel | undefined;

  beforeAll(async () => {
    await selectBackend(); // the Node side's tfjs backend, as the CLI picks it
    tmp = await mkdtemp(join(tmpdir(), 'web-lab-test-'));
    await buildPage(join(tmp, 'page'));
    server = await startServer({ port: 0, pageDir: join(tmp, 'page') });
    corpus = await loadTextCorpus(MOBY_DICK, { valFraction: DATA_DEFAULTS.valFraction });
    context = await launchChromium(join(tmp, 'profile'), { acceptDownloads: true });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(60_000);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(server.url);
    await page.waitForSelector('body[data-state="ready"]');
  });

  afterAll(async () => {
    downloaded?.dispose();
    await context?.close();
    await server?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  const fill = async (values: Record<string, string | number>) => {
    for (const [id, v] of Object.entries(values)) await page.fill(`#${id}`, String(v));
  };

  it('runs on wasm with threads (cross-origin isolated) when there is no WebGPU, and says so', async () => {
    const b = await body(page);
    expect(b.backend).toBe('wasm');
    expect(b.isolated).toBe('true');
    expect(Number(b.threads)).toBeGreaterThan(1);
    expect(await page.textContent('#backend')).toMatch(/^wasm, \d+ threads; no WebGPU adapter/);
  });

  /** Trains `settings` in the page; its per-step and held-out losses per granularity. */
  async function pageRun(settings: TrainSettings): Promise<Losses> {
    await page.selectOption('#arch', settings.arch);
    await page.selectOption('#preset', settings.preset);
    await fill({
      steps: settings.steps,
      batch: settings.batchSize,
      lr: settings.lr,
      seed: settings.seed,
      'eval-every': settings.evalEvery,
    });
    const b = await perform(page, 'trainings', () => page.click('#train'));
    const train = json<Record<string, number[]>>(b.trainLosses);
    const heldOut = json<{ step: number; losses: Record<string, number> }[]>(b.heldOut);
    return {
      train,
      heldOutSteps: heldOut.map((h) => h.step),
      heldOut: Object.fromEntries(
        Object.keys(train).map((w) => [w, heldOut.map((h) => h.losses[w])]),
      ),
    };
  }

  it("trains every granularity, lowering each one's held-out loss, to the losses Node's Trainer reaches", async () => {
    const shown = await pageRun(SETTINGS);
    const widths = Object.keys(shown.train);
    expect(widths).toEqual(['8', '16', '32', '64']); // tiny: dFF 64, four nested widths
    expect(shown.heldOutSteps).toEqual([0, 12, 24]);
    for (const w of widths) expect(shown.heldOut[w][2]).toBeLessThan(shown.heldOut[w][0] - 0.3);
    expect(await page.locator('#loss-plot path').count()).toBe(4);
    expect(await page.locator('#loss-plot circle').count()).toBe(12);
    expectSameLosses(shown, await nodeRun(SETTINGS, corpus));
  });

  it('downloads the model as .safetensors and .onnx that Node reads to the same logits', async () => {
    await fill({ widths: '16,32', prompt: PROMPT, 'max-tokens': MAX_TOKENS, temperature: 0 });
    const b = await perform(page, 'generations', () => page.click('#generate'));
    const pageLogits = json<number[]>(b.nextLogits);
    expect(pageLogits).toHaveLength(256);

    const [st] = await Promise.all([
      page.waitForEvent('download'),
      page.click('#download-safetensors'),
    ]);
    const stPath = join(tmp, 'model.safetensors');
    await st.saveAs(stPath);
    downloaded = languageModelOf(await loadModel(stPath)); // what lm-trainer --checkpoint reads
    const prompt = Array.from(encodeBytes(PROMPT));
    const fromCheckpoint = await OnnxDecoderEngine.fromModel(downloaded, { widths: [16, 32] });
    try {
      const nodeLogits = await nodeNextLogits(fromCheckpoint, prompt.slice(-16));
      expect(Math.max(...nodeLogits.map((v, i) => Math.abs(v - pageLogits[i])))).toBeLessThan(1e-4);
    } finally {
      fromCheckpoint.dispose();
    }

    const [ox] = await Promise.all([page.waitForEvent('download'), page.click('#download-onnx')]);
    const onnxPath = join(tmp, 'model.onnx');
    await ox.saveAs(onnxPath);
    const fromOnnx = await OnnxLMEngine.load(onnxPath); // what lm-trainer generate --onnx serves
    try {
      expect(fromOnnx.widths).toEqual([16, 32]);
      const nodeLogits = await nodeNextLogits(fromOnnx, prompt.slice(-16));
      expect(Math.max(...nodeLogits.map((v, i) => Math.abs(v - pageLogits[i])))).toBeLessThan(1e-4);
    } finally {
      fromOnnx.dispose();
    }
    // and the page's greedy continuation is the CLI's, for that model at those widths
    const gen = json<{ tokens: number[] }>(b.generation);
    expect(gen.tokens).toHaveLength(MAX_TOKENS);
    expect(gen.tokens).toEqual(await cliGreedy(downloaded, [16, 32]));
  });

  it("measures any Mix'n'Match widths: params and FLOPs of the cost model, held-out bits/byte as Node scores them", async () => {
    const mix = [8, 64];
    await fill({ widths: mix.join(', ') });
    const b = await perform(page, 'measures', () => page.click('#measure'));
    const shown = json<{ widths: number[]; params: number; flops: number; bitsPerByte: number }>(
      b.mix,
    );
    expect(shown.widths).toEqual(mix);
    expect(shown.params).toBe(paramCount(downloaded!.config, mix));
    expect(shown.flops).toBe(flopsPerToken(downloaded!.config, mix));
    const task = lmTask(downloaded!, corpus, {
      batchSize: SETTINGS.batchSize,
      seqLen: downloaded!.config.maxSeqLen,
      evalWindows: DATA_DEFAULTS.evalWindows,
    });
    try {
      const [row] = await evaluateOnOrt(task, [mix]);
      expect(Math.abs(shown.bitsPerByte - row.bitsPerToken!) / row.bitsPerToken!).toBeLessThan(
        1e-4,
      );
    } finally {
      task.dispose();
    }
  });

  it('decodes speculatively (a smaller submodel drafts) to exactly the plain greedy output', async () => {
    for (const [widths, draft, k] of [
      ['64', '8', 3],
      ['32,64', '8,16', 5],
    ] as const) {
      await fill({ widths, 'draft-widths': draft, 'draft-k': k, temperature: 0 });
      const plain = json<{ tokens: number[]; mode: string }>(
        (await perform(page, 'generations', () => page.click('#generate'))).generation,
      );
      const b = await perform(page, 'generations', () => page.click('#speculative'));
      const spec = json<{ tokens: number[]; mode: string }>(b.generation);
      expect([plain.mode, spec.mode]).toEqual(['plain', 'speculative']);
      expect(spec.tokens).toEqual(plain.tokens);
      expect(await page.textContent('#gen-stats')).toMatch(/tokens\/s · acceptance \d+%/);
    }
  });

  it('loads a model the CLI trained and decodes it greedily as the CLI does', async () => {
    const settings: TrainSettings = { ...SETTINGS, seed: 11, steps: 8 };
    const model = createModel(configOf(settings), undefined, settings.seed) as LanguageModel;
    const task = lmTask(model, corpus, { batchSize: 4, seqLen: 16, evalWindows: 8 });
    const trainer = new Trainer(task, trainOptionsOf(settings), { engine: 'ort' });
    const path = join(tmp, 'cli-model.safetensors');
    try {
      await trainer.run();
      await saveModel(path, model); // as lm-trainer train writes runs/<dir>/model.safetensors
      const b = await perform(page, 'loads', () => page.setInputFiles('#model-file', path));
      expect(json<{ params: number }>(b.model).params).toBe(model.storedParamCount);
      expect(await page.textContent('#model-info')).toContain('loaded from cli-model.safetensors');
      await fill({ widths: '32', temperature: 0 });
      const gen = json<{ tokens: number[] }>(
        (await perform(page, 'generations', () => page.click('#generate'))).generation,
      );
      expect(gen.tokens).toEqual(await cliGreedy(model, [32, 32]));
    } finally {
      await trainer.dispose();
      task.dispose();
      model.dispose();
    }
  });

  it('shows a clear message for bad input and keeps working', async () => {
    const before = await body(page);
    /** Does the action and expects the page to show an error matching `pattern`. */
    const expectError = async (action: () => Promise<unknown>, pattern: RegExp) => {
      const b = await perform(page, 'errors', action);
      expect(await page.textContent('#message')).toMatch(pattern);
      expect(b.error).toMatch(pattern);
      expect(b.model).toBe(before.model); // the model is untouched
    };
    // A binary file dropped as training text.
    const png = [
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52,
    ];
    const dropFile = () =>
      page.evaluate((bytes) => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(bytes)], 'whale.png', { type: 'image/png' }));
        const drop = new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true });
        document.getElementById('drop')!.dispatchEvent(drop);
      }, png);
    await expectError(dropFile, /"whale\.png" is not text \(a NUL byte at offset 8/);
    expect((await body(page)).corpus).toBe(before.corpus);
    // A corrupt model file, and an ONNX file offered as a checkpoint.
    const chooseModel = (name: string, buffer: Buffer) => () =>
      page.setInputFiles('#model-file', { name, mimeType: 'application/octet-stream', buffer });
    await expectError(
      chooseModel('broken.safetensors', Buffer.from([200, 0, 0, 0, 0, 0, 0, 0, 123, 34, 120])),
      /"broken\.safetensors": header length 200 is larger than the file/,
    );
    await expectError(
      chooseModel('model.onnx', await readFile(join(tmp, 'model.onnx'))),
      /"model\.onnx"/,
    );
    // Widths that are not granularities, for measuring and for decoding.
    await fill({ widths: '32,48' });
    await expectError(
      () => page.click('#measure'),
      /layer 2 width 48 is not a granularity of this model; allowed: 8, 16, 32, 64/,
    );
    await fill({ widths: '32', 'draft-widths': '128' });
    await expectError(() => page.click('#speculative'), /layer 1 width 128 is not a granularity/);
    // Still working: decoding and a dropped text file that is fine.
    await fill({ 'draft-widths': '8' });
    await perform(page, 'generations', () => page.click('#speculative'));
    const text = 'There she blows! '.repeat(200);
    await page.setInputFiles('#text-file', {
      name: 'whale.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from(text),
    });
    await page.waitForFunction(() => document.body.dataset.corpus?.includes('whale.txt'));
    const corpusShown = json<{ train: number; val: number }>((await body(page)).corpus);
    expect(corpusShown.train + corpusShown.val).toBe(text.length);
    expect(pageErrors).toEqual([]);
  });

  it('trains the Gemma-block family (matgemma) to the same losses as Node too', async () => {
    const gemma: TrainSettings = { ...SETTINGS, arch: 'matgemma', steps: 8, evalEvery: 4 };
    await page.click('#shipped-text'); // the last test dropped another text
    await page.waitForFunction(() => document.body.dataset.corpus?.includes('moby-dick'));
    const shown = await pageRun(gemma);
    expect(await page.textContent('#model-info')).toContain('MatGemma');
    expectSameLosses(shown, await nodeRun(gemma, corpus));
  });

  it('stops a run on Stop, keeping and evaluating the weights trained so far', async () => {
    await fill({ steps: 5000, 'eval-every': 0 });
    const b = await perform(page, 'trainings', async () => {
      await page.click('#train');
      await page.waitForFunction(() => Number(document.body.dataset.step) >= 3);
      await page.click('#stop');
    });
    const heldOut = json<{ step: number }[]>(b.heldOut);
    expect(Number(b.step)).toBeLessThan(100);
    expect(heldOut.map((h) => h.step)).toEqual([0, Number(b.step)]); // before, and where it stopped
    await perform(page, 'generations', () => page.click('#generate')); // the stopped model decodes
  });
});
