import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { bundleForBrowser } from './packages/train/src/web-test/bundle';
import { launchChromium } from './packages/train/src/web-test/chromium';
import { serveStatic } from './packages/train/src/web-test/serve';
import { tinyRunText, tinyTrainingRun } from './packages/train/src/web-test/tiny-run';
const ortDist = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
const page = await bundleForBrowser('packages/train/src/web-test/tiny-run.page.ts');
const server = await serveStatic({ files: { '/': { body: '<!doctype html><script type="module" src="/app.js"></script>', type: 'text/html' }, '/app.js': { body: page.code } }, dirs: { '/ort/': ortDist } });
const b = await launchChromium();
const med = (a: number[]) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
for (const [preset, seqLen, batchSize] of [['tiny', 16, 4], ['mini', 64, 8]] as const) {
  const spec = { text: tinyRunText(400), seed: 1, steps: 12, batchSize, seqLen, lr: 5e-3, preset, threads: 2 };
  await b.page.goto(server.url + '/');
  await b.page.waitForFunction(() => 'tinyRun' in globalThis);
  const web = await b.page.evaluate(([s, st]) => (globalThis as any).tinyRun(s, st), [spec, { wasmPaths: server.url + '/ort/' }] as const);
  const node = await tinyTrainingRun(spec);
  const maxRel = Math.max(...web.loss.map((l: number, i: number) => Math.abs(l - node.loss[i]) / node.loss[i]));
  console.log(preset, `B=${batchSize} T=${seqLen}`, 'web', web.backend, 'median step ms web', med(web.ms.slice(2)).toFixed(1), 'node(2 threads)', med(node.ms.slice(2)).toFixed(1), 'first step (compile) web/node', web.ms[0].toFixed(0), node.ms[0].toFixed(0), 'max rel loss diff', maxRel.toExponential(2), 'loss', web.loss[0].toFixed(3), '->', web.loss.at(-1).toFixed(3));
}
await b.close(); await server.close();
