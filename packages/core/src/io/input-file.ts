import { statSync, type Stats } from 'node:fs';
import { ConfigError } from '../errors';

/** "1.00 GiB", "256 MiB", "16 KiB", "12 bytes". */
export function formatBytes(n: number): string {
  const units = ['GiB', 'MiB', 'KiB'] as const;
  for (const [i, u] of units.entries()) {
    const size = 2 ** (10 * (3 - i));
    if (n >= size) {
      const x = n / size;
      return `${Number.isInteger(x) ? x : x.toFixed(2)} ${u}`;
    }
  }
  return `${n} bytes`;
}

/** What a non-regular file is, in words ("a character device", "a FIFO (named pipe)", …). */
export function fileKind(s: Stats): string {
  if (s.isDirectory()) return 'a directory';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isSocket()) return 'a socket';
  return s.isFile() ? 'a regular file' : 'not a regular file';
}

export interface InputFileCheck {
  /** How the path is named to the user, e.g. "--prompt-file" or "text source" (default "file"). */
  what?: string;
  /** Refuse a larger file, naming this limit. */
  maxBytes?: number;
  /** Accept a 0-byte file (default false: "is empty"). */
  allowEmpty?: boolean;
}

/**
 * Checks a file to read before reading it: it exists, is a regular file (not a device such as
 * /dev/null, a FIFO, a socket or a directory), is not empty and is at most `maxBytes`. Returns its
 * size; throws ConfigError naming the path (and the limit).
 */
export function checkInputFile(path: string, o: InputFileCheck = {}): number {
  const what = o.what ?? 'file';
  if (path.trim() === '') throw new ConfigError(`${what} is empty: give the path of a file`);
  let s: Stats;
  try {
    s = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'ENOENT'
        ? `${what} ${path} does not exist`
        : `${what} ${path} cannot be read (${code ?? (e as Error).message})`,
    );
  }
  if (!s.isFile()) throw new ConfigError(`${what} ${path} is ${fileKind(s)}, not a regular file`);
  if (s.size === 0 && !o.allowEmpty) throw new ConfigError(`${what} ${path} is empty`);
  if (o.maxBytes !== undefined && s.size > o.maxBytes)
    throw new ConfigError(
      `${what} ${path} is ${formatBytes(s.size)}, over the limit of ${formatBytes(o.maxBytes)}`,
    );
  return s.size;
}
