import { checkChoice, MatformerError } from '../errors';
import { loadOrt } from './ort';

/** Where onnxruntime runs: 'cpu' (bundled with onnxruntime-node) or 'cuda' (installed separately). */
export type OrtDevice = 'cpu' | 'cuda';
export const ORT_DEVICES = ['cpu', 'cuda'] as const;

/** The execution providers of a device: CUDA with the CPU for the ops it lacks. */
export const executionProvidersOf = (device: OrtDevice = 'cpu'): string[] =>
  device === 'cuda' ? ['cuda', 'cpu'] : ['cpu'];

/** The one message for a CUDA provider that cannot start (train, eval, generate, retrieval). */
export function cudaUnavailableMessage(reason: string, option = 'device'): string {
  return `${option} cuda: onnxruntime-node could not start its CUDA execution provider (${reason}); install onnxruntime-node with its CUDA binaries (see its README: ONNXRUNTIME_NODE_INSTALL_CUDA) on a machine with CUDA 12, or use ${option} cpu`;
}

// A one-node ONNX model (Identity, float[1]), to try a provider on.
const PROBE_MODEL =
  'CAg6NwoQCgF4EgF5IghJZGVudGl0eRIBZ1oPCgF4EgoKCAgBEgQKAggBYg8KAXkSCgoICAESBAoCCAFCAhAR';
let cudaProbe: Promise<string | undefined> | undefined;

/** Why CUDA cannot start here (undefined: it can); probed once per process, quietly. */
function cudaProblem(): Promise<string | undefined> {
  cudaProbe ??= (async () => {
    const ort = await loadOrt();
    const listed = (
      ort as { listSupportedBackends?: () => { name: string }[] }
    ).listSupportedBackends?.();
    if (listed && !listed.some((b) => b.name === 'cuda'))
      return 'this onnxruntime-node build has no CUDA provider';
    // onnxruntime logs a failed provider load in colour on stderr before it throws: this
    // process's errors are reported through exceptions, so its own log is kept to fatal ones.
    ort.env.logLevel = 'fatal';
    try {
      const bytes = Uint8Array.from(atob(PROBE_MODEL), (c) => c.charCodeAt(0)); // no Buffer in a page
      const s = await ort.InferenceSession.create(bytes, {
        executionProviders: ['cuda'],
        logSeverityLevel: 4,
      });
      await s.release();
      return undefined;
    } catch (e) {
      return (e as Error).message.split('\n')[0];
    }
  })();
  return cudaProbe;
}

/**
 * Checks a device option before any graph is built: one of 'cpu' and 'cuda' (ConfigError naming
 * `option` otherwise), and for 'cuda', that onnxruntime-node's CUDA provider starts (a
 * MatformerError with the install hint otherwise, without onnxruntime's native log).
 */
export async function checkOrtDevice(device: unknown, option = 'device'): Promise<OrtDevice> {
  const d = checkChoice(option, device ?? 'cpu', ORT_DEVICES);
  if (d === 'cuda') {
    const problem = await cudaProblem();
    if (problem) throw new MatformerError(cudaUnavailableMessage(problem, option));
  }
  return d;
}
