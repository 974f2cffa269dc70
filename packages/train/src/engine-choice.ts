import { loadOrt } from '@matformer/core/onnx';
import type { TrainEngine } from './trainer';

/** An engine name as users give it: 'ort', 'tfjs', or 'auto' (ort where onnxruntime-node loads). */
export type EngineChoice = TrainEngine | 'auto';

/** Resolves 'auto' to 'ort' where onnxruntime-node is installed, else 'tfjs'. */
export async function resolveEngine(choice: EngineChoice = 'auto'): Promise<TrainEngine> {
  if (choice !== 'auto') return choice;
  try {
    await loadOrt();
    return 'ort';
  } catch {
    return 'tfjs';
  }
}
