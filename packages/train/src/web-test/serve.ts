// A tiny static HTTP server for browser tests and pages: cross-origin isolated (COOP + COEP),
// so onnxruntime-web may use WebAssembly threads (SharedArrayBuffer). Node-only test utility.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.map': 'application/json',
};

/** Headers that make a page cross-origin isolated (crossOriginIsolated === true). */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export interface StaticFile {
  body: string | Uint8Array;
  /** Content type (default: from the path's extension). */
  type?: string;
}

export interface StaticServerOptions {
  /** Fixed responses by URL path, e.g. { '/': { body: html, type: 'text/html' } }. */
  files?: Record<string, StaticFile>;
  /** Folders served under URL prefixes, e.g. { '/ort/': 'node_modules/onnxruntime-web/dist' }. */
  dirs?: Record<string, string>;
  /** Send the COOP/COEP headers (default true). */
  isolated?: boolean;
}

export interface StaticServer {
  /** e.g. http://127.0.0.1:43125 (no trailing slash). */
  url: string;
  /** URL path and byte size of every file served so far, in order. */
  served: { path: string; bytes: number }[];
  close(): Promise<void>;
}

/** Starts the server on 127.0.0.1 and a free port. Paths outside a served folder get 404. */
export async function serveStatic(o: StaticServerOptions): Promise<StaticServer> {
  const served: StaticServer['served'] = [];
  const dirs = Object.entries(o.dirs ?? {}).map(([prefix, dir]) => [prefix, resolve(dir)]);

  async function body(path: string): Promise<StaticFile | undefined> {
    const fixed = o.files?.[path];
    if (fixed) return fixed;
    for (const [prefix, dir] of dirs) {
      if (!path.startsWith(prefix)) continue;
      const file = resolve(dir, `.${sep}${path.slice(prefix.length)}`);
      if (!file.startsWith(dir + sep)) return undefined; // ../ out of the folder
      const s = await stat(file).catch(() => undefined);
      if (s?.isFile()) return { body: await readFile(file) };
    }
    return undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const headers: Record<string, string> = o.isolated === false ? {} : { ...ISOLATION_HEADERS };
    const file = req.method === 'GET' || req.method === 'HEAD' ? await body(path) : undefined;
    if (!file) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end(`not found: ${path}`);
      return;
    }
    const bytes = typeof file.body === 'string' ? Buffer.from(file.body) : file.body;
    served.push({ path, bytes: bytes.length });
    res
      .writeHead(200, {
        ...headers,
        'Content-Type': file.type ?? TYPES[extname(path)] ?? 'application/octet-stream',
        'Content-Length': String(bytes.length),
        'Cache-Control': 'no-store',
      })
      .end(req.method === 'HEAD' ? undefined : bytes);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(e.message);
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', ok);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    served,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
