// The onnxruntime loader of this platform, picked by package.json "imports" conditions:
// ort.node.ts (onnxruntime-node) by default, ort.web.ts (onnxruntime-web) under "browser".
// Both export loadOrt and createSession with the same signatures, so the engines built on
// them (OnnxLMEngine, OnnxDecoderEngine, OnnxViTEncoder, training) run on either.
export * from '#ort-runtime';
