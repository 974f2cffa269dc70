// The browser entry points of the packages (each package.json's "browser" export condition, as
// TypeScript sources), checked by browser-entries.test.ts and measured by bundle-sizes.ts.
export interface BrowserEntry {
  /** The import a page writes. */
  name: string;
  /** The source the "@matformer/source" + "browser" conditions resolve it to (repo-relative). */
  source: string;
  /** The built file the "browser" condition resolves it to for consumers (after `npm run build`). */
  dist: string;
}

export const BROWSER_ENTRIES: BrowserEntry[] = [
  {
    name: '@matformer/core',
    source: 'packages/core/src/browser.ts',
    dist: 'packages/core/dist/browser.js',
  },
  {
    name: '@matformer/core/onnx',
    source: 'packages/core/src/onnx/browser.ts',
    dist: 'packages/core/dist/browser-onnx.js',
  },
  {
    name: '@matformer/train',
    source: 'packages/train/src/browser.ts',
    dist: 'packages/train/dist/browser.js',
  },
  {
    name: '@matformer/mixnmatch',
    source: 'packages/mixnmatch/src/browser.ts',
    dist: 'packages/mixnmatch/dist/browser.js',
  },
  {
    name: '@matformer/speculative',
    source: 'packages/speculative/src/browser.ts',
    dist: 'packages/speculative/dist/browser.js',
  },
  {
    name: '@matformer/retrieval',
    source: 'packages/retrieval/src/browser.ts',
    dist: 'packages/retrieval/dist/browser.js',
  },
];

/** Left to the page: onnxruntime-web is a peer the page serves (its .wasm is fetched at run time). */
export const PAGE_EXTERNALS = ['onnxruntime-web'];
