import { MatformerError } from '@matformer/core';

/** Bad input to a retrieval function: wrong dimension, k, space, encoder name… */
export class RetrievalError extends MatformerError {}

/** An index file that is missing, truncated, corrupt, or does not fit what the caller expects. */
export class IndexFileError extends RetrievalError {}
