// npm run bundle:web — what a page downloads for each browser entry point: the entry bundled
// (minified, esbuild, platform browser) with its dependencies and alone (dependencies left
// external), raw and gzipped, then onnxruntime-web's own JS and the .wasm it fetches.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { bundleForBrowser, formatNodeImports } from '../../packages/train/src/web-test/bundle';
import { BROWSER_ENTRIES, PAGE_EXTERNALS } from './entries';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ortDist = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));

/** Third-party dependencies of the packages (left external for the "alone" columns). */
function thirdParty(): string[] {
  const names = new Set<string>();
  for (const pkg of ['core', 'train', 'mixnmatch', 'speculative', 'retrieval']) {
    const p = JSON.parse(readFileSync(join(root, 'packages', pkg, 'package.json'), 'utf8'));
    for (const n of Object.keys({ ...p.dependencies, ...p.peerDependencies }))
      if (!n.startsWith('@matformer/')) names.add(n);
  }
  return [...names].flatMap((n) => [n, `${n}/*`]);
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const mb = (n: number) => `${(n / 2 ** 20).toFixed(2)} MiB`;
const gz = (b: Uint8Array | string) => gzipSync(b, { level: 9 }).length;
const size = (n: number) => (n >= 2 ** 20 ? mb(n) : kb(n));

interface Row {
  what: string;
  min: number;
  gzip: number;
  alone?: number;
  aloneGzip?: number;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const deps = thirdParty();
  for (const e of BROWSER_ENTRIES) {
    const source = join(root, e.source);
    const full = await bundleForBrowser(source, { external: PAGE_EXTERNALS, minify: true });
    if (full.nodeImports.length > 0)
      throw new Error(
        `${e.name} imports Node-only modules:\n${formatNodeImports(full.nodeImports)}`,
      );
    const alone = await bundleForBrowser(source, { external: deps, minify: true });
    rows.push({
      what: e.name,
      min: full.code.length,
      gzip: gz(full.code),
      alone: alone.code.length,
      aloneGzip: gz(alone.code),
    });
  }
  // onnxruntime-web as the page's bundler takes it: the wasm-only build (device 'wasm') and the
  // WebGPU build (device 'webgpu'), each with the .wasm it fetches at run time.
  for (const [what, file] of [
    ['onnxruntime-web/wasm JS', 'ort.wasm.bundle.min.mjs'],
    ['  fetched: ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.wasm'],
    ['onnxruntime-web (webgpu) JS', 'ort.bundle.min.mjs'],
    ['  fetched: ort-wasm-simd-threaded.jsep.wasm', 'ort-wasm-simd-threaded.jsep.wasm'],
  ]) {
    const bytes = readFileSync(join(ortDist, file));
    rows.push({ what, min: bytes.length, gzip: gz(bytes) });
  }
  const head = ['', 'minified', 'gzip', 'alone (deps external)', 'gzip'];
  const cells = rows.map((r) => [
    r.what,
    size(r.min),
    size(r.gzip),
    r.alone === undefined ? '' : size(r.alone),
    r.aloneGzip === undefined ? '' : size(r.aloneGzip),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) =>
    c.map((x, i) => (i === 0 ? x.padEnd(w[i]) : x.padStart(w[i]))).join('  ');
  console.log(
    [line(head), line(w.map((n) => '-'.repeat(n))), ...cells.map(line)].join('\n') +
      "\n\nEach entry with its dependencies (tfjs, protobufjs) bundled; onnxruntime-web is the page's\n" +
      'own import (rows below), its .wasm fetched from env.wasm.wasmPaths when the first session starts.',
  );
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
