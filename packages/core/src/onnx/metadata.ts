import { storedWidths, type ModelConfig } from '../config';

/** `matformer.format` of the files we export, and the graph contract version it names. */
export const ONNX_FORMAT = 'matformer-onnx';
export const ONNX_FORMAT_VERSION = '1';

/** ModelProto.metadata_props keys (the config lets the runtime check the graph's signature). */
export const metadataKeys = {
  format: 'matformer.format',
  version: 'matformer.format_version',
  config: 'matformer.config',
} as const;

/** The metadata every exported file carries: format, contract version, and the config (with per-layer widths). */
export function exportMetadata(config: ModelConfig): Record<string, string> {
  return {
    [metadataKeys.format]: ONNX_FORMAT,
    [metadataKeys.version]: ONNX_FORMAT_VERSION,
    [metadataKeys.config]: JSON.stringify({ ...config, layerDFF: storedWidths(config) }),
  };
}
