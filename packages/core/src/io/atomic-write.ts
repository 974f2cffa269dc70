import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A fresh temp name beside the target: same directory, so the final rename stays on one filesystem (atomic). */
function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/**
 * Writes `data` to `path` so that readers (and a crash) see either the old file or the complete
 * new one, never a partial write: temp file in the same directory, fsync, then rename over.
 * Creates the parent directory if missing. On failure the temp file is removed and the error rethrown.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  try {
    // 'wx': never clobber a file that happens to have our temp name.
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(data);
      // Flush to disk before the rename, or a crash could leave the new name pointing at empty data.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** Synchronous {@link writeFileAtomic}: same guarantees. */
export function writeFileAtomicSync(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  try {
    const fd = openSync(tmp, 'wx');
    try {
      writeFileSync(fd, data); // loops until every byte is written
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // keep the original error; a leftover temp file is the lesser problem
    }
    throw err;
  }
}
