import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grayToPng } from './png';
import type { DemoState } from './query';
import { startServer, type RunningServer } from './server';
import { CHROMIUM, hasChromium, launchChromium, warnIfNoChromium } from './test-browser';
import { quickDemoState } from './test-fixtures';

warnIfNoChromium('web.test.ts');

interface Shown {
  encoder: string;
  ids: number[];
  labels: number[];
  queryLabel: string;
  loadedImages: number;
}

/** What the page shows after its n-th answered query. */
async function shownAfter(page: Page, n: number): Promise<Shown> {
  await page.waitForSelector(`body[data-queries="${n}"][data-state="ready"]`);
  return page.evaluate(() => {
    const items = [...document.querySelectorAll<HTMLLIElement>('#neighbors li')];
    return {
      encoder: document.body.dataset.encoder ?? '',
      ids: items.map((li) => Number(li.dataset.id)),
      labels: items.map((li) => Number(li.dataset.label)),
      queryLabel: document.getElementById('query-label')!.textContent ?? '',
      loadedImages: items.filter((li) => {
        const img = li.querySelector('img')!;
        return img.complete && img.naturalWidth === 28;
      }).length,
    };
  });
}

const agreement = (s: Shown, label: number) =>
  s.labels.filter((l) => l === label).length / s.labels.length;

describe.skipIf(!hasChromium)(`retrieval-demo page in Chromium (${CHROMIUM})`, () => {
  let state: DemoState;
  let server: RunningServer;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;

  beforeAll(async () => {
    ({ state } = await quickDemoState());
    server = await startServer(state, { port: 0 });
    browser = await launchChromium();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.setDefaultTimeout(20_000);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('queries held-out digits with the smallest encoder, then moves the slider to the full one', async () => {
    await page.goto(server.url);
    await page.waitForSelector('body[data-state="ready"]');
    const slider = page.locator('#encoder-slider');
    const stops = state.encoders.length;
    const [smallest, largest] = [state.encoders[0].name, state.encoders.at(-1)!.name];
    expect(await slider.getAttribute('max')).toBe(String(stops - 1));
    // Starts at the cheapest encoder: the small model the browser runs by default.
    expect(await slider.inputValue()).toBe('0');
    expect(await page.locator('#curve circle').count()).toBe(stops);
    const grid = await page.locator('#digit-grid button').count();
    expect(grid).toBe(30);

    let answered = 0;
    /** Clicks every digit of the grid and returns what the page showed for each. */
    const queryGrid = async () => {
      const shown: Shown[] = [];
      for (let i = 0; i < grid; i++) {
        await page.click(`#digit-grid button[data-index="${i}"]`);
        shown.push(await shownAfter(page, ++answered));
      }
      return shown;
    };
    const labels = Array.from({ length: grid }, (_, i) => state.data.test.labels[i]);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

    const small = await queryGrid();
    expect(small.every((s) => s.encoder === smallest && s.labels.length === 10)).toBe(true);
    expect(small.map((s) => s.queryLabel)).toEqual(labels.map(String));
    await page.waitForFunction(() =>
      [...document.querySelectorAll<HTMLImageElement>('#neighbors img')].every(
        (im) => im.complete && im.naturalWidth === 28,
      ),
    );
    expect(await page.textContent('#latency')).toMatch(/\d ms/);
    // Labels mostly match the query digit (the fixture's 1-NN accuracy is 85–88%).
    expect(mean(small.map((s, i) => agreement(s, labels[i])))).toBeGreaterThanOrEqual(0.7);
    expect(mean(small.map((s, i) => Number(s.labels[0] === labels[i])))).toBeGreaterThanOrEqual(
      0.7,
    );

    await slider.fill(String(stops - 1)); // the full encoder; the page re-runs the current query
    const rerun = await shownAfter(page, ++answered);
    expect(rerun.encoder).toBe(largest);
    expect(await page.textContent('#encoder-name')).toBe(largest);
    expect(await page.getAttribute('#curve circle.selected', 'data-encoder')).toBe(largest);

    const full = await queryGrid();
    expect(full.every((s) => s.encoder === largest && s.labels.length === 10)).toBe(true);
    expect(mean(full.map((s, i) => agreement(s, labels[i])))).toBeGreaterThanOrEqual(0.7);
    // A sensible change: the cheaper query embedding lands in the same neighbourhood (many
    // shared neighbours) without being the same list every time.
    const overlap = small.map((s, i) => s.ids.filter((id) => full[i].ids.includes(id)).length / 10);
    expect(mean(overlap)).toBeGreaterThanOrEqual(0.3);
    expect(overlap.some((o) => o < 1)).toBe(true);
  });

  it('answers an uploaded PNG and shows what the model saw', async () => {
    const i = 7;
    const label = state.data.test.labels[i];
    const png = grayToPng(state.data.test.images.subarray(i * 784, (i + 1) * 784), 28, 28);
    const before = Number(await page.getAttribute('body', 'data-queries'));
    await page.setInputFiles('#upload', { name: 'digit.png', mimeType: 'image/png', buffer: png });
    const shown = await shownAfter(page, before + 1);
    expect(shown.labels).toHaveLength(10);
    expect(agreement(shown, label)).toBeGreaterThanOrEqual(0.6);
    expect(await page.getAttribute('#query-image', 'src')).toMatch(/^data:image\/png;base64,/);

    await page.setInputFiles('#upload', {
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('hello'),
    });
    await page.waitForFunction(() =>
      /query failed/.test(document.getElementById('status')!.textContent ?? ''),
    );
    expect(await page.textContent('#status')).toMatch(
      /Content-Type must be image\/png or image\/jpeg/,
    );
  });
});
