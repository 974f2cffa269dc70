import { defineConfig } from 'tsup';

export default defineConfig({
  // `onnx` is the `@matformer/core/onnx` subpath: kept apart so training never loads onnxruntime.
  entry: { index: 'src/index.ts', onnx: 'src/onnx/index.ts' },
  format: ['esm', 'cjs'],
  // Shared code in chunks for cjs too (esm splits by default): one copy of each class, so
  // `instanceof MatLM` / `CheckpointError` hold across the two entry points.
  splitting: true,
  dts: { compilerOptions: { customConditions: [] } },
  sourcemap: true,
  clean: true,
  target: 'node20',
});
