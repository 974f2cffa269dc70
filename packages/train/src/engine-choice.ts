import { checkChoice } from '@matformer/core';
import { loadOrt } from '@matformer/core/onnx';
import type { TrainEngine } from './trainer';

/** An engine name as users give it: 'ort', 'tfjs', or 'auto' (ort where onnxruntime-node loads). */
export type EngineChoice = TrainEngine | 'auto';

/** The values an engine option takes. */
export const ENGINE_CHOICES = ['auto', 'ort', 'tfjs'] as const;

/** Resolves 'auto' to 'ort' where onnxruntime-node is installed, else 'tfjs'. */
export async function resolveEngine(choice: EngineChoice = 'auto'): Promise<TrainEngine> {
  if (checkChoice('engine', choice, ENGINE_CHOICES) !== 'auto') return choice as TrainEngine;
  try {
    await loadOrt();
    return 'ort';
  } catch {
    return 'tfjs';
  }
}
