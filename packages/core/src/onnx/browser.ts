// @matformer/core/onnx for browsers (the "browser" export condition): the same API as index.ts
// on onnxruntime-web (ort.ts resolves to ort.web.ts there), plus the page's runtime settings.
export * from './index';
export {
  configureOrtWeb,
  ortBackend,
  ORT_WEB_DEVICES,
  type OrtWebDevice,
  type OrtWebSettings,
  type OrtWebBackend,
} from './ort.web';
