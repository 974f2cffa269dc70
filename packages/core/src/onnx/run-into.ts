import { MatformerError } from '../errors';
import { PREALLOCATED_OUTPUTS, type OrtSession, type OrtTensor } from './ort';

type Numbers = Float32Array | Int32Array | BigInt64Array | Uint8Array;

/**
 * Runs `session` so that the pre-allocated output tensors in `fetches` hold its outputs, on
 * either runtime: onnxruntime-node writes into them; onnxruntime-web leaves CPU fetches
 * untouched and returns new tensors, which are copied in here (one copy per output).
 */
export async function runInto(
  session: OrtSession,
  feeds: Record<string, OrtTensor>,
  fetches: Record<string, OrtTensor>,
): Promise<void> {
  if (PREALLOCATED_OUTPUTS) {
    await session.run(feeds, fetches);
    return;
  }
  const out = await session.run(feeds, Object.keys(fetches));
  for (const [name, into] of Object.entries(fetches)) {
    const from = out[name].data as Numbers;
    const to = into.data as Numbers;
    if (from.length !== to.length)
      throw new MatformerError(
        `output ${name}: onnxruntime returned ${from.length} values for a buffer of ${to.length}`,
      );
    (to as Float32Array).set(from as Float32Array);
  }
}
