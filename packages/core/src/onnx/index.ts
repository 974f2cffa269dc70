// @matformer/core/onnx: ONNX export of MatLM / MatViT and onnxruntime-node runtimes for them.
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
export { lmSignature } from './lm-graph';
export { vitSignature } from './vit-graph';
export { ONNX_FORMAT, ONNX_FORMAT_VERSION, metadataKeys } from './metadata';
export { OnnxLMEngine, type OnnxKVState } from './lm-engine';
export { OnnxViTEncoder, type ViTOutputs } from './vit-encoder';
export { loadOrt, type OrtOptions } from './ort';
