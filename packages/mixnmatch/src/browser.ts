// @matformer/mixnmatch for browsers (the "browser" export condition): the whole API. Search
// spaces, budgets, cost models, every strategy, Pareto fronts, plots and slices as text need no
// Node builtin; an evaluation cache file, slice files and content hashes (modelHash, fileHash)
// refuse with a clear error there (src/files.web.ts). The separate entry makes the browser build
// resolve @matformer/core to core's browser entry.
export * from './index';
