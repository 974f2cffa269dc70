import { randomBytes } from 'node:crypto';
import {
  linkSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { MatformerError } from '../errors';

/** A directory that cannot be created, is not writable, or is owned by another live process. */
export class DirLockError extends MatformerError {}

/** The lock file's name inside a locked directory. */
export const LOCK_FILE = '.lock';

interface Holder {
  pid: number;
  host: string;
  owner: string;
  since: string;
  token: string;
}

export interface DirLock {
  readonly dir: string;
  readonly path: string;
  /** Removes the lock file (if it is still ours). Also runs on process exit. */
  release(): void;
}

/**
 * Creates `dir` one level at a time. Node's `mkdir(…, { recursive: true })` spins forever on
 * some pseudo file systems (a path under /proc), so each level is made on its own and the
 * first refusal is reported at once.
 */
export function makeDirFast(dir: string, what = 'directory'): void {
  const abs = resolve(dir);
  const missing: string[] = [];
  for (let p = abs; ; p = dirname(p)) {
    try {
      if (!statSync(p).isDirectory())
        throw new DirLockError(`${what} ${dir}: ${p} exists and is not a directory`);
      break;
    } catch (e) {
      if (e instanceof DirLockError) throw e;
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || p === dirname(p))
        throw new DirLockError(`${what} ${dir} is not accessible (${(e as Error).message})`);
      missing.unshift(p);
    }
  }
  for (const p of missing) {
    try {
      mkdirSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue; // made by someone else meanwhile
      throw new DirLockError(
        `${what} ${dir} cannot be created: mkdir ${p} failed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
  }
}

/** Whether a process with this pid exists on this machine (EPERM: it exists, owned by another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): Holder | undefined {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as Holder;
    return Number.isInteger(h.pid) && h.pid > 0 ? h : undefined;
  } catch {
    return undefined;
  }
}

/** Temp files of atomic writes (`name.tmp-<pid>-<hex>`) whose writer is gone: a kill left them. */
export function removeDeadTempFiles(dir: string): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    const m = /\.tmp-(\d+)-[0-9a-f]+$/.exec(name);
    // Skip our own writes in flight and those of any other live process.
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    rmSync(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

/**
 * Takes an exclusive lock on `dir` (created if missing) for the life of this process: a
 * `.lock` file holding our pid. A lock left by a dead process (a kill -9) is taken over; one
 * held by a live process fails with an error naming it. Temp files of killed atomic writes
 * are removed once the lock is ours. `owner` says who holds it, e.g. "lm-trainer train".
 */
export function lockDir(dir: string, owner: string): DirLock {
  makeDirFast(dir);
  const path = join(dir, LOCK_FILE);
  const me: Holder = {
    pid: process.pid,
    host: hostname(),
    owner,
    since: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
  };
  const tmp = `${path}.tmp-${process.pid}-${me.token}`;
  try {
    writeFileSync(tmp, JSON.stringify(me) + '\n', { flag: 'wx' });
  } catch (e) {
    throw new DirLockError(
      `directory ${dir} is not writable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        // link() fails if the lock exists, and readers never see a half-written lock file.
        linkSync(tmp, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3)
          throw new DirLockError(`cannot lock ${dir}: ${(e as Error).message}`);
      }
      const holder = readHolder(path);
      if (holder && (holder.host !== me.host || alive(holder.pid)))
        throw new DirLockError(
          `${dir} is in use by ${holder.owner} (pid ${holder.pid}${holder.host !== me.host ? ` on ${holder.host}` : ''}, since ${holder.since}); wait for it to finish or stop it (if that process is gone, delete ${path})`,
        );
      takeOver(path, holder);
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  removeDeadTempFiles(dir);
  const release = () => {
    process.off('exit', release);
    if (readHolder(path)?.token === me.token) rmSync(path, { force: true });
  };
  process.on('exit', release);
  return { dir, path, release };
}

/**
 * Moves a stale lock aside and deletes it, unless another process replaced it meanwhile
 * (then it is put back, and the next attempt reports that process).
 */
function takeOver(path: string, stale: Holder | undefined): void {
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // already gone: try again
  }
  const moved = readHolder(aside);
  if (stale && moved && moved.token !== stale.token) {
    try {
      linkSync(aside, path);
    } catch {
      // someone else holds it now; the next attempt reports them
    }
  }
  unlinkSync(aside);
}
