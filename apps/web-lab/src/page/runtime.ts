import * as ort from 'onnxruntime-web';

export interface Runtime {
  /** The execution provider the page's sessions use first. */
  backend: 'webgpu' | 'wasm';
  /** onnxruntime-web's wasm threads (1 unless the page is cross-origin isolated). */
  threads: number;
  isolated: boolean;
  /** Execution providers for InferenceSession.create, best first. */
  providers: string[];
  /** One line for the page: which backend, and why. */
  description: string;
}

interface GpuNavigator {
  gpu?: { requestAdapter(): Promise<unknown> };
}

/** Whether this browser can give WebGPU an adapter (headless or GPU-less Chromium: no). */
async function hasWebGpu(): Promise<boolean> {
  const gpu = (navigator as GpuNavigator).gpu;
  if (!gpu) return false;
  try {
    return Boolean(await gpu.requestAdapter());
  } catch {
    return false;
  }
}

/**
 * Configures onnxruntime-web for this tab: its wasm files from this server's /ort/ (never a
 * CDN), threads when the page is cross-origin isolated (SharedArrayBuffer needs it), and WebGPU
 * first where the browser has an adapter, wasm otherwise.
 */
export async function startRuntime(): Promise<Runtime> {
  ort.env.wasm.wasmPaths = new URL('/ort/', location.href).href;
  const isolated = globalThis.crossOriginIsolated === true;
  const threads = isolated ? Math.max(1, Math.min(navigator.hardwareConcurrency || 1, 16)) : 1;
  ort.env.wasm.numThreads = threads;
  const webgpu = await hasWebGpu();
  const wasm = `wasm, ${threads} thread${threads === 1 ? '' : 's'}${isolated ? '' : ' (not cross-origin isolated: no wasm threads)'}`;
  return {
    backend: webgpu ? 'webgpu' : 'wasm',
    threads,
    isolated,
    providers: webgpu ? ['webgpu', 'wasm'] : ['wasm'],
    description: webgpu
      ? `WebGPU (falls back to ${wasm})`
      : `${wasm}; no WebGPU adapter in this browser`,
  };
}
