// The page of the browser test: bundled with onnxruntime-web and loaded into Chromium, where the
// test calls globalThis.tinyRun (training), inferenceRun (decoding, embedding) and probeOrt.
import * as onnx from '@matformer/core/onnx';
import type { OrtWebBackend, OrtWebSettings } from '@matformer/core/onnx';
import { inferenceRun, type InferenceResult, type InferenceSpec } from './inference-run';
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

async function pageInference(
  spec: InferenceSpec,
  settings: OrtWebSettings,
): Promise<InferenceResult & { backend: OrtWebBackend }> {
  web.configureOrtWeb(settings);
  const result = await inferenceRun(spec);
  return { ...result, backend: await web.ortBackend() };
}

// A one-node ONNX model (Identity, float[1] x -> y), to start a runtime on.
const IDENTITY =
  'CAg6NwoQCgF4EgF5IghJZGVudGl0eRIBZ1oPCgF4EgoKCAgBEgQKAggBYg8KAXkSCgoICAESBAoCCAFCAhAR';

/** Starts onnxruntime-web with `settings`, runs the Identity model on 7, reports the backend. */
export interface ProbeResult {
  y: number;
  backend: OrtWebBackend;
  /** What configureOrtWeb says when called once onnxruntime-web has started. */
  lateConfigure: string;
}

async function probeOrt(settings: OrtWebSettings): Promise<ProbeResult> {
  web.configureOrtWeb(settings);
  const ort = await web.loadOrt();
  const bytes = Uint8Array.from(atob(IDENTITY), (c) => c.charCodeAt(0));
  const session = await web.createSession(bytes, 'the Identity model');
  const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([7]), [1]) });
  await session.release();
  let lateConfigure = 'no error';
  try {
    web.configureOrtWeb({ device: 'wasm' });
  } catch (e) {
    lateConfigure = (e as Error).message;
  }
  return { y: (out.y.data as Float32Array)[0], backend: await web.ortBackend(), lateConfigure };
}

Object.assign(globalThis, { tinyRun, probeOrt, inferenceRun: pageInference });
