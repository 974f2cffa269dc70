import { storedWidths, type Widths } from '../config';
import type { LMEngine } from '../decoding/engine';
import { CheckpointError, ConfigError } from '../errors';
import { kvCacheShape } from '../models/family';
import { familyOf, languageConfigOf, type LanguageModel } from '../models/registry';
import {
  decoderFileInfo,
  decoderSignature,
  toOnnxDecoder,
  type DecoderExportOptions,
} from './lm-decoder';
import { checkSignature, parseOnnxModel, readOnnxFile, type OnnxModelFile } from './read';
import { runInto } from './run-into';
import {
  createSession,
  loadOrt,
  type Ort,
  type OrtOptions,
  type OrtSession,
  type OrtTensor,
} from './ort';

/**
 * One sequence's KV memory: a static buffer per layer and side [1, H, capacity, hd], fed to the
 * decoder graph as past_* (zero-copy); each call's new keys and values are written in after it.
 * States are (buffer, length) views; several may share one buffer.
 */
class KVBuffer {
  /** [k_0, v_0, k_1, v_1, …], each H·capacity·hd floats. */
  readonly data: Float32Array[];
  /** The same memory as onnxruntime tensors (made once: feeding them costs no copy). */
  readonly tensors: OrtTensor[];
  /** Live states on this buffer. */
  readonly live = new Set<OnnxDecoderState>();

  constructor(
    ort: Ort,
    readonly dims: DecoderDims,
  ) {
    const { L, H, capacity, hd } = dims;
    this.data = Array.from({ length: 2 * L }, () => new Float32Array(H * capacity * hd));
    this.tensors = this.data.map((d) => new ort.Tensor('float32', d, [1, H, capacity, hd]));
  }

  /** Writes new positions [P, P + T) of buffer i from [T, H, hd] rows (a graph's new_* output). */
  write(i: number, rows: Float32Array, P: number, T: number): void {
    const { H, capacity, hd } = this.dims;
    const d = this.data[i];
    for (let t = 0; t < T; t++)
      for (let h = 0; h < H; h++) {
        const from = (t * H + h) * hd;
        d.set(rows.subarray(from, from + hd), (h * capacity + P + t) * hd);
      }
  }

  /** Copies the first n positions of every layer from another buffer. */
  copyFrom(src: KVBuffer, n: number): void {
    const { H, capacity, hd } = this.dims;
    this.data.forEach((d, i) => {
      for (let h = 0; h < H; h++) {
        const at = h * capacity * hd;
        d.set(src.data[i].subarray(at, at + n * hd), at);
      }
    });
  }
}

/** Pre-allocated fetches of one call's new keys/values; busy while a call uses them. */
interface Rows {
  data: Float32Array[];
  tensors: OrtTensor[];
  busy: boolean;
}

interface DecoderDims {
  L: number;
  H: number;
  hd: number;
  capacity: number;
}

/** Decoding state of an OnnxDecoderEngine: the first `length` positions of a KV buffer. */
export interface OnnxDecoderState {
  readonly buffer: unknown;
  readonly length: number;
}

interface State extends OnnxDecoderState {
  readonly buffer: KVBuffer;
  released: boolean;
}

export interface OnnxDecoderOptions extends OrtOptions {
  /** Keep at most this many free KV buffers for reuse (default 4). */
  poolSize?: number;
}

/**
 * A language model (MatLM, MatGemma) served by onnxruntime-node from the decoder graph (`toOnnxDecoder`), as an LMEngine,
 * with a small fixed cost per call: the KV cache is a static buffer per layer that onnxruntime
 * reads zero-copy, the graph returns only the call's new keys/values (written into the buffer
 * here), logits are written into an array allocated for the call, and there is no shape
 * arithmetic in the graph. `truncate` costs
 * nothing (a shorter view of the same buffer); `forward` from a state that another live state
 * extends past copies that prefix to a fresh buffer first (copy on write), so every state
 * stays valid as the LMEngine contract says, and the usual linear use (decode, verify, roll
 * back) never copies.
 *
 * Two engines of one model's shape (same layers, heads, head size, context) can read each
 * other's states: a draft that continues from the verifier's cache (`speculativeGenerateSharedCache`).
 */
export class OnnxDecoderEngine implements LMEngine<OnnxDecoderState> {
  readonly vocabSize: number;
  readonly maxSeqLen: number;
  readonly widths: Widths;
  readonly name: string;
  private readonly dims: DecoderDims;
  private readonly pool: KVBuffer[] = [];
  private readonly poolSize: number;
  private readonly sig: { inputs: string[]; outputs: string[] };
  private disposed = false;

  private constructor(
    private readonly ort: Ort,
    private readonly session: OrtSession,
    readonly config: LanguageModel['config'],
    opts: OnnxDecoderOptions,
    /** Weight quantization of the graph ('int8' for drafts), or undefined (float32, exact). */
    readonly quantize?: string,
  ) {
    this.vocabSize = config.vocabSize;
    this.maxSeqLen = config.maxSeqLen;
    this.widths = storedWidths(config);
    const kv = kvCacheShape(familyOf(config), config); // kv heads: fewer than query heads under GQA
    this.dims = { L: config.nLayers, H: kv.heads, hd: kv.headDim, capacity: config.maxSeqLen };
    this.poolSize = opts.poolSize ?? 4;
    this.sig = decoderSignature(config.nLayers);
    const ep = opts.executionProviders?.[0] ?? 'cpu';
    this.name = `onnxruntime-${ep} decoder${quantize ? ` ${quantize}` : ''} [${this.widths.join(',')}]`;
  }

  /** A language model (at `widths`) exported in memory to its decoder graph and served. */
  static async fromModel(
    model: LanguageModel,
    opts: OnnxDecoderOptions & DecoderExportOptions = {},
  ): Promise<OnnxDecoderEngine> {
    const { bytes } = toOnnxDecoder(model, opts);
    return OnnxDecoderEngine.fromBytes(bytes, opts, `${model.family.name} decoder graph`);
  }

  /** Loads a decoder file written by `exportOnnxDecoder`; a bad file throws CheckpointError. */
  static async load(path: string, opts: OnnxDecoderOptions = {}): Promise<OnnxDecoderEngine> {
    return OnnxDecoderEngine.create(await readOnnxFile(path), path, opts);
  }

  static async fromBytes(
    bytes: Uint8Array,
    opts: OnnxDecoderOptions = {},
    source = 'ONNX model',
  ): Promise<OnnxDecoderEngine> {
    return OnnxDecoderEngine.create(parseOnnxModel(bytes, source), source, opts);
  }

  private static async create(
    file: OnnxModelFile,
    source: string,
    opts: OnnxDecoderOptions,
  ): Promise<OnnxDecoderEngine> {
    const config = languageConfigOf(file.config, source);
    const info = decoderFileInfo(file.bytes);
    if (!info.decoder)
      throw new CheckpointError(
        `${source} is not a decoder graph (export it with exportOnnxDecoder; plain exports run on OnnxLMEngine)`,
      );
    const { vocabSize: V, nLayers: L } = config;
    const kv = kvCacheShape(familyOf(config), config);
    const sig = decoderSignature(L);
    const cache = [1, kv.heads, 'capacity', kv.headDim];
    const C = kv.heads * kv.headDim; // width of one position's keys (or values)
    const inShape = (i: number) => (i < 2 ? [1, 'seq'] : i === 2 ? [1] : i === 3 ? [] : cache);
    const rows = [1, 'seq', C];
    checkSignature(
      file,
      {
        inputs: sig.inputs.map((name, i) => ({ name, shape: inShape(i) })),
        outputs: sig.outputs.map((name, i) => ({ name, shape: i ? rows : [1, 'seq', V] })),
      },
      source,
    );
    const session = await createSession(file.bytes, source, opts);
    return new OnnxDecoderEngine(await loadOrt(), session, config, opts, info.quantize);
  }

  /** Pre-allocated new_* fetches for T tokens (kept per T: verification sizes repeat). */
  private readonly rows = new Map<number, Rows>();
  private newRows(T: number): Rows {
    let r = this.rows.get(T);
    if (!r || r.busy) {
      const C = this.dims.H * this.dims.hd;
      const data = Array.from({ length: 2 * this.dims.L }, () => new Float32Array(T * C));
      r = {
        data,
        tensors: data.map((d) => new this.ort.Tensor('float32', d, [1, T, C])),
        busy: false,
      };
      if (!this.rows.has(T) && this.rows.size < 64) this.rows.set(T, r);
    }
    return r;
  }

  private takeBuffer(): KVBuffer {
    return this.pool.pop() ?? new KVBuffer(this.ort, this.dims);
  }

  private state(s: OnnxDecoderState | undefined): State | undefined {
    if (s === undefined) return undefined;
    const st = s as State;
    if (!(st.buffer instanceof KVBuffer) || st.released)
      throw new ConfigError(
        st.released ? 'forward on a released decoding state' : 'not a decoder-engine state',
      );
    const d = st.buffer.dims;
    if (
      d.L !== this.dims.L ||
      d.H !== this.dims.H ||
      d.hd !== this.dims.hd ||
      d.capacity !== this.dims.capacity
    )
      throw new ConfigError(
        `a state of a model with ${d.L} layers × ${d.H} heads × ${d.hd} (context ${d.capacity}) cannot feed ${this.name}`,
      );
    return st;
  }

  private track(buffer: KVBuffer, length: number): State {
    const s: State = { buffer, length, released: false };
    buffer.live.add(s);
    return s;
  }

  async forward(
    tokens: number[],
    prev?: OnnxDecoderState,
  ): Promise<{ logits: Float32Array; state: OnnxDecoderState }> {
    if (this.disposed) throw new ConfigError(`${this.name} was disposed`);
    const from = this.state(prev);
    const P = from?.length ?? 0;
    const T = tokens.length;
    if (T === 0) throw new ConfigError('tokens must hold at least one position');
    if (P + T > this.maxSeqLen)
      throw new ConfigError(`sequence of ${P + T} positions exceeds maxSeqLen ${this.maxSeqLen}`);
    const ids = new BigInt64Array(T);
    const pos = new BigInt64Array(T);
    for (let i = 0; i < T; i++) {
      const t = tokens[i];
      if (!Number.isInteger(t) || t < 0 || t >= this.vocabSize)
        throw new ConfigError(`tokens[${i}] = ${t} is not a token id in [0, ${this.vocabSize})`);
      ids[i] = BigInt(t);
      pos[i] = BigInt(P + i);
    }
    // Positions ≥ P of the buffer get overwritten: if another live state holds them, copy first.
    let buffer = from?.buffer;
    if (buffer && [...buffer.live].some((s) => s.length > P)) {
      const fresh = this.takeBuffer();
      fresh.copyFrom(buffer, P);
      buffer = fresh;
    }
    buffer ??= this.takeBuffer();

    const { Tensor } = this.ort;
    const logits = new Float32Array(T * this.vocabSize);
    const fresh = this.newRows(T);
    fresh.busy = true; // another forward in flight meanwhile gets its own
    const feeds: Record<string, OrtTensor> = {
      input_ids: new Tensor('int64', ids, [1, T]),
      position_ids: new Tensor('int64', pos, [1, T]),
      seqlens_k: new Tensor('int32', Int32Array.of(P + T - 1), [1]),
      total_sequence_length: new Tensor('int32', Int32Array.of(P + T), []),
    };
    const fetches: Record<string, OrtTensor> = {
      logits: new Tensor('float32', logits, [1, T, this.vocabSize]),
    };
    for (let i = 0; i < buffer.tensors.length; i++) {
      feeds[this.sig.inputs[4 + i]] = buffer.tensors[i];
      fetches[this.sig.outputs[1 + i]] = fresh.tensors[i];
    }
    try {
      await runInto(this.session, feeds, fetches);
      for (let i = 0; i < fresh.data.length; i++) buffer.write(i, fresh.data[i], P, T);
    } catch (e) {
      if (buffer.live.size === 0) this.recycle(buffer);
      throw e;
    } finally {
      fresh.busy = false;
    }
    return { logits, state: this.track(buffer, P + T) };
  }

  length(state: OnnxDecoderState): number {
    return state.length;
  }

  truncate(state: OnnxDecoderState, n: number): OnnxDecoderState {
    const s = this.state(state)!;
    if (!Number.isInteger(n) || n < 0 || n > s.length)
      throw new ConfigError(`cannot truncate a cache of ${s.length} positions to ${n}`);
    return this.track(s.buffer, n);
  }

  release(state: OnnxDecoderState): void {
    const s = state as State;
    if (s.released) return;
    s.released = true;
    s.buffer.live.delete(s);
    if (s.buffer.live.size === 0) this.recycle(s.buffer);
  }

  private recycle(buffer: KVBuffer): void {
    if (!this.disposed && this.pool.length < this.poolSize && !this.pool.includes(buffer))
      this.pool.push(buffer);
  }

  /** Releases the onnxruntime session; the engine is unusable afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pool.length = 0;
    void this.session.release();
  }
}
