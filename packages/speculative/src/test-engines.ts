import type { LMEngine } from '@matformer/core';

/** 32-bit integer hash step (from murmur3's finaliser), for deterministic fake logits. */
function mix(h: number, x: number): number {
  h = Math.imul(h ^ x, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Uniform in (−1, 1) from a hash. */
const unit = (h: number) => (mix(h, 0x9e3779b9) / 4294967296) * 2 - 1;

interface TableState {
  hashes: number[]; // one per position: a hash of the whole prefix up to it
  released: boolean;
}

/**
 * A pure-JS language model whose logits at a position are a fixed pseudo-random function of
 * the whole prefix: microseconds per call, so statistical tests can afford tens of thousands
 * of generations. Engines with the same `seed` share the base logits; `noise` (with
 * `noiseSeed`) perturbs them, giving a draft that is related to the verifier but not equal.
 */
export class TableEngine implements LMEngine<TableState> {
  readonly name: string;
  calls = 0;

  constructor(
    readonly vocabSize: number,
    readonly maxSeqLen: number,
    private readonly o: { seed: number; scale?: number; noise?: number; noiseSeed?: number },
  ) {
    this.name = `table(${o.seed}${o.noise ? `+${o.noise}·${o.noiseSeed}` : ''})`;
  }

  /** Logits after a prefix whose hash is h: [V]. */
  row(h: number): Float32Array {
    const { seed, scale = 2, noise = 0, noiseSeed = 1 } = this.o;
    return Float32Array.from({ length: this.vocabSize }, (_, v) => {
      const base = unit(mix(mix(h, seed), v));
      return scale * (base + (noise ? noise * unit(mix(mix(h, noiseSeed + 7777), v)) : 0));
    });
  }

  async forward(tokens: number[], state?: TableState) {
    if (state?.released) throw new Error(`${this.name}: forward on a released state`);
    const hashes = [...(state?.hashes ?? [])];
    if (hashes.length + tokens.length > this.maxSeqLen)
      throw new Error(`${this.name}: ${hashes.length + tokens.length} positions > maxSeqLen`);
    const logits = new Float32Array(tokens.length * this.vocabSize);
    tokens.forEach((t, i) => {
      hashes.push(mix(hashes.length ? hashes[hashes.length - 1] : 17, t + 1));
      logits.set(this.row(hashes[hashes.length - 1]), i * this.vocabSize);
    });
    this.calls++;
    return { logits, state: { hashes, released: false } };
  }

  length(state: TableState) {
    return state.hashes.length;
  }

  truncate(state: TableState, n: number) {
    if (state.released) throw new Error(`${this.name}: truncate of a released state`);
    return { hashes: state.hashes.slice(0, n), released: false };
  }

  release(state: TableState) {
    if (state.released) throw new Error(`${this.name}: state released twice`);
    state.released = true;
  }

  dispose() {}
}

/** A state of a TracingEngine: the inner state plus the exact tokens it holds. */
export interface TracedState<S> {
  inner: S;
  tokens: number[];
  released: boolean;
}

/**
 * Wraps an engine and records the exact token content of every state it hands out, so tests
 * can check that a cache holds precisely the tokens it should (no off-by-one) and that every
 * state is released exactly once and never used after.
 */
export class TracingEngine<S> implements LMEngine<TracedState<S>> {
  readonly fed: { past: number; tokens: number[] }[] = [];

  /** `live` may be shared by two engines whose states are interchangeable (a shared cache). */
  constructor(
    readonly inner: LMEngine<S>,
    readonly live = new Set<TracedState<S>>(),
  ) {}

  get vocabSize() {
    return this.inner.vocabSize;
  }
  get maxSeqLen() {
    return this.inner.maxSeqLen;
  }
  get name() {
    return `traced ${this.inner.name}`;
  }

  private make(inner: S, tokens: number[]): TracedState<S> {
    const s = { inner, tokens, released: false };
    this.live.add(s);
    return s;
  }

  private check(s: TracedState<S>, what: string) {
    if (s.released || !this.live.has(s))
      throw new Error(`${this.name}: ${what} on a released state`);
  }

  async forward(tokens: number[], state?: TracedState<S>) {
    if (state) this.check(state, 'forward');
    this.fed.push({ past: state?.tokens.length ?? 0, tokens: [...tokens] });
    const out = await this.inner.forward(tokens, state?.inner);
    if (this.inner.length(out.state) !== (state?.tokens.length ?? 0) + tokens.length)
      throw new Error(`${this.name}: inner state has the wrong length`);
    return {
      logits: out.logits,
      state: this.make(out.state, [...(state?.tokens ?? []), ...tokens]),
    };
  }

  length(state: TracedState<S>) {
    this.check(state, 'length');
    return state.tokens.length;
  }

  truncate(state: TracedState<S>, n: number) {
    this.check(state, 'truncate');
    if (!(n >= 0 && n <= state.tokens.length))
      throw new Error(`${this.name}: truncate to ${n} of ${state.tokens.length}`);
    return this.make(this.inner.truncate(state.inner, n), state.tokens.slice(0, n));
  }

  release(state: TracedState<S>) {
    this.check(state, 'release');
    state.released = true;
    this.live.delete(state);
    this.inner.release(state.inner);
  }

  dispose() {}
}

/**
 * A real engine's logits, memoised by prefix: each distinct prefix costs one (uncached) forward
 * of the inner engine, once. States are plain token lists. Lets a statistical test run tens of
 * thousands of generations through the real decoding loop on a real model's distributions.
 */
export class MemoEngine<S> implements LMEngine<number[]> {
  private readonly rows = new Map<string, Float32Array>();
  innerCalls = 0;

  constructor(readonly inner: LMEngine<S>) {}

  get vocabSize() {
    return this.inner.vocabSize;
  }
  get maxSeqLen() {
    return this.inner.maxSeqLen;
  }
  get name() {
    return `memo ${this.inner.name}`;
  }

  /** Logits after `prefix` (its last position): [V]. */
  async row(prefix: number[]): Promise<Float32Array> {
    const key = prefix.join(',');
    let row = this.rows.get(key);
    if (!row) {
      const out = await this.inner.forward(prefix);
      this.inner.release(out.state);
      this.innerCalls++;
      const V = this.vocabSize;
      // One forward scores every prefix of `prefix`: keep them all.
      for (let t = 0; t < prefix.length; t++)
        this.rows.set(prefix.slice(0, t + 1).join(','), out.logits.slice(t * V, (t + 1) * V));
      row = this.rows.get(key)!;
    }
    return row;
  }

  async forward(tokens: number[], state: number[] = []) {
    const seq = [...state];
    const logits = new Float32Array(tokens.length * this.vocabSize);
    for (let i = 0; i < tokens.length; i++) {
      seq.push(tokens[i]);
      logits.set(await this.row(seq), i * this.vocabSize);
    }
    return { logits, state: seq };
  }

  length(state: number[]) {
    return state.length;
  }
  truncate(state: number[], n: number) {
    return state.slice(0, n);
  }
  release() {}
  dispose() {}
}
