/** `matformer.format` of the files we export, and the graph contract version it names. */
export const ONNX_FORMAT = 'matformer-onnx';
export const ONNX_FORMAT_VERSION = '1';

/** ModelProto.metadata_props keys (the config lets the runtime check the graph's signature). */
export const metadataKeys = {
  format: 'matformer.format',
  version: 'matformer.format_version',
  config: 'matformer.config',
} as const;
