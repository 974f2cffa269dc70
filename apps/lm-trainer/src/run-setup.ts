import {
  matlmConfig,
  selectBackend,
  describeBackend,
  ConfigError,
  type LanguageModel,
  type MatLMConfig,
  type LMPresetName,
  lmPresetNames,
} from '@matformer/core';
import {
  baselineConfig,
  lmTask,
  loadTextCorpus,
  MOBY_DICK,
  BYTE_VOCAB_SIZE,
  type TextCorpus,
} from '@matformer/train';

/** What a run's data and model are; stored in config.json so eval/resume rebuild them. */
export interface DataSpec {
  source: string;
  valFraction: number;
  batchSize: number;
  seqLen: number;
  evalWindows: number;
}

export const defaultRunDir = 'runs/default';

/** Picks the backend (MATFORMER_BACKEND or --backend) and prints the choice once. */
export async function setupBackend(prefer?: string, quiet = false): Promise<string> {
  const choice = await selectBackend(prefer as never);
  if (!quiet) process.stderr.write(`backend: ${describeBackend(choice)}\n`);
  return choice.name;
}

export async function loadCorpus(spec: DataSpec): Promise<TextCorpus> {
  return loadTextCorpus(spec.source ?? MOBY_DICK, { valFraction: spec.valFraction });
}

export function makeTask(model: LanguageModel, corpus: TextCorpus, spec: DataSpec) {
  return lmTask(model, corpus, {
    batchSize: spec.batchSize,
    seqLen: spec.seqLen,
    evalWindows: spec.evalWindows,
  });
}

/**
 * Bits per byte of a unigram model fitted on the training bytes (add-one smoothing),
 * measured on the held-out bytes: the floor any useful LM must beat.
 */
export function unigramBitsPerByte(corpus: TextCorpus): number {
  const counts = new Float64Array(256).fill(1);
  for (const b of corpus.train) counts[b]++;
  const total = corpus.train.length + 256;
  let bits = 0;
  for (const b of corpus.val) bits -= Math.log2(counts[b] / total);
  return bits / corpus.val.length;
}
