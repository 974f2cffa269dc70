// The demo page: no framework, just the JSON API of server.ts. Queries are embedded here, in
// the browser (browser-encoder.js), and only the embedding is sent; when that cannot run, the
// image goes to the server, which embeds it (the upload path). The page says which was used.
import { BrowserEncoder, imagePixels } from './browser-encoder.js';

const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';

let info;
/** The current query: { kind: 'test', index } or { kind: 'upload', file }. */
let query;
/** Responses can arrive out of order when the slider moves fast: only the latest is drawn. */
let sequence = 0;
/** Resolves to the in-browser encoder, or to null (with the reason shown) if it cannot load. */
let browserEncoder;

function encoder() {
  return info.encoders[Number($('encoder-slider').value)];
}

function showStatus(text) {
  $('status').textContent = text;
}

function describeEncoder() {
  const e = encoder();
  $('encoder-name').textContent = e.name;
  $('encoder-widths').textContent = `FFN widths ${e.widths.join('/')}`;
  $('encoder-flops').textContent =
    `${(e.flops / 1e6).toFixed(2)} MFLOPs (${(100 * e.flopsRatio).toFixed(1)}% of full)`;
  drawCurve();
}

function drawCurve() {
  const svg = $('curve');
  svg.replaceChildren();
  const points = info.encoders.filter((e) => e.accuracy !== undefined);
  if (points.length === 0) {
    $('curve-caption').textContent = 'No accuracy measurements yet (run the CLI table first).';
    return;
  }
  const W = 360,
    H = 220,
    L = 44,
    R = 10,
    T = 10,
    B = 34;
  const accs = points.map((p) => 100 * p.accuracy);
  const lo = Math.floor(Math.min(...accs) - 1),
    hi = Math.ceil(Math.max(...accs) + 0.5);
  const x = (r) => L + (W - L - R) * r;
  const y = (a) => T + (H - T - B) * (1 - (a - lo) / Math.max(1e-9, hi - lo));
  const el = (name, attrs, text) => {
    const n = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
    if (text !== undefined) n.textContent = text;
    svg.appendChild(n);
    return n;
  };
  el('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: '#888' });
  el('line', { x1: L, y1: T, x2: L, y2: H - B, stroke: '#888' });
  for (const r of [0, 0.25, 0.5, 0.75, 1]) {
    el('text', { x: x(r), y: H - B + 14, 'text-anchor': 'middle', 'font-size': 10 }, `${100 * r}%`);
  }
  for (const a of [lo, (lo + hi) / 2, hi]) {
    el(
      'text',
      { x: L - 4, y: y(a) + 3, 'text-anchor': 'end', 'font-size': 10 },
      `${a.toFixed(1)}%`,
    );
  }
  el(
    'text',
    { x: (L + W - R) / 2, y: H - 4, 'text-anchor': 'middle', 'font-size': 11 },
    'query FLOPs (% of full)',
  );
  el('text', { x: 10, y: T + 8, 'font-size': 11 }, '1-NN');
  const uniform = points.filter((p) => p.name.startsWith('uniform-'));
  el('polyline', {
    points: uniform.map((p) => `${x(p.flopsRatio)},${y(100 * p.accuracy)}`).join(' '),
    fill: 'none',
    stroke: '#4a7',
  });
  const current = encoder().name;
  for (const p of points) {
    const c = el('circle', {
      cx: x(p.flopsRatio),
      cy: y(100 * p.accuracy),
      r: p.name === current ? 6 : 4,
      class: `point${p.name === current ? ' selected' : ''}`,
      'data-encoder': p.name,
    });
    const title = document.createElementNS(SVG, 'title');
    title.textContent = `${p.name}: ${(100 * p.accuracy).toFixed(2)}% 1-NN, recall@${info.k} ${p.recall.toFixed(3)}, ${(100 * p.flopsRatio).toFixed(1)}% FLOPs`;
    c.appendChild(title);
  }
  $('curve-caption').textContent =
    `1-NN accuracy of ${info.curveQueries} held-out queries against the full-encoder database, per query encoder (line: uniform widths; dots off it: Mix'n'Match).`;
}

function renderAnswer(answer) {
  const list = $('neighbors');
  list.replaceChildren();
  const truth = answer.query.label;
  let matches = 0;
  for (const n of answer.neighbors) {
    const li = document.createElement('li');
    li.className = `neighbor${truth === undefined ? '' : n.label === truth ? ' match' : ' miss'}`;
    li.dataset.label = String(n.label);
    li.dataset.id = String(n.id);
    const img = document.createElement('img');
    img.className = 'digit';
    img.src = `/api/image/train/${n.id}.png`;
    img.alt = `database digit ${n.id}, label ${n.label}`;
    const label = document.createElement('div');
    label.className = 'label';
    label.textContent = info.classes[n.label] ?? String(n.label);
    const dist = document.createElement('div');
    dist.textContent = `d=${n.distance.toFixed(3)}`;
    li.append(img, label, dist);
    list.appendChild(li);
    if (n.label === truth) matches++;
  }
  $('latency').textContent =
    `${answer.totalMs.toFixed(1)} ms (embed ${answer.embedMs.toFixed(1)} ms ${answer.embedWhere} with ${answer.encoder.name}, search ${answer.searchMs.toFixed(2)} ms)`;
  $('agreement').textContent =
    truth === undefined
      ? ''
      : `${matches} of ${answer.neighbors.length} neighbours share the query's label.`;
  if (truth !== undefined) $('query-label').textContent = info.classes[truth] ?? String(truth);
  document.body.dataset.encoder = answer.encoder.name;
}

/**
 * The encoder's input [size, size, 1]: a held-out digit's exact values (its PNG would round
 * them to 8 bits), or the picked file decoded here.
 */
async function queryInput(q) {
  if (q.kind === 'upload') return imagePixels(q.file, info.input.size);
  const res = await fetch(`/api/pixels/test/${q.index}`);
  if (!res.ok) throw new Error(`held-out digit ${q.index}: HTTP ${res.status}`);
  return new Float32Array(await res.arrayBuffer());
}

/** What the model saw ([size, size] gray values) as a PNG data URL, for the query preview. */
function previewOf(pixels, size) {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = size;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(size, size);
  for (let i = 0; i < pixels.length; i++) {
    const v = Math.round(255 * pixels[i]);
    img.data.set([v, v, v, 255], 4 * i);
  }
  ctx.putImageData(img, 0, 0);
  return canvas.toDataURL('image/png');
}

/**
 * The browser path's first half: the query's unit embedding, made here ({ embedding, pixels,
 * ms, backend }), or { why } it could not be, so the caller uses the server path instead.
 */
async function embedHere(q, enc) {
  const here = await browserEncoder;
  if (!here) return { why: 'the in-browser encoder did not load' };
  try {
    const pixels = await queryInput(q);
    const t0 = performance.now(); // the encoder alone, as the server times its own embedding
    const embedding = await here.embed(enc.name, pixels, info.input.size);
    return { embedding, pixels, ms: performance.now() - t0, backend: here.backend };
  } catch (e) {
    return { why: `embedding here failed: ${e.message}` };
  }
}

/** Shows which path answered, and keeps the embedding sent (for checks against the server's). */
function showPath(path, detail, embedding) {
  const el = $('query-path');
  el.textContent = detail;
  el.dataset.embedding = embedding ? JSON.stringify(Array.from(embedding)) : '';
  document.body.dataset.path = path;
}

async function runQuery() {
  if (!query) return;
  const seq = ++sequence;
  const q = query;
  const enc = encoder();
  const params = new URLSearchParams({ encoder: enc.name, k: String(info.k) });
  if (q.kind === 'test') params.set('test', String(q.index));
  document.body.dataset.state = 'querying';
  try {
    const t0 = performance.now();
    const here = await embedHere(q, enc);
    let res;
    if (here.embedding) {
      res = await fetch(`/api/query/embedding?${params}`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: here.embedding, // [dim] float32, little-endian on every browser platform
      });
    } else if (q.kind === 'test') {
      res = await fetch(`/api/query?${params}`);
    } else {
      res = await fetch(`/api/query?${params}`, {
        method: 'POST',
        headers: { 'content-type': q.file.type || 'application/octet-stream' },
        body: q.file,
      });
    }
    const body = await res.json();
    if (seq !== sequence) return;
    if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
    showStatus('');
    if (here.embedding) {
      body.embedMs = here.ms;
      body.totalMs = performance.now() - t0;
      body.embedWhere = `in this browser (${here.backend})`;
      showPath(
        'browser',
        `embedded in this browser on ${here.backend}; sent ${here.embedding.length} float32 values, no image`,
        here.embedding,
      );
      if (q.kind === 'upload') $('query-image').src = previewOf(here.pixels, info.input.size);
      $('runtime').textContent = `In-browser encoder: ${(await browserEncoder).describe()}.`;
      document.body.dataset.backend = here.backend;
    } else {
      body.embedWhere = 'on the server';
      const sent = q.kind === 'upload' ? 'the image was uploaded' : 'the digit was named';
      showPath('server', `embedded on the server (${sent}): ${here.why}`);
      if (body.query.preview) $('query-image').src = body.query.preview;
    }
    renderAnswer(body);
    document.body.dataset.queries = String(Number(document.body.dataset.queries) + 1);
  } catch (e) {
    if (seq === sequence) showStatus(`query failed: ${e.message}`);
  } finally {
    if (seq === sequence) document.body.dataset.state = 'ready';
  }
}

function pickTest(i) {
  query = { kind: 'test', index: i };
  $('query-image').src = `/api/image/test/${i}.png`;
  $('query-desc').textContent = `held-out digit #${i}`;
  $('query-label').textContent = '…';
  for (const b of $('digit-grid').children)
    b.classList.toggle('selected', Number(b.dataset.index) === i);
  runQuery();
}

async function init() {
  info = await (await fetch('/api/info')).json();
  $('db-count').textContent = info.database.toLocaleString('en-US');
  const slider = $('encoder-slider');
  slider.max = String(info.encoders.length - 1);
  slider.value = '0'; // start at the cheapest encoder: the small model the browser runs
  slider.addEventListener('input', () => {
    describeEncoder();
    prepareEncoder();
    runQuery();
  });
  describeEncoder();
  const grid = $('digit-grid');
  for (let i = 0; i < Math.min(30, info.heldOut); i++) {
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.index = String(i);
    b.title = `held-out digit #${i}`;
    const img = document.createElement('img');
    img.src = `/api/image/test/${i}.png`;
    img.alt = `held-out digit ${i}`;
    b.appendChild(img);
    b.addEventListener('click', () => pickTest(i));
    grid.appendChild(b);
  }
  $('random-digit').addEventListener('click', () =>
    pickTest(Math.floor(Math.random() * info.heldOut)),
  );
  $('upload').addEventListener('change', (ev) => {
    const file = ev.target.files[0];
    if (!file) return;
    query = { kind: 'upload', file };
    $('query-desc').textContent = `upload ${file.name}`;
    $('query-label').textContent = 'unknown';
    for (const b of grid.children) b.classList.remove('selected');
    runQuery();
  });
  browserEncoder = BrowserEncoder.load().then(
    (here) => {
      $('runtime').textContent = `In-browser encoder: ${here.describe()}.`;
      document.body.dataset.runtime = 'ready';
      return here;
    },
    (e) => {
      $('runtime').textContent =
        `In-browser encoder unavailable (${e.message}): images are embedded on the server.`;
      document.body.dataset.runtime = 'failed';
      return null;
    },
  );
  prepareEncoder();
  document.body.dataset.state = 'ready';
}

/**
 * Starts fetching the chosen encoder and creating its session (the first one also starts the
 * wasm runtime, which takes a second or two) before a query needs it.
 */
function prepareEncoder() {
  const name = encoder().name;
  browserEncoder.then((here) => here?.session(name)).catch(() => {}); // a query reports errors
}

init().catch((e) => showStatus(`could not load the demo: ${e.message}`));
