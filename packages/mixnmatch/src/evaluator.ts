import {
  MatformerError,
  resolveWidths,
  writeFileAtomic,
  type ModelConfig,
  type Widths,
} from '@matformer/core';
import { createHash, createReadStream, existsSync, readFile } from './files';
import { widthsKey } from './space';

/** How good a submodel is on a range of held-out data. The search minimises `loss`. */
export interface Quality {
  /** Mean held-out loss (nats): next-token cross-entropy (LM) or classification loss (ViT). */
  loss: number;
  /** Bits per token (= per byte with a byte tokenizer); LM only. */
  bitsPerToken?: number;
  /** Top-1 accuracy; classifiers only. */
  accuracy?: number;
}

/** Scores one config; what the caller plugs in (e.g. `lmEvaluator`, or train's `evaluateTask`). */
export type EvalFn = (widths: Widths) => Quality | Promise<Quality>;

/** sha256 of a model's config and every weight's bytes, in checkpoint order: its content hash. */
export function modelHash(model: {
  config: ModelConfig;
  params: Record<string, { dataSync(): ArrayLike<number> & { buffer: ArrayBufferLike } }>;
}): string {
  const h = createHash('sha256').update(JSON.stringify(model.config));
  for (const [name, t] of Object.entries(model.params)) {
    const data = t.dataSync() as Float32Array;
    h.update(name).update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return h.digest('hex').slice(0, 16);
}

/** sha256 of a file's bytes (e.g. a .safetensors checkpoint). */
export async function fileHash(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex').slice(0, 16);
}

const FORMAT = 'matformer-mixnmatch-cache';

/**
 * Evaluation results keyed by (checkpoint hash, held-out data id, widths), in memory and
 * optionally in a JSON file (rewritten atomically after each new result), so repeated
 * searches over the same checkpoint and data never evaluate a config twice.
 */
export class EvaluationCache {
  private readonly entries = new Map<string, Quality>();

  private constructor(readonly file?: string) {}

  /** A cache, loaded from `file` when it exists (results of earlier searches). */
  static async open(file?: string): Promise<EvaluationCache> {
    const cache = new EvaluationCache(file);
    if (file && existsSync(file)) {
      let parsed: { format?: string; entries?: Record<string, Quality> };
      try {
        parsed = JSON.parse(await readFile(file, 'utf8'));
      } catch {
        throw new MatformerError(
          `evaluation cache ${file} is not valid JSON; delete it to start afresh`,
        );
      }
      if (parsed.format !== FORMAT || typeof parsed.entries !== 'object' || !parsed.entries)
        throw new MatformerError(
          `${file} is not an evaluation cache (format "${FORMAT}"); delete it or pick another path`,
        );
      for (const [k, q] of Object.entries(parsed.entries)) cache.entries.set(k, q);
    }
    return cache;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): Quality | undefined {
    return this.entries.get(key);
  }

  async set(key: string, q: Quality): Promise<void> {
    this.entries.set(key, q);
    if (this.file) {
      const body = { format: FORMAT, version: 1, entries: Object.fromEntries(this.entries) };
      await writeFileAtomic(this.file, JSON.stringify(body) + '\n');
    }
  }

  /** An evaluator for one checkpoint and one range of held-out data, backed by this cache. */
  evaluator(opts: {
    modelId: string;
    dataId: string;
    evaluate: EvalFn;
    config?: ModelConfig;
  }): CachedEvaluator {
    return new CachedEvaluator(this, opts);
  }
}

/** Scores configs through an EvaluationCache; counts real evaluations (`calls`) and `hits`. */
export class CachedEvaluator {
  /** Evaluations actually run (cache misses). */
  calls = 0;
  /** Requests answered from the cache. */
  hits = 0;
  private readonly pending = new Map<string, Promise<Quality>>();

  constructor(
    readonly cache: EvaluationCache,
    readonly opts: { modelId: string; dataId: string; evaluate: EvalFn; config?: ModelConfig },
  ) {}

  get dataId(): string {
    return this.opts.dataId;
  }

  key(widths: Widths): string {
    return `${this.opts.modelId}|${this.opts.dataId}|${widthsKey(widths)}`;
  }

  has(widths: Widths): boolean {
    return this.cache.get(this.key(widths)) !== undefined;
  }

  async evaluate(widths: Widths): Promise<Quality> {
    if (this.opts.config) resolveWidths(this.opts.config, widths); // a clear error before any work
    const key = this.key(widths);
    const known = this.cache.get(key);
    if (known) {
      this.hits++;
      return known;
    }
    const running = this.pending.get(key);
    if (running) {
      this.hits++;
      return running;
    }
    this.calls++;
    const p = (async () => {
      const q = await this.opts.evaluate([...widths]);
      await this.cache.set(key, q);
      return q;
    })();
    this.pending.set(key, p);
    try {
      return await p;
    } finally {
      this.pending.delete(key);
    }
  }
}
