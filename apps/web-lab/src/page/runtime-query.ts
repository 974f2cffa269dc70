/**
 * The runtime the page's URL asks for: `?device=wasm` skips WebGPU, `?threads=N` sets the wasm
 * threads (default: one per core when cross-origin isolated). A bad value throws, naming it.
 */
export function runtimeQuery(search: string): { device: 'wasm' | 'webgpu'; numThreads?: number } {
  const q = new URLSearchParams(search);
  const device = q.get('device') ?? 'webgpu';
  if (device !== 'wasm' && device !== 'webgpu')
    throw new Error(`?device must be wasm or webgpu, got "${device}"`);
  const threads = q.get('threads');
  if (threads !== null && !/^[1-9]\d*$/.test(threads))
    throw new Error(`?threads must be a whole number of at least 1, got "${threads}"`);
  return { device, numThreads: threads === null ? undefined : Number(threads) };
}
