// @matformer/speculative for browsers (the "browser" export condition): the whole package, since
// decoding needs no Node builtin. It is a separate entry so the browser build resolves
// @matformer/core to core's browser entry; tests/browser-entries.test.ts keeps it Node-free.
export * from './index';
