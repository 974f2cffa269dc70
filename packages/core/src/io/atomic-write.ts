import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { appendFile, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MatformerError } from '../errors';
import { fileKind as kindOf } from './input-file';

/**
 * A file this library was asked to write cannot be written: the path is not a regular file
 * (a device, FIFO, socket or directory), is empty, or the file system refused. The message names
 * the caller's path (never a temp file) and `code` carries the system error code, if any.
 */
export class FileWriteError extends MatformerError {
  constructor(
    readonly path: string,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * Checks, before anything is written, that `path` names a regular file or a new path: a device
 * (`/dev/null`, `/dev/full`), FIFO, socket or directory there would otherwise be replaced by the
 * rename of an atomic write (or, appending, written into). Throws FileWriteError naming `path`.
 * `what` names the path for the user (e.g. "--out"); default: the path alone.
 */
export function checkWritablePath(path: string, what?: string): void {
  const label = what ? `${what} ${path}` : path;
  if (typeof path !== 'string' || path.trim() === '')
    throw new FileWriteError(
      String(path),
      `cannot write ${what ? `${what} ` : ''}"${path}": the file name is empty`,
    );
  let s: Stats;
  try {
    s = statSync(path); // follows links: what matters is what the write would reach
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return; // a new file
    throw writeError(path, e, what);
  }
  if (!s.isFile())
    throw new FileWriteError(
      path,
      `cannot write ${label}: it is ${kindOf(s)}, not a regular file; give the path of a file to create or replace`,
      'ENOTREG',
    );
}

/**
 * Throws FileWriteError, naming `path`, unless it is a directory or a new path: the check a
 * writer of a whole directory (a Hugging Face export) makes before anything is written.
 */
export function checkWritableDir(path: string, what = 'directory'): void {
  if (typeof path !== 'string' || path.trim() === '')
    throw new FileWriteError(String(path), `cannot write ${what} "${path}": the name is empty`);
  let s: Stats;
  try {
    s = statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // a new directory
    throw writeError(path, e, what);
  }
  if (!s.isDirectory())
    throw new FileWriteError(
      path,
      `cannot write ${what} ${path}: it is ${kindOf(s)}, not a directory; give the path of a directory to create or replace`,
      'ENOTDIR',
    );
}

/** The error of a failed write at `path` (e.g. a rename onto it), naming it and the system's reason. */
export function dirWriteError(path: string, e: unknown, what = 'directory'): FileWriteError {
  return writeError(path, e, what);
}

/** The error of a failed write, naming the user's path (not a temp file) and the system's reason. */
function writeError(path: string, e: unknown, what?: string): FileWriteError {
  if (e instanceof FileWriteError) return e;
  const err = e as NodeJS.ErrnoException;
  // "ENOSPC: no space left on device, write" → "ENOSPC: no space left on device"
  const reason = (err.message ?? String(e)).split('\n')[0].replace(/, \w+( '.*')?( -> '.*')?$/, '');
  return new FileWriteError(
    path,
    `cannot write ${what ? `${what} ` : ''}${path}: ${reason}`,
    err.code,
  );
}

/** A fresh temp name beside the target: same directory, so the final rename stays on one filesystem (atomic). */
function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/**
 * Writes `data` to `path` so that readers (and a crash) see either the old file or the complete
 * new one, never a partial write: temp file in the same directory, fsync, then rename over.
 * Creates the parent directory if missing. Refuses (FileWriteError, before writing anything) a
 * path that is a device, FIFO, socket or directory; any failure names `path`, and the temp file
 * is removed.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  checkWritablePath(path);
  const tmp = tempPathFor(path);
  try {
    await mkdir(dirname(path), { recursive: true });
    // 'wx': never clobber a file that happens to have our temp name.
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(data);
      // Flush to disk before the rename, or a crash could leave the new name pointing at empty data.
      await handle.sync();
    } finally {
      await handle.close();
    }
    checkWritablePath(path); // again: something may have appeared there meanwhile
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw writeError(path, err);
  }
}

/** Synchronous {@link writeFileAtomic}: same guarantees. */
export function writeFileAtomicSync(path: string, data: Uint8Array | string): void {
  checkWritablePath(path);
  const tmp = tempPathFor(path);
  try {
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(tmp, 'wx');
    try {
      writeFileSync(fd, data); // loops until every byte is written
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    checkWritablePath(path);
    renameSync(tmp, path);
  } catch (err) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // keep the original error; a leftover temp file is the lesser problem
    }
    throw writeError(path, err);
  }
}

/**
 * Appends `data` to the regular file at `path` (created if missing, with its folder), e.g. a
 * JSONL log. Refuses a device, FIFO, socket or directory before writing; errors name `path`.
 */
export async function appendFileChecked(path: string, data: Uint8Array | string): Promise<void> {
  checkWritablePath(path);
  try {
    await mkdir(dirname(path), { recursive: true });
    await appendFile(path, data);
  } catch (err) {
    throw writeError(path, err);
  }
}
