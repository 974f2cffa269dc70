// The browser twin of ort.node.ts: the same loadOrt/createSession over onnxruntime-web, plus
// configureOrtWeb (execution provider, wasm file location, threads) and ortBackend (what a
// page actually got). Picked by the "browser" condition of package.json "imports".
import type * as OrtModule from 'onnxruntime-node';
import type * as NodeTwin from './ort.node';
import { CheckpointError, checkChoice, checkThreads, ConfigError, MatformerError } from '../errors';

const GRAPH_OPT_LEVELS = ['disabled', 'basic', 'extended', 'all'] as const;

/** The onnxruntime API (onnxruntime-common's), typed as onnxruntime-node's like the Node twin. */
export type Ort = typeof OrtModule;
export type OrtSession = OrtModule.InferenceSession;
export type OrtTensor = OrtModule.Tensor;
export type { OrtOptions } from './ort.node';
type OrtOptions = NodeTwin.OrtOptions;

/** Where a page runs onnxruntime: WebAssembly on the CPU, or WebGPU. */
export type OrtWebDevice = 'wasm' | 'webgpu';
export const ORT_WEB_DEVICES = ['wasm', 'webgpu'] as const;

export interface OrtWebSettings {
  /**
   * 'wasm' (default) or 'webgpu'. Without a WebGPU adapter (no navigator.gpu, or no adapter
   * granted) 'webgpu' falls back to 'wasm'; ortBackend() says which one is used, and why.
   */
  device?: OrtWebDevice;
  /**
   * URL prefix (or per-file URLs) where onnxruntime-web's .wasm and .mjs files are served,
   * e.g. '/ort/' for a copy of node_modules/onnxruntime-web/dist (env.wasm.wasmPaths). Default:
   * next to the bundle that imports onnxruntime-web.
   */
  wasmPaths?: string | { wasm?: string; mjs?: string };
  /**
   * WebAssembly threads. Default: navigator.hardwareConcurrency when the page is cross-origin
   * isolated (COOP same-origin + COEP require-corp: SharedArrayBuffer exists), else 1.
   */
  numThreads?: number;
}

/** What loadOrt set up: the provider sessions use, the wasm threads, and why if not asked for. */
export interface OrtWebBackend {
  device: OrtWebDevice;
  threads: number;
  crossOriginIsolated: boolean;
  /** Why the asked-for device is not the one used (e.g. no WebGPU adapter). */
  fallback?: string;
}

interface BrowserGlobals {
  navigator?: { hardwareConcurrency?: number; gpu?: { requestAdapter(): Promise<unknown> } };
  crossOriginIsolated?: boolean;
}
const page = globalThis as BrowserGlobals;
const cores = (): number => Math.max(1, page.navigator?.hardwareConcurrency ?? 1);
const isolated = (): boolean => page.crossOriginIsolated === true;

/** onnxruntime-web returns new output tensors and ignores pre-allocated CPU fetches. */
export const PREALLOCATED_OUTPUTS: boolean = false;

let settings: OrtWebSettings = {};
let loaded: Promise<{ ort: Ort; backend: OrtWebBackend }> | undefined;

/**
 * Sets how onnxruntime-web starts; call it before the first session (loadOrt, any engine).
 * Afterwards it throws: onnxruntime reads these once, when it initialises.
 */
export function configureOrtWeb(s: OrtWebSettings): void {
  if (loaded)
    throw new MatformerError(
      'configureOrtWeb must be called before onnxruntime-web starts (before the first session or loadOrt)',
    );
  checkChoice('device', s.device, ORT_WEB_DEVICES, true);
  checkThreads('numThreads', s.numThreads, Math.max(cores(), 1));
  if (s.numThreads !== undefined && s.numThreads > 1 && !isolated())
    throw new ConfigError(
      `numThreads ${s.numThreads} needs a cross-origin isolated page (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp); without that, WebAssembly runs on 1 thread`,
    );
  settings = { ...s };
}

/** Why WebGPU cannot run here (undefined: an adapter was granted). */
async function webgpuProblem(): Promise<string | undefined> {
  const gpu = page.navigator?.gpu;
  if (!gpu) return 'this browser exposes no WebGPU (navigator.gpu is undefined)';
  try {
    return (await gpu.requestAdapter()) ? undefined : 'no WebGPU adapter was granted';
  } catch (e) {
    return `requesting a WebGPU adapter failed: ${(e as Error).message}`;
  }
}

async function start(): Promise<{ ort: Ort; backend: OrtWebBackend }> {
  const asked = settings.device ?? 'wasm';
  const fallback = asked === 'webgpu' ? await webgpuProblem() : undefined;
  const device: OrtWebDevice = asked === 'webgpu' && !fallback ? 'webgpu' : 'wasm';
  // The WebGPU build ships its own (larger) wasm; a wasm-only page fetches the smaller one.
  const m = await (device === 'webgpu'
    ? import('onnxruntime-web')
    : import('onnxruntime-web/wasm'));
  const ort = ((m as unknown as { default?: Ort }).default ?? m) as unknown as Ort;
  const threads = settings.numThreads ?? (isolated() ? cores() : 1);
  const wasm = ort.env.wasm as { numThreads?: number; wasmPaths?: unknown; proxy?: boolean };
  wasm.numThreads = threads;
  wasm.proxy = false; // sessions run on the calling thread; onnxruntime's own workers do the math
  if (settings.wasmPaths !== undefined) wasm.wasmPaths = settings.wasmPaths;
  return {
    ort,
    backend: {
      device,
      threads,
      crossOriginIsolated: isolated(),
      ...(fallback ? { fallback: `webgpu unavailable, using wasm: ${fallback}` } : {}),
    },
  };
}

/** onnxruntime-web, loaded on first use with the settings of configureOrtWeb. */
export function loadOrt(): Promise<Ort> {
  loaded ??= start().catch((e: Error) => {
    loaded = undefined;
    throw new MatformerError(
      `running ONNX models in a browser needs onnxruntime-web, an optional peer dependency of @matformer/core: npm install onnxruntime-web (${e.message.split('\n')[0]})`,
    );
  });
  return loaded.then((l) => l.ort);
}

/** The execution provider and threads onnxruntime-web runs with (loads it if needed). */
export async function ortBackend(): Promise<OrtWebBackend> {
  await loadOrt();
  return { ...(await loaded!).backend };
}

/** Node's provider names mapped to the browser's: 'cpu' is wasm here; CUDA does not exist. */
function webProviders(requested: string[] | undefined, device: OrtWebDevice): string[] {
  const base = device === 'webgpu' ? ['webgpu', 'wasm'] : ['wasm'];
  if (!requested) return base;
  return requested.map((p) => {
    if (p === 'cpu') return 'wasm';
    if (p === 'wasm' || p === 'webgpu') return p;
    throw new ConfigError(
      `execution provider "${p}" does not exist in a browser; use "wasm" or "webgpu" (configureOrtWeb({ device }))`,
    );
  });
}

/** An inference session over checked ModelProto bytes; a model onnxruntime rejects throws CheckpointError. */
export async function createSession(
  bytes: Uint8Array,
  source: string,
  opts: OrtOptions = {},
): Promise<OrtSession> {
  checkChoice('graphOptimizationLevel', opts.graphOptimizationLevel, GRAPH_OPT_LEVELS, true);
  if (opts.intraOpNumThreads !== undefined)
    checkThreads('intraOpNumThreads', opts.intraOpNumThreads, cores());
  if (opts.optimizedModelFilePath || opts.profileFilePrefix)
    throw new ConfigError(
      `${opts.optimizedModelFilePath ? 'optimizedModelFilePath' : 'profileFilePrefix'} writes a file: a browser has no file system to write it to`,
    );
  const ort = await loadOrt();
  const { device } = (await loaded!).backend;
  const executionProviders = webProviders(opts.executionProviders, device);
  try {
    return await ort.InferenceSession.create(bytes, {
      executionProviders,
      executionMode: 'sequential',
      graphOptimizationLevel: opts.graphOptimizationLevel ?? 'all',
      enableMemPattern: opts.enableMemPattern ?? true,
      logSeverityLevel: 3,
    });
  } catch (e) {
    throw new CheckpointError(
      `onnxruntime-web could not load ${source}: ${(e as Error).message.split('\n')[0]}`,
    );
  }
}

// The twins must stay interchangeable: this fails to compile if a signature drifts apart.
({ loadOrt, createSession, PREALLOCATED_OUTPUTS }) satisfies Pick<
  typeof NodeTwin,
  'loadOrt' | 'createSession' | 'PREALLOCATED_OUTPUTS'
>;
