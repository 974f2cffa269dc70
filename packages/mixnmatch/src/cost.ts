import {
  flopsPerToken,
  matlm,
  median,
  paramCount,
  TfjsLMEngine,
  type FlopsOptions,
  type LMEngine,
  type LanguageModel,
  type MatLM,
  type ModelConfig,
  type Widths,
} from '@matformer/core';
import type { CostKind } from './budget';
import { widthsKey } from './space';

/** What a budget bounds, for any config. Async because latency is measured. */
export interface CostModel {
  kind: CostKind;
  /** Unit for axes and tables: "params", "FLOPs/token", "ms". */
  unit: string;
  of(widths: Widths): Promise<number>;
}

/** Exact parameter count (what `extract` stores) from the core cost model. */
export function paramsCost(config: ModelConfig): CostModel {
  return { kind: 'params', unit: 'params', of: async (w) => paramCount(config, w) };
}

/** Forward FLOPs per token (per image for a MatViT is proportional) from the core cost model. */
export function flopsCost(config: ModelConfig, opts: FlopsOptions = {}): CostModel {
  return { kind: 'flops', unit: 'FLOPs/token', of: async (w) => flopsPerToken(config, w, opts) };
}

/**
 * Measured latency: `measure(widths)` times the real runtime (milliseconds); each config is
 * measured once and cached, so a search never re-times a config it has seen.
 */
export function latencyCost(measure: (w: Widths) => Promise<number>): CostModel & {
  measured: number;
} {
  const cache = new Map<string, Promise<number>>();
  const model = {
    kind: 'latency' as const,
    unit: 'ms',
    measured: 0,
    of(w: Widths): Promise<number> {
      const key = widthsKey(w);
      let ms = cache.get(key);
      if (!ms) {
        model.measured++;
        ms = measure(w);
        cache.set(key, ms);
      }
      return ms;
    },
  };
  return model;
}

export interface DecodeLatencyOptions {
  /** Cached positions before the timed step (default 32): decoding cost depends on context. */
  context?: number;
  /** Timed decode steps; the median is reported (default 15). */
  repeats?: number;
  /** Untimed steps first (kernel setup, allocation; default 3). */
  warmup?: number;
  /** The runtime to time (default: tfjs on the current backend). E.g. an ONNX engine of `extract(model, w)`. */
  engine?: (widths: Widths) => LMEngine | Promise<LMEngine>;
}

/**
 * Milliseconds of one decode step (one new token after `context` cached ones, logits read back)
 * of a MatLM at the given widths on the chosen runtime: the median of `repeats` timings.
 */
export function decodeLatency(
  model: LanguageModel,
  opts: DecodeLatencyOptions = {},
): (widths: Widths) => Promise<number> {
  const { repeats = 15, warmup = 3 } = opts;
  const context = Math.min(opts.context ?? 32, model.config.maxSeqLen - 1);
  const makeEngine = opts.engine ?? ((w: Widths) => new TfjsLMEngine(model, w));
  let warm = false;
  const measure = async (widths: Widths): Promise<number> => {
    const engine = await makeEngine(widths);
    const prompt = Array.from({ length: context }, (_, i) => (i * 7 + 1) % model.config.vocabSize);
    const { state } = await engine.forward(prompt);
    const times: number[] = [];
    try {
      for (let i = 0; i < warmup + repeats; i++) {
        const t0 = performance.now();
        const step = await engine.forward([i % model.config.vocabSize], state);
        const ms = performance.now() - t0;
        engine.release(step.state);
        if (i >= warmup) times.push(ms);
      }
    } finally {
      engine.release(state);
      engine.dispose();
    }
    return median(times);
  };
  return async (widths) => {
    // The runtime's first use compiles kernels and grows buffers: time it once and discard it.
    if (!warm) await measure(widths);
    warm = true;
    return measure(widths);
  };
}

/** The cost model a budget kind names; latency needs a MatLM to time (or a custom measure). */
export function costModelFor(
  kind: CostKind,
  model: { config: ModelConfig },
  latency?: (widths: Widths) => Promise<number>,
): CostModel {
  if (kind === 'params') return paramsCost(model.config);
  if (kind === 'flops') return flopsCost(model.config);
  if (latency) return latencyCost(latency);
  if (!matlm.isModel(model))
    throw new Error(
      `a latency budget on a ${model.config.arch} needs a measure function (latency argument)`,
    );
  return latencyCost(decodeLatency(model));
}
