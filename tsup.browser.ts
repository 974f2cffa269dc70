import { defineConfig, type Options } from 'tsup';

/**
 * A package's browser build (its "browser" export condition), run after its tsup.config.ts Node
 * build into the same dist/: ESM only, resolved with the "browser" condition, so workspace
 * packages and the package's own "imports" pick their browser twins (onnxruntime-web, the
 * file-less I/O, the page's host).
 */
export function browserBuild(
  entry: Record<string, string> = { browser: 'src/browser.ts' },
  extra: Options = {},
) {
  return defineConfig({
    entry,
    format: ['esm'],
    platform: 'browser',
    dts: { compilerOptions: { customConditions: [] } },
    sourcemap: true,
    clean: false, // the Node build just cleaned dist/ and wrote its files there
    target: 'es2022',
    esbuildOptions(o) {
      o.conditions = ['browser'];
    },
    ...extra,
  });
}
