import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ServerResponse } from 'node:http';

/**
 * The onnxruntime-web files the page may load from /ort/ (never a CDN): the wasm-only build
 * and, for browsers with a WebGPU adapter, the WebGPU build; each with the glue script and the
 * binary that it loads from `ort.env.wasm.wasmPaths`. Anything else under /ort/ is a 404.
 */
export const ORT_WEB_FILES: Record<string, string> = {
  'ort.wasm.min.mjs': 'text/javascript; charset=utf-8',
  'ort-wasm-simd-threaded.mjs': 'text/javascript; charset=utf-8',
  'ort-wasm-simd-threaded.wasm': 'application/wasm',
  'ort.webgpu.min.mjs': 'text/javascript; charset=utf-8',
  'ort-wasm-simd-threaded.asyncify.mjs': 'text/javascript; charset=utf-8',
  'ort-wasm-simd-threaded.asyncify.wasm': 'application/wasm',
};

let distDir: string | undefined;

/** onnxruntime-web's dist/ folder, found the way Node resolves the package from here. */
function ortWebDist(): string {
  distDir ??= dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
  return distDir;
}

/**
 * Streams /ort/<name> when it is one of ORT_WEB_FILES; false otherwise (the caller answers 404).
 * The files change only with the package version, so the browser may keep them a day.
 */
export async function serveOrtFile(name: string, res: ServerResponse): Promise<boolean> {
  const type = ORT_WEB_FILES[name];
  if (!Object.hasOwn(ORT_WEB_FILES, name) || !type) return false;
  const path = join(ortWebDist(), name);
  const { size } = await stat(path);
  res.writeHead(200, {
    'content-type': type,
    'content-length': size,
    'cache-control': 'max-age=86400',
  });
  await new Promise<void>((resolve, reject) => {
    const stream = createReadStream(path);
    stream.on('error', reject);
    res.on('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
  return true;
}
