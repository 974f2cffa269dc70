import { ConfigError, type LMEngine } from '@matformer/core';
import { checkPrompt } from './checks';

/** What decoding does when the sequence outgrows the model's context (maxSeqLen positions). */
export interface WindowOptions {
  /**
   * 'stop' (default): generation ends when prompt + new tokens fill maxSeqLen.
   * 'slide': it goes on with the most recent tokens, as nanoGPT's `generate` crops to the last
   * block_size tokens: when the next prediction would see more than maxSeqLen positions, the
   * context restarts from the last `keep` tokens (one re-prefill), so cached and speculative
   * decoding stay cheap. A prompt longer than maxSeqLen keeps its last maxSeqLen tokens.
   */
  window?: 'stop' | 'slide';
  /** Tokens kept when the window slides (1 … maxSeqLen − 1). Default ⌊maxSeqLen / 2⌋. */
  keep?: number;
}

/**
 * The part of the sequence the model sees: seq[start, n) when predicting position n. Plain and
 * speculative decoding move it by the same rule at the same positions, so greedy speculative
 * output stays identical to plain greedy output across window moves.
 */
export class ContextWindow {
  /** First position the model sees. */
  start = 0;
  /** Times the window moved (each costs a re-prefill). */
  moves = 0;
  readonly keep: number;

  constructor(
    readonly size: number,
    readonly slide: boolean,
    keep?: number,
  ) {
    this.keep = keep ?? Math.floor(size / 2);
    if (slide && !(Number.isInteger(this.keep) && this.keep >= 1 && this.keep < size))
      throw new ConfigError(
        `keep must be an integer in [1, ${size - 1}] (maxSeqLen − 1), got ${JSON.stringify(keep)}`,
      );
  }

  /**
   * Checks a prompt (checkPrompt) and opens the window over it: a prompt longer than the
   * context keeps its last maxSeqLen tokens when sliding. `budget`: new tokens that fit.
   */
  static open(
    engine: Pick<LMEngine, 'vocabSize' | 'maxSeqLen' | 'name'>,
    prompt: readonly number[],
    o: WindowOptions & { maxNewTokens: number },
  ): { win: ContextWindow; budget: number; clampedBy?: 'maxSeqLen' } {
    const slide = o.window === 'slide';
    const { budget, clampedBy } = checkPrompt(engine, prompt, o.maxNewTokens, slide);
    const win = new ContextWindow(engine.maxSeqLen, slide, o.keep);
    if (slide) win.start = Math.max(0, prompt.length - engine.maxSeqLen);
    return { win, budget, clampedBy };
  }

  /**
   * Before predicting position n: moves the window if seq[start, n) no longer fits. Returns
   * true when it moved (every cache built on the old window is void).
   */
  advance(n: number): boolean {
    if (!this.slide || n - this.start <= this.size) return false;
    this.start = n - this.keep;
    this.moves++;
    return true;
  }

  /** Predictions after position n that fit before the window must move (≥ 0). */
  room(n: number): number {
    return this.slide ? this.start + this.size - n : Infinity;
  }
}
