import { storedWidths, type Widths } from '../config';
import type { LMEngine } from '../decoding/engine';
import { ConfigError } from '../errors';
import { lmSignature } from '../models/matlm/graph';
import { kvCacheShape } from '../models/family';
import { familyOf, languageConfigOf, type LanguageModel } from '../models/registry';
import { checkSignature, parseOnnxModel, readOnnxFile, type OnnxModelFile } from './read';
import {
  createSession,
  loadOrt,
  type Ort,
  type OrtOptions,
  type OrtSession,
  type OrtTensor,
} from './ort';

/** Decoding state: every layer's cached keys and values as onnxruntime tensors. */
export interface OnnxKVState {
  /** [past_key_0, past_value_0, past_key_1, …], each [1, H, length, hd]. */
  past: OrtTensor[];
  length: number;
}

/** Keeps the first n positions of a [1, H, S, hd] cache tensor (a copy). */
function slicePositions(ort: Ort, t: OrtTensor, n: number): OrtTensor {
  const [B, H, S, hd] = t.dims;
  const src = t.data as Float32Array;
  const out = new Float32Array(B * H * n * hd);
  for (let bh = 0; bh < B * H; bh++) {
    out.set(src.subarray(bh * S * hd, (bh * S + n) * hd), bh * n * hd);
  }
  return new ort.Tensor('float32', out, [B, H, n, hd]);
}

/**
 * An exported MatLM served by onnxruntime-node, as an LMEngine: interchangeable with
 * TfjsLMEngine in decoding and speculative code. The KV cache stays in onnxruntime tensors
 * that are fed back as the next call's past.
 */
export class OnnxLMEngine implements LMEngine<OnnxKVState> {
  readonly vocabSize: number;
  readonly maxSeqLen: number;
  readonly widths: Widths;
  readonly name: string;
  private readonly pastNames: string[];
  private readonly presentNames: string[];
  /** The zero-length cache fed on a first call (never handed out, so never released). */
  private readonly emptyPast: OrtTensor[];

  private constructor(
    private readonly ort: Ort,
    private readonly session: OrtSession,
    readonly config: LanguageModel['config'],
    executionProvider: string,
  ) {
    this.vocabSize = config.vocabSize;
    this.maxSeqLen = config.maxSeqLen;
    this.widths = storedWidths(config);
    const sig = lmSignature(config.nLayers);
    this.pastNames = sig.inputs.slice(1);
    this.presentNames = sig.outputs.slice(1);
    const kv = kvCacheShape(familyOf(config), config);
    this.emptyPast = this.pastNames.map(
      () => new ort.Tensor('float32', new Float32Array(0), [1, kv.heads, 0, kv.headDim]),
    );
    this.name = `onnxruntime-${executionProvider} [${this.widths.join(',')}]`;
  }

  /** Loads an .onnx file written by `exportOnnx` for a MatLM; a bad file throws CheckpointError. */
  static async load(path: string, opts: OrtOptions = {}): Promise<OnnxLMEngine> {
    return OnnxLMEngine.create(await readOnnxFile(path), path, opts);
  }

  /** Same as `load`, from the file's bytes (e.g. `toOnnx(model).bytes`). */
  static async fromBytes(
    bytes: Uint8Array,
    opts: OrtOptions = {},
    source = 'ONNX model',
  ): Promise<OnnxLMEngine> {
    return OnnxLMEngine.create(parseOnnxModel(bytes, source), source, opts);
  }

  private static async create(
    file: OnnxModelFile,
    source: string,
    opts: OrtOptions,
  ): Promise<OnnxLMEngine> {
    const config = languageConfigOf(file.config, source);
    const kv = kvCacheShape(familyOf(config), config);
    const V = config.vocabSize;
    const sig = lmSignature(config.nLayers);
    const cache = ['batch', kv.heads, 'past', kv.headDim];
    checkSignature(
      file,
      {
        inputs: sig.inputs.map((name, i) => ({ name, shape: i ? cache : ['batch', 'seq'] })),
        outputs: sig.outputs.map((name, i) => ({ name, shape: i ? cache : ['batch', 'seq', V] })),
      },
      source,
    );
    const session = await createSession(file.bytes, source, opts);
    return new OnnxLMEngine(
      await loadOrt(),
      session,
      config,
      opts.executionProviders?.[0] ?? 'cpu',
    );
  }

  async forward(
    tokens: number[],
    state?: OnnxKVState,
  ): Promise<{ logits: Float32Array; state: OnnxKVState }> {
    const past = state?.length ?? 0;
    const T = tokens.length;
    if (T === 0) throw new ConfigError('tokens must hold at least one position');
    if (past + T > this.maxSeqLen) {
      throw new ConfigError(
        `sequence of ${past + T} positions exceeds maxSeqLen ${this.maxSeqLen}`,
      );
    }
    const bad = tokens.findIndex((t) => !Number.isInteger(t) || t < 0 || t >= this.vocabSize);
    if (bad >= 0) {
      throw new ConfigError(
        `tokens[${bad}] = ${tokens[bad]} is not a token id in [0, ${this.vocabSize})`,
      );
    }
    const ids = BigInt64Array.from(tokens, (t) => BigInt(t));
    const feeds: Record<string, OrtTensor> = {
      input_ids: new this.ort.Tensor('int64', ids, [1, T]),
    };
    const cache = state?.past ?? this.emptyPast;
    this.pastNames.forEach((name, i) => (feeds[name] = cache[i]));
    const out = await this.session.run(feeds);
    return {
      logits: out.logits.data as Float32Array, // [1, T, V] → [T·V]
      state: { past: this.presentNames.map((n) => out[n]), length: past + T },
    };
  }

  length(state: OnnxKVState): number {
    return state.length;
  }

  truncate(state: OnnxKVState, n: number): OnnxKVState {
    if (!Number.isInteger(n) || n < 0 || n > state.length) {
      throw new ConfigError(`cannot truncate a cache of ${state.length} positions to ${n}`);
    }
    return { past: state.past.map((t) => slicePositions(this.ort, t, n)), length: n };
  }

  release(state: OnnxKVState): void {
    state.past.forEach((t) => t.dispose());
  }

  /** Releases the onnxruntime session; the engine is unusable afterwards. */
  dispose(): void {
    void this.session.release();
  }
}
