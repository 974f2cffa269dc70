// @matformer/core/onnx: ONNX export of any model family and onnxruntime-node runtimes for them.
// onnxruntime-node is an optional peer dependency, imported only when a runtime is created.
export {
  exportOnnx,
  toOnnx,
  supportedOpsets,
  type Opset,
  type OnnxExportOptions,
  type OnnxExportInfo,
} from './export';
export { readOnnxFile, parseOnnxModel, type OnnxModelFile, type OnnxValue } from './read';
export { graphNodes, type GraphNode } from './graph-nodes';
// Each family's forward graph lives in its folder (models/<arch>/graph.ts); exported here too.
export { lmSignature, lmForward } from '../models/matlm/graph';
export { vitSignature, vitForward } from '../models/matvit/graph';
// The graph builder, for tools that derive new graphs from a model's forward pass (training).
export { GraphBuilder, encodeGraph, type Attr, type Dim, type EncodeOptions } from './graph';
export { type WeightFn } from './layers';
export { DataType } from './schema';
export { createSession } from './ort';
export { ONNX_FORMAT, ONNX_FORMAT_VERSION, metadataKeys } from './metadata';
export { OnnxLMEngine, type OnnxKVState } from './lm-engine';
export { OnnxViTEncoder, type ViTOutputs } from './vit-encoder';
export { loadOrt, PREALLOCATED_OUTPUTS, type OrtOptions } from './ort';
export { runInto } from './run-into';
// The browser build (browser.ts) adds configureOrtWeb and ortBackend; their types are here too.
export type { OrtWebBackend, OrtWebDevice, OrtWebSettings } from './ort.web';
export {
  checkOrtDevice,
  cudaUnavailableMessage,
  executionProvidersOf,
  ORT_DEVICES,
  type OrtDevice,
} from './device';
export {
  toOnnxDecoder,
  exportOnnxDecoder,
  buildDecoderGraph,
  decoderSignature,
  decoderUnsupported,
  isDecoderFile,
  decoderFileInfo,
  DECODER_GRAPH,
  type DecoderExportOptions,
  type DecoderGraphOptions,
} from './lm-decoder';
export { MS, QUANTIZE_CHOICES } from './decoder-parts';
export {
  OnnxDecoderEngine,
  type OnnxDecoderState,
  type OnnxDecoderOptions,
} from './decoder-engine';
