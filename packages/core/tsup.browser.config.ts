import { browserBuild } from '../../tsup.browser';

// Two entries (the package root and ./onnx) share their code through chunks.
export default browserBuild(
  { browser: 'src/browser.ts', 'browser-onnx': 'src/onnx/browser.ts' },
  { splitting: true },
);
