/**
 * Small batched linear algebra for the multivariate families, in differentiable tfjs ops (tfjs has
 * no Cholesky or triangular solve). Matrices are [..., n, n] and vectors [..., n]; leading (batch)
 * axes broadcast. Everything loops over the matrix size in JS (n sequential steps, each a few
 * kernels over the whole batch), which is fine for the sizes of latent spaces (n ≤ 64).
 *
 * Only kernels that the wasm backend has, with gradients it has too (no Gather, whose gradient
 * needs UnsortedSegmentSum): slices, stacks, products, sums and one matMul by a constant.
 */
import * as tf from '@tensorflow/tfjs-core';

/** t[..., start : start + size], along the last axis. */
export function sliceLast(t: tf.Tensor, start: number, size: number): tf.Tensor {
  const last = t.rank - 1;
  return tf.slice(t, t.shape.map((_, i) => (i === last ? start : 0)), t.shape.map((d, i) => (i === last ? size : -1)));
}

/** The size of the last axis. */
export function lastDim(t: tf.Tensor): number {
  return t.shape[t.rank - 1];
}

/** M v for M [..., a, b], v [..., b]: (M v)_i = Σ_j M_ij v_j, as [..., a]. */
export function matVec(m: tf.Tensor, v: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sum(tf.mul(m, tf.expandDims(v, v.rank - 1)), -1));
}

/** ‖v‖² over the last axis: [..., n] → [...]. */
export function sumSquares(v: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sum(tf.square(v), -1));
}

/** The diagonal of M [..., n, n], as [..., n]: Σ_j M_ij δ_ij (exact: the other terms are +0). */
export function diagPart(m: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sum(tf.mul(m, tf.eye(lastDim(m))), -1));
}

/** The lower triangle of M [..., n, n] (diagonal included), the rest 0: M times a 0/1 mask. */
export function lowerTriangle(m: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const n = lastDim(m);
    const mask = new Float32Array(n * n).map((_, k) => (k % n <= Math.floor(k / n) ? 1 : 0));
    return tf.mul(m, tf.tensor2d(mask, [n, n]));
  });
}

/**
 * Solves L X = B for X, with L [..., n, n] lower-triangular and B [..., n, m], by forward
 * substitution, row by row:
 *   x_i = (b_i − Σ_{j<i} L_ij x_j) / L_ii,
 * each row x_i being [..., m]. Only the lower triangle of L is read.
 */
export function forwardSolve(l: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const n = lastDim(l);
    const rowsL = tf.unstack(l, l.rank - 2); // row i: [..., n]
    const rowsB = tf.unstack(b, b.rank - 2); // row i: [..., m]
    const xs: tf.Tensor[] = [];
    for (let i = 0; i < n; i++) {
      let r = rowsB[i];
      if (i > 0) {
        const lij = tf.expandDims(sliceLast(rowsL[i], 0, i), rowsL[i].rank); // [..., i, 1]
        const x = tf.stack(xs, xs[0].rank - 1); // [..., i, m]
        r = tf.sub(r, tf.sum(tf.mul(lij, x), -2));
      }
      xs.push(tf.div(r, sliceLast(rowsL[i], i, 1)));
    }
    return tf.stack(xs, xs[0].rank - 1);
  });
}

/** L⁻¹ v for L [..., n, n] lower-triangular and v [..., n]: forward substitution with m = 1. */
export function forwardSolveVec(l: tf.Tensor, v: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.squeeze(forwardSolve(l, tf.expandDims(v, v.rank)), [v.rank]));
}

/**
 * The Cholesky factor L (lower-triangular, positive diagonal, A = L Lᵀ) of a symmetric positive
 * definite A [..., n, n], entry by entry (Cholesky–Banachiewicz), for small n:
 *   L_jj = √(A_jj − Σ_{k<j} L_jk²),   L_ij = (A_ij − Σ_{k<j} L_ik L_jk) / L_jj   (i > j).
 */
export function cholesky(a: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const n = lastDim(a);
    const entries = tf.unstack(a, a.rank - 2).map((row) => tf.unstack(row, row.rank - 1)); // A_ij: [...]
    const l: tf.Tensor[][] = Array.from({ length: n }, () => []);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        let s = entries[i][j];
        for (let k = 0; k < j; k++) s = tf.sub(s, tf.mul(l[i][k], l[j][k]));
        l[i][j] = i === j ? tf.sqrt(s) : tf.div(s, l[j][j]);
      }
    }
    const zero = tf.zerosLike(l[0][0]);
    const rows = l.map((row) => tf.stack(Array.from({ length: n }, (_, j) => row[j] ?? zero), zero.rank));
    return tf.stack(rows, zero.rank);
  });
}

/**
 * L = diag(d) + the strictly lower triangle filled row by row from `lower` (length n(n−1)/2, in
 * the order (1,0), (2,0), (2,1), (3,0), ...), for d [..., n] and lower [..., n(n−1)/2]: one matMul
 * of [lower, d] by a constant 0/1 matrix that places each entry (exact: every other product is 0).
 */
export function trilFromParts(d: tf.Tensor, lower: tf.Tensor | undefined): tf.Tensor {
  return tf.tidy(() => {
    const n = lastDim(d);
    const p = (n * (n - 1)) / 2;
    if (p === 0 || !lower) return tf.mul(tf.expandDims(d, d.rank), tf.eye(n));
    if (lastDim(lower) !== p) throw new Error(`lower has ${lastDim(lower)} entries; a ${n}×${n} factor needs ${p}`);
    const batch = tf.broadcast_util.assertAndGetBroadcastShape(d.shape.slice(0, -1), lower.shape.slice(0, -1));
    const parts = tf.concat([tf.broadcastTo(lower, [...batch, p]), tf.broadcastTo(d, [...batch, n])], batch.length);
    const flat = tf.matMul(tf.reshape(parts, [-1, p + n]), placement(n));
    return tf.reshape(flat, [...batch, n, n]);
  });
}

/** The [p + n, n²] 0/1 matrix taking [lower, diag] to the row-major entries of L. */
function placement(n: number): tf.Tensor2D {
  const p = (n * (n - 1)) / 2;
  const s = new Float32Array((p + n) * n * n);
  let k = 0;
  for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) s[k++ * n * n + i * n + j] = 1;
  for (let i = 0; i < n; i++) s[(p + i) * n * n + i * n + i] = 1;
  return tf.tensor2d(s, [p + n, n * n]);
}
