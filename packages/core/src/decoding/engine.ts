/**
 * A language model as decoding code sees it, whatever runs it (tfjs here, onnxruntime in
 * `@matformer/core/onnx`): feed tokens after a cached prefix, get logits and a longer cache.
 * Batch 1, plain arrays at the boundary, so engines are interchangeable.
 */
export interface LMEngine<State = unknown> {
  readonly vocabSize: number;
  readonly maxSeqLen: number;
  /** A short name for reports, e.g. "tfjs-wasm [128,128,128,128]". */
  readonly name: string;
  /**
   * Logits [T, V] (row-major) for `tokens` following the positions held in `state`
   * (none = start of sequence), and a new state holding those positions too.
   * `state` stays valid: release it when no longer needed.
   */
  forward(tokens: number[], state?: State): Promise<{ logits: Float32Array; state: State }>;
  /** Positions a state holds. */
  length(state: State): number;
  /** A new state with only the first n positions (rolls back rejected draft tokens). */
  truncate(state: State, n: number): State;
  /** Frees a state's memory. */
  release(state: State): void;
  /** Frees the engine itself. */
  dispose(): void;
}
