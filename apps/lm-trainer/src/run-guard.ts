import { existsSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, lockDir, LOCK_FILE, type DirLock } from '@matformer/core';
import { runFiles } from '@matformer/train';

/** Files `lm-trainer search` writes into the run directory. */
export const searchFiles = {
  front: 'mixnmatch-front.json',
  plot: 'mixnmatch-front.svg',
  slicesCsv: 'slices.csv',
  slicesJson: 'slices.json',
  cache: 'mixnmatch-cache.json',
} as const;

/** What lm-trainer itself writes into a run directory: `--force` removes these, nothing else. */
const ownFiles = [...Object.values(runFiles), ...Object.values(searchFiles)];

/**
 * Locks the run directory for this process (two trainers on one directory would interleave
 * metrics and checkpoints; a search writes its front, slices and cache there too). `train`
 * creates the directory, and fails at once where it cannot; the others need it to exist.
 */
export function lockRun(dir: string, command: 'train' | 'resume' | 'search'): DirLock {
  if (command !== 'train' && !existsSync(dir))
    throw new ConfigError(`${dir} is not a run directory (it does not exist)`);
  return lockDir(dir, `lm-trainer ${command}`);
}

/**
 * A new run starts in an empty directory: one that holds anything (a finished run, or the
 * metrics of one killed before its first checkpoint) is refused unless `force`, which removes
 * the files a run and a search write. Called with the directory locked, so `--force` can never
 * delete the files of a trainer that is still running.
 */
export async function startClean(dir: string, force: boolean): Promise<void> {
  const held = readdirSync(dir).filter((f) => f !== LOCK_FILE);
  if (held.length === 0) return;
  if (!force) {
    if (held.includes(runFiles.checkpoint))
      throw new ConfigError(
        `${dir} already holds a run; continue it with "lm-trainer resume --run ${dir}" or pass --force to start over`,
      );
    throw new ConfigError(
      `${dir} is not empty (it holds ${held.slice(0, 4).join(', ')}${held.length > 4 ? ', …' : ''}); a new run starts in an empty directory: pass --force to start over, or choose another --run`,
    );
  }
  await Promise.all(ownFiles.map((f) => rm(join(dir, f), { force: true })));
}
