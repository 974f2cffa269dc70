import { defineConfig } from 'tsup';

export default defineConfig({
  // The workers are their own entries: the trainer starts them as dist/<name>.js.
  entry: {
    index: 'src/index.ts',
    'grad-worker': 'src/parallel/grad-worker.ts',
    'adamw-worker': 'src/parallel/adamw-worker.ts',
  },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts' }, compilerOptions: { customConditions: [] } },
  shims: true, // import.meta.url in the CommonJS build, to locate the worker
  sourcemap: true,
  clean: true,
  target: 'node20',
});
