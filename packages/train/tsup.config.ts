import { defineConfig } from 'tsup';

export default defineConfig({
  // The gradient worker is its own entry: the trainer starts it as dist/grad-worker.js.
  entry: { index: 'src/index.ts', 'grad-worker': 'src/parallel/grad-worker.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts' }, compilerOptions: { customConditions: [] } },
  shims: true, // import.meta.url in the CommonJS build, to locate the worker
  sourcemap: true,
  clean: true,
  target: 'node20',
});
