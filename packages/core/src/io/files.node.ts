// File access for code that also runs in a browser (safetensors, ONNX files): Node's file
// system here; files.web.ts is the browser twin, picked by package.json "imports" conditions.
export { readFile } from 'node:fs/promises';
export { checkWritablePath, writeFileAtomic } from './atomic-write';
