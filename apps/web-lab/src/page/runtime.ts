import { configureOrtWeb, ortBackend, type OrtWebBackend } from '@matformer/core/onnx';
import { runtimeQuery } from './runtime-query';

export interface Runtime extends OrtWebBackend {
  /** One line for the page: which backend, how many threads, and why not better. */
  description: string;
}

/**
 * Starts onnxruntime-web for this tab: WebGPU where the browser grants an adapter, else wasm;
 * its wasm files from this server's /ort/ (never a CDN); one wasm thread per core when the page
 * is cross-origin isolated (the server's COOP/COEP headers), else one.
 */
export async function startRuntime(): Promise<Runtime> {
  configureOrtWeb({
    ...runtimeQuery(location.search),
    wasmPaths: new URL('/ort/', location.href).href,
  });
  const b = await ortBackend();
  const threads = `${b.threads} thread${b.threads === 1 ? '' : 's'}`;
  const wasm = `wasm, ${threads}${b.crossOriginIsolated ? '' : ' (the page is not cross-origin isolated, so no wasm threads)'}`;
  const description =
    b.device === 'webgpu'
      ? `WebGPU (decoding; training runs on ${wasm})`
      : `${wasm}; ${b.fallback?.replace(/^webgpu unavailable, using wasm: /, '') ?? 'WebGPU not asked for (?device=wasm)'}`;
  return { ...b, description };
}
