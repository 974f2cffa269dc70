// The query encoder in the browser: onnxruntime-web, loaded from this server's /ort/ (never a
// CDN), runs the ONNX export of the chosen nested submodel that /api/encoder.onnx serves.
import { queryPixels, unitVector } from './query-input.js';

const ORT_DIR = new URL('/ort/', location.href).href;

/** Image types the page embeds itself: the ones the server's upload path accepts. */
const DECODABLE = ['image/png', 'image/jpeg'];

/**
 * The WebGPU build when the browser offers an adapter (it runs wasm too), else the wasm-only
 * build; with the reason WebGPU was not used.
 */
async function importOrt() {
  let why = 'this browser has no WebGPU';
  if (navigator.gpu) {
    try {
      if (await navigator.gpu.requestAdapter())
        return { ort: await import(`${ORT_DIR}ort.webgpu.min.mjs`), backend: 'webgpu' };
      why = 'no WebGPU adapter';
    } catch (e) {
      why = `WebGPU failed: ${e.message}`;
    }
  }
  return { ort: await import(`${ORT_DIR}ort.wasm.min.mjs`), backend: 'wasm', why };
}

export class BrowserEncoder {
  /** Loads onnxruntime-web; rejects when it cannot (blocked files, no WebAssembly…). */
  static async load() {
    const { ort, backend, why } = await importOrt();
    ort.env.wasm.wasmPaths = ORT_DIR; // the .wasm binaries and their glue, from this server
    // Threads need SharedArrayBuffer, which only a cross-origin isolated page has (COOP/COEP).
    if (!crossOriginIsolated) ort.env.wasm.numThreads = 1;
    return new BrowserEncoder(ort, backend, why);
  }

  constructor(ort, backend, whyNotWebGpu) {
    this.ort = ort;
    /** The execution provider the sessions run on: 'webgpu' or 'wasm'. */
    this.backend = backend;
    this.whyNotWebGpu = whyNotWebGpu;
    /** Encoder name → Promise of its InferenceSession. */
    this.sessions = new Map();
    /** The last run queued: runs go one at a time (the WebGPU builds' runs must not overlap). */
    this.lastRun = Promise.resolve();
  }

  /** One line for the page: runtime, backend, threads. */
  describe() {
    const threads = this.ort.env.wasm.numThreads;
    const parts = [`onnxruntime-web ${this.ort.env.versions?.web ?? ''}`.trim(), this.backend];
    if (this.whyNotWebGpu) parts.push(`WebGPU not used: ${this.whyNotWebGpu}`);
    if (this.backend === 'wasm' && threads)
      parts.push(`${threads} thread${threads > 1 ? 's' : ''}`);
    parts.push(crossOriginIsolated ? 'cross-origin isolated' : 'not cross-origin isolated');
    return parts.join(', ');
  }

  session(name) {
    let s = this.sessions.get(name);
    if (!s) {
      s = this.createSession(name);
      this.sessions.set(name, s);
      s.catch(() => this.sessions.delete(name)); // try again on the next query
    }
    return s;
  }

  async createSession(name) {
    const res = await fetch(`/api/encoder.onnx?encoder=${encodeURIComponent(name)}`);
    if (!res.ok) throw new Error(`encoder ${name}: HTTP ${res.status}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    try {
      return await this.ort.InferenceSession.create(bytes, { executionProviders: [this.backend] });
    } catch (e) {
      if (this.backend !== 'webgpu') throw e;
      // A WebGPU adapter that cannot run the graph: the same build also runs on wasm.
      this.backend = 'wasm';
      this.whyNotWebGpu = `session failed: ${e.message}`;
      return this.ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    }
  }

  /** The unit embedding [dim] of one image's pixels [size, size, 1] by the named encoder. */
  async embed(name, pixels, size) {
    const session = await this.session(name);
    const run = this.lastRun.then(async () => {
      const input = new this.ort.Tensor('float32', pixels, [1, size, size, 1]);
      const out = await session.run({ pixel_values: input });
      const embedding = unitVector(out.embedding.data); // [dim]
      input.dispose();
      for (const t of Object.values(out)) t.dispose();
      return embedding;
    });
    this.lastRun = run.catch(() => {}); // a failed run does not block the next
    return run;
  }
}

/**
 * A PNG or JPEG Blob as the encoder's input [size, size, 1], decoded here and prepared by the
 * rules the server's upload path follows (query-input.js).
 */
export async function imagePixels(blob, size) {
  if (!DECODABLE.includes(blob.type))
    throw new Error(`not a PNG or JPEG (${blob.type || 'unknown type'})`);
  const { rgba, width, height } = await decodeRgba(blob);
  return queryPixels(rgba, width, height, size);
}

/**
 * The image's RGBA bytes as stored, as the server's decoders give them: no colour-space
 * conversion, no EXIF rotation, no premultiplied alpha (the canvas still premultiplies, so only
 * fully opaque pixels are exact).
 */
async function decodeRgba(blob) {
  const bitmap = await createImageBitmap(blob, {
    colorSpaceConversion: 'none',
    imageOrientation: 'none',
    premultiplyAlpha: 'none',
  });
  const { width, height } = bitmap;
  const ctx = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return { rgba: ctx.getImageData(0, 0, width, height).data, width, height };
}
