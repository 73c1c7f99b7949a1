/**
 * The closed forms of KL(q ‖ p) that the language knows, by (family of q, family of p), with
 * their formulas as text. Lowering looks each (guide, prior) pair up here: a pair with an entry
 * gets its closed form, any other pair the single-sample Monte Carlo estimate log q(z) − log p(z)
 * (as Pyro's TraceMeanField_ELBO does). The runtime implements each entry (runtime/kl*.ts); a test
 * holds the two lists equal.
 */

export interface KlPair {
  q: string;
  p: string;
  /** The formula, for comments and `vae explain`. */
  formula: string;
  /** The formula against the standard form of p (N(0, 1)), where the runtime takes a shorter path. */
  standardFormula?: string;
}

const pair = (q: string, p: string, formula: string, standardFormula?: string): KlPair =>
  ({ q, p, formula, ...(standardFormula ? { standardFormula } : {}) });

export const KL_PAIRS: readonly KlPair[] = [
  pair('Normal', 'Normal', '0.5 ((μ₁ − μ₂)/σ₂)² + 0.5 (r² − 1) − log r, r = σ₁/σ₂, per dimension',
    'against N(0, 1): 0.5 (μ² + σ² − 1) − log σ per dimension'),
  pair('Laplace', 'Laplace', 'log(b₂/b₁) + δ/b₂ + (b₁/b₂) exp(−δ/b₁) − 1, δ = |μ₁ − μ₂|, per dimension'),
  pair('Laplace', 'Normal', 'log s − log b + ½ log 2π − 1 − log 2 + ((μ − m)² + 2b²) / (2s²), per dimension'),
  pair('Gumbel', 'Gumbel', 'log(β₂/β₁) + γ(β₁/β₂ − 1) + (μ₁ − μ₂)/β₂ + e^((μ₂ − μ₁)/β₂) Γ(1 + β₁/β₂) − 1, γ = 0.5772…, per dimension'),
  pair('LogNormal', 'LogNormal', 'that of the Normals of log z, per dimension'),
  pair('Bernoulli', 'Bernoulli', 'σ(a)(a − b) + softplus(b) − softplus(a) for logits a, b, per dimension'),
  pair('MultivariateNormal', 'Normal', '½ (tr Σ_q/σ² + ‖(μ − m)/σ‖² − D + log det Σ_p − log det Σ_q), one joint term'),
  pair('MultivariateNormal', 'MultivariateNormal', '½ (tr(Σ_p⁻¹Σ_q) + (μ_p − μ_q)ᵀΣ_p⁻¹(μ_p − μ_q) − D + log det Σ_p − log det Σ_q), one joint term'),
  pair('LowRankMultivariateNormal', 'Normal', '½ (tr Σ_q/σ² + ‖(μ − m)/σ‖² − D + log det Σ_p − log det Σ_q), log det Σ_q by the matrix determinant lemma'),
  pair('Categorical', 'Categorical', 'Σ_k π_k (log π_k − log ρ_k)'),
  pair('OneHotCategorical', 'OneHotCategorical', 'Σ_k π_k (log π_k − log ρ_k) per categorical variable'),
];

/** The closed form of KL(q ‖ p), if the language has one. */
export function closedFormKl(q: string, p: string): KlPair | undefined {
  return KL_PAIRS.find((k) => k.q === q && k.p === p);
}
