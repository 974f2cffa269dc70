import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { OnnxViTEncoder } from '@matformer/core/onnx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unitVector } from '../static/query-input.js';
import { imageAt } from './data';
import type { DemoState } from './query';
import { startServer, type RunningServer } from './server';
import { quickDemoState } from './test-fixtures';

interface Answer {
  query: { source: string; test?: number; label?: number };
  encoder: { name: string };
  neighbors: { id: number; label: number; distance: number }[];
  embedding?: number[];
}

const f32 = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);

describe('the embedding API (the browser path)', () => {
  let state: DemoState;
  let server: RunningServer;
  let dim: number;
  /** The server's own embedding and neighbours of held-out digit 0 by the cheapest encoder. */
  let reference: Answer;
  let smallest: string;

  beforeAll(async () => {
    ({ state } = await quickDemoState());
    dim = state.model.config.dModel;
    smallest = state.encoders[0].name;
    server = await startServer(state, { port: 0 });
    reference = (await (
      await fetch(new URL(`/api/query?test=0&encoder=${smallest}`, server.url))
    ).json()) as Answer;
  });
  afterAll(async () => {
    await server?.close();
  });

  const post = (
    body: Uint8Array | string,
    query = `?encoder=${smallest}`,
    type = 'application/octet-stream',
  ) =>
    fetch(new URL(`/api/query/embedding${query}`, server.url), {
      method: 'POST',
      headers: { 'content-type': type },
      body: typeof body === 'string' ? body : new Blob([new Uint8Array(body)]),
    });
  const expectError = async (r: Response, status: number, message: string | RegExp) => {
    expect(r.status).toBe(status);
    const { error } = (await r.json()) as { error: string };
    if (typeof message === 'string') expect(error).toBe(message);
    else expect(error).toMatch(message);
  };

  it('searches a posted embedding: the same neighbours as the server embedding the digit', async () => {
    expect(reference.embedding).toHaveLength(dim);
    const r = await post(f32(reference.embedding!), `?encoder=${smallest}&test=0`);
    expect(r.status).toBe(200);
    const body = (await r.json()) as Answer;
    expect(body.encoder.name).toBe(smallest);
    expect(body.query).toEqual({
      source: 'embedding',
      test: 0,
      label: state.data.test.labels[0],
    });
    expect(body.neighbors.map((n) => n.id)).toEqual(reference.neighbors.map((n) => n.id));
    // Any length: the server searches the unit vector, as the database rows are.
    const scaled = (await (
      await post(f32(reference.embedding!.map((v) => 3 * v)), `?encoder=${smallest}&k=4`)
    ).json()) as Answer;
    expect(scaled.query).toEqual({ source: 'embedding' });
    expect(scaled.neighbors.map((n) => n.id)).toEqual(
      reference.neighbors.slice(0, 4).map((n) => n.id),
    );
  });

  it('refuses a wrong length, non-finite values, zeros, an unknown encoder and the wrong type with clear 4xx errors', async () => {
    const good = reference.embedding!;
    await expectError(
      await post(f32(good.slice(1))),
      400,
      `the embedding must be ${dim} float32 values (${4 * dim} bytes), got ${4 * (dim - 1)} bytes (${dim - 1} values)`,
    );
    await expectError(
      await post(new Uint8Array(4 * dim + 2)),
      400,
      `the embedding must be ${dim} float32 values (${4 * dim} bytes), got ${4 * dim + 2} bytes (not whole float32s)`,
    );
    const withNaN = [...good];
    withNaN[2] = NaN;
    await expectError(
      await post(f32(withNaN)),
      400,
      'embedding value 2 is NaN; every value must be a finite number',
    );
    const withInf = [...good];
    withInf[dim - 1] = -Infinity;
    await expectError(
      await post(f32(withInf)),
      400,
      `embedding value ${dim - 1} is -Infinity; every value must be a finite number`,
    );
    await expectError(
      await post(new Uint8Array(4 * dim)),
      400,
      'the embedding is all zeros: it has no direction to search',
    );
    await expectError(
      await post(f32(good), '?encoder=huge'),
      400,
      /^unknown query encoder "huge"; allowed: full, /,
    );
    await expectError(
      await post(f32(good), ''),
      400,
      'query parameter encoder is required: the name of the encoder that made the embedding',
    );
    await expectError(
      await post(JSON.stringify(good), `?encoder=${smallest}`, 'application/json'),
      415,
      'embedding Content-Type must be application/octet-stream (raw little-endian float32 values), got "application/json"',
    );
    await expectError(
      await post(new Uint8Array(70_000)),
      413,
      'the embedding is 70000 bytes; the limit is 65536 bytes',
    );
    await expectError(
      await fetch(new URL(`/api/query/embedding?encoder=${smallest}`, server.url)),
      405,
      'GET is not allowed on /api/query/embedding (POST)',
    );
    // Still serving.
    expect((await post(f32(good))).status).toBe(200);
  });

  it('serves each encoder as ONNX: onnxruntime gives the server embedding of a digit (< 1e-4)', async () => {
    for (const e of [state.encoders[0], state.encoders.at(-1)!]) {
      const r = await fetch(new URL(`/api/encoder.onnx?encoder=${e.name}`, server.url));
      expect(r.status).toBe(200);
      expect(r.headers.get('x-matformer-encoder')).toBe(e.name);
      const onnx = await OnnxViTEncoder.fromBytes(new Uint8Array(await r.arrayBuffer()));
      try {
        expect(onnx.widths).toEqual(e.widths);
        const served = (await (
          await fetch(new URL(`/api/query?test=4&encoder=${e.name}`, server.url))
        ).json()) as Answer;
        const mine = unitVector(await onnx.embed(imageAt(state.data.test, 4), 1));
        const diff = Array.from(mine).reduce(
          (m, v, i) => Math.max(m, Math.abs(v - served.embedding![i])),
          0,
        );
        expect(diff, e.name).toBeLessThan(1e-4);
      } finally {
        onnx.dispose();
      }
    }
    // The default is the cheapest encoder; an unknown name is a 400.
    const byDefault = await fetch(new URL('/api/encoder.onnx', server.url));
    expect(byDefault.headers.get('x-matformer-encoder')).toBe(smallest);
    await expectError(
      await fetch(new URL('/api/encoder.onnx?encoder=huge', server.url)),
      400,
      /^unknown query encoder "huge"/,
    );
  });

  it("serves a held-out digit's exact values", async () => {
    const r = await fetch(new URL('/api/pixels/test/6', server.url));
    expect(r.headers.get('content-type')).toBe('application/octet-stream');
    const px = new Float32Array(await r.arrayBuffer());
    expect(Array.from(px)).toEqual(Array.from(imageAt(state.data.test, 6)));
    await expectError(
      await fetch(new URL('/api/pixels/test/100', server.url)),
      404,
      'no test digit 100 (there are 100)',
    );
  });

  it("serves onnxruntime-web's runtime files from node_modules, and nothing else there", async () => {
    const dist = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
    for (const [file, type] of [
      ['ort.wasm.min.mjs', 'text/javascript; charset=utf-8'],
      ['ort-wasm-simd-threaded.mjs', 'text/javascript; charset=utf-8'],
      ['ort-wasm-simd-threaded.wasm', 'application/wasm'],
    ]) {
      const r = await fetch(new URL(`/ort/${file}`, server.url));
      expect(r.status, file).toBe(200);
      expect(r.headers.get('content-type'), file).toBe(type);
      expect((await r.arrayBuffer()).byteLength, file).toBe(statSync(join(dist, file)).size);
    }
    for (const path of ['/ort/ort.node.min.js', '/ort/..%2Fpackage.json', '/ort/'])
      expect((await fetch(new URL(path, server.url))).status, path).toBe(404);
  });

  it('makes the page cross-origin isolated (COOP + COEP) and lets it compile wasm', async () => {
    for (const path of ['/', '/app.js', '/ort/ort.wasm.min.mjs', '/api/info']) {
      const r = await fetch(new URL(path, server.url));
      expect(r.headers.get('cross-origin-opener-policy'), path).toBe('same-origin');
      expect(r.headers.get('cross-origin-embedder-policy'), path).toBe('require-corp');
      expect(r.headers.get('content-security-policy'), path).toMatch(
        /script-src 'self' 'wasm-unsafe-eval'; worker-src 'self';/,
      );
      await r.arrayBuffer();
    }
  });
});
