import { defineConfig } from 'tsup';

// The browser build (the "browser" export condition), run after tsup.config.ts's Node build into
// the same dist/: ESM only, resolved with the "browser" condition (workspace packages and this
// package's "imports" pick their browser twins).
export default defineConfig({
  entry: { browser: 'src/browser.ts' },
  format: ['esm'],
  platform: 'browser',
  dts: { compilerOptions: { customConditions: [] } },
  sourcemap: true,
  clean: false, // the Node build just cleaned dist/ and wrote its files there
  target: 'es2022',
  esbuildOptions(o) {
    o.conditions = ['browser'];
  },
});
