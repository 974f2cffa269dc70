export { RetrievalError, IndexFileError } from './errors';
export { spaces, normalizeRows, type Space, type KnnResult } from './vectors';
export { embedImages, type EmbedOptions, type Embeddings } from './embed';
export {
  HnswIndex,
  defaultHnswParams,
  type HnswParams,
  type HnswOptions,
  type LoadOptions,
} from './hnsw-index';
export { INDEX_FORMAT, INDEX_FORMAT_VERSION, type IndexHeader } from './index-file';
export { exactSearch, type ExactSearchOptions } from './exact-search';
export { oneNNAccuracy, recallAtK, measureQps, timed } from './metrics';
export {
  queryEncoders,
  pickEncoder,
  measureEncoderLatency,
  encoderForBudget,
  type QueryEncoder,
  type LatencyOptions,
  type BudgetChoice,
} from './adaptive';
