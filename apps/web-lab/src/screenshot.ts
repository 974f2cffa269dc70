// npm run screenshot -w @matformer/web-lab: the README's picture of the page, taken after the
// page's default run (MatLM mini, 200 steps on Moby Dick), a Mix'n'Match measurement and a
// speculative generation at temperature 0.8, in headless Chromium.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './chromium';
import { buildPage } from './build-page';
import { startServer } from './server';

const out = fileURLToPath(new URL('../docs/after-training.png', import.meta.url));
const tmp = await mkdtemp(join(tmpdir(), 'web-lab-shot-'));
await buildPage(join(tmp, 'page'));
const server = await startServer({ port: 0, pageDir: join(tmp, 'page') });
const context = await launchChromium(join(tmp, 'profile'), {
  viewport: { width: 1200, height: 900 },
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(900_000);
  const ready = (key: string, n: number) =>
    page.waitForFunction(
      ([k, v]) => document.body.dataset.state === 'ready' && Number(document.body.dataset[k]) >= v,
      [key, n] as const,
    );
  await page.goto(server.url);
  await page.waitForSelector('body[data-state="ready"]');
  await page.click('#train');
  await ready('trainings', 1);
  await page.fill('#widths', '128, 128, 256, 512');
  await page.click('#measure');
  await ready('measures', 1);
  await page.fill('#draft-widths', '64');
  await page.fill('#temperature', '0.8'); // sampled: rejection sampling keeps the full model's distribution
  await page.click('#speculative');
  await ready('generations', 1);
  await page.screenshot({ path: out, fullPage: true });
  process.stdout.write(`wrote ${out}\n`);
} finally {
  await context.close();
  await server.close();
  await rm(tmp, { recursive: true, force: true });
}
