/**
 * Test helpers: float64 references computed in JS, independent of the float32 code under test —
 * dense linear algebra (number[][]) and the log-gamma and digamma functions.
 */

/** n float32-rounded draws of `g` (so that references are evaluated at exactly the inputs float32 code sees). */
export const draws = (n: number, g: () => number): number[] => Array.from({ length: n }, () => Math.fround(g()));

// ---------------------------------------------------------------------------------------------
// Dense matrices, independent of src/.../linalg.ts

export type Mat = number[][];
export const matMul = (a: Mat, b: Mat): Mat => a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
export const transpose = (a: Mat): Mat => a[0].map((_, j) => a.map((row) => row[j]));
export const matVec = (a: Mat, v: number[]): number[] => a.map((row) => row.reduce((s, x, j) => s + x * v[j], 0));
export const dot = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * b[i], 0);
/** L Lᵀ. */
export const covOf = (l: Mat): Mat => matMul(l, transpose(l));
/** W Wᵀ + diag(d). */
export const lowRankCov = (w: Mat, d: number[]): Mat => matMul(w, transpose(w)).map((row, i) => row.map((v, j) => v + (i === j ? d[i] : 0)));

/** A⁻¹ and log |det A| by Gauss–Jordan elimination with partial pivoting. */
export function inverseAndLogDet(a: Mat): { inv: Mat; logDet: number } {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...row.map((_, j) => (i === j ? 1 : 0))]);
  let logDet = 0;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    const pivot = m[c][c];
    logDet += Math.log(Math.abs(pivot));
    for (let j = 0; j < 2 * n; j++) m[c][j] /= pivot;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const factor = m[r][c];
      for (let j = 0; j < 2 * n; j++) m[r][j] -= factor * m[c][j];
    }
  }
  return { inv: m.map((row) => row.slice(n)), logDet };
}

/** L = diag(exp(logDiag)) + lower triangle filled row by row: (1,0), (2,0), (2,1), (3,0), ... */
export function trilJs(logDiag: number[], lower: number[]): Mat {
  const n = logDiag.length;
  const l: Mat = logDiag.map((v, i) => logDiag.map((_, j) => (i === j ? Math.exp(v) : 0)));
  let k = 0;
  for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) l[i][j] = lower[k++];
  return l;
}

// ---------------------------------------------------------------------------------------------
// log Γ and ψ (checked against values published by mpmath in special.test.ts)

/** Lanczos coefficients for g = 7, n = 9 (Numerical Recipes / Godfrey): float64 log Γ to ~1e-15. */
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** log Γ(x) in float64, x > 0: Lanczos for x ≥ ½, the reflection log(π / sin πx) − log Γ(1 − x) below. */
export function lgamma64(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lgamma64(1 - x);
  const y = x - 1;
  const t = y + 7.5;
  let a = LANCZOS[0];
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/**
 * ψ(x) in float64: ψ(x) = ψ(x + 1) − 1/x up to x ≥ 10, then ln x − 1/2x − Σ B_2k / (2k x^2k) to
 * x^−10 (the next term, 691/(32760 x¹²), is below 3e-14).
 */
export function digamma64(x: number): number {
  let r = 0;
  for (; x < 10; x++) r -= 1 / x;
  const w = 1 / (x * x);
  return r + Math.log(x) - 0.5 / x - w * (1 / 12 - w * (1 / 120 - w * (1 / 252 - w * (1 / 240 - w / 132))));
}
