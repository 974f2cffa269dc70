import type { LMEngine } from '@matformer/core';

/**
 * Wraps an engine and adds up the wall-clock time spent inside its calls: `forwardMs` in
 * `forward`, `otherMs` in cache bookkeeping (`truncate`, `release`). A decoding run's time then
 * splits into the verifier's and the draft's forwards, cache rollback, and the loop itself.
 * States pass through unchanged, so a shared cache still works across two wrapped engines.
 */
export class TimedEngine<S> implements LMEngine<S> {
  forwardMs = 0;
  otherMs = 0;

  constructor(readonly inner: LMEngine<S>) {}

  get vocabSize(): number {
    return this.inner.vocabSize;
  }
  get maxSeqLen(): number {
    return this.inner.maxSeqLen;
  }
  get name(): string {
    return this.inner.name;
  }

  async forward(tokens: number[], state?: S): Promise<{ logits: Float32Array; state: S }> {
    const t0 = performance.now();
    const out = await this.inner.forward(tokens, state);
    this.forwardMs += performance.now() - t0;
    return out;
  }

  length(state: S): number {
    return this.inner.length(state);
  }

  truncate(state: S, n: number): S {
    const t0 = performance.now();
    const out = this.inner.truncate(state, n);
    this.otherMs += performance.now() - t0;
    return out;
  }

  release(state: S): void {
    const t0 = performance.now();
    this.inner.release(state);
    this.otherMs += performance.now() - t0;
  }

  dispose(): void {
    this.inner.dispose();
  }

  /** Zeroes both totals (e.g. before each timed run). */
  reset(): void {
    this.forwardMs = this.otherMs = 0;
  }
}
