import { defineConfig } from 'tsup';

// The browser build (the "browser" export condition), run after tsup.config.ts's Node build into
// the same dist/: ESM only, resolved with the "browser" condition, so the package's "imports"
// pick onnxruntime-web (src/onnx/ort.web.ts) and the file-less twin (src/io/files.web.ts).
export default defineConfig({
  entry: { browser: 'src/browser.ts', 'browser-onnx': 'src/onnx/browser.ts' },
  format: ['esm'],
  platform: 'browser',
  splitting: true,
  dts: { compilerOptions: { customConditions: [] } },
  sourcemap: true,
  clean: false, // the Node build just cleaned dist/ and wrote its files there
  target: 'es2022',
  esbuildOptions(o) {
    o.conditions = ['browser'];
  },
});
