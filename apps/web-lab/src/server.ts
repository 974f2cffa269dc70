import { readFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTextBytes, MOBY_DICK } from '@matformer/train';
import { PAGE_BUNDLE, pageOutDir } from './paths';

export interface ServerOptions {
  /** Interface to bind: loopback by default, so the page is not exposed to the network. */
  host?: string;
  /** 0 = any free port. */
  port?: number;
  /** Folder holding the page bundle (default: dist/page beside this app). */
  pageDir?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

// static/ sits beside src/ and dist/, so this resolves from the sources and from the bundle.
const staticDir = fileURLToPath(new URL('../static/', import.meta.url));

/** onnxruntime-web's dist folder, found through a file its package exports. */
function ortDistDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
}

/**
 * onnxruntime-web's runtime files the page may fetch: the plain wasm build (threads + SIMD) and
 * the .jsep one (the WebGPU provider), each an .mjs loader and its .wasm. Nothing else of
 * node_modules is reachable.
 */
export const ORT_FILE = /^ort-wasm-simd-threaded(\.jsep)?\.(mjs|wasm)$/;

/** The shipped corpus, as the page fetches it: the same bytes loadTextCorpus reads in Node. */
export const CORPUS_PATH = `/corpus/${MOBY_DICK}.txt`;

/**
 * Sent with every response. COOP + COEP make the page cross-origin isolated, which is what
 * lets onnxruntime-web use SharedArrayBuffer and so wasm threads; CORP lets this server's own
 * files load under COEP. The CSP allows only this server's scripts, wasm compilation, and
 * eval: protobufjs (which encodes the ONNX graphs the page builds) generates its encoders
 * with `new Function`.
 */
export const PAGE_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
  'content-security-policy':
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval'; worker-src 'self' blob:; " +
    "style-src 'self'; img-src 'self' data: blob:; connect-src 'self' blob: data:; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};
const typeOf = (file: string) =>
  TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream';

/** URL path → file on disk, for the fixed set of files the page uses; undefined = 404. */
export function routeFile(path: string, pageDir: string, ortDir: string): string | undefined {
  if (path === '/' || path === '/index.html') return join(staticDir, 'index.html');
  if (path === '/style.css') return join(staticDir, 'style.css');
  if (path === `/${PAGE_BUNDLE}` || path === `/${PAGE_BUNDLE}.map`)
    return join(pageDir, path.slice(1));
  const ort = /^\/ort\/([^/]+)$/.exec(path);
  if (ort && ORT_FILE.test(ort[1])) return join(ortDir, ort[1]);
  return undefined;
}

function send(res: ServerResponse, status: number, type: string, body: string | Uint8Array) {
  res.writeHead(status, { ...PAGE_HEADERS, 'content-type': type, 'cache-control': 'no-cache' });
  res.end(body);
}

/** Serves the page, its bundle, onnxruntime-web's wasm files and the shipped corpus. */
export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const pageDir = opts.pageDir ?? pageOutDir;
  const ortDir = ortDistDir();
  let corpus: Promise<Uint8Array> | undefined;
  const server = createServer(async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return send(res, 405, 'text/plain; charset=utf-8', 'only GET and HEAD\n');
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return send(res, 400, 'text/plain; charset=utf-8', 'bad URL\n');
    }
    try {
      if (path === CORPUS_PATH) {
        corpus ??= loadTextBytes(MOBY_DICK);
        return send(res, 200, TYPES['.txt'], await corpus); // UTF-8 bytes, as trained on
      }
      const file = routeFile(path, pageDir, ortDir);
      if (!file) return send(res, 404, 'text/plain; charset=utf-8', `no such file: ${path}\n`);
      send(res, 200, typeOf(file), await readFile(file));
    } catch (e) {
      const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
      send(
        res,
        missing ? 404 : 500,
        'text/plain; charset=utf-8',
        missing
          ? `${path} is missing (build the page: npm run build -w @matformer/web-lab)\n`
          : `${(e as Error).message}\n`,
      );
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
