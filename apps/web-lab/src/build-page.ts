import { build, type BuildOptions } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { pageOutDir } from './paths';

const entry = fileURLToPath(new URL('../src/page/main.ts', import.meta.url));

/**
 * The page bundle: every workspace package from its TypeScript source, browser builds of
 * their dependencies (onnxruntime-web's JS is bundled; its wasm is fetched from the server's
 * /ort/ at run time, never from a CDN).
 */
export const pageBuildOptions = (outdir = pageOutDir): BuildOptions => ({
  entryPoints: { page: entry },
  outdir,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  // onnxruntime-web's "use-extern-wasm" build: its wasm loader (.mjs) is imported from
  // env.wasm.wasmPaths, not inlined into this bundle, so its worker threads start from that
  // small file rather than from the whole page script.
  conditions: ['@matformer/source', 'browser', 'onnxruntime-web-use-extern-wasm'],
  mainFields: ['browser', 'module', 'main'],
  logLevel: 'warning',
  metafile: true,
});

/** Builds the page bundle; returns the bytes of each output file. */
export async function buildPage(outdir = pageOutDir): Promise<Record<string, number>> {
  const result = await build(pageBuildOptions(outdir));
  return Object.fromEntries(
    Object.entries(result.metafile!.outputs).map(([file, o]) => [file, o.bytes]),
  );
}

// `node dist/build-page.js` (the app's build script) builds it.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const sizes = await buildPage();
  for (const [file, bytes] of Object.entries(sizes))
    process.stdout.write(`${file}  ${(bytes / 1024).toFixed(0)} KiB\n`);
}
