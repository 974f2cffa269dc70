import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkWritablePath, ConfigError } from '@matformer/core';

/**
 * Checks a file path to write before any work: not empty, not an existing directory, device,
 * FIFO or socket (core's checkWritablePath), and its folder exists (the atomic write would
 * otherwise fail late: EISDIR, ENOENT).
 */
export function checkOutFile(flag: string, path: string, example = 'model.onnx'): void {
  const kind = (p: string) => {
    try {
      return statSync(p).isDirectory() ? 'dir' : 'file';
    } catch {
      return 'missing';
    }
  };
  if (path.trim() === '')
    throw new ConfigError(`${flag} is empty: give the file to write, e.g. ${example}`);
  if (kind(path) === 'dir')
    throw new ConfigError(
      `${flag} ${path} is a directory; give the file to write, e.g. ${join(path, example)}`,
    );
  const folder = dirname(path);
  const parent = kind(folder);
  if (parent === 'missing')
    throw new ConfigError(`${flag} ${path}: the folder ${folder} does not exist; create it first`);
  if (parent === 'file')
    throw new ConfigError(`${flag} ${path}: ${folder} is a file, not a folder`);
  checkWritablePath(path, flag); // a device, FIFO or socket: refused, naming the flag
}
