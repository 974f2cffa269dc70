/**
 * A summary of onnxruntime's profile (the JSON trace that `enableProfiling` writes): kernel time
 * by op type, and the matmuls by shape with the rate each one reached.
 */
export interface ProfileSummary {
  /** Session runs in the trace. */
  runs: number;
  /** Kernel time per run, ms. */
  kernelMs: number;
  /** Kernel time per run by op type, largest first; share of kernelMs. */
  ops: { op: string; ms: number; share: number }[];
  /** MatMul, Gemm and FusedMatMul kernels grouped by op and shape, slowest total first. */
  matmuls: MatmulShape[];
}

export interface MatmulShape {
  op: string;
  /** e.g. "1024×256·256×1024" or "32×(128×32·32×128)" for a batch of 32. */
  shape: string;
  /** Kernels of this shape per run. */
  count: number;
  /** Their time per run, ms. */
  ms: number;
  /** Achieved rate, GFLOP/s (2·batch·M·K·N per kernel). */
  gflops: number;
}

interface TraceEvent {
  cat?: string;
  name?: string;
  ts?: number; // µs
  dur?: number; // µs
  args?: {
    op_name?: string;
    input_type_shape?: Record<string, number[]>[];
    output_type_shape?: Record<string, number[]>[];
  };
}

const MATMULS = new Set(['MatMul', 'Gemm', 'FusedMatMul']);

/** Batch, M, K, N of a matmul kernel from its first input's and its output's shapes. */
function matmulDims(a: number[], out: number[]): [number, number, number, number] {
  const [M, N] = out.slice(-2);
  const [a0, a1] = a.slice(-2);
  const K = a0 === M ? a1 : a0; // A is [M, K], or [K, M] read transposed
  return [out.slice(0, -2).reduce((p, d) => p * d, 1), M, K, N];
}

/** Summarizes a trace; `skipRuns` leaves out the first runs (warm-up). */
export function summarizeOrtProfile(
  trace: unknown[],
  o: { skipRuns?: number } = {},
): ProfileSummary {
  const all = trace as TraceEvent[];
  const starts = all
    .filter((e) => e.name === 'model_run')
    .map((e) => e.ts ?? 0)
    .sort((a, b) => a - b);
  const skip = o.skipRuns ?? 0;
  const from = skip > 0 && skip < starts.length ? starts[skip] : -Infinity;
  const events = all.filter((e) => (e.ts ?? 0) >= from);
  const runs = Math.max(1, events.filter((e) => e.name === 'model_run').length);
  const byOp = new Map<string, number>();
  const shapes = new Map<
    string,
    { op: string; shape: string; n: number; us: number; flop: number }
  >();
  let total = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || !e.args?.op_name) continue;
    const op = e.args.op_name;
    const us = e.dur ?? 0;
    total += us;
    byOp.set(op, (byOp.get(op) ?? 0) + us);
    const a = Object.values(e.args.input_type_shape?.[0] ?? {})[0];
    const out = Object.values(e.args.output_type_shape?.[0] ?? {})[0];
    if (!MATMULS.has(op) || !a || !out || a.length < 2 || out.length < 2) continue;
    const [batch, M, K, N] = matmulDims(a, out);
    const core = `${M}×${K}·${K}×${N}`;
    const shape = batch > 1 ? `${batch}×(${core})` : core;
    const key = `${op} ${shape}`;
    const s = shapes.get(key) ?? { op, shape, n: 0, us: 0, flop: 0 };
    s.n++;
    s.us += us;
    s.flop += 2 * batch * M * K * N;
    shapes.set(key, s);
  }
  return {
    runs,
    kernelMs: total / runs / 1000,
    ops: [...byOp]
      .map(([op, us]) => ({ op, ms: us / runs / 1000, share: us / Math.max(total, 1) }))
      .sort((x, y) => y.ms - x.ms),
    matmuls: [...shapes.values()]
      .map((s) => ({
        op: s.op,
        shape: s.shape,
        count: s.n / runs,
        ms: s.us / runs / 1000,
        gflops: s.flop / Math.max(s.us, 1e-9) / 1000,
      }))
      .sort((x, y) => y.ms - x.ms),
  };
}
