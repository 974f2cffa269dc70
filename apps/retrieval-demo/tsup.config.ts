import { defineConfig } from 'tsup';

export default defineConfig({
  // The upload decoder is its own entry: the server starts it as dist/decode-worker.js.
  entry: ['src/cli.ts', 'src/decode-worker.ts'],
  format: ['esm'],
  sourcemap: true,
  clean: true,
  target: 'node20',
  banner: { js: '#!/usr/bin/env node' },
});
