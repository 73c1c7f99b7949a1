/**
 * The discretized logistic distribution over 8-bit values (Salimans et al. 2017, PixelCNN++), per
 * pixel, without autoregression; the mixture (discretized-logistic-mixture.ts) is built from the
 * functions here.
 *
 * Convention: a value x ∈ {0, ..., 255} is placed at x̃ = 2x/255 − 1 ∈ [−1, 1], and `loc` and
 * `scale` live on that scale (so a network's outputs near 0 are sensible). Bin x covers
 * [x̃ − 1/255, x̃ + 1/255); the two edge bins take the tails:
 *   P(x) = σ(a) − σ(b),  a = (x̃ + 1/255 − loc)/scale,  b = (x̃ − 1/255 − loc)/scale,
 *   P(0) = σ(a),  P(255) = 1 − σ(b).
 */
import * as tf from '@tensorflow/tfjs-core';
import { withoutGradient } from './categorical.js';
import { LocationScale } from './location-scale.js';
import { log1p, select, softplus } from './special.js';

/** The largest 8-bit value; values are 2/255 apart on the [−1, 1] scale. */
export const PIXEL_MAX = 255;
const LOG_BIN = Math.log(2 / PIXEL_MAX);

/** d below which log(1 − e^−d) is its series: the first term left out, d⁶/181440, is < 1.4e-9. */
const LOG1MEXP_SERIES = 0.25;

/**
 * log P(x) for x in 0..255 (any shape broadcasting with loc and scale; `logScale` = log scale where
 * known). With a and b as above, σ(a) − σ(b) = σ(a) (1 − σ(b)) (1 − e^−(a−b)), so
 *   log P(x) = −softplus(−a) − softplus(b) + log(1 − e^−d),  d = a − b = (2/255)/scale,
 * and the edges drop the factors of the missing side: log P(0) = −softplus(−a) = log σ(a),
 * log P(255) = −softplus(b) = log(1 − σ(b)). No difference of probabilities is ever formed, so
 * nothing underflows: in float32 this is accurate where σ(a) − σ(b) is far below 1e-38 (a scale of
 * 1e-4 and a value far from loc), where PixelCNN++'s log(σ(a) − σ(b)) must switch to the density
 * at the bin centre times the bin width (that switch is not needed here, and the midpoint
 * approximation is far off when the density changes across the bin). x is data: no gradient in x.
 */
export function discretizedLogisticLogProb(x: tf.Tensor, loc: tf.Tensor, scale: tf.Tensor, logScale?: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const a = binEdge(tf.sub(tf.mul(x, 2), PIXEL_MAX - 1), loc, scale);
    const b = binEdge(tf.sub(tf.mul(x, 2), PIXEL_MAX + 1), loc, scale);
    // 1 below the top bin and above the bottom one, else 0 (x an integer: compared at half-way).
    const belowTop = tf.cast(tf.greaterEqual(PIXEL_MAX - 0.5, x), 'float32');
    const aboveBottom = tf.cast(tf.greaterEqual(x, 0.5), 'float32');
    const logD = tf.sub(LOG_BIN, logScale ?? tf.log(scale));
    const width = log1mexp(tf.exp(logD), logD);
    return tf.addN([
      tf.mul(belowTop, tf.neg(softplus(tf.neg(a)))),
      tf.mul(aboveBottom, tf.neg(softplus(b))),
      tf.mul(tf.mul(belowTop, aboveBottom), width),
    ]);
  });
}

/**
 * (t − loc)/scale at a bin edge t = e/255 − 1, given the integer e (2x − 254 for the upper edge,
 * 2x − 256 for the lower): written 255 (t − loc) = (e − 256 loc) + loc over 255 scale, whose
 * subtractions are exact where they cancel (Sterbenz), so that a and b keep their relative
 * accuracy next to loc (x̃ ± 1/255 − loc in float32 would carry the rounding of x̃, about 6e-8,
 * divided by the scale: 6e-4 at scale 1e-4).
 */
function binEdge(e: tf.Tensor, loc: tf.Tensor, scale: tf.Tensor): tf.Tensor {
  return tf.div(tf.add(tf.sub(e, tf.mul(loc, 256)), loc), tf.mul(scale, PIXEL_MAX));
}

/**
 * log(1 − e^−d) for d > 0 (given log d too): for d ≤ 0.25 the series
 *   log d + log((1 − e^−d)/d) = log d − d/2 + d²/24 − d⁴/2880 + O(d⁶)
 * (from (1 − e^−d)/d = e^(−d/2) sinh(d/2)/(d/2)), which keeps the digits that 1 − e^−d loses;
 * else log1p(−e^−d). Each branch sees a harmless stand-in where it is not taken, so that its
 * gradient stays finite (tf.where passes 0 to the other branch, and 0 · ∞ would be NaN).
 */
function log1mexp(d: tf.Tensor, logD: tf.Tensor): tf.Tensor {
  const small = tf.greaterEqual(LOG1MEXP_SERIES, d);
  const ds = select(small, d, 0);
  const d2 = tf.square(ds);
  const series = tf.add(logD, tf.mul(ds, tf.add(-0.5, tf.mul(ds, tf.sub(1 / 24, tf.div(d2, 2880))))));
  const exact = log1p(tf.neg(tf.exp(tf.neg(select(small, 1, d)))));
  return tf.where(small, series, exact);
}

/**
 * E[x] in 0..255 units, approximately. The exact mean is Σ_{k=1}^{255} P(x ≥ k) =
 * Σ_k σ((loc − t_k)/scale), t_k = (2k − 1)/255 − 1 the lower edge of bin k; the midpoint rule
 * turns the sum into 127.5 ∫_{−1}^{1} σ((loc − t)/scale) dt, the mean of the logistic clipped to
 * [−1, 1] (in 0..255 units), and for a scale of at least a bin (2/255) the Euler–Maclaurin end
 * term corrects it:
 *   E[x] ≈ 127.5 · scale · (softplus((loc + 1)/scale) − softplus((loc − 1)/scale))
 *          + (σ'((loc − 1)/scale) − σ'((loc + 1)/scale)) / (12 · 255 · scale),  σ' = σ(1 − σ).
 * Against the exact float64 sum (scales 1e-4 to 100, loc ∈ [−1.5, 1.5] and finely around ±1): at
 * most 1.6e-4 levels off for scales of a bin or more, less than half a level (0.43) for sharper
 * ones, where the sum is a staircase that the integral smooths (and the end term, built for a
 * slowly varying sum, would make it worse). Computed in float32 (wasm, 12,341 points of the same
 * ranges): at most 1.7e-4 levels off for scales of a bin or more.
 */
export function discretizedLogisticMean(loc: tf.Tensor, scale: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const hi = tf.div(tf.add(loc, 1), scale);
    const lo = tf.div(tf.sub(loc, 1), scale);
    // softplus(hi) − softplus(lo) = log1p(σ(lo) · expm1(2/scale)): that form where 2/scale ≤ 1,
    // so that a scale ≫ 1 does not take the difference of two numbers near log 2.
    const d = tf.div(2, scale);
    const near = tf.greaterEqual(1, d);
    const integral = tf.where(near, log1p(tf.mul(tf.sigmoid(lo), tf.expm1(tf.minimum(d, 1)))), tf.sub(softplus(hi), softplus(lo)));
    const clipped = tf.mul(tf.mul(PIXEL_MAX / 2, scale), integral);
    const slope = (u: tf.Tensor) => tf.tidy(() => {
      const s = tf.sigmoid(u);
      return tf.mul(s, tf.sub(1, s));
    });
    const broad = tf.cast(tf.greaterEqual(scale, 2 / PIXEL_MAX), 'float32');
    return tf.add(clipped, tf.mul(broad, tf.div(tf.sub(slope(lo), slope(hi)), tf.mul(12 * PIXEL_MAX, scale))));
  });
}

/**
 * A value 0..255 from u ~ U(0, 1): the logistic's inverse CDF y = loc + scale · (log u − log(1 − u)),
 * then its bin, x = clip(round(127.5 (y + 1)), 0, 255) (bin x holds y ∈ [x̃ − 1/255, x̃ + 1/255)).
 * Discrete: no gradient.
 */
export function discretizedLogisticFromNoise(loc: tf.Tensor, scale: tf.Tensor, u: tf.Tensor): tf.Tensor {
  return withoutGradient((l, s, v) => {
    const y = tf.add(l, tf.mul(s, tf.sub(tf.log(v), log1p(tf.neg(v)))));
    return tf.clipByValue(tf.round(tf.mul(PIXEL_MAX / 2, tf.add(y, 1))), 0, PIXEL_MAX);
  }, loc, scale, u);
}

/**
 * DiscretizedLogistic(loc, scale) over 8-bit values, scale > 0 (the language constrains it), loc
 * and scale on the [−1, 1] scale of x̃ = 2x/255 − 1: see the header. A likelihood only (its values
 * are discrete, so it is neither a guide nor a prior). Sampled from uniform noise, not
 * reparameterized.
 */
export class DiscretizedLogistic extends LocationScale {
  readonly family = 'DiscretizedLogistic';
  readonly reparameterized = false;
  override readonly noiseKind = 'uniform';

  logProb(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => discretizedLogisticLogProb(x, this.loc, this.scale, this.logScale()));
  }

  /** E[x] in 0..255 units (the approximation of `discretizedLogisticMean`), broadcast to `shape`. */
  override mean(shape: number[]): tf.Tensor {
    return tf.tidy(() => tf.broadcastTo(discretizedLogisticMean(this.loc, this.scale), shape));
  }

  fromNoise(u: tf.Tensor): tf.Tensor {
    return discretizedLogisticFromNoise(this.loc, this.scale, u);
  }
}
