/**
 * How many non-overlapping next-token windows a stream of `tokens` tokens holds at `seqLen`:
 * each window reads seqLen inputs and the seqLen targets shifted by one, so consecutive windows
 * share one token: ⌊(tokens − 1) / seqLen⌋ (0 when not even one fits).
 */
export function distinctWindows(tokens: number, seqLen: number): number {
  return Math.max(0, Math.floor((tokens - 1) / seqLen));
}

/**
 * A requested count of held-out windows, capped at the distinct windows the tokens hold: more
 * would only score overlapping windows again (and take time in proportion). Shared by training
 * evaluation (`lmTask`), `lm-trainer eval` and the Mix'n'Match search's evaluator.
 */
export function capWindows(requested: number, tokens: number, seqLen: number): number {
  return Math.min(requested, distinctWindows(tokens, seqLen));
}
