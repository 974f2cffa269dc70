/** One evaluated config: its widths, costs and quality. */
export interface Point {
  widths: number[];
  /** The searched cost (what the budget bounds), in the cost model's unit. */
  cost: number;
  params: number;
  /** Forward FLOPs per token (core cost model, full context). */
  flops: number;
  loss: number;
  bitsPerToken?: number;
  accuracy?: number;
}

/**
 * The non-dominated points (no other point has cost ≤ and loss ≤ with one strictly less),
 * by ascending cost; loss strictly falls along it. Equal (cost, loss) keeps the first seen.
 */
export function paretoFront<P extends { cost: number; loss: number }>(points: P[]): P[] {
  const sorted = points
    .map((p, i) => ({ p, i }))
    .sort((a, b) => a.p.cost - b.p.cost || a.p.loss - b.p.loss || a.i - b.i);
  const front: P[] = [];
  for (const { p } of sorted)
    if (!front.length || p.loss < front[front.length - 1].loss) front.push(p);
  return front;
}
