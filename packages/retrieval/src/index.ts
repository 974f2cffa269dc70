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
export {
  parseStoreSpec,
  redactUrl,
  type VectorStore,
  type StoreParams,
  type StoreSearchResult,
  type StoreSpec,
} from './vector-store';
export { HnswStore, type HnswStoreOptions } from './hnsw-store';
export { PgVectorStore, PG_META_TABLE, type PgVectorStoreOptions } from './pgvector-store';
export {
  fromPgPool,
  openPglite,
  openPostgres,
  type SqlClient,
  type SqlQueryable,
  type SqlResult,
  type PgPoolLike,
} from './sql-client';
export { openVectorStore, type OpenStoreOptions } from './open-store';
export {
  indexDatabase,
  searchWithEncoder,
  adaptiveRetrieval,
  type EncoderSearch,
  type AdaptiveRow,
} from './adaptive-search';
