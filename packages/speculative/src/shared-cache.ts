import {
  ConfigError,
  matgemma,
  matlm,
  TfjsLMEngine,
  type LMEngine,
  type MatGemmaConfig,
  type MatLMConfig,
} from '@matformer/core';
import { runSpeculative, type SpeculativeOptions, type SpeculativeResult } from './speculative';

/**
 * Speculative decoding where the draft keeps no KV cache of its own: each round it continues
 * from the verifier's (exact, rolled-back) cache and adds only its k draft positions, which are
 * discarded after verification. One cache instead of two, and the draft never prefills.
 *
 * APPROXIMATE FOR THE DRAFT: in a MatLM every width shares the attention weights, but the keys
 * and values of layer l depend on the FFN widths of layers < l, so the prefix KVs the draft
 * reads were computed at the verifier's widths, not its own. Its proposals may get better or
 * worse; verification is unchanged and stays exact (greedy output = the verifier's greedy
 * decoding; sample mode = the verifier's distribution).
 *
 * Needs a draft that can continue from the verifier's state: two engines of the same class
 * over one model's weights (e.g. two `TfjsLMEngine`s of one MatLM at different widths, or a
 * verifier and an `extract`ed submodel of it).
 */
export async function speculativeGenerateSharedCache<S>(
  draft: LMEngine<S>,
  verifier: LMEngine<S>,
  prompt: number[],
  options: SpeculativeOptions,
): Promise<SpeculativeResult> {
  checkSharable(draft, verifier);
  return runSpeculative(draft, verifier, prompt, options, true);
}

/** Fails clearly unless the draft can read the verifier's cache (same engine class, same cache shape). */
function checkSharable(draft: LMEngine<unknown>, verifier: LMEngine<unknown>): void {
  if (draft.constructor !== verifier.constructor)
    throw new ConfigError(
      `a shared cache needs two engines of the same kind; got ${draft.name} and ${verifier.name}`,
    );
  const [a, b] = [configOf(draft), configOf(verifier)];
  if (!a || !b) return;
  if (a.arch !== b.arch)
    throw new ConfigError(`a shared cache needs one model family; got ${a.arch} and ${b.arch}`);
  for (const f of ['dModel', 'nLayers', 'nHeads', 'vocabSize', 'maxSeqLen'] as const)
    if (a[f] !== b[f])
      throw new ConfigError(
        `a shared cache needs the same attention shape: draft config.${f} = ${a[f]}, verifier's = ${b[f]}`,
      );
}

/** The model config behind an engine, where it exposes one (TfjsLMEngine.model, OnnxLMEngine.config). */
function configOf(engine: LMEngine<unknown>): MatLMConfig | MatGemmaConfig | undefined {
  if (engine instanceof TfjsLMEngine) return engine.model.config;
  const c = (engine as { config?: unknown }).config;
  return matlm.isConfig(c) || matgemma.isConfig(c) ? c : undefined;
}
