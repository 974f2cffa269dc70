// The page side of the tiny training run: bundled (with onnxruntime-web) by the browser test and
// loaded into Chromium, where the test calls globalThis.tinyRun.
import * as onnx from '@matformer/core/onnx';
import type { OrtWebBackend, OrtWebSettings } from '@matformer/core/onnx';
import { tinyTrainingRun, type TinyRunResult, type TinyRunSpec } from './tiny-run';

// configureOrtWeb and ortBackend exist in the browser build of @matformer/core/onnx only; this
// package's typecheck sees the Node build, which declares just their types.
const web = onnx as typeof onnx & {
  configureOrtWeb(s: OrtWebSettings): void;
  ortBackend(): Promise<OrtWebBackend>;
};

export type PageRunResult = TinyRunResult & { backend: OrtWebBackend };

async function tinyRun(spec: TinyRunSpec, settings: OrtWebSettings): Promise<PageRunResult> {
  web.configureOrtWeb(settings);
  const result = await tinyTrainingRun(spec);
  return { ...result, backend: await web.ortBackend() };
}

(globalThis as { tinyRun?: typeof tinyRun }).tinyRun = tinyRun;
