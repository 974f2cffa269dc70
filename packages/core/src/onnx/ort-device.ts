import { MatformerError } from '../errors';
import { encodeGraph, GraphBuilder } from './graph';
import { loadOrt } from './ort';
import { DataType } from './schema';

/**
 * The one-line error for a CUDA execution provider that onnxruntime-node cannot start: the npm
 * package is the CPU build, the CUDA binaries come from its install script. `detail` is
 * onnxruntime's own reason, first line only.
 */
export function cudaUnavailableError(detail: string): MatformerError {
  return new MatformerError(
    `device cuda: onnxruntime-node's CUDA execution provider is not installed or cannot start (${detail.split('\n')[0]}); ` +
      `npm installs its CPU build: get the CUDA 12 binaries with ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node ` +
      `(not with ONNXRUNTIME_NODE_INSTALL=skip), or use --device cpu`,
  );
}

/** A one-op model (y = Identity(x)) to open a session with. */
function probeModel(): Uint8Array {
  const g = new GraphBuilder(17);
  g.op('Identity', [g.input('x', DataType.FLOAT, [1])], {}, 'y');
  g.output('y', DataType.FLOAT, [1]);
  return encodeGraph(g, { name: 'device-probe', producer: '@matformer/core' });
}

/**
 * Fails fast, with {@link cudaUnavailableError}, when `device` is 'cuda' and onnxruntime-node
 * cannot start its CUDA execution provider (on a CPU build it cannot). onnxruntime's own
 * coloured log of the failed library load is silenced: its process-wide log level is set to
 * 'fatal' when this is the process's first session (it is read once, then fixed); sessions
 * keep their own level (createSession: errors).
 */
export async function checkOrtDevice(device: 'cpu' | 'cuda'): Promise<void> {
  if (device !== 'cuda') return;
  const ort = await loadOrt();
  ort.env.logLevel = 'fatal';
  try {
    const session = await ort.InferenceSession.create(probeModel(), {
      executionProviders: ['cuda'],
      logSeverityLevel: 4,
    });
    await session.release();
  } catch (e) {
    throw cudaUnavailableError((e as Error).message);
  }
}
