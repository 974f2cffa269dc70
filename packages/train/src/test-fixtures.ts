import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MatLM, matlmConfig } from '@matformer/core';
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

/** A tiny byte-level MatLM (vocab 256) and its task on the fixture text. */
export async function tinyLMTask(seed = 0, batchSize = 8) {
  const dir = await tempDir();
  const file = join(dir, 'fixture.txt');
  await writeFile(file, fixtureText());
  const corpus = await loadTextCorpus(file, { valFraction: 0.1 });
  const model = MatLM.create(matlmConfig('tiny', { vocabSize: 256, maxSeqLen: 32 }), seed);
  return {
    model,
    corpus,
    dir,
    task: lmTask(model, corpus, { batchSize, seqLen: 32, evalWindows: 16 }),
  };
}
