import { defineConfig } from 'tsup';

export default defineConfig({
  // build-page is its own entry: the build script runs it to bundle the page (dist/page/).
  entry: ['src/cli.ts', 'src/build-page.ts'],
  format: ['esm'],
  sourcemap: true,
  clean: true,
  target: 'node20',
  banner: { js: '#!/usr/bin/env node' },
  // Build-time and test tools stay imports (tsup bundles devDependencies otherwise).
  external: ['esbuild', 'playwright-core', 'onnxruntime-node'],
});
