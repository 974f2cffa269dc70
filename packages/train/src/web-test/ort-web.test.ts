import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForBrowser, formatNodeImports } from './bundle';
import { chromiumMissing, hasChromium, launchChromium, type Chromium } from './chromium';
import { serveStatic, type StaticServer } from './serve';
import { tinyRunText, tinyTrainingRun, type TinyRunSpec } from './tiny-run';
import { inferenceRun, type InferenceResult, type InferenceSpec } from './inference-run';
import type { PageRunResult, ProbeResult } from './page';

if (!hasChromium) console.warn(chromiumMissing('ort-web.test.ts'));

const here = dirname(fileURLToPath(import.meta.url));
// onnxruntime-web's dist folder (its .wasm and .mjs files), served at /ort/.
const ortDist = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));

const spec: TinyRunSpec = {
  text: tinyRunText(),
  seed: 3,
  steps: 6,
  batchSize: 4,
  seqLen: 16,
  lr: 1e-2,
};

const relDiff = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

describe.skipIf(!hasChromium)('onnxruntime-web in Chromium: training, decoding, embedding', () => {
  let server: StaticServer;
  let plainServer: StaticServer; // the same page without the COOP/COEP headers
  let browser: Chromium;

  beforeAll(async () => {
    const page = await bundleForBrowser(join(here, 'page.ts'));
    expect(page.nodeImports, formatNodeImports(page.nodeImports)).toEqual([]);
    const files = {
      '/': {
        body: '<!doctype html><script type="module" src="/app.js"></script>',
        type: 'text/html',
      },
      '/favicon.ico': { body: '', type: 'image/x-icon' },
      '/app.js': { body: page.code },
    };
    server = await serveStatic({
      files,
      dirs: { '/ort/': ortDist },
    });
    plainServer = await serveStatic({ files, dirs: { '/ort/': ortDist }, isolated: false });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await plainServer?.close();
  });

  /** Loads the page afresh: onnxruntime-web not started, so configureOrtWeb may run. */
  async function freshPage(base: string): Promise<void> {
    await browser.page.goto(`${base}/`);
    await browser.page.waitForFunction(() => 'inferenceRun' in globalThis);
  }

  /** Starts onnxruntime-web on a fresh page with `settings` and runs a one-node model. */
  async function probe(base: string, settings: Record<string, unknown>) {
    await freshPage(base);
    return browser.page.evaluate(
      ([s]) =>
        (globalThis as unknown as { probeOrt: (s: unknown) => Promise<ProbeResult> }).probeOrt(s),
      [{ wasmPaths: `${base}/ort/`, ...settings }] as const,
    );
  }

  it('asked for WebGPU where there is none (headless, no GPU), runs on wasm and says why', async () => {
    const r = await probe(server.url, { device: 'webgpu' });
    expect(r.y).toBe(7);
    expect(r.lateConfigure).toMatch(/must be called before onnxruntime-web starts/);
    if (r.backend.device === 'wasm')
      expect(r.backend.fallback).toMatch(/^webgpu unavailable, using wasm: /);
    else expect(r.backend).toMatchObject({ device: 'webgpu', fallback: undefined });
  });

  it('uses one wasm thread on a page that is not cross-origin isolated', async () => {
    const r = await probe(plainServer.url, {});
    expect(r.y).toBe(7);
    expect(r.backend).toEqual({ device: 'wasm', threads: 1, crossOriginIsolated: false });
    const isolated = await probe(server.url, {});
    expect(isolated.backend.crossOriginIsolated).toBe(true);
    const cores = await browser.page.evaluate(
      () =>
        (globalThis as unknown as { navigator: { hardwareConcurrency: number } }).navigator
          .hardwareConcurrency,
    );
    expect(isolated.backend.threads).toBe(cores);
  });

  it('trains with the losses onnxruntime-node gives, step for step, and the loss goes down', async () => {
    const node = await tinyTrainingRun(spec);
    await freshPage(server.url);
    let web: PageRunResult;
    try {
      web = await browser.page.evaluate(
        ([s, settings]) =>
          (
            globalThis as unknown as { tinyRun: (...a: unknown[]) => Promise<PageRunResult> }
          ).tinyRun(s, settings),
        [spec, { wasmPaths: `${server.url}/ort/` }] as const,
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}\npage log:\n${browser.log.join('\n')}`);
    }
    // The page is cross-origin isolated, so onnxruntime-web runs wasm on its threads.
    expect(web.backend).toMatchObject({ device: 'wasm', crossOriginIsolated: true });
    expect(web.backend.threads).toBeGreaterThanOrEqual(1);
    expect(web.tfjsBackend).toBe('cpu');
    expect(server.served.map((f) => f.path)).toContain('/ort/ort-wasm-simd-threaded.wasm');

    expect(web.loss).toHaveLength(spec.steps);
    for (let s = 0; s < spec.steps; s++) {
      expect(
        relDiff(web.loss[s], node.loss[s]),
        `step ${s + 1}: ${web.loss[s]} vs ${node.loss[s]}`,
      ).toBeLessThan(1e-4);
      for (const [w, l] of Object.entries(node.losses[s]))
        expect(relDiff(web.losses[s][Number(w)], l), `step ${s + 1} width ${w}`).toBeLessThan(1e-4);
    }
    for (const [name, l] of Object.entries(node.evalLoss))
      expect(relDiff(web.evalLoss[name], l), `held-out loss of ${name}`).toBeLessThan(1e-4);
    // Learning, not just agreeing: the last steps' loss is well under the first's (ln 256 ≈ 5.5).
    const last = web.loss.slice(-2).reduce((a, b) => a + b, 0) / 2;
    expect(last).toBeLessThan(web.loss[0] - 0.5);
  });
  it('exports the same graphs, decodes the same greedy tokens and embeds the same vectors as Node', async () => {
    const spec: InferenceSpec = {
      seed: 5,
      prompt: [72, 101, 108, 108, 111],
      newTokens: 10,
      images: 3,
    };
    const node = await inferenceRun(spec);
    await freshPage(server.url);
    const web = await browser.page.evaluate(
      ([s, settings]) =>
        (
          globalThis as unknown as {
            inferenceRun: (...a: unknown[]) => Promise<InferenceResult>;
          }
        ).inferenceRun(s, settings),
      [spec, { wasmPaths: `${server.url}/ort/` }] as const,
    );
    expect(web.decoderChecksum).toBe(node.decoderChecksum);
    expect(web.encoderChecksum).toBe(node.encoderChecksum);
    const scale = Math.max(...node.promptLogits.map(Math.abs));
    const logitDiff = Math.max(
      ...web.promptLogits.map((l, i) => Math.abs(l - node.promptLogits[i])),
    );
    expect(logitDiff / scale).toBeLessThan(1e-4);
    expect(web.greedy).toEqual(node.greedy);
    expect(web.greedySmall).toEqual(node.greedySmall);
    expect(web.embeddings).toHaveLength(node.embeddings.length);
    const embDiff = Math.max(...web.embeddings.map((e, i) => Math.abs(e - node.embeddings[i])));
    expect(embDiff).toBeLessThan(1e-5);
    // Not trivially equal: the two widths decode differently, the embeddings are not constant.
    expect(new Set(node.embeddings.map((e) => e.toFixed(3))).size).toBeGreaterThan(10);
  });
});
