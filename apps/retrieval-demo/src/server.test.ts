import { request } from 'node:http';
import { connect } from 'node:net';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { grayToPng } from './png';
import type { DemoState } from './query';
import { startServer, type RunningServer } from './server';
import { quickDemoState } from './test-fixtures';
import {
  jpegClaiming,
  heavyPng,
  interlacedPng,
  pngClaiming,
  pngWithSecondIhdr,
} from './test-images';
import { checkUpload, uploadToPixels } from './upload';

describe('retrieval-demo server', () => {
  let state: DemoState;
  let server: RunningServer;
  const logged: string[] = [];
  beforeAll(async () => {
    ({ state } = await quickDemoState());
    server = await startServer(state, {
      port: 0,
      maxUploadBytes: 50_000,
      log: (line) => logged.push(line),
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('binds to loopback and serves the page, the encoders and the curve', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(server.url);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('id="encoder-slider"');
    const info = (await (await fetch(new URL('/api/info', server.url))).json()) as {
      encoders: { name: string; flopsRatio: number; accuracy?: number }[];
      database: number;
    };
    expect(info.database).toBe(2000);
    expect(info.encoders.map((e) => e.name)).toEqual(state.encoders.map((e) => e.name));
    expect(info.encoders.every((e) => typeof e.accuracy === 'number')).toBe(true);
    const png = await fetch(new URL('/api/image/train/3.png', server.url));
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(PNG.sync.read(Buffer.from(await png.arrayBuffer())).width).toBe(28);
  });

  it('answers a held-out query with k labelled neighbours and timings', async () => {
    const r = await fetch(new URL('/api/query?test=0&encoder=uniform-8&k=5', server.url));
    const body = (await r.json()) as {
      query: { label: number };
      encoder: { name: string };
      neighbors: { id: number; label: number }[];
      totalMs: number;
    };
    expect(r.status).toBe(200);
    expect(body.encoder.name).toBe('uniform-8');
    expect(body.neighbors).toHaveLength(5);
    expect(body.totalMs).toBeGreaterThan(0);
    expect(body.query.label).toBe(state.data.test.labels[0]);
  });

  it('accepts an uploaded PNG, inverting a dark-on-light drawing', async () => {
    // A held-out digit drawn black on white at 56×56: the server must see it as MNIST does.
    const src = state.data.test.images.subarray(0, 784);
    const big = new Float32Array(56 * 56);
    for (let y = 0; y < 56; y++)
      for (let x = 0; x < 56; x++) big[y * 56 + x] = 1 - src[(y >> 1) * 28 + (x >> 1)];
    const r = await fetch(new URL('/api/query?encoder=full', server.url), {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: new Blob([new Uint8Array(grayToPng(big, 56, 56))]),
    });
    const body = (await r.json()) as { query: { preview: string }; neighbors: { label: number }[] };
    expect(r.status).toBe(200);
    expect(body.neighbors).toHaveLength(10);
    expect(body.query.preview).toMatch(/^data:image\/png;base64,/);
    const pixels = uploadToPixels(grayToPng(big, 56, 56), 'image/png', 28);
    expect(pixels.reduce((s, v) => s + v, 0) / 784).toBeLessThan(0.5); // light digit on dark ground
  });

  it('rejects bad uploads and parameters with clear errors', async () => {
    const post = (body: Uint8Array | string, type: string, query = '') =>
      fetch(new URL(`/api/query${query}`, server.url), {
        method: 'POST',
        headers: { 'content-type': type },
        body: typeof body === 'string' ? body : new Blob([new Uint8Array(body)]),
      });
    const expectError = async (r: Response, status: number, message: RegExp) => {
      expect(r.status).toBe(status);
      expect(((await r.json()) as { error: string }).error).toMatch(message);
    };
    await expectError(
      await post('GIF89a', 'image/gif'),
      415,
      /Content-Type must be image\/png or image\/jpeg, got "image\/gif"/,
    );
    await expectError(
      await post('not an image at all', 'image/png'),
      400,
      /not a PNG or JPEG image/,
    );
    const png = grayToPng(new Float32Array(784), 28, 28);
    await expectError(await post(png.subarray(0, 60), 'image/png'), 400, /unreadable PNG/);
    await expectError(await post(new Uint8Array(60_000), 'image/png'), 413, /limit is 50000 bytes/);
    await expectError(
      await post(png, 'image/png', '?encoder=huge'),
      400,
      /unknown query encoder "huge"; allowed: full/,
    );
    const get = (q: string) => fetch(new URL(`/api/query?${q}`, server.url));
    await expectError(
      await get('test=100'),
      400,
      /test must be an integer in \[0, 99\], got "100"/,
    );
    await expectError(await get('test=0&k=0'), 400, /k must be an integer in \[1, 100\]/);
    await expectError(
      await fetch(new URL('/api/image/test/999.png', server.url)),
      404,
      /no test digit 999/,
    );
    await expectError(await fetch(new URL('/nope', server.url)), 404, /no route for GET \/nope/);
  });

  it('refuses an oversized JPEG from its header, before decoding it', async () => {
    const bomb = jpegClaiming(7000, 7000); // ~600 bytes claiming 49 megapixels
    const t0 = performance.now();
    const r = await fetch(new URL('/api/query', server.url), {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: new Blob([new Uint8Array(bomb)]),
    });
    expect(r.status).toBe(413);
    expect(((await r.json()) as { error: string }).error).toBe(
      'the uploaded JPEG is 7000×7000; the limit is 4096×4096',
    );
    expect(performance.now() - t0).toBeLessThan(200);
  });

  it('refuses a PNG with a second IHDR from its chunk headers, before decoding it', async () => {
    for (const side of [5000, 16384]) {
      const t0 = performance.now();
      const r = await fetch(new URL('/api/query', server.url), {
        method: 'POST',
        headers: { 'content-type': 'image/png' },
        body: new Blob([new Uint8Array(pngWithSecondIhdr(side, side))]),
      });
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: string }).error).toBe(
        `the uploaded image: unreadable PNG (a second IHDR chunk at byte 33 claiming ${side}×${side}; a PNG has exactly one)`,
      );
      expect(performance.now() - t0).toBeLessThan(200);
    }
  });

  it('refuses an interlaced PNG, whose inflated size the decoder does not bound', () => {
    expect(() => checkUpload(interlacedPng(), 'image/png')).toThrow(
      'the uploaded PNG is interlaced (Adam7), which the decoder inflates without a size limit; save it without interlacing',
    );
  });

  it('caps decoded pixels for every format, 16-bit PNGs included', () => {
    expect(() => checkUpload(pngClaiming(4096, 4096, 16), 'image/png')).toThrow(
      'the uploaded PNG is 4096×4096 = 16,777,216 pixels; the limit is 1,048,576',
    );
    expect(() => checkUpload(jpegClaiming(1025, 1024), 'image/jpeg')).toThrow(/limit is 1,048,576/);
    expect(() => checkUpload(jpegClaiming(0, 10), 'image/jpeg')).toThrow(
      'the uploaded JPEG claims an empty 0×10 canvas',
    );
    expect(checkUpload(jpegClaiming(1024, 1024), 'image/jpeg').width).toBe(1024);
  });

  it('decodes uploads off the request thread: other queries are answered meanwhile', async () => {
    const heavy = heavyPng(1024);
    const upload = () =>
      fetch(new URL('/api/query?encoder=full', server.url), {
        method: 'POST',
        headers: { 'content-type': 'image/png' },
        body: new Blob([new Uint8Array(heavy)]),
      }).then(async (r) => ({ status: r.status, at: performance.now(), body: await r.text() }));
    await upload(); // warm: the decoder's first run
    const uploads = [upload(), upload(), upload()];
    await new Promise((r) => setTimeout(r, 30));
    const query = await fetch(new URL('/api/query?test=1&encoder=uniform-8', server.url));
    const queryAt = performance.now();
    expect(query.status).toBe(200);
    const done = await Promise.all(uploads);
    for (const u of done) expect(u.status, u.body).toBe(200);
    expect(queryAt).toBeLessThan(Math.min(...done.map((u) => u.at)));
  });

  it('reads query parameters as plain decimals (no hex, no empty value)', async () => {
    for (const k of ['0x10', '', '1e1', '5.0']) {
      const r = await fetch(new URL(`/api/query?test=0&k=${k}`, server.url));
      expect(r.status, k).toBe(400);
      expect(((await r.json()) as { error: string }).error).toBe(
        `query parameter k must be an integer in [1, 100], got "${k}"`,
      );
    }
  });

  it('sends nosniff and a restrictive Content-Security-Policy with every response', async () => {
    for (const path of ['/', '/api/info', '/nope', '/api/image/test/0.png']) {
      const r = await fetch(new URL(path, server.url));
      expect(r.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(r.headers.get('content-security-policy'), path).toMatch(
        /^default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; .*frame-ancestors 'none'$/,
      );
    }
  });

  it('refuses requests whose Host is not the bound address (DNS rebinding)', async () => {
    const withHost = (host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(new URL('/api/info', server.url), { headers: { host } }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        });
        req.on('error', reject);
        req.end();
      });
    const evil = await withHost(`rebind.attacker.example:${server.port}`);
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.body).error).toBe(
      `Host "rebind.attacker.example:${server.port}" is not this server's address; requests by other names are refused (DNS-rebinding defence)`,
    );
    expect((await withHost(`localhost:${server.port}`)).status).toBe(200);
    expect((await withHost(`127.0.0.1:${server.port}`)).status).toBe(200);
  });

  it('logs one line, and answers nothing, when a client disconnects mid-upload', async () => {
    const consoleError = vi.spyOn(console, 'error');
    logged.length = 0;
    const png = grayToPng(new Float32Array(784), 28, 28);
    const socket = connect(server.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write(
      `POST /api/query HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n` +
        `Content-Type: image/png\r\nContent-Length: ${png.length}\r\n\r\n`,
    );
    socket.write(png.subarray(0, 40));
    await new Promise((r) => setTimeout(r, 50)); // the server is reading the body now
    socket.destroy();
    await vi.waitFor(() => expect(logged).toHaveLength(1), { timeout: 2000 });
    await new Promise((r) => setTimeout(r, 100)); // nothing more arrives
    expect(logged).toEqual([
      `POST /api/query: the client disconnected after 40 of ${png.length} bytes of its upload`,
    ]);
    expect(consoleError).not.toHaveBeenCalled();
    consoleError.mockRestore();
    // The server is still serving.
    expect((await fetch(new URL('/api/info', server.url))).status).toBe(200);
  });

  it('answers 503 with Retry-After when the decode queue is full', async () => {
    const busy = await startServer(state, { port: 0, decode: { maxQueue: 0 } });
    try {
      const heavy = new Blob([new Uint8Array(heavyPng(1024))]);
      const upload = () =>
        fetch(new URL('/api/query', busy.url), {
          method: 'POST',
          headers: { 'content-type': 'image/png' },
          body: heavy,
        });
      const answers = await Promise.all([upload(), upload(), upload()]);
      const refused = answers.filter((r) => r.status === 503);
      expect(refused.length).toBeGreaterThan(0);
      for (const r of refused) {
        expect(r.headers.get('retry-after')).toBe('2');
        expect(((await r.json()) as { error: string }).error).toBe(
          'too many uploads are waiting to be decoded; try again shortly',
        );
      }
    } finally {
      await busy.close();
    }
  });

  it('refuses an oversized PNG canvas before decoding it', () => {
    const header = grayToPng(new Float32Array(4), 2, 2);
    header.writeUInt32BE(100_000, 16); // IHDR width
    expect(() => uploadToPixels(header, 'image/png', 28)).toThrow(
      /is 100000×2; the limit is 4096×4096/,
    );
  });
});
