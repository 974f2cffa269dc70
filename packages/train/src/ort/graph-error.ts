import { MatformerError } from '@matformer/core';
import type { GraphBuilder } from '@matformer/core/onnx';

/** One node of a graph under construction. */
export type NodeLike = GraphBuilder['nodes'][number];

/**
 * A training graph cannot be built (an op without a gradient rule, a shape that does not fit):
 * raised while the engine is set up, before any training step runs.
 */
export class GraphError extends MatformerError {}
