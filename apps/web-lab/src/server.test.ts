import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTextBytes, MOBY_DICK } from '@matformer/train';
import { CORPUS_PATH, startServer, type RunningServer } from './server';

describe('web-lab server', () => {
  let server: RunningServer;
  let pageDir: string;
  const get = (path: string) => fetch(new URL(path, server.url));

  beforeAll(async () => {
    pageDir = await mkdtemp(join(tmpdir(), 'web-lab-page-'));
    await writeFile(join(pageDir, 'page.js'), 'console.log("page")\n');
    server = await startServer({ port: 0, pageDir });
  });
  afterAll(async () => {
    await server?.close();
    await rm(pageDir, { recursive: true, force: true });
  });

  it('serves the page cross-origin isolated (COOP + COEP), with its bundle', async () => {
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(await res.text()).toContain('<script type="module" src="/page.js">');
    const js = await get('/page.js');
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(js.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(await js.text()).toBe('console.log("page")\n');
  });

  it("serves onnxruntime-web's wasm runtime from node_modules, and nothing else of it", async () => {
    const wasm = await get('/ort/ort-wasm-simd-threaded.wasm');
    expect(wasm.status).toBe(200);
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    const head = new Uint8Array(await wasm.arrayBuffer()).subarray(0, 4);
    expect([...head]).toEqual([0x00, 0x61, 0x73, 0x6d]); // "\0asm"
    const loader = await get('/ort/ort-wasm-simd-threaded.mjs');
    expect(loader.status).toBe(200);
    expect(loader.headers.get('content-type')).toMatch(/^text\/javascript/);
    for (const path of [
      '/ort/ort.min.mjs',
      '/ort/../package.json',
      '/ort/%2e%2e%2fpackage.json',
      '/ort/ort-wasm-simd-threaded.wasm/x',
      '/../package.json',
      '/src/server.ts',
    ])
      expect((await get(path)).status, path).toBe(404);
  });

  it("serves the shipped corpus as the bytes @matformer/train's loadTextBytes reads", async () => {
    const res = await get(CORPUS_PATH);
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const expected = await loadTextBytes(MOBY_DICK);
    expect(bytes.length).toBe(expected.length);
    expect(Buffer.compare(Buffer.from(bytes), Buffer.from(expected))).toBe(0);
  });

  it('answers only GET and HEAD, and a missing bundle with how to build it', async () => {
    expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
    const bare = await startServer({ port: 0, pageDir: join(pageDir, 'none') });
    try {
      const res = await fetch(new URL('/page.js', bare.url));
      expect(res.status).toBe(404);
      expect(await res.text()).toContain('npm run build -w @matformer/web-lab');
    } finally {
      await bare.close();
    }
  });
});
