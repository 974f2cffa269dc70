import { ConfigError, familyOf, type LanguageModel } from '@matformer/core';
import { BYTE_VOCAB_SIZE, type TrainOptions } from '@matformer/train';

/** The families and presets the page trains (lm-trainer's smallest two of each). */
export const PAGE_ARCHS = ['matlm', 'matgemma'] as const;
export const PAGE_PRESETS = ['tiny', 'mini'] as const;

/** What the Train form holds. The page and the Node side of its tests build runs from this alone. */
export interface TrainSettings {
  arch: (typeof PAGE_ARCHS)[number];
  preset: (typeof PAGE_PRESETS)[number];
  steps: number;
  batchSize: number;
  /** Bytes per training window (default: the preset's context). */
  seqLen?: number;
  lr: number;
  seed: number;
  /** Held-out evaluation every n steps (0 = only at the end). */
  evalEvery: number;
}

/** The shipped text's name: `lm-trainer --data moby-dick`, served at /corpus/moby-dick.txt. */
export const SHIPPED_TEXT = 'moby-dick';

/** lm-trainer's split and evaluation defaults, so a page run and a CLI run see the same data. */
export const DATA_DEFAULTS = { valFraction: 0.05, evalWindows: 64 };

/** The byte-level model config of these settings, as `lm-trainer train --arch --preset` builds it. */
export function configOf(s: TrainSettings): LanguageModel['config'] {
  const family = familyOf(s.arch);
  const base = family.config(s.preset, {
    vocabSize: BYTE_VOCAB_SIZE,
  } as never) as LanguageModel['config'];
  const maxSeqLen = Math.max(base.maxSeqLen, s.seqLen ?? 0);
  return family.config(s.preset, {
    vocabSize: BYTE_VOCAB_SIZE,
    maxSeqLen,
  } as never) as LanguageModel['config'];
}

/**
 * The Trainer options of these settings: lm-trainer's defaults for everything the form lacks,
 * except warmup: the CLI's 40 steps, or a fifth of a shorter run (so a 20-step run is not all
 * warmup).
 */
export function trainOptionsOf(s: TrainSettings): Partial<TrainOptions> {
  return {
    steps: s.steps,
    lr: s.lr,
    warmupSteps: Math.min(40, Math.floor(s.steps / 5)),
    evalEvery: s.evalEvery,
    checkpointEvery: 0,
    seed: s.seed,
  };
}

const int = (name: string, v: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
  if (!Number.isInteger(v) || v < min || v > max)
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got ${v}`);
  return v;
};

/** Checks the form's values, naming the first bad field. */
export function checkSettings(s: TrainSettings): TrainSettings {
  if (!PAGE_ARCHS.includes(s.arch))
    throw new ConfigError(`family must be one of ${PAGE_ARCHS.join(', ')}, got "${s.arch}"`);
  if (!PAGE_PRESETS.includes(s.preset))
    throw new ConfigError(`preset must be one of ${PAGE_PRESETS.join(', ')}, got "${s.preset}"`);
  int('steps', s.steps, 1, 100_000);
  int('batch', s.batchSize, 1, 256);
  if (s.seqLen !== undefined) int('context', s.seqLen, 2, 1024);
  if (!(s.lr > 0 && s.lr <= 1))
    throw new ConfigError(`learning rate must be in (0, 1], got ${s.lr}`);
  int('seed', s.seed, 0, 2 ** 31 - 1);
  int('evaluate every', s.evalEvery, 0);
  return s;
}
