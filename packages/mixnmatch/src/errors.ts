import { MatformerError } from '@matformer/core';

/** A budget string that does not parse, or a budget no config in the search space can meet. */
export class BudgetError extends MatformerError {}

/** A slice file that is missing, malformed, or does not name the requested slice. */
export class SliceError extends MatformerError {}
