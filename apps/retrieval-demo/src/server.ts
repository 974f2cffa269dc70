import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MatformerError } from '@matformer/core';
import { pickEncoder } from '@matformer/retrieval';
import { datasetSize } from '@matformer/train';
import { imageAt } from './data';
import { grayToPng } from './png';
import { DecodePool, type DecodePoolOptions } from './decode-pool';
import { hostChecker } from './host-check';
import { EmbeddingError, MAX_EMBEDDING_BYTES, parseEmbedding } from './embedding-body';
import { EncoderModels } from './encoder-models';
import { serveOrtFile } from './ort-files';
import { answerQuery, searchEmbedding, type DemoState } from './query';
import { ClientGoneError, readBody } from './request-body';
import { checkUpload, DEFAULT_MAX_UPLOAD_BYTES, UploadError } from './upload';

export interface ServerOptions {
  /** Interface to bind; loopback by default, so the page is not exposed to the network. */
  host?: string;
  /** 0 = any free port. */
  port?: number;
  maxUploadBytes?: number;
  /** Other names the page may be reached by (the Host header), beside the bound address. */
  allowedHosts?: string[];
  /** The upload decoder's queue and time limits. */
  decode?: DecodePoolOptions;
  /** Where one-line notes go (a client that left mid-upload); stderr by default. */
  log?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const STATIC: Record<string, [file: string, type: string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
  '/query-input.js': ['query-input.js', 'text/javascript; charset=utf-8'],
  '/browser-encoder.js': ['browser-encoder.js', 'text/javascript; charset=utf-8'],
};
// static/ sits beside src/ and dist/, so this resolves from the sources and from the bundle.
const staticDir = new URL('../static/', import.meta.url);

/**
 * Sent with every response: no MIME sniffing (an upload is never rendered as HTML), and a page
 * that loads scripts, styles, images and API calls from this server only (data: for previews),
 * may compile WebAssembly (onnxruntime-web) and start workers from this server (its threads).
 * COOP + COEP make the page cross-origin isolated: SharedArrayBuffer, so wasm threads can run.
 */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy':
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

/**
 * Seconds a 503 asks the client to wait: the decode queue (8 uploads of at most ~0.25 s each,
 * under the pixel cap) drains in about this long.
 */
export const RETRY_AFTER_S = 2;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });
  res.end(data);
}

function intParam(url: URL, name: string, min: number, max: number, fallback?: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null && fallback !== undefined) return fallback;
  // Plain decimals only: Number() would read "0x10" as 16 and "" as 0.
  const v = raw !== null && /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(v) || v < min || v > max)
    throw new HttpError(
      400,
      `query parameter ${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`,
    );
  return v;
}

/** Encoders, dataset sizes and the measured accuracy-vs-compute curve, for the page. */
function info(state: DemoState) {
  const byName = new Map(state.report?.rows.map((r) => [r.name, r]));
  return {
    k: state.k,
    database: state.databaseSize,
    heldOut: datasetSize(state.data.test),
    classes: state.data.train.classes,
    /** What the in-browser encoder takes and gives: pixel_values [1, size, size, channels] → [dim]. */
    input: { size: state.model.config.imageSize, channels: state.model.config.channels },
    embeddingDim: state.model.config.dModel,
    encoders: state.encoders.map((e) => {
      const row = byName.get(e.name);
      return {
        name: e.name,
        widths: e.widths,
        flops: e.flops,
        flopsRatio: e.flopsRatio,
        ...(row ? { accuracy: row.accuracy, recall: row.recall } : {}),
      };
    }),
    curveQueries: state.report?.queries ?? 0,
  };
}

interface Services {
  maxUpload: number;
  decoder: DecodePool;
  encoderModels: EncoderModels;
}

async function route(
  state: DemoState,
  req: IncomingMessage,
  res: ServerResponse,
  { maxUpload, decoder, encoderModels }: Services,
) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method ?? 'GET';
  const { train, test } = state.data;
  const size = state.model.config.imageSize;

  const staticFile = STATIC[url.pathname];
  if (staticFile && method === 'GET') {
    const body = await readFile(new URL(staticFile[0], staticDir));
    res.writeHead(200, { 'content-type': staticFile[1], 'cache-control': 'no-store' });
    res.end(body);
    return;
  }
  const img = /^\/api\/image\/(train|test)\/(\d+)\.png$/.exec(url.pathname);
  if (img && method === 'GET') {
    const d = img[1] === 'train' ? train : test;
    const i = Number(img[2]);
    if (i >= datasetSize(d))
      throw new HttpError(404, `no ${img[1]} digit ${i} (there are ${datasetSize(d)})`);
    res.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'max-age=3600' });
    res.end(grayToPng(imageAt(d, i), d.width, d.height));
    return;
  }
  const ort = /^\/ort\/([\w.-]+)$/.exec(url.pathname);
  if (ort && method === 'GET' && (await serveOrtFile(ort[1], res))) return;
  const raw = /^\/api\/pixels\/test\/(\d+)$/.exec(url.pathname);
  if (raw && method === 'GET') {
    // A held-out digit's exact model input [H, W, C] as float32 (its PNG rounds to 8 bits), for
    // the page's in-browser encoder.
    const i = Number(raw[1]);
    if (i >= datasetSize(test))
      throw new HttpError(404, `no test digit ${i} (there are ${datasetSize(test)})`);
    const px = imageAt(test, i);
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': px.byteLength,
      'cache-control': 'max-age=3600',
    });
    res.end(Buffer.from(px.buffer, px.byteOffset, px.byteLength));
    return;
  }
  if (url.pathname === '/api/info' && method === 'GET') return sendJson(res, 200, info(state));
  if (url.pathname === '/api/encoder.onnx' && method === 'GET') {
    // The page's in-browser encoder; by default the cheapest (the slider's first stop).
    const { name, bytes } = encoderModels.onnx(
      url.searchParams.get('encoder') ?? state.encoders[0].name,
    );
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': bytes.length,
      'cache-control': 'no-store',
      'x-matformer-encoder': name,
    });
    res.end(bytes);
    return;
  }
  if (url.pathname === '/api/query/embedding') {
    if (method !== 'POST')
      throw new HttpError(405, `${method} is not allowed on /api/query/embedding (POST)`);
    const encoder = url.searchParams.get('encoder');
    if (encoder === null)
      throw new EmbeddingError(
        400,
        'query parameter encoder is required: the name of the encoder that made the embedding',
      );
    pickEncoder(state.encoders, encoder); // an unknown name is refused before the body is read
    const k = intParam(url, 'k', 1, 100, state.k);
    // Optional: the held-out digit the page embedded, so the answer can carry its label.
    const i = url.searchParams.has('test')
      ? intParam(url, 'test', 0, datasetSize(test) - 1)
      : undefined;
    const bytes = await readBody(req, res, MAX_EMBEDDING_BYTES, 'the embedding');
    const unit = parseEmbedding(bytes, req.headers['content-type'], state.model.config.dModel);
    const found = await searchEmbedding(state, unit, encoder, k);
    const query =
      i === undefined
        ? { source: 'embedding' }
        : { source: 'embedding', test: i, label: test.labels[i] };
    return sendJson(res, 200, { query, ...found });
  }
  if (url.pathname === '/api/query') {
    const encoder = url.searchParams.get('encoder') ?? state.encoders.at(-1)!.name;
    const k = intParam(url, 'k', 1, 100, state.k);
    if (method === 'GET') {
      const i = intParam(url, 'test', 0, datasetSize(test) - 1);
      const answer = await answerQuery(state, imageAt(test, i), encoder, k);
      return sendJson(res, 200, {
        query: { source: 'test', index: i, label: test.labels[i] },
        ...answer,
      });
    }
    if (method === 'POST') {
      const bytes = await readBody(req, res, maxUpload);
      // Header checks here (cheap: a bomb is refused in microseconds), the decode off-thread.
      checkUpload(bytes, req.headers['content-type'], maxUpload);
      const pixels = await decoder.decode({
        bytes,
        contentType: req.headers['content-type'],
        size,
        maxBytes: maxUpload,
      });
      const answer = await answerQuery(state, pixels, encoder, k);
      const preview = `data:image/png;base64,${grayToPng(pixels, size, size).toString('base64')}`;
      return sendJson(res, 200, { query: { source: 'upload', preview }, ...answer });
    }
    throw new HttpError(405, `${method} is not allowed on /api/query (GET or POST)`);
  }
  throw new HttpError(404, `no route for ${method} ${url.pathname}`);
}

/** Serves the demo page and its JSON API until `close()`. */
export function startServer(state: DemoState, opts: ServerOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const maxUpload = opts.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  const decoder = new DecodePool(opts.decode);
  const encoderModels = new EncoderModels(state);
  const log = opts.log ?? ((line: string) => process.stderr.write(`retrieval-demo: ${line}\n`));
  let hostAllowed: (h: string | undefined) => boolean = () => false;
  const server = createServer((req, res) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    if (!hostAllowed(req.headers.host)) {
      res.setHeader('connection', 'close');
      sendJson(res, 403, {
        error: `Host ${JSON.stringify(req.headers.host ?? '')} is not this server's address; requests by other names are refused (DNS-rebinding defence)`,
      });
      return;
    }
    route(state, req, res, { maxUpload, decoder, encoderModels }).catch((e: Error) => {
      if (e instanceof ClientGoneError) return log(e.message); // nobody to answer
      // Our own errors are the client's fault and say so; anything else is a 500.
      const status =
        e instanceof HttpError || e instanceof UploadError || e instanceof EmbeddingError
          ? e.status
          : e instanceof MatformerError
            ? 400
            : 500;
      if (status === 500) console.error(e);
      if (status === 503) res.setHeader('retry-after', String(RETRY_AFTER_S));
      if (!res.headersSent) sendJson(res, status, { error: e.message });
      else res.end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      const { port } = server.address() as AddressInfo;
      hostAllowed = hostChecker(host, port, opts.allowedHosts);
      decoder.warm();
      const shown = host.includes(':') ? `[${host}]` : host;
      resolve({
        url: `http://${shown}:${port}/`,
        port,
        close: () =>
          new Promise<void>((done, fail) => {
            server.closeAllConnections();
            server.close((err) => {
              void decoder.close().then(() => (err ? fail(err) : done()), fail);
            });
          }),
      });
    });
  });
}
