/**
 * The Python pieces a PyTorch program (emit-py.ts) is assembled from: one class per distribution
 * family, one function per closed-form KL pair, one module per flow kind. Each is the same
 * computation as the TypeScript runtime's (src/runtime/distributions/, kl-scalar.ts, kl-vector.ts,
 * flows/), written with torch; a program holds only the pieces its plan uses. What is not here is
 * a construct the PyTorch target cannot emit yet: emit-py.ts refuses it by name.
 */

import { GAMMA_NOISE, GAMMA_PROPOSALS } from '../core/noise-sizes.js';

/** A piece of Python and the pieces it needs first (by key). */
export interface PyPiece { code: string; needs?: string[] }

/** A distribution family: its class, and whether it can draw from noise (`from_noise`). */
export interface PyFamily extends PyPiece { sampler: boolean }

/** Shared helpers, by key. */
export const HELPERS: Record<string, PyPiece> = {
  gumbel: {
    code: `
def gumbel(u: Tensor) -> Tensor:
    """Standard Gumbel noise from uniform noise: g = −log(−log u)."""
    return -torch.log(-torch.log(u))`,
  },
  logStandardGamma: {
    code: `
GAMMA_PROPOSALS = ${GAMMA_PROPOSALS}
GAMMA_NOISE = ${GAMMA_NOISE}


def exponentials(pairs: Tensor) -> Tensor:
    """Exp(1) variates E = (ε² + ε′²) / 2 from pairs of normals on the last axis: [..., 2n] → [..., n]."""
    return 0.5 * (pairs.reshape(pairs.shape[:-1] + (pairs.shape[-1] // 2, 2)) ** 2).sum(dim=-1)


def log_standard_gamma(a: Tensor, eps: Tensor) -> Tensor:
    """log G, G ~ Gamma(a, 1), from GAMMA_NOISE normals on the last axis of \`eps\` (Marsaglia & Tsang
    2000, K = GAMMA_PROPOSALS proposals at once): d = a + 2/3, t = c x, c = 1/√(9d), x the first K
    normals; a proposal is valid where t ≥ −1 + 1e-6 and accepted where x²/2 + d (3 log1p(t) −
    t(3 + 3t + t²)) − log U > 0, −log U = E from the next K pairs; the first accepted is taken (t = 0
    if none). Boost: log G = log d + 3 log1p(t) − E′ / a, E′ from the last pair."""
    k = GAMMA_PROPOSALS
    x = eps[..., :k]
    d = a.unsqueeze(-1) + 2.0 / 3.0
    ct = (1.0 / 3.0) / torch.sqrt(d) * x
    valid = ct >= -1.0 + 1e-6
    t = torch.where(valid, ct, torch.zeros_like(ct))
    poly = t * (3.0 + t * (3.0 + t))
    rhs = 0.5 * x * x + d * (3.0 * torch.log1p(t) - poly)
    accept = (torch.where(valid, rhs, torch.full_like(rhs, -math.inf)) + exponentials(eps[..., k : 3 * k]) > 0).to(eps.dtype)
    first = accept * (1.5 - torch.cumsum(accept, dim=-1) > 0).to(eps.dtype)
    chosen = (first * t).sum(dim=-1)
    boost = exponentials(eps[..., 3 * k : 3 * k + 2]).reshape(chosen.shape) / a
    return (torch.log(a + 2.0 / 3.0) + 3.0 * torch.log1p(chosen)) - boost`,
  },
  discretizedLogistic: {
    code: `
def discretized_logistic_log_prob(x: Tensor, loc: Tensor, scale: Tensor, log_scale: Tensor) -> Tensor:
    """log P(x) of a discretized logistic over 8-bit x, on x̃ = 2x/255 − 1: with a, b the bin's edges
    (x̃ ± 1/255 − loc)/scale, written ((e − 256 loc) + loc) / (255 scale), e = 2x − 254 or 2x − 256,
    and d = (2/255)/scale: log P = −softplus(−a)·[x < 255] − softplus(b)·[x > 0] +
    log(1 − e^−d)·[0 < x < 255], log(1 − e^−d) = log d − d/2 + d²/24 − d⁴/2880 for d ≤ 0.25."""
    a = ((2.0 * x - 254.0 - 256.0 * loc) + loc) / (255.0 * scale)
    b = ((2.0 * x - 256.0 - 256.0 * loc) + loc) / (255.0 * scale)
    below_top = (x <= 254.5).to(a.dtype)
    above_bottom = (x >= 0.5).to(a.dtype)
    log_d = math.log(2.0 / 255.0) - log_scale
    d = torch.exp(log_d)
    small = d <= 0.25
    ds = torch.where(small, d, torch.zeros_like(d))
    series = log_d + ds * (-0.5 + ds * (1.0 / 24.0 - ds * ds / 2880.0))
    width = torch.where(small, series, torch.log1p(-torch.exp(-torch.where(small, torch.ones_like(d), d))))
    return below_top * -softplus(-a) + above_bottom * -softplus(b) + below_top * above_bottom * width`,
  },
  trilFromParts: {
    code: `
def tril_from_parts(diag: Tensor, lower: Optional[Tensor]) -> Tensor:
    """L = diag(d) + the strictly lower triangle filled row by row from \`lower\`
    ((1,0), (2,0), (2,1), (3,0), ...; n(n−1)/2 entries), for d [..., n]."""
    n = diag.shape[-1]
    if lower is None or n == 1:
        return torch.diag_embed(diag)
    batch = torch.broadcast_shapes(diag.shape[:-1], lower.shape[:-1])
    rows, cols = torch.tril_indices(n, n, offset=-1, device=diag.device)
    tril = diag.new_zeros(tuple(batch) + (n, n))
    tril[..., rows, cols] = lower.expand(tuple(batch) + (lower.shape[-1],))
    return tril + torch.diag_embed(diag.expand(tuple(batch) + (n,)))`,
  },
  classProbabilities: {
    code: `
class ClassProbabilities:
    """Class probabilities π over the last axis, given as logits (π = softmax(logits)) or as
    probabilities (renormalized; clamped at TINY before the log)."""

    def __init__(self, logits: Optional[Tensor] = None, probs: Optional[Tensor] = None) -> None:
        self.given_logits, self.given_probs = logits, probs

    def logits(self) -> Tensor:
        if self.given_logits is not None:
            return self.given_logits
        return torch.log(self.given_probs.clamp(min=TINY))

    def log_probs(self) -> Tensor:
        return torch.log_softmax(self.logits(), dim=-1)

    def probs(self) -> Tensor:
        if self.given_probs is not None:
            return self.given_probs / self.given_probs.sum(dim=-1, keepdim=True)
        return torch.softmax(self.given_logits, dim=-1)`,
  },
};

export const FAMILIES: Record<string, PyFamily> = {
  Normal: {
    sampler: true,
    code: `
class Normal:
    """Normal(loc, scale): log p(x) = −½ ((x − loc) / scale)² − log scale − ½ log 2π;
    reparameterized, z = loc + scale · ε. \`log_scale\` is given where the scale is exp(e)."""

    def __init__(self, loc: Tensor, scale: Tensor, log_scale: Optional[Tensor] = None, standard: bool = False) -> None:
        self.loc, self.scale, self.standard = loc, scale, standard
        self.log_scale = log_scale if log_scale is not None else torch.log(scale)

    @staticmethod
    def standard_normal(device: torch.device) -> "Normal":
        zero = torch.zeros((), device=device)
        return Normal(zero, torch.ones((), device=device), zero, standard=True)

    def log_prob(self, x: Tensor) -> Tensor:
        z = x if self.standard else (x - self.loc) / self.scale
        return -(0.5 * z * z + self.log_scale) - HALF_LOG_TWO_PI

    def from_noise(self, eps: Tensor) -> Tensor:
        return eps if self.standard else self.loc + self.scale * eps`,
  },
  Laplace: {
    sampler: true,
    code: `
class Laplace:
    """Laplace(loc, scale): log p(x) = −|x − loc| / scale − log(2 scale); reparameterized by the
    inverse CDF: with w = min(u, 1 − u), z = loc − scale · sign(u − ½) · log 2w."""

    def __init__(self, loc: Tensor, scale: Tensor, log_scale: Optional[Tensor] = None) -> None:
        self.loc, self.scale = loc, scale
        self.log_scale = log_scale if log_scale is not None else torch.log(scale)

    def log_prob(self, x: Tensor) -> Tensor:
        return -(torch.abs(x - self.loc) / self.scale) - (self.log_scale + math.log(2.0))

    def from_noise(self, u: Tensor) -> Tensor:
        w = torch.minimum(u, 1.0 - u)
        return self.loc + self.scale * (-torch.sign(u - 0.5) * torch.log(2.0 * w))`,
  },
  Logistic: {
    sampler: true,
    code: `
class Logistic:
    """Logistic(loc, scale): with a = |x − loc| / scale, log p(x) = −a − 2 log1p(e^−a) − log scale;
    reparameterized by the inverse CDF: z = loc + scale · (log u − log1p(−u))."""

    def __init__(self, loc: Tensor, scale: Tensor, log_scale: Optional[Tensor] = None) -> None:
        self.loc, self.scale = loc, scale
        self.log_scale = log_scale if log_scale is not None else torch.log(scale)

    def log_prob(self, x: Tensor) -> Tensor:
        a = torch.abs((x - self.loc) / self.scale)
        return -(a + 2.0 * torch.log1p(torch.exp(-a))) - self.log_scale

    def from_noise(self, u: Tensor) -> Tensor:
        return self.loc + self.scale * (torch.log(u) - torch.log1p(-u))`,
  },
  LogNormal: {
    sampler: true,
    code: `
class LogNormal:
    """LogNormal(loc, scale): x = e^y, y ~ N(loc, scale): log p(x) = −log x − log scale − ½ log 2π
    − ½ ((log x − loc) / scale)², −∞ for x ≤ 0; reparameterized, z = exp(loc + scale · ε)."""

    def __init__(self, loc: Tensor, scale: Tensor, log_scale: Optional[Tensor] = None) -> None:
        self.loc, self.scale = loc, scale
        self.log_scale = log_scale if log_scale is not None else torch.log(scale)

    def log_prob(self, x: Tensor) -> Tensor:
        outside = x <= 0
        y = torch.log(torch.where(outside, torch.ones_like(x), x))
        z = (y - self.loc) / self.scale
        lp = -(y + self.log_scale + 0.5 * z * z) - HALF_LOG_TWO_PI
        return torch.where(outside, torch.full_like(lp, -math.inf), lp)

    def from_noise(self, eps: Tensor) -> Tensor:
        return torch.exp(self.loc + self.scale * eps)`,
  },
  Gumbel: {
    sampler: true,
    code: `
class Gumbel:
    """Gumbel(loc, scale), the distribution of a maximum: with t = (x − loc) / scale,
    log p(x) = −t − e^−t − log scale; reparameterized by the inverse CDF: z = loc − scale · log(−log u)."""

    def __init__(self, loc: Tensor, scale: Tensor, log_scale: Optional[Tensor] = None) -> None:
        self.loc, self.scale = loc, scale
        self.log_scale = log_scale if log_scale is not None else torch.log(scale)

    def log_prob(self, x: Tensor) -> Tensor:
        t = (x - self.loc) / self.scale
        return -(t + torch.exp(-t) + self.log_scale)

    def from_noise(self, u: Tensor) -> Tensor:
        return self.loc - self.scale * torch.log(-torch.log(u))`,
  },
  StudentT: {
    sampler: true,
    needs: ['logStandardGamma'],
    code: `
class StudentT:
    """StudentT(df ν, loc, scale): with z = (x − loc) / scale, log p(x) = lgamma((ν+1)/2) − lgamma(ν/2)
    − ½ log(νπ) − log scale − (ν+1)/2 · log1p(z²/ν). Sample from GAMMA_NOISE + 1 normals:
    G ~ Gamma(ν/2) from the first GAMMA_NOISE, Z the last, x = loc + scale · Z · exp(−½ (log G − log(ν/2)))."""

    def __init__(self, df: Tensor, loc: Tensor, scale: Tensor, log_scale: Optional[Tensor] = None) -> None:
        self.df, self.loc, self.scale = df, loc, scale
        self.log_scale = log_scale if log_scale is not None else torch.log(scale)

    def log_prob(self, x: Tensor) -> Tensor:
        nu = self.df
        z = (x - self.loc) / self.scale
        norm = (torch.lgamma(0.5 * (nu + 1.0)) - torch.lgamma(0.5 * nu)) - (0.5 * torch.log(nu) + 0.5 * math.log(math.pi))
        return (norm - self.log_scale) - 0.5 * (nu + 1.0) * torch.log1p(z * z / nu)

    def from_noise(self, noise: Tensor) -> Tensor:
        half_nu = 0.5 * self.df
        log_g = log_standard_gamma(half_nu, noise[..., :GAMMA_NOISE])
        t = noise[..., GAMMA_NOISE] * torch.exp(-0.5 * (log_g - torch.log(half_nu)))
        return self.loc + self.scale * t`,
  },
  Beta: {
    sampler: true,
    needs: ['logStandardGamma'],
    code: `
BETA_EPS = 1e-6


class Beta:
    """Beta(alpha α, beta β) on [0, 1]: log p(x) = (α − 1) log x + (β − 1) log(1 − x) − log B(α, β),
    x clamped into [BETA_EPS, 1 − BETA_EPS], −∞ outside [0, 1]. Sample from 2 · GAMMA_NOISE normals:
    x = σ(log X − log Y), X ~ Gamma(α), Y ~ Gamma(β)."""

    def __init__(self, alpha: Tensor, beta: Tensor) -> None:
        self.alpha, self.beta = alpha, beta

    def log_prob(self, x: Tensor) -> Tensor:
        inside = torch.minimum(x, 1.0 - x) >= 0
        xc = x.clamp(BETA_EPS, 1.0 - BETA_EPS)
        log_beta = torch.lgamma(self.alpha) + torch.lgamma(self.beta) - torch.lgamma(self.alpha + self.beta)
        lp = (self.alpha - 1.0) * torch.log(xc) + (self.beta - 1.0) * torch.log1p(-xc) - log_beta
        return torch.where(inside, lp, torch.full_like(lp, -math.inf))

    def from_noise(self, noise: Tensor) -> Tensor:
        log_x = log_standard_gamma(self.alpha, noise[..., :GAMMA_NOISE])
        log_y = log_standard_gamma(self.beta, noise[..., GAMMA_NOISE : 2 * GAMMA_NOISE])
        return torch.sigmoid(log_x - log_y)`,
  },
  Bernoulli: {
    sampler: true,
    code: `
class Bernoulli:
    """Bernoulli(logits = l): log p(x) = −(max(l, 0) − x l + log(1 + e^−|l|)); or (probs = p),
    clamped to [1e-7, 1 − 1e-7]. Sample: x = 1 where u < p (not differentiable)."""

    def __init__(self, logits: Optional[Tensor] = None, probs: Optional[Tensor] = None) -> None:
        self.logits, self.probs = logits, probs

    def log_prob(self, x: Tensor) -> Tensor:
        if self.logits is not None:
            logits = self.logits
            return -(torch.relu(logits) - x * logits + torch.log1p(torch.exp(-torch.abs(logits))))
        p = self.probs.clamp(PROB_EPS, 1.0 - PROB_EPS)
        return x * torch.log(p) + (1.0 - x) * torch.log1p(-p)

    def from_noise(self, u: Tensor) -> Tensor:
        p = self.probs if self.probs is not None else torch.sigmoid(self.logits)
        return (p > u).to(u.dtype)`,
  },
  ContinuousBernoulli: {
    sampler: true,
    code: `
class ContinuousBernoulli:
    """ContinuousBernoulli(logits = l) or (probs = λ) on [0, 1] (Loaiza-Ganem & Cunningham 2019):
    log p(x) = x l − softplus(l) + log C, C = l / tanh(l/2); with a = |l|,
    log C = log1p(e^−a) − log(−expm1(−a) / a), or log 2 + l²/12 − 7 l⁴/1440 for a < 0.05.
    Sample by the inverse CDF: x = log1p(u · expm1(l)) / l, written without overflow."""

    def __init__(self, logits: Optional[Tensor] = None, probs: Optional[Tensor] = None) -> None:
        if logits is None:
            p = probs.clamp(PROB_EPS, 1.0 - PROB_EPS)
            logits = torch.log(p) - torch.log(1.0 - p)
        self.logits = logits

    def log_normalizer(self) -> Tensor:
        logits = self.logits
        a = torch.abs(logits)
        taylor = a <= 0.05
        a_safe = torch.where(taylor, torch.ones_like(a), a)
        exact = torch.log1p(torch.exp(-a_safe)) - torch.log(-torch.expm1(-a_safe) / a_safe)
        l2 = logits * logits
        series = math.log(2.0) + l2 * (1.0 / 12.0 - l2 * (7.0 / 1440.0))
        return torch.where(taylor, series, exact)

    def log_prob(self, x: Tensor) -> Tensor:
        logits = self.logits
        inside = torch.minimum(x, 1.0 - x) >= 0
        xs = torch.where(inside, x, torch.full_like(x, 0.5))
        lp = xs * logits - softplus(logits) + self.log_normalizer()
        return torch.where(inside, lp, torch.full_like(lp, -math.inf))

    def from_noise(self, u: Tensor) -> Tensor:
        logits = self.logits
        a = torch.abs(logits)
        taylor = a <= 1e-4
        a_safe = torch.where(taylor, torch.ones_like(a), a)

        def g(v: Tensor) -> Tensor:
            return torch.log1p(v * torch.expm1(-a_safe)) / (-a_safe)

        exact = torch.where(logits >= 0, 1.0 - g(1.0 - u), g(u))
        series = u + 0.5 * logits * u * (1.0 - u)
        return torch.where(taylor, series, exact)`,
  },
  OneHotCategorical: {
    sampler: true,
    needs: ['classProbabilities', 'gumbel'],
    code: `
class OneHotCategorical(ClassProbabilities):
    """OneHotCategorical(logits) or (probs) over one-hot vectors of K classes (the last axis):
    log p(x) = Σ_k x_k log π_k. Sample: one_hot(argmax_k(log π_k + g_k)), g = −log(−log u)."""

    def log_prob(self, x: Tensor) -> Tensor:
        return (x * self.log_probs()).sum(dim=-1)

    def from_noise(self, u: Tensor) -> Tensor:
        logits = self.logits().detach()
        index = (logits + gumbel(u)).argmax(dim=-1)
        return F.one_hot(index, logits.shape[-1]).to(u.dtype)


def relaxed_one_hot_sample(u: Tensor, temperature: float, logits: Optional[Tensor] = None,
                           probs: Optional[Tensor] = None) -> Tensor:
    """Gumbel-softmax (Jang et al. 2017): y = softmax((log π + g) / τ), g = −log(−log u)."""
    return torch.softmax((ClassProbabilities(logits, probs).logits() + gumbel(u)) / temperature, dim=-1)`,
  },
  RelaxedOneHotCategorical: {
    sampler: true,
    needs: ['classProbabilities', 'gumbel'],
    code: `
class RelaxedOneHotCategorical(ClassProbabilities):
    """RelaxedOneHotCategorical(temperature τ, logits) or (τ, probs) over the simplex of K classes
    (Concrete, Maddison et al. 2017): y = softmax((log π + g) / τ), g = −log(−log u), and
    log p(y) = log((K−1)!) + (K−1) log τ + Σ_k (log π_k − (τ+1) log y_k) − K logsumexp_k(log π_k − τ log y_k),
    with log y clamped at TINY. τ is a scalar or one per event ([N] or [N, 1])."""

    def __init__(self, temperature: Any, logits: Optional[Tensor] = None, probs: Optional[Tensor] = None) -> None:
        super().__init__(logits, probs)
        given = logits if logits is not None else probs
        tau = torch.as_tensor(temperature, dtype=given.dtype, device=given.device)
        self.temperature = tau.unsqueeze(-1) if tau.dim() > 0 and tau.shape[-1] != 1 else tau

    def log_prob(self, y: Tensor) -> Tensor:
        log_pi = self.log_probs()
        k = log_pi.shape[-1]
        tau = self.temperature
        log_y = torch.log(y.clamp(TINY, 1.0))
        terms = (log_pi - (tau + 1.0) * log_y).sum(dim=-1)
        lse = torch.logsumexp(log_pi - tau * log_y, dim=-1)
        log_tau = torch.log(tau.squeeze(-1) if tau.dim() > 0 else tau)
        return (k - 1) * log_tau + math.lgamma(k) + (terms - k * lse)

    def from_noise(self, u: Tensor) -> Tensor:
        return torch.softmax((self.logits() + gumbel(u)) / self.temperature, dim=-1)`,
  },
  MultivariateNormal: {
    sampler: true,
    needs: ['trilFromParts'],
    code: `
class MultivariateNormal:
    """MultivariateNormal(loc μ, Σ = L Lᵀ), L = diag(exp(log_diag)) + the lower triangle from
    \`lower\`, or L = scale_tril: log p(x) = −½ ‖L⁻¹(x − μ)‖² − Σ_i log L_ii − (D/2) log 2π;
    reparameterized, z = μ + L ε."""

    def __init__(self, loc: Tensor, log_diag: Optional[Tensor] = None, lower: Optional[Tensor] = None,
                 scale_tril: Optional[Tensor] = None) -> None:
        self.loc = loc
        if scale_tril is not None:
            self.scale_tril = torch.tril(scale_tril)
            self.log_diag = torch.log(torch.abs(torch.diagonal(self.scale_tril, dim1=-2, dim2=-1)))
        else:
            self.scale_tril = tril_from_parts(torch.exp(log_diag), lower)
            self.log_diag = log_diag

    @property
    def dim(self) -> int:
        return self.scale_tril.shape[-1]

    def log_prob(self, x: Tensor) -> Tensor:
        diff = (x - self.loc).unsqueeze(-1)
        shape = torch.broadcast_shapes(self.scale_tril.shape, diff.shape[:-2] + (self.dim, self.dim))
        tril = self.scale_tril.expand(shape)
        solved = torch.linalg.solve_triangular(tril, diff.expand(tril.shape[:-1] + (1,)), upper=False).squeeze(-1)
        maha = (solved * solved).sum(dim=-1)
        return -(0.5 * maha + self.log_diag.sum(dim=-1) + 0.5 * self.dim * LOG_TWO_PI)

    def from_noise(self, eps: Tensor) -> Tensor:
        return self.loc + (self.scale_tril * eps.unsqueeze(-2)).sum(dim=-1)`,
  },
  LowRankMultivariateNormal: {
    sampler: true,
    code: `
class LowRankMultivariateNormal:
    """LowRankMultivariateNormal(loc μ, cov_factor W [..., D, r], cov_diag d): Σ = W Wᵀ + diag(d).
    log p(x) = −½ (δᵀ Σ⁻¹ δ + log det Σ + D log 2π) through C = I_r + Ŵᵀ Ŵ = L_C L_Cᵀ,
    Ŵ = diag(d^−½) W (Woodbury, the matrix determinant lemma); z = μ + W ε₁ + √d ⊙ ε₂ from
    noise [..., D + r] = [ε₂ | ε₁]."""

    def __init__(self, loc: Tensor, cov_factor: Tensor, cov_diag: Tensor) -> None:
        self.loc, self.cov_factor, self.cov_diag = loc, cov_factor, cov_diag

    @property
    def dim(self) -> int:
        return self.cov_factor.shape[-2]

    @property
    def rank(self) -> int:
        return self.cov_factor.shape[-1]

    def scaled_factor(self) -> Tensor:
        return self.cov_factor / torch.sqrt(self.cov_diag).unsqueeze(-1)

    def capacitance_tril(self) -> Tensor:
        w = self.scaled_factor()
        eye = torch.eye(self.rank, dtype=w.dtype, device=w.device)
        return torch.linalg.cholesky(eye + w.transpose(-1, -2) @ w)

    def log_det_covariance(self) -> Tensor:
        diag = torch.diagonal(self.capacitance_tril(), dim1=-2, dim2=-1)
        return 2.0 * torch.log(diag).sum(dim=-1) + torch.log(self.cov_diag).sum(dim=-1)

    def log_prob(self, x: Tensor) -> Tensor:
        w = self.scaled_factor()
        lc = self.capacitance_tril()
        d_hat = (x - self.loc) / torch.sqrt(self.cov_diag)
        wtd = (w * d_hat.unsqueeze(-1)).sum(dim=-2)
        solved = torch.linalg.solve_triangular(lc, wtd.unsqueeze(-1), upper=False).squeeze(-1)
        maha = (d_hat * d_hat).sum(dim=-1) - (solved * solved).sum(dim=-1)
        return -0.5 * (maha + self.log_det_covariance() + self.dim * LOG_TWO_PI)

    def from_noise(self, noise: Tensor) -> Tensor:
        eps2, eps1 = noise[..., : self.dim], noise[..., self.dim :]
        return self.loc + (self.cov_factor * eps1.unsqueeze(-2)).sum(dim=-1) + torch.sqrt(self.cov_diag) * eps2`,
  },
  DiscretizedLogistic: {
    sampler: false,
    needs: ['discretizedLogistic'],
    code: `
class DiscretizedLogistic:
    """DiscretizedLogistic(loc, scale) over 8-bit values, loc and scale on x̃ = 2x/255 − 1 ∈ [−1, 1]:
    P(x) = σ(a) − σ(b) with a, b the bin's edges (x̃ ± 1/255 − loc)/scale, P(0) = σ(a),
    P(255) = 1 − σ(b) (see discretized_logistic_log_prob). A likelihood only."""

    def __init__(self, loc: Tensor, scale: Tensor, log_scale: Optional[Tensor] = None) -> None:
        self.loc, self.scale = loc, scale
        self.log_scale = log_scale if log_scale is not None else torch.log(scale)

    def log_prob(self, x: Tensor) -> Tensor:
        return discretized_logistic_log_prob(x, self.loc, self.scale, self.log_scale)`,
  },
  DiscretizedLogisticMixture: {
    sampler: false,
    needs: ['discretizedLogistic'],
    code: `
class DiscretizedLogisticMixture:
    """DiscretizedLogisticMixture(logits, locs, scales), each [..., K] (the variable's shape and K
    components), over 8-bit values: log P(x) = logsumexp_k(log softmax(logits)_k + log P_k(x)),
    P_k the discretized logistic of locs_k, scales_k. A likelihood only."""

    def __init__(self, logits: Tensor, locs: Tensor, scales: Tensor) -> None:
        self.logits, self.locs, self.scales = logits, locs, scales

    def log_prob(self, x: Tensor) -> Tensor:
        per_component = discretized_logistic_log_prob(x.unsqueeze(-1), self.locs, self.scales, torch.log(self.scales))
        return torch.logsumexp(per_component + torch.log_softmax(self.logits, dim=-1), dim=-1)`,
  },
  GaussianMixture: {
    sampler: false,
    code: `
class GaussianMixture:
    """GaussianMixture(logits [K], locs [K, D], scales [K, D]) over z ∈ R^D:
    log p(z) = logsumexp_k(log π_k + Σ_d log N(z_d; μ_kd, σ_kd))."""

    def __init__(self, logits: Tensor, locs: Tensor, scales: Tensor) -> None:
        self.logits, self.locs, self.scales = logits, locs, scales

    def log_prob(self, z: Tensor) -> Tensor:
        u = (z.unsqueeze(-2) - self.locs) / self.scales
        log_n = -(0.5 * u * u + torch.log(self.scales))
        joint = log_n.sum(dim=-1) - self.locs.shape[-1] * HALF_LOG_TWO_PI + torch.log_softmax(self.logits, dim=-1)
        return torch.logsumexp(joint, dim=-1)`,
  },
};

/** Closed-form KLs by `q‖p` pair: the Python function's name and its code. */
export const KLS: Record<string, PyPiece & { fn: string }> = {
  'Normal‖Normal': {
    fn: 'kl_normal_normal',
    code: `
def kl_normal_normal(q: Normal, p: Normal) -> Tensor:
    """KL(N(m1, s1) ‖ N(m2, s2)) = ½ ((m1 − m2) / s2)² + ½ (r² − 1) − log r, r = s1 / s2;
    against N(0, 1): ½ (m² + s² − 1) − log s."""
    if p.standard:
        return 0.5 * (q.loc * q.loc + q.scale * q.scale - 1.0) - q.log_scale
    r = q.scale / p.scale
    d = (q.loc - p.loc) / p.scale
    return 0.5 * (d * d + (r * r - 1.0)) - (q.log_scale - p.log_scale)`,
  },
  'Laplace‖Laplace': {
    fn: 'kl_laplace_laplace',
    code: `
def kl_laplace_laplace(q: Laplace, p: Laplace) -> Tensor:
    """KL(Laplace(μ1, b1) ‖ Laplace(μ2, b2)) = log(b2 / b1) + δ / b2 + (b1 / b2) e^(−δ / b1) − 1, δ = |μ1 − μ2|."""
    delta = torch.abs(q.loc - p.loc)
    cross = (q.scale / p.scale) * torch.exp(-(delta / q.scale))
    return (p.log_scale - q.log_scale) + (delta / p.scale + cross - 1.0)`,
  },
  'Laplace‖Normal': {
    fn: 'kl_laplace_normal',
    code: `
def kl_laplace_normal(q: Laplace, p: Normal) -> Tensor:
    """KL(Laplace(μ, b) ‖ N(m, s)) = log s − log b + ½ log 2π − 1 − log 2 + ((μ − m)² + 2b²) / (2s²)."""
    quad = ((q.loc - p.loc) ** 2 + 2.0 * q.scale * q.scale) / (2.0 * p.scale * p.scale)
    return (p.log_scale - q.log_scale) + (quad + (HALF_LOG_TWO_PI - 1.0 - math.log(2.0)))`,
  },
  'Gumbel‖Gumbel': {
    fn: 'kl_gumbel_gumbel',
    code: `
EULER_GAMMA = 0.5772156649015329


def kl_gumbel_gumbel(q: Gumbel, p: Gumbel) -> Tensor:
    """KL(Gumbel(μ1, β1) ‖ Gumbel(μ2, β2)) = log(β2/β1) + γ(r − 1) + d + e^−d Γ(1 + r) − 1,
    r = β1/β2, d = (μ1 − μ2)/β2, γ the Euler–Mascheroni constant; e^−d Γ(1 + r) − 1 is taken as
    expm1(lgamma(1 + r) − d)."""
    r = q.scale / p.scale
    d = (q.loc - p.loc) / p.scale
    scales = (p.log_scale - q.log_scale) + EULER_GAMMA * (r - 1.0)
    return scales + (d + torch.expm1(torch.lgamma(1.0 + r) - d))`,
  },
  'LogNormal‖LogNormal': {
    fn: 'kl_lognormal_lognormal',
    code: `
def kl_lognormal_lognormal(q: LogNormal, p: LogNormal) -> Tensor:
    """KL(LogNormal(m1, s1) ‖ LogNormal(m2, s2)) = KL(N(m1, s1) ‖ N(m2, s2)) (KL is invariant under
    x = e^y): ½ ((m1 − m2) / s2)² + ½ (r² − 1) − log r, r = s1 / s2."""
    r = q.scale / p.scale
    d = (q.loc - p.loc) / p.scale
    return 0.5 * (d * d + (r * r - 1.0)) - (q.log_scale - p.log_scale)`,
  },
  'Bernoulli‖Bernoulli': {
    fn: 'kl_bernoulli_bernoulli',
    code: `
def bernoulli_logits(d: Bernoulli) -> Tensor:
    """The logits: given, or log p − log(1 − p) of the clamped probabilities."""
    if d.logits is not None:
        return d.logits
    p = d.probs.clamp(PROB_EPS, 1.0 - PROB_EPS)
    return torch.log(p) - torch.log(1.0 - p)


def kl_bernoulli_bernoulli(q: Bernoulli, p: Bernoulli) -> Tensor:
    """KL(Bernoulli(logits a) ‖ Bernoulli(logits b)) = σ(a)(a − b) + softplus(b) − softplus(a),
    evaluated at a' = −|a|, b' = −sign(a) b (KL is unchanged when both outcomes swap)."""
    a, b = bernoulli_logits(q), bernoulli_logits(p)
    a, b = torch.broadcast_tensors(a, b)
    flipped = -torch.abs(a)
    b_flipped = torch.where(a >= 0, -b, b)
    return torch.sigmoid(flipped) * (flipped - b_flipped) + (softplus(b_flipped) - softplus(flipped))`,
  },
  'OneHotCategorical‖OneHotCategorical': {
    fn: 'kl_categorical',
    code: `
def kl_categorical(q: ClassProbabilities, p: ClassProbabilities) -> Tensor:
    """KL(Cat(π) ‖ Cat(ρ)) = Σ_k π_k (log π_k − log ρ_k), over the last axis."""
    return (q.probs() * (q.log_probs() - p.log_probs())).sum(dim=-1)`,
  },
  'MultivariateNormal‖Normal': {
    fn: 'kl_mvn_normal',
    code: `
def kl_mvn_normal(q: MultivariateNormal, p: Normal) -> Tensor:
    """KL(N(μ, L Lᵀ) ‖ N(m, diag(s²))) = ½ Σ_i [(Σ_j L_ij²) / s_i² + ((μ_i − m_i) / s_i)² − 1]
    + Σ_i (log s_i − log L_ii); against N(0, I): ½ [‖L‖_F² + ‖μ‖² − D] − Σ_i log L_ii."""
    row_squares = (q.scale_tril * q.scale_tril).sum(dim=-1)
    if p.standard:
        quad = row_squares.sum(dim=-1) + (q.loc * q.loc).sum(dim=-1) - q.dim
        return 0.5 * quad - q.log_diag.sum(dim=-1)
    d = (q.loc - p.loc) / p.scale
    per_dim = 0.5 * (row_squares / (p.scale * p.scale) + d * d - 1.0)
    return (per_dim + (p.log_scale - q.log_diag)).sum(dim=-1)`,
  },
  'MultivariateNormal‖MultivariateNormal': {
    fn: 'kl_mvn_mvn',
    code: `
def kl_mvn_mvn(q: MultivariateNormal, p: MultivariateNormal) -> Tensor:
    """KL(N(μq, Lq Lqᵀ) ‖ N(μp, Lp Lpᵀ)) = ½ [‖Lp⁻¹ Lq‖_F² + ‖Lp⁻¹ (μp − μq)‖² − D]
    + Σ_i (log (Lp)_ii − log (Lq)_ii), by forward substitution."""
    lq = q.scale_tril
    diff = (p.loc - q.loc).unsqueeze(-1)
    batch = torch.broadcast_shapes(p.scale_tril.shape[:-2], lq.shape[:-2], diff.shape[:-2])
    lp = p.scale_tril.expand(tuple(batch) + (q.dim, q.dim))
    trace = (torch.linalg.solve_triangular(lp, lq.expand(lp.shape), upper=False) ** 2).sum(dim=(-2, -1))
    solved = torch.linalg.solve_triangular(lp, diff.expand(tuple(batch) + (q.dim, 1)), upper=False)
    maha = (solved * solved).sum(dim=(-2, -1))
    return 0.5 * (trace + maha - q.dim) + (p.log_diag - q.log_diag).sum(dim=-1)`,
  },
  'LowRankMultivariateNormal‖Normal': {
    fn: 'kl_lowrank_normal',
    code: `
def kl_lowrank_normal(q: LowRankMultivariateNormal, p: Normal) -> Tensor:
    """KL(N(μ, W Wᵀ + diag(d)) ‖ N(m, diag(s²))) = ½ Σ_i [(Σ_k W_ik² + d_i) / s_i²
    + ((μ_i − m_i) / s_i)² − 1 + 2 log s_i] − ½ log det Σq."""
    variances = (q.cov_factor * q.cov_factor).sum(dim=-1) + q.cov_diag
    half_log_det_q = 0.5 * q.log_det_covariance()
    if p.standard:
        quad = variances.sum(dim=-1) + (q.loc * q.loc).sum(dim=-1) - q.dim
        return 0.5 * quad - half_log_det_q
    d = (q.loc - p.loc) / p.scale
    per_dim = 0.5 * (variances / (p.scale * p.scale) + d * d - 1.0) + p.log_scale
    return per_dim.sum(dim=-1) - half_log_det_q`,
  },
};

/** Flow steps by kind: an nn.Module on z [N, D] returning (z′, log|det| [N]), with its initializer. */
export const FLOWS: Record<string, PyPiece> = {
  planar: {
    code: `
NEUTRAL_WU = math.log(math.e - 1.0)


class PlanarStep(nn.Module):
    """Planar flow step (Rezende & Mohamed 2015): f(z) = z + û tanh(wᵀz + b),
    û = u + (m(wᵀu) − wᵀu) w / ‖w‖², m(a) = −1 + softplus(a);
    log|det ∂f/∂z| = log(t² + (1 − t²) softplus(wᵀu)), t = tanh(wᵀz + b).
    With a context h, [u | w | b] gains h W_ctx."""

    def __init__(self, size: int, context_width: int) -> None:
        super().__init__()
        self.size = size
        self.u = nn.Parameter(torch.zeros(size))
        self.w = nn.Parameter(torch.zeros(size))
        self.b = nn.Parameter(torch.zeros(1))
        self.context = nn.Parameter(torch.zeros(context_width, 2 * size + 1)) if context_width > 0 else None

    def reset(self, generator: torch.Generator) -> None:
        """Near the identity: w, b ~ U(±1/√D), u = a* w / ‖w‖² + U(±0.01), W_ctx ~ U(±0.01)."""
        bound = 1.0 / math.sqrt(self.size)
        uniform_(self.w, bound, generator)
        uniform_(self.b, bound, generator)
        noise = (torch.rand(self.size, generator=generator) * 2.0 - 1.0) * INIT_NOISE
        self.u.copy_(self.w * (NEUTRAL_WU / (self.w * self.w).sum()) + noise.to(self.u.device))
        if self.context is not None:
            uniform_(self.context, INIT_NOISE, generator)

    def forward(self, z: Tensor, context: Optional[Tensor]) -> Tuple[Tensor, Tensor]:
        d = self.size
        params = torch.cat([self.u, self.w, self.b]).unsqueeze(0)
        if self.context is not None:
            params = params + context @ self.context
        u, w, b = params[:, :d], params[:, d : 2 * d], params[:, 2 * d :]
        wu = (w * u).sum(dim=1, keepdim=True)
        u_hat = u + ((softplus(wu) - 1.0 - wu) / (w * w).sum(dim=1, keepdim=True)) * w
        t = torch.tanh((z * w).sum(dim=1, keepdim=True) + b)
        t2 = t * t
        log_det = torch.log(t2 + (1.0 - t2) * softplus(wu)).reshape(-1)
        return z + u_hat * t, log_det`,
  },
  radial: {
    code: `
class RadialStep(nn.Module):
    """Radial flow step (Rezende & Mohamed 2015): f(z) = z + β h (z − z₀), h = 1 / (α + r),
    r = ‖z − z₀‖, α = softplus(α̃), β = −α + softplus(β̃);
    log|det ∂f/∂z| = (D − 1) log(1 + βh) + log(1 + βαh²). With a context, [z₀ | α̃ | β̃] gains h W_ctx."""

    def __init__(self, size: int, context_width: int) -> None:
        super().__init__()
        self.size = size
        self.z0 = nn.Parameter(torch.zeros(size))
        self.alpha = nn.Parameter(torch.zeros(1))
        self.beta = nn.Parameter(torch.zeros(1))
        self.context = nn.Parameter(torch.zeros(context_width, size + 2)) if context_width > 0 else None

    def reset(self, generator: torch.Generator) -> None:
        """Near the identity: z₀, α̃ ~ U(±1/√D), β̃ = α̃ + U(±0.01), W_ctx ~ U(±0.01)."""
        bound = 1.0 / math.sqrt(self.size)
        uniform_(self.z0, bound, generator)
        uniform_(self.alpha, bound, generator)
        self.beta.copy_(self.alpha + ((torch.rand(1, generator=generator) * 2.0 - 1.0) * INIT_NOISE).to(self.beta.device))
        if self.context is not None:
            uniform_(self.context, INIT_NOISE, generator)

    def forward(self, z: Tensor, context: Optional[Tensor]) -> Tuple[Tensor, Tensor]:
        d = self.size
        params = torch.cat([self.z0, self.alpha, self.beta]).unsqueeze(0)
        if self.context is not None:
            params = params + context @ self.context
        z0, alpha = params[:, :d], softplus(params[:, d : d + 1])
        beta = softplus(params[:, d + 1 : d + 2]) - alpha
        diff = z - z0
        r = torch.sqrt((diff * diff).sum(dim=1, keepdim=True))
        h = 1.0 / (alpha + r)
        beta_h = beta * h
        log_det = (d - 1) * torch.log1p(beta_h) + torch.log1p(beta * alpha * h * h)
        return z + beta_h * diff, log_det.reshape(-1)`,
  },
  iaf: {
    code: `
FORGET_BIAS = 2.0


def made_masks(size: int, hidden: int, context: bool, reversed_order: bool) -> Tuple[Tensor, Tensor, Tensor]:
    """MADE masks (Germain et al. 2015): input degrees 1..D (or D..1), hidden degrees
    lo + (k mod (D − lo)), lo = 0 with a context or D = 1, else 1; input j → hidden k if d(j) ≤ d(k),
    hidden → hidden if d(k) ≤ d(k′), hidden k → output i if d(k) < d(i) (tiled for [m | s])."""
    d_in = torch.tensor([size - j if reversed_order else j + 1 for j in range(size)])
    lo = 0 if context or size == 1 else 1
    d_hidden = torch.tensor([lo + (k % (size - lo)) for k in range(hidden)])
    first = (d_in.unsqueeze(1) <= d_hidden.unsqueeze(0)).float()
    middle = (d_hidden.unsqueeze(1) <= d_hidden.unsqueeze(0)).float()
    last = (d_hidden.unsqueeze(1) < torch.cat([d_in, d_in]).unsqueeze(0)).float()
    return first, middle, last


class IafStep(nn.Module):
    """Inverse autoregressive flow step (Kingma et al. 2016): [m, s] = MADE(z, h), σ = sigmoid(s),
    z′ = m + σ ⊙ (z − m), log|det ∂z′/∂z| = Σ_i log σ_i. ELU hidden layers; the context h is an
    extra, unmasked input of the first layer; weights as [in, out]."""

    def __init__(self, size: int, hidden: int, layers: int, context_width: int, reversed_order: bool) -> None:
        super().__init__()
        self.size, self.hidden, self.layers, self.context_width = size, hidden, layers, context_width
        first, middle, last = made_masks(size, hidden, context_width > 0, reversed_order)
        self.register_buffer("mask_first", first)
        self.register_buffer("mask_hidden", middle)
        self.register_buffer("mask_out", last)
        self.hidden0_w = nn.Parameter(torch.zeros(size, hidden))
        self.hidden0_b = nn.Parameter(torch.zeros(hidden))
        self.context = nn.Parameter(torch.zeros(context_width, hidden)) if context_width > 0 else None
        for layer in range(1, layers):
            self.register_parameter(f"hidden{layer}_w", nn.Parameter(torch.zeros(hidden, hidden)))
            self.register_parameter(f"hidden{layer}_b", nn.Parameter(torch.zeros(hidden)))
        self.out_w = nn.Parameter(torch.zeros(hidden, 2 * size))
        self.out_b = nn.Parameter(torch.zeros(2 * size))

    def reset(self, generator: torch.Generator) -> None:
        """U(±1/√fan-in): D + C for the first layer, H after; the s half of out_b is FORGET_BIAS."""
        first = 1.0 / math.sqrt(self.size + self.context_width)
        later = 1.0 / math.sqrt(self.hidden)
        uniform_(self.hidden0_w, first, generator)
        uniform_(self.hidden0_b, first, generator)
        if self.context is not None:
            uniform_(self.context, first, generator)
        for layer in range(1, self.layers):
            uniform_(getattr(self, f"hidden{layer}_w"), later, generator)
            uniform_(getattr(self, f"hidden{layer}_b"), later, generator)
        uniform_(self.out_w, later, generator)
        uniform_(self.out_b, later, generator)
        self.out_b[self.size :] = FORGET_BIAS

    def forward(self, z: Tensor, context: Optional[Tensor]) -> Tuple[Tensor, Tensor]:
        a = z @ (self.hidden0_w * self.mask_first) + self.hidden0_b
        if self.context is not None:
            a = a + context @ self.context
        a = F.elu(a)
        for layer in range(1, self.layers):
            a = F.elu(a @ (getattr(self, f"hidden{layer}_w") * self.mask_hidden) + getattr(self, f"hidden{layer}_b"))
        out = a @ (self.out_w * self.mask_out) + self.out_b
        m, s = out[:, : self.size], out[:, self.size :]
        return m + torch.sigmoid(s) * (z - m), (-softplus(-s)).sum(dim=1)`,
  },
};

/** The Python of `keys` (and what they need), each once, needs first. */
export function assemble(keys: string[], table: Record<string, PyPiece>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (key: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    const piece = table[key] ?? HELPERS[key];
    for (const need of piece.needs ?? []) visit(need);
    out.push(piece.code.trim());
  };
  keys.forEach(visit);
  return out;
}
