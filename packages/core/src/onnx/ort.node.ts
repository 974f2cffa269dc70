import { availableParallelism } from 'node:os';
import type * as OrtModule from 'onnxruntime-node';
import { CheckpointError, checkChoice, checkThreads, MatformerError } from '../errors';

const GRAPH_OPT_LEVELS = ['disabled', 'basic', 'extended', 'all'] as const;

export type Ort = typeof OrtModule;
export type OrtSession = OrtModule.InferenceSession;
export type OrtTensor = OrtModule.Tensor;

/**
 * Whether session.run writes outputs into pre-allocated CPU tensors passed as fetches:
 * onnxruntime-node does; onnxruntime-web leaves them untouched (ort.web.ts), so callers that
 * pre-allocate pass output names there instead.
 */
export const PREALLOCATED_OUTPUTS: boolean = true;

let ortPromise: Promise<Ort> | undefined;

/**
 * onnxruntime-node, loaded on first use: it is an optional peer dependency, so code that only
 * exports (or only trains) never needs it installed.
 */
export function loadOrt(): Promise<Ort> {
  ortPromise ??= import('onnxruntime-node').then(
    (m) => ((m as { default?: Ort }).default ?? m) as Ort,
    (e: Error) => {
      ortPromise = undefined;
      throw new MatformerError(
        `running ONNX models needs onnxruntime-node, an optional peer dependency of @matformer/core: ` +
          `npm install onnxruntime-node (${e.message.split('\n')[0]})`,
      );
    },
  );
  return ortPromise;
}

export interface OrtOptions {
  /** Threads one op may use (default: every core this process may use). */
  intraOpNumThreads?: number;
  /** e.g. ['cuda', 'cpu'] where onnxruntime-node's CUDA provider is installed (default ['cpu']). */
  executionProviders?: string[];
  /** Graph optimizations (default 'all': constant folding, fusions such as Gelu and MatMul+Add). */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Write the optimized graph here (to inspect what onnxruntime fused). */
  optimizedModelFilePath?: string;
  /**
   * Let idle intra-op threads spin-wait for work (default false; onnxruntime's own default is
   * true). Spinning saves microseconds per op on an idle machine, but on a busy one the spinning
   * thread steals the core: measured here with other jobs running, 2 spinning threads decoded
   * 2× slower than 1 thread, 2 non-spinning threads about as fast as 1.
   */
  allowSpinning?: boolean;
  /**
   * Pre-plan one memory block per run from the first run's allocations (onnxruntime's default,
   * true). Training graphs turn it off: measured on the small MatLM's joint step, the planned
   * block took ~450 MiB more peak memory at the same speed.
   */
  enableMemPattern?: boolean;
  /**
   * Profile every run: onnxruntime writes a JSON trace named `<prefix>_<date>.json` when the
   * session ends its profiling (`endProfiling()`, or release).
   */
  profileFilePrefix?: string;
}

/** An inference session over checked ModelProto bytes; a model onnxruntime rejects throws CheckpointError. */
export async function createSession(
  bytes: Uint8Array,
  source: string,
  opts: OrtOptions = {},
): Promise<OrtSession> {
  checkChoice('graphOptimizationLevel', opts.graphOptimizationLevel, GRAPH_OPT_LEVELS, true);
  if (opts.intraOpNumThreads !== undefined)
    checkThreads('intraOpNumThreads', opts.intraOpNumThreads, availableParallelism());
  const ort = await loadOrt();
  try {
    return await ort.InferenceSession.create(bytes, {
      executionProviders: opts.executionProviders ?? ['cpu'],
      intraOpNumThreads: opts.intraOpNumThreads ?? availableParallelism(),
      interOpNumThreads: 1,
      executionMode: 'sequential', // one chain of ops: parallel mode only adds scheduling overhead
      graphOptimizationLevel: opts.graphOptimizationLevel ?? 'all',
      enableMemPattern: opts.enableMemPattern ?? true,
      ...(opts.optimizedModelFilePath
        ? { optimizedModelFilePath: opts.optimizedModelFilePath }
        : {}),
      ...(opts.profileFilePrefix
        ? { enableProfiling: true, profileFilePrefix: opts.profileFilePrefix }
        : {}),
      extra: { session: { intra_op: { allow_spinning: opts.allowSpinning ? '1' : '0' } } },
      logSeverityLevel: 3, // errors only: the rejected-model case is reported through our error
    });
  } catch (e) {
    throw new CheckpointError(
      `onnxruntime could not load ${source}: ${(e as Error).message.split('\n')[0]}`,
    );
  }
}
