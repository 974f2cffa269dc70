import { RetrievalError } from './errors';
import {
  checkDim,
  checkFinite,
  checkK,
  checkSpace,
  rowCount,
  type KnnResult,
  type Space,
} from './vectors';

export interface ExactSearchOptions {
  space: Space;
  dim: number;
}

/** Inverse L2 norm of each row (0 for a zero row, whose cosine distance is then 1 to everything). */
function inverseNorms(vectors: Float32Array, n: number, dim: number): Float32Array {
  const inv = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0, o = i * dim; j < dim; j++) s += vectors[o + j] * vectors[o + j];
    inv[i] = s > 0 ? 1 / Math.sqrt(s) : 0;
  }
  return inv;
}

/**
 * Brute-force k nearest neighbours of every query over the whole database: the ground truth
 * that recall@k is measured against. Distances use hnswlib's definitions (cosine: 1 − cos;
 * l2: squared Euclidean; ip: 1 − a·b) so the two can be compared directly. k is clamped to the database size;
 * ties go to the smaller id.
 */
export function exactSearch(
  database: Float32Array, // [N, dim]
  queries: Float32Array, // [Q, dim]
  k: number,
  { space, dim }: ExactSearchOptions,
): KnnResult {
  checkSpace(space);
  checkDim(dim);
  checkK(k);
  const n = rowCount(database, dim, 'database');
  const q = rowCount(queries, dim, 'queries');
  if (n === 0) throw new RetrievalError('exactSearch needs a non-empty database');
  checkFinite(database, dim, 'database');
  checkFinite(queries, dim, 'queries');
  const kk = Math.min(k, n);
  const ids = new Int32Array(q * kk);
  const distances = new Float32Array(q * kk);
  const dbInv = space === 'cosine' ? inverseNorms(database, n, dim) : undefined;
  const qInv = space === 'cosine' ? inverseNorms(queries, q, dim) : undefined;
  // The current top-k of one query, kept sorted ascending by (distance, id): insertion is O(k),
  // and most candidates are rejected by one comparison with the worst kept.
  const topD = new Float64Array(kk);
  const topI = new Int32Array(kk);
  for (let qi = 0; qi < q; qi++) {
    const qo = qi * dim;
    let filled = 0;
    for (let i = 0; i < n; i++) {
      const o = i * dim;
      let d = 0;
      if (dbInv) {
        let dot = 0;
        for (let j = 0; j < dim; j++) dot += queries[qo + j] * database[o + j];
        d = 1 - dot * qInv![qi] * dbInv[i];
      } else if (space === 'ip') {
        let dot = 0;
        for (let j = 0; j < dim; j++) dot += queries[qo + j] * database[o + j];
        d = 1 - dot;
      } else {
        for (let j = 0; j < dim; j++) {
          const diff = queries[qo + j] - database[o + j];
          d += diff * diff;
        }
      }
      if (filled === kk && d >= topD[kk - 1]) continue;
      let p = filled < kk ? filled++ : kk - 1;
      while (p > 0 && topD[p - 1] > d) {
        topD[p] = topD[p - 1];
        topI[p] = topI[p - 1];
        p--;
      }
      topD[p] = d;
      topI[p] = i;
    }
    ids.set(topI, qi * kk);
    for (let j = 0; j < kk; j++) distances[qi * kk + j] = topD[j];
  }
  return { k: kk, ids, distances };
}
