/**
 * Pictures of a trained model's latent space: straight lines between the encodings of two test
 * images (interpolation), the decoded grid of prior quantiles of a 2-dimensional latent (Kingma &
 * Welling 2013, Fig. 4), and the posterior means of test images (for a scatter plot). Each
 * returns plain arrays; every tensor is freed before it returns.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { VaeModel } from './model.js';
import type { ProgramInfo } from './program.js';

/** A tensor's values, then the tensor freed. */
function read(t: tf.Tensor): Float32Array {
  const values = t.dataSync() as Float32Array;
  t.dispose();
  return values;
}

/**
 * Φ⁻¹(p), the standard normal quantile, by Acklam's rational approximation (relative error
 * below 1.2e-9 over (0, 1)); ±Infinity at 0 and 1, NaN outside [0, 1].
 */
export function inverseNormalCdf(p: number): number {
  if (!(p >= 0 && p <= 1)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) => (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  const low = 0.02425;
  if (p < low) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - low) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** Images row after row, to be tiled `columns` to a row (see writeImageGrid). */
export interface ImageGrid { images: Float32Array; count: number; columns: number }

/**
 * Interpolations between pairs of examples: pair i is examples 2i and 2i+1 of `values` (which
 * holds at least 2·`pairs` examples). Both are encoded to their guide means; every latent moves
 * in a straight line from one to the other in `steps` steps (both ends included), and each point
 * is decoded to the likelihood's mean. A conditional model's labels move along the line too
 * (one-hot at the ends, mixtures of the two classes between). One row per pair: the first
 * example, the `steps` decodes,
 * the second example.
 */
export function interpolations(vae: VaeModel, values: Float32Array, pairs: number, steps: number): ImageGrid {
  if (!Number.isInteger(steps) || steps < 2) throw new RangeError(`steps must be a whole number of at least 2, got ${steps}`);
  const per = vae.info.data.reduce((sum, d) => sum + d.size, 0); // a row: the images, then any labels
  if (values.length < 2 * pairs * per) throw new RangeError(`expected ${2 * pairs} examples, got ${Math.floor(values.length / per)}`);
  const decoded = read(tf.tidy(() => {
    const batch = vae.batch(values.subarray(0, 2 * pairs * per), 2 * pairs);
    // The latents' guide means, and the covariates (labels) as given: both move along the line.
    const labels = vae.info.labels ? [[vae.info.labels, batch.get(vae.info.labels)!] as const] : [];
    const ends = new Map([...vae.program.encodeMean(vae.weights, batch), ...labels]);
    // (1 − t)·a + t·b, which is exactly a at t = 0 and exactly b at t = 1.
    const t = tf.tensor(Array.from({ length: steps }, (_, i) => i / (steps - 1)), [1, steps, 1]);
    const path = new Map([...ends].map(([name, z]) => {
      const [a, b] = tf.split(tf.reshape(z, [pairs, 2, -1]), 2, 1); // each [pairs, 1, size]
      return [name, tf.reshape(tf.add(tf.mul(a, tf.sub(1, t)), tf.mul(b, t)), [pairs * steps, ...z.shape.slice(1)])];
    }));
    return vae.program.decodeMean(vae.weights, path);
  }));
  const columns = steps + 2;
  const pixels = vae.info.data.find((d) => d.name === vae.info.images)!.size; // the image at the start of each row
  const images = new Float32Array(pairs * columns * pixels);
  for (let i = 0; i < pairs; i++) {
    const row = i * columns * pixels;
    images.set(values.subarray(2 * i * per, 2 * i * per + pixels), row);
    images.set(decoded.subarray(i * steps * pixels, (i + 1) * steps * pixels), row + pixels);
    images.set(values.subarray((2 * i + 1) * per, (2 * i + 1) * per + pixels), row + (steps + 1) * pixels);
  }
  return { images, count: pairs * columns, columns };
}

/**
 * Why {@link manifold} cannot draw this model's latent space, or undefined if it can: it needs
 * exactly one latent, of 2 dimensions, with the prior Normal(0, 1).
 */
export function manifoldProblem(info: ProgramInfo): string | undefined {
  const sizes = info.latents.map((l) => `${l.name} (${l.size} dimension${l.size === 1 ? '' : 's'})`);
  if (info.latents.length !== 1 || info.latents[0].size !== 2) {
    return `the manifold needs a model with exactly one latent of 2 dimensions; ${info.name} has ${sizes.join(', ')}.`;
  }
  if (!info.latents[0].standardNormalPrior) {
    return `the manifold spreads a grid over the prior's quantiles, and needs the prior Normal(0, 1); ${info.name}'s prior of ${info.latents[0].name} is another.`;
  }
  return undefined;
}

/**
 * The learned manifold (Kingma & Welling 2013, Fig. 4): decoder means on an n×n grid at the
 * quantiles of the standard normal prior, z = Φ⁻¹((i + 0.5)/n). Columns run along the first
 * latent dimension (left to right, increasing), rows along the second (top to bottom,
 * decreasing), so the grid lies as the scatter of {@link latentMeans} does. Throws a RangeError
 * (the message of {@link manifoldProblem}) for a model it cannot draw.
 */
export function manifold(vae: VaeModel, n: number): ImageGrid {
  const problem = manifoldProblem(vae.info);
  if (problem) throw new RangeError(problem);
  const q = Array.from({ length: n }, (_, i) => inverseNormalCdf((i + 0.5) / n));
  const z = new Float32Array(2 * n * n);
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; col++) z.set([q[col], q[n - 1 - row]], 2 * (row * n + col));
  }
  const latent = vae.info.latents[0];
  const images = read(tf.tidy(() => vae.program.decodeMean(vae.weights, new Map([[latent.name, tf.tensor(z, [n * n, ...latent.shape])]]))));
  return { images, count: n * n, columns: n };
}

/**
 * The guide means of the first latent (in guide order) for the `count` examples of `values`,
 * computed in chunks: its first two dimensions (flattened) as x and y, with the example's label
 * (0 without `labels`). Throws a RangeError if that latent has fewer than 2 dimensions.
 */
export function latentMeans(
  vae: VaeModel, values: Float32Array, count: number, labels?: ArrayLike<number>, chunk = 1000,
): { x: number; y: number; label: number }[] {
  const latent = vae.info.latents[0];
  if (latent.size < 2) throw new RangeError(`the latent ${latent.name} has ${latent.size} dimension; a scatter needs 2.`);
  const per = values.length / count;
  const points: { x: number; y: number; label: number }[] = [];
  for (let start = 0; start < count; start += chunk) {
    const m = Math.min(chunk, count - start);
    const means = read(tf.tidy(() => vae.program.encodeMean(vae.weights, vae.batch(values.subarray(start * per, (start + m) * per), m)).get(latent.name)!));
    for (let i = 0; i < m; i++) {
      points.push({ x: means[i * latent.size], y: means[i * latent.size + 1], label: labels ? labels[start + i] : 0 });
    }
  }
  return points;
}
