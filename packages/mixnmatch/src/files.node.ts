// Hashing and file access for the evaluation cache and slice files: Node's here; files.web.ts
// is the browser twin, picked by the "browser" condition of package.json "imports".
export { createHash } from 'node:crypto';
export { createReadStream, existsSync } from 'node:fs';
export { readFile } from 'node:fs/promises';
