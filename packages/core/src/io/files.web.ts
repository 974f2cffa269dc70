// The browser twin of files.node.ts: a page has no file system, so every path-taking function
// refuses with an error that says what to do instead. Same names and signatures as the Node twin.
import type * as NodeFiles from './files.node';
import { MatformerError } from '../errors';

const noFiles = (what: string, path: unknown): MatformerError =>
  new MatformerError(
    `${what} "${String(path)}": a browser has no file system; pass the bytes instead ` +
      `(e.g. new Uint8Array(await (await fetch(url)).arrayBuffer())) to the function that takes bytes`,
  );

export const readFile = ((path: unknown) =>
  Promise.reject(noFiles('cannot read', path))) as typeof NodeFiles.readFile;

export const writeFileAtomic: typeof NodeFiles.writeFileAtomic = (path) =>
  Promise.reject(noFiles('cannot write', path));

export const checkWritablePath: typeof NodeFiles.checkWritablePath = (path) => {
  throw noFiles('cannot write', path);
};
