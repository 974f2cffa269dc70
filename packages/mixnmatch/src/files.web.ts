// The browser twin of files.node.ts. An in-memory EvaluationCache (no file), every search and
// slices as text need none of these; what does (a cache file, slice files, content hashes)
// refuses with an error that says what to use instead.
import type * as NodeFiles from './files.node';
import { MatformerError } from '@matformer/core';

const noFiles = (path: unknown) =>
  new MatformerError(
    `"${String(path)}": a browser has no file system; keep the evaluation cache in memory (EvaluationCache.open() without a file) and slices as text (parseSlicesCsv, slicesToCsv)`,
  );

export const existsSync = ((path: unknown) => {
  throw noFiles(path);
}) as typeof NodeFiles.existsSync;

export const readFile = ((path: unknown) =>
  Promise.reject(noFiles(path))) as typeof NodeFiles.readFile;

export const createReadStream = ((path: unknown) => {
  throw noFiles(path);
}) as typeof NodeFiles.createReadStream;

export const createHash = (() => {
  throw new MatformerError(
    "modelHash and fileHash need Node's crypto; in a browser give EvaluationCache.evaluator any stable modelId (e.g. the checkpoint's name)",
  );
}) as typeof NodeFiles.createHash;
