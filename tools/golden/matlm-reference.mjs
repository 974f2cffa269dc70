// An independent MatLM reference, written from packages/core/README.md ("MatLM: what the
// forward computes") and nothing else: plain JavaScript, float64 arithmetic, no import from
// @matformer/core. It writes a fixed tiny checkpoint (safetensors, the documented names and
// shapes) and the logits and losses its forward computes for a few widths into a JSON
// fixture; core's golden test loads both and must agree (minGPT / llm.c habit).
//
//   node tools/golden/matlm-reference.mjs   (rewrites the two files under
//   packages/core/src/models/matlm/fixtures/, then `npx prettier --write` the JSON; run it only
//   when the documented model changes)
import { writeFileSync } from 'node:fs';

const OUT = new URL('../../packages/core/src/models/matlm/fixtures/', import.meta.url);

// The `tiny` preset: C = 16, L = 2, H = 2, dFF = 64, V = 32, maxSeqLen = 16.
const config = {
  arch: 'matlm',
  dModel: 16,
  nLayers: 2,
  nHeads: 2,
  dFF: 64,
  vocabSize: 32,
  maxSeqLen: 16,
  granularities: [8, 16, 32, 64],
  normEps: 1e-5,
};
const { dModel: C, nLayers: L, nHeads: H, dFF, vocabSize: V, maxSeqLen } = config;
const hd = C / H;

// Deterministic weights (mulberry32), large enough that every part of the model matters.
let seed = 12345;
function rand() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const uniform = (n, scale, offset = 0) =>
  Float32Array.from({ length: n }, () => offset + scale * (2 * rand() - 1));

// Tensor table of the README, in checkpoint order.
const W = {};
const shapes = {};
function add(name, shape, scale, offset = 0) {
  shapes[name] = shape;
  W[name] = uniform(
    shape.reduce((a, b) => a * b, 1),
    scale,
    offset,
  );
}
add('tok_emb', [V, C], 0.5);
add('pos_emb', [maxSeqLen, C], 0.3);
for (let l = 0; l < L; l++) {
  const p = `blocks.${l}`;
  add(`${p}.ln1.weight`, [C], 0.2, 1);
  add(`${p}.ln1.bias`, [C], 0.1);
  add(`${p}.attn.qkv.weight`, [C, 3 * C], 0.4);
  add(`${p}.attn.qkv.bias`, [3 * C], 0.1);
  add(`${p}.attn.out.weight`, [C, C], 0.3);
  add(`${p}.attn.out.bias`, [C], 0.1);
  add(`${p}.ln2.weight`, [C], 0.2, 1);
  add(`${p}.ln2.bias`, [C], 0.1);
  add(`${p}.ffn.fc1.weight`, [dFF, C], 0.4);
  add(`${p}.ffn.fc1.bias`, [dFF], 0.1);
  add(`${p}.ffn.fc2.weight`, [dFF, C], 0.2);
  add(`${p}.ffn.fc2.bias`, [C], 0.1);
}
add('ln_f.weight', [C], 0.2, 1);
add('ln_f.bias', [C], 0.1);

// ---- the forward pass, as documented ----
const at = (name, ...idx) => {
  const s = shapes[name];
  let i = 0;
  for (let d = 0; d < s.length; d++) i = i * s[d] + idx[d];
  return W[name][i];
};

/** LayerNorm over the last axis: population variance (divide by C), eps inside the sqrt. */
function layerNorm(x, p) {
  const mean = x.reduce((a, b) => a + b, 0) / C;
  const v = x.reduce((a, b) => a + (b - mean) ** 2, 0) / C;
  return x.map(
    (xi, i) =>
      ((xi - mean) / Math.sqrt(v + config.normEps)) * at(`${p}.weight`, i) + at(`${p}.bias`, i),
  );
}

/** y = x · W + b with W stored [in, out]. */
function linear(x, name, nOut) {
  return Array.from({ length: nOut }, (_, j) => {
    let s = at(`${name}.bias`, j);
    for (let i = 0; i < x.length; i++) s += x[i] * at(`${name}.weight`, i, j);
    return s;
  });
}

/** GELU, tanh approximation. */
const gelu = (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

function forward(tokens, widths) {
  const T = tokens.length;
  // Token embedding plus learned position t (positions start at 0).
  let xs = tokens.map((tok, t) =>
    Array.from({ length: C }, (_, c) => at('tok_emb', tok, c) + at('pos_emb', t, c)),
  );
  for (let l = 0; l < L; l++) {
    const m = widths[l];
    if (m === 0) continue; // width 0 skips the whole block, attention included
    const p = `blocks.${l}`;
    // Attention: qkv = ln1(x)·Wqkv + b, split into q | k | v (each C wide), heads of hd columns.
    const qkv = xs.map((x) => linear(layerNorm(x, `${p}.ln1`), `${p}.attn.qkv`, 3 * C));
    const ctx = xs.map(() => new Array(C).fill(0));
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < T; i++) {
        // Causal: query i sees keys 0..i. Scores scaled by 1/sqrt(hd).
        const scores = [];
        for (let j = 0; j <= i; j++) {
          let s = 0;
          for (let d = 0; d < hd; d++) s += qkv[i][h * hd + d] * qkv[j][C + h * hd + d];
          scores.push(s / Math.sqrt(hd));
        }
        const mx = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - mx));
        const z = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j <= i; j++)
          for (let d = 0; d < hd; d++)
            ctx[i][h * hd + d] += (e[j] / z) * qkv[j][2 * C + h * hd + d];
      }
    }
    xs = xs.map((x, i) => {
      const a = linear(ctx[i], `${p}.attn.out`, C);
      return x.map((xi, c) => xi + a[c]);
    });
    // Nested FFN at width m: the first m hidden neurons (fc1, fc2 stored [dFF, C]).
    xs = xs.map((x) => {
      const n = layerNorm(x, `${p}.ln2`);
      const hidden = Array.from({ length: m }, (_, k) => {
        let s = at(`${p}.ffn.fc1.bias`, k);
        for (let c = 0; c < C; c++) s += n[c] * at(`${p}.ffn.fc1.weight`, k, c);
        return gelu(s);
      });
      return x.map((xi, c) => {
        let s = at(`${p}.ffn.fc2.bias`, c);
        for (let k = 0; k < m; k++) s += hidden[k] * at(`${p}.ffn.fc2.weight`, k, c);
        return xi + s;
      });
    });
  }
  // Final norm, then the tied head: logits = h · tok_embᵀ, no bias.
  return xs.map((x) => {
    const h = layerNorm(x, 'ln_f');
    return Array.from({ length: V }, (_, v) =>
      h.reduce((s, hc, c) => s + hc * at('tok_emb', v, c), 0),
    );
  });
}

/** Mean next-token cross-entropy (nats). */
function loss(logits, targets) {
  let sum = 0;
  logits.forEach((row, t) => {
    const mx = Math.max(...row);
    const lse = mx + Math.log(row.reduce((a, b) => a + Math.exp(b - mx), 0));
    sum += lse - row[targets[t]];
  });
  return sum / targets.length;
}

// ---- the fixture ----
const sequence = [3, 17, 4, 4, 29, 0, 11, 31, 8, 2, 19, 23, 5];
const tokens = sequence.slice(0, -1);
const targets = sequence.slice(1);
const cases = [
  [64, 64],
  [8, 8],
  [32, 16],
  [0, 64],
  [16, 0],
].map((widths) => {
  const logits = forward(tokens, widths);
  return { widths, logits, loss: loss(logits, targets) };
});

// safetensors: u64 header length, JSON header (sorted names, F32, offsets), raw little-endian data.
const names = Object.keys(W).sort();
let offset = 0;
const header = {};
for (const n of names) {
  header[n] = { dtype: 'F32', shape: shapes[n], data_offsets: [offset, offset + W[n].byteLength] };
  offset += W[n].byteLength;
}
header.__metadata__ = {
  format: 'matformer',
  format_version: '1',
  config: JSON.stringify(config),
  widths: JSON.stringify([dFF, dFF]),
  source: 'tools/golden/matlm-reference.mjs',
};
let json = JSON.stringify(header);
json += ' '.repeat((8 - (json.length % 8)) % 8);
const headerBytes = Buffer.from(json, 'utf8');
const file = Buffer.alloc(8 + headerBytes.length + offset);
file.writeBigUInt64LE(BigInt(headerBytes.length), 0);
headerBytes.copy(file, 8);
let at8 = 8 + headerBytes.length;
for (const n of names) {
  Buffer.from(W[n].buffer).copy(file, at8);
  at8 += W[n].byteLength;
}
writeFileSync(new URL('golden-tiny.safetensors', OUT), file);
writeFileSync(
  new URL('golden-tiny.json', OUT),
  JSON.stringify(
    {
      about:
        'Logits [T, V] and mean next-token loss of golden-tiny.safetensors, by tools/golden/matlm-reference.mjs (float64)',
      tokens,
      targets,
      cases: cases.map((c) => ({
        ...c,
        logits: c.logits.map((r) => r.map((v) => Number(v.toPrecision(10)))),
      })),
    },
    null,
    1,
  ) + '\n',
);
console.log(cases.map((c) => `widths [${c.widths}]: loss ${c.loss.toFixed(6)}`).join('\n'));
