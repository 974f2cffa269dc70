import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MatGemma, matgemmaConfig, MatLM, matlmConfig, type MatGemmaConfig } from '@matformer/core';
import { lmTask } from './data/lm-task';
import { loadTextCorpus } from './data/text-corpus';

/** A few KB of structured text: learnable in dozens of steps by a tiny model. */
export function fixtureText(): string {
  const lines: string[] = [];
  for (let i = 0; i < 300; i++)
    lines.push(`line ${i % 10}: the cat sat on the mat and the dog ran to the log.`);
  return lines.join('\n');
}

export async function tempDir(prefix = 'matformer-train-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** The fixture text as a byte corpus, in a fresh temp dir. */
async function fixtureCorpus() {
  const dir = await tempDir();
  const file = join(dir, 'fixture.txt');
  await writeFile(file, fixtureText());
  return { dir, corpus: await loadTextCorpus(file, { valFraction: 0.1 }) };
}

/** A tiny byte-level MatLM (vocab 256) and its task on the fixture text. */
export async function tinyLMTask(seed = 0, batchSize = 8) {
  const { dir, corpus } = await fixtureCorpus();
  const model = MatLM.create(matlmConfig('tiny', { vocabSize: 256, maxSeqLen: 32 }), seed);
  return {
    model,
    corpus,
    dir,
    task: lmTask(model, corpus, { batchSize, seqLen: 32, evalWindows: 16 }),
  };
}

/** A tiny byte-level MatGemma (GQA: 4 query heads on 2 kv heads) and its task on the fixture text. */
export async function tinyGemmaTask(
  seed = 0,
  overrides: Partial<Omit<MatGemmaConfig, 'arch'>> = {},
  batchSize = 8,
) {
  const { dir, corpus } = await fixtureCorpus();
  const config = matgemmaConfig('tiny', { vocabSize: 256, maxSeqLen: 32, ...overrides });
  const model = MatGemma.create(config, seed);
  return {
    model,
    corpus,
    dir,
    task: lmTask(model, corpus, { batchSize, seqLen: 32, evalWindows: 16 }),
  };
}

/** Largest |a − b| over a tensor, relative to its largest |a| (elementwise ratios blow up near 0). */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(a[i]));
  }
  return diff / Math.max(scale, 1e-12);
}
