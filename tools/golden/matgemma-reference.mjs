// An independent MatGemma reference, written from packages/core/README.md ("MatGemma: what the
// forward computes" and "Checkpoint format") and nothing else: plain JavaScript, float64
// arithmetic, no import from @matformer/core. It writes two fixed tiny checkpoints (safetensors,
// the documented names and shapes) — a Gemma-style one (GELU-tanh, RMSNorm offset, embedding
// scale, tied head, headDim ≠ C/H) and a Llama-style one (SiLU, plain RMSNorm scale, untied
// head, final logit soft-cap, one kv head) — and the logits and losses its forward computes for
// a few widths into one JSON fixture; core's golden test loads them and must agree.
//
//   node tools/golden/matgemma-reference.mjs   (rewrites the three files under
//   packages/core/src/models/matgemma/fixtures/, then `npx prettier --write` the JSON; run it
//   only when the documented model changes)
import { writeFileSync } from 'node:fs';

const OUT = new URL('../../packages/core/src/models/matgemma/fixtures/', import.meta.url);

const base = {
  arch: 'matgemma',
  vocabSize: 32,
  dModel: 16,
  nLayers: 3,
  dFF: 64,
  granularities: [8, 16, 32, 64],
  maxSeqLen: 16,
  normEps: 1e-6,
};
const models = {
  gemma: {
    ...base,
    nHeads: 4,
    nKvHeads: 2,
    headDim: 6,
    ropeTheta: 10000,
    activation: 'gelu_tanh',
    normOffset: true,
    embedScale: true,
    tiedEmbeddings: true,
    finalSoftcap: 0,
  },
  llama: {
    ...base,
    nHeads: 4,
    nKvHeads: 1,
    headDim: 4,
    ropeTheta: 500,
    activation: 'silu',
    normOffset: false,
    embedScale: false,
    tiedEmbeddings: false,
    finalSoftcap: 5,
  },
};

// Deterministic weights (mulberry32), large enough that every part of the model matters.
function mulberry32(s) {
  let seed = s;
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The documented tensor table for a config, with deterministic F32 values. */
function makeWeights(config, seed) {
  const rand = mulberry32(seed);
  const {
    vocabSize: V,
    dModel: C,
    nLayers: L,
    nHeads: H,
    nKvHeads: Hkv,
    headDim: hd,
    dFF,
  } = config;
  const W = {};
  const shapes = {};
  const add = (name, shape, scale, offset = 0) => {
    shapes[name] = shape;
    const n = shape.reduce((a, b) => a * b, 1);
    W[name] = Float32Array.from({ length: n }, () => offset + scale * (2 * rand() - 1));
  };
  // Norm weights: offsets around 0 (scale 1 + w) or scales around 1.
  const normCenter = config.normOffset ? 0 : 1;
  add('tok_emb', [V, C], config.embedScale ? 0.4 : 0.6);
  for (let l = 0; l < L; l++) {
    const p = `blocks.${l}`;
    add(`${p}.attn_norm.weight`, [C], 0.2, normCenter);
    add(`${p}.attn.q.weight`, [H * hd, C], 0.5);
    add(`${p}.attn.k.weight`, [Hkv * hd, C], 0.5);
    add(`${p}.attn.v.weight`, [Hkv * hd, C], 0.4);
    add(`${p}.attn.o.weight`, [C, H * hd], 0.3);
    add(`${p}.ffn_norm.weight`, [C], 0.2, normCenter);
    add(`${p}.ffn.gate.weight`, [dFF, C], 0.4);
    add(`${p}.ffn.up.weight`, [dFF, C], 0.4);
    add(`${p}.ffn.down.weight`, [C, dFF], 0.2);
  }
  add('norm.weight', [C], 0.2, normCenter);
  if (!config.tiedEmbeddings) add('lm_head.weight', [V, C], 0.5);
  return { W, shapes };
}

// ---- the forward pass, as documented ----
function forwardOf(config, { W, shapes }) {
  const { vocabSize: V, dModel: C, nLayers: L, nHeads: H, nKvHeads: Hkv, headDim: hd } = config;
  const G = H / Hkv;
  const at = (name, ...idx) => {
    const s = shapes[name];
    let i = 0;
    for (let d = 0; d < s.length; d++) i = i * s[d] + idx[d];
    return W[name][i];
  };
  /** RMS(x, w) = x / √(mean(x²) + eps) · s, s = 1 + w (normOffset) or w. */
  const rms = (x, name) => {
    const ms = x.reduce((a, b) => a + b * b, 0) / x.length;
    const r = 1 / Math.sqrt(ms + config.normEps);
    return x.map((xi, i) => xi * r * (config.normOffset ? 1 + at(name, i) : at(name, i)));
  };
  /** x · Wᵀ with W stored [out, in], only the first nOut rows. */
  const matT = (x, name, nOut) =>
    Array.from({ length: nOut }, (_, o) => {
      let s = 0;
      for (let i = 0; i < x.length; i++) s += x[i] * at(name, o, i);
      return s;
    });
  const act =
    config.activation === 'silu'
      ? (x) => x / (1 + Math.exp(-x))
      : (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  /** Rotate-half rotary on one head vector at position p. */
  const rope = (x, p) => {
    const half = hd / 2;
    const out = x.slice();
    for (let i = 0; i < half; i++) {
      const f = 1 / config.ropeTheta ** ((2 * i) / hd);
      const c = Math.cos(p * f);
      const s = Math.sin(p * f);
      out[i] = x[i] * c - x[i + half] * s;
      out[i + half] = x[i + half] * c + x[i] * s;
    }
    return out;
  };
  const embScale = config.embedScale ? Math.fround(Math.sqrt(C)) : 1;

  return (tokens, widths) => {
    const T = tokens.length;
    let hs = tokens.map((tok) =>
      Array.from({ length: C }, (_, c) => at('tok_emb', tok, c) * embScale),
    );
    for (let l = 0; l < L; l++) {
      const w = widths[l];
      if (w === 0) continue; // skipped entirely, attention too
      const p = `blocks.${l}`;
      const a = hs.map((h) => rms(h, `${p}.attn_norm.weight`));
      const q = a.map((x) => matT(x, `${p}.attn.q.weight`, H * hd));
      const k = a.map((x) => matT(x, `${p}.attn.k.weight`, Hkv * hd));
      const v = a.map((x) => matT(x, `${p}.attn.v.weight`, Hkv * hd));
      // rotary on every q and k head, at position t
      const qr = q.map((row, t) =>
        Array.from({ length: H }, (_, i) => rope(row.slice(i * hd, (i + 1) * hd), t)),
      );
      const kr = k.map((row, t) =>
        Array.from({ length: Hkv }, (_, j) => rope(row.slice(j * hd, (j + 1) * hd), t)),
      );
      const ctx = hs.map(() => new Array(H * hd).fill(0));
      for (let i = 0; i < H; i++) {
        const j = Math.floor(i / G);
        for (let t = 0; t < T; t++) {
          const scores = [];
          for (let s = 0; s <= t; s++) {
            let d = 0;
            for (let e = 0; e < hd; e++) d += qr[t][i][e] * kr[s][j][e];
            scores.push(d / Math.sqrt(hd));
          }
          const mx = Math.max(...scores);
          const ex = scores.map((s) => Math.exp(s - mx));
          const z = ex.reduce((x, y) => x + y, 0);
          for (let s = 0; s <= t; s++)
            for (let e = 0; e < hd; e++) ctx[t][i * hd + e] += (ex[s] / z) * v[s][j * hd + e];
        }
      }
      hs = hs.map((h, t) => {
        const o = matT(ctx[t], `${p}.attn.o.weight`, C);
        return h.map((hc, c) => hc + o[c]);
      });
      // gated nested FFN at width w
      hs = hs.map((h) => {
        const b = rms(h, `${p}.ffn_norm.weight`);
        const g = matT(b, `${p}.ffn.gate.weight`, w);
        const u = matT(b, `${p}.ffn.up.weight`, w);
        const hid = g.map((gk, kk) => act(gk) * u[kk]);
        return h.map((hc, c) => {
          let s = 0;
          for (let kk = 0; kk < w; kk++) s += hid[kk] * at(`${p}.ffn.down.weight`, c, kk);
          return hc + s;
        });
      });
    }
    const headName = config.tiedEmbeddings ? 'tok_emb' : 'lm_head.weight';
    return hs.map((h) => {
      const n = rms(h, 'norm.weight');
      return Array.from({ length: V }, (_, vv) => {
        let z = 0;
        for (let c = 0; c < C; c++) z += n[c] * at(headName, vv, c);
        const cap = config.finalSoftcap;
        return cap > 0 ? cap * Math.tanh(z / cap) : z;
      });
    });
  };
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

/** safetensors: u64 header length, JSON header (sorted names, F32, offsets), raw LE data. */
function writeCheckpoint(file, config, { W, shapes }) {
  const names = Object.keys(W).sort();
  let offset = 0;
  const header = {};
  for (const n of names) {
    header[n] = {
      dtype: 'F32',
      shape: shapes[n],
      data_offsets: [offset, offset + W[n].byteLength],
    };
    offset += W[n].byteLength;
  }
  header.__metadata__ = {
    format: 'matformer',
    format_version: '1',
    config: JSON.stringify(config),
    widths: JSON.stringify(Array(config.nLayers).fill(config.dFF)),
    source: 'tools/golden/matgemma-reference.mjs',
  };
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const buf = Buffer.alloc(8 + headerBytes.length + offset);
  buf.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(buf, 8);
  let p = 8 + headerBytes.length;
  for (const n of names) {
    Buffer.from(W[n].buffer).copy(buf, p);
    p += W[n].byteLength;
  }
  writeFileSync(new URL(file, OUT), buf);
}

// ---- the fixture ----
const sequence = [3, 17, 4, 4, 29, 0, 11, 31, 8, 2, 19];
const tokens = sequence.slice(0, -1);
const targets = sequence.slice(1);
const widthCases = [
  [64, 64, 64],
  [8, 8, 8],
  [16, 64, 8],
  [32, 0, 16],
];
const fixture = {
  about:
    'Logits [T, V] and mean next-token loss of golden-<model>.safetensors, by tools/golden/matgemma-reference.mjs (float64)',
  tokens,
  targets,
  models: {},
};
let seed = 4242;
for (const [name, config] of Object.entries(models)) {
  const weights = makeWeights(config, seed++);
  writeCheckpoint(`golden-${name}.safetensors`, config, weights);
  const forward = forwardOf(config, weights);
  const cases = widthCases.map((widths) => {
    const logits = forward(tokens, widths);
    return { widths, logits, loss: loss(logits, targets) };
  });
  fixture.models[name] = {
    checkpoint: `golden-${name}.safetensors`,
    cases: cases.map((c) => ({
      ...c,
      logits: c.logits.map((r) => r.map((v) => Number(v.toPrecision(10)))),
    })),
  };
  console.log(
    cases
      .map((c) => {
        const all = c.logits.flat();
        return `${name} widths [${c.widths}]: loss ${c.loss.toFixed(6)}, logits in [${Math.min(...all).toFixed(2)}, ${Math.max(...all).toFixed(2)}]`;
      })
      .join('\n'),
  );
}
writeFileSync(new URL('golden.json', OUT), JSON.stringify(fixture, null, 1) + '\n');
