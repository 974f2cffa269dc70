import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grayToPng } from './png';
import type { DemoState } from './query';
import { startServer, type RunningServer } from './server';
import { CHROMIUM, hasChromium, launchChromium, warnIfNoChromium } from './test-browser';
import { quickDemoState } from './test-fixtures';

warnIfNoChromium('web-embedding.test.ts');

/** What the page showed after its n-th answered query, and the embedding it sent. */
interface Answered {
  path: string;
  backend: string;
  encoder: string;
  ids: number[];
  embedding: number[];
  pathText: string;
}

async function answeredAfter(page: Page, n: number): Promise<Answered> {
  await page.waitForSelector(`body[data-queries="${n}"][data-state="ready"]`);
  return page.evaluate(() => {
    const path = document.getElementById('query-path')!;
    return {
      path: document.body.dataset.path ?? '',
      backend: document.body.dataset.backend ?? '',
      encoder: document.body.dataset.encoder ?? '',
      ids: [...document.querySelectorAll<HTMLLIElement>('#neighbors li')].map((li) =>
        Number(li.dataset.id),
      ),
      embedding: path.dataset.embedding ? (JSON.parse(path.dataset.embedding) as number[]) : [],
      pathText: path.textContent ?? '',
    };
  });
}

/** The server's own answer for the same query: its embedding and neighbours. */
interface ServerAnswer {
  embedding: number[];
  neighbors: { id: number }[];
}

const maxDiff = (a: number[], b: number[]) => {
  expect(a).toHaveLength(b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
};

const floats = (r: Request) => {
  const b = r.postDataBuffer()!;
  return Array.from(new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)));
};

/** A held-out digit drawn black on white at 56×56: the page must resize and invert it. */
function darkOnLightPng(state: DemoState, i: number): Buffer {
  const src = state.data.test.images.subarray(i * 784, (i + 1) * 784);
  const big = new Float32Array(56 * 56);
  for (let y = 0; y < 56; y++)
    for (let x = 0; x < 56; x++) big[y * 56 + x] = 1 - src[(y >> 1) * 28 + (x >> 1)];
  return grayToPng(big, 56, 56);
}

describe.skipIf(!hasChromium)(`queries embedded in the browser (${CHROMIUM})`, () => {
  let state: DemoState;
  let server: RunningServer;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let dim: number;

  beforeAll(async () => {
    ({ state } = await quickDemoState());
    dim = state.model.config.dModel;
    server = await startServer(state, { port: 0 });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** A fresh tab on the demo, recording every request that is not a GET. */
  async function openPage(): Promise<{ page: Page; sent: Request[] }> {
    const page = await browser.context.newPage();
    page.setDefaultTimeout(30_000);
    const sent: Request[] = [];
    page.on('request', (r) => {
      if (r.method() !== 'GET') sent.push(r);
    });
    await page.goto(server.url);
    await page.waitForSelector('body[data-state="ready"]');
    return { page, sent };
  }

  const serverAnswer = async (path: string, init?: RequestInit): Promise<ServerAnswer> => {
    const r = await fetch(new URL(path, server.url), init);
    expect(r.status).toBe(200);
    return (await r.json()) as ServerAnswer;
  };

  it('held-out digits: the browser embedding equals the server one (< 1e-4), so do the neighbours, and only floats are sent', async () => {
    const { page, sent } = await openPage();
    await page.waitForSelector('body[data-runtime="ready"]');
    const picks = [0, Math.floor(state.encoders.length / 2), state.encoders.length - 1];
    let answered = 0;
    let worst = 0;
    for (const stop of picks) {
      const name = state.encoders[stop].name;
      await page.locator('#encoder-slider').fill(String(stop));
      if (answered > 0) await answeredAfter(page, ++answered); // the slider re-ran the last query
      for (const i of [0, 3, 7, 11]) {
        await page.click(`#digit-grid button[data-index="${i}"]`);
        const shown = await answeredAfter(page, ++answered);
        expect(shown.path).toBe('browser');
        expect(shown.backend).toBe('wasm'); // no GPU here: WebGPU has no adapter
        expect(shown.encoder).toBe(name);
        expect(shown.pathText).toBe(
          `embedded in this browser on wasm; sent ${dim} float32 values, no image`,
        );
        const ref = await serverAnswer(`/api/query?test=${i}&encoder=${name}`);
        const diff = maxDiff(shown.embedding, ref.embedding);
        worst = Math.max(worst, diff);
        expect(diff, `${name}, digit ${i}`).toBeLessThan(1e-4);
        expect(shown.ids, `${name}, digit ${i}`).toEqual(ref.neighbors.map((n) => n.id));
      }
    }
    console.log(
      `in-browser vs server embedding, max |Δ| over 12 queries: ${worst.toExponential(2)}`,
    );
    expect(sent.length).toBe(answered); // one embedding per query, the slider's re-runs too
    const sentBefore = sent.length;

    // Three clicks without waiting: the page shows the last digit's answer.
    for (const i of [1, 2, 9]) await page.click(`#digit-grid button[data-index="${i}"]`);
    await page.waitForSelector('body[data-state="ready"]');
    answered = Number(await page.getAttribute('body', 'data-queries'));
    const lastRef = await serverAnswer(`/api/query?test=9&encoder=${state.encoders.at(-1)!.name}`);
    expect((await answeredAfter(page, answered)).ids).toEqual(lastRef.neighbors.map((n) => n.id));
    expect(await page.textContent('#query-label')).toBe(String(state.data.test.labels[9]));
    expect(await page.textContent('#runtime')).toMatch(
      /^In-browser encoder: onnxruntime-web 1\.30\.0, wasm, WebGPU not used: [^,]+, \d+ threads?, cross-origin isolated\.$/,
    );

    // Every request with a body was an embedding: dim float32 values, the ones the page shows.
    expect(sent.length - sentBefore).toBe(3); // the quick clicks sent one each
    const last = await answeredAfter(page, answered);
    for (const r of sent) {
      expect(new URL(r.url()).pathname).toBe('/api/query/embedding');
      expect(r.headers()['content-type']).toBe('application/octet-stream');
      expect(r.postDataBuffer()!.length).toBe(4 * dim);
    }
    expect(floats(sent.at(-1)!)).toEqual(last.embedding);
    await page.close();
  });

  it('an uploaded PNG is decoded, resized and inverted in the page: same embedding and neighbours as the upload path, and no image bytes leave the page', async () => {
    const { page, sent } = await openPage();
    await page.waitForSelector('body[data-runtime="ready"]');
    const png = darkOnLightPng(state, 5);
    const name = state.encoders[0].name;
    await page.setInputFiles('#upload', { name: 'digit.png', mimeType: 'image/png', buffer: png });
    const shown = await answeredAfter(page, 1);
    expect(shown.path).toBe('browser');
    expect(await page.getAttribute('#query-image', 'src')).toMatch(/^data:image\/png;base64,/);

    const ref = await serverAnswer(`/api/query?encoder=${name}`, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: new Blob([new Uint8Array(png)]),
    });
    const diff = maxDiff(shown.embedding, ref.embedding);
    console.log(`uploaded PNG, in-browser vs server embedding: max |Δ| ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-4);
    expect(shown.ids).toEqual(ref.neighbors.map((n) => n.id));

    expect(sent).toHaveLength(1);
    const [embedding] = sent;
    expect(new URL(embedding.url()).pathname).toBe('/api/query/embedding');
    const body = embedding.postDataBuffer()!;
    expect(body.length).toBe(4 * dim);
    expect(body.includes(png.subarray(0, 8))).toBe(false); // no PNG signature, no image
    await page.close();
  });

  it('falls back to the server path when onnxruntime-web cannot load, and says so', async () => {
    const page = await browser.context.newPage();
    page.setDefaultTimeout(30_000);
    await page.route('**/ort/**', (route) => route.abort());
    const sent: Request[] = [];
    page.on('request', (r) => {
      if (r.method() !== 'GET') sent.push(r);
    });
    await page.goto(server.url);
    await page.waitForSelector('body[data-runtime="failed"]');
    expect(await page.textContent('#runtime')).toMatch(
      /^In-browser encoder unavailable \(.+\): images are embedded on the server\.$/,
    );
    const name = state.encoders[0].name;

    await page.click('#digit-grid button[data-index="3"]');
    const digit = await answeredAfter(page, 1);
    expect(digit.path).toBe('server');
    expect(digit.pathText).toBe(
      'embedded on the server (the digit was named): the in-browser encoder did not load',
    );
    const ref = await serverAnswer(`/api/query?test=3&encoder=${name}`);
    expect(digit.ids).toEqual(ref.neighbors.map((n) => n.id));

    const png = darkOnLightPng(state, 5);
    await page.setInputFiles('#upload', { name: 'digit.png', mimeType: 'image/png', buffer: png });
    const upload = await answeredAfter(page, 2);
    expect(upload.path).toBe('server');
    expect(upload.pathText).toMatch(/^embedded on the server \(the image was uploaded\)/);
    expect(sent).toHaveLength(1);
    expect(new URL(sent[0].url()).pathname).toBe('/api/query');
    expect(sent[0].postDataBuffer()!.equals(png)).toBe(true);
    await page.close();
  });
});
