/**
 * The Gumbel family end to end: its log density against float64 values, its inverse-CDF sampler
 * (moments, the CDF, pathwise gradients), the closed-form KL(Gumbel ‖ Gumbel) against float64 and
 * Monte Carlo, no tensors left behind, and a model with a Gumbel prior, guide and likelihood that
 * checks, trains and that `vae explain` describes.
 *
 * References are computed here in float64 at the float32 inputs (Math.fround), independently of the
 * float32 code. Monte Carlo comparisons use fixed seeds: 4 standard errors for moments, 3 for the KL
 * (P(|N(0,1)| > 3) ≈ 0.27% per comparison, were a seed changed).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs'; // registers the gradients
import { afterAll, describe, expect, it } from 'vitest';
import { FAMILIES } from '../../src/core/catalog.js';
import { closedFormKl } from '../../src/core/kl-table.js';
import { compile } from '../../src/index.js';
import { drawStandardNoise, Gumbel, makeDistribution } from '../../src/runtime/distributions/index.js';
import { lookupKl } from '../../src/runtime/kls.js';
import { Rng } from '../../src/runtime/rng.js';
import { digamma64, draws, lgamma64 } from '../helpers/float64.js';
import { expectClose, values } from '../helpers/tensors.js';
import { meanAndStdErr, useBackend, within } from '../helpers/tf.js';

useBackend();

const f = Math.fround;
const EULER = 0.5772156649015329;
const N = 100_000;

const gumbel = (m: number | number[], b: number | number[]) =>
  new Gumbel(typeof m === 'number' ? tf.scalar(m) : tf.tensor1d(m), typeof b === 'number' ? tf.scalar(b) : tf.tensor1d(b));

/** log Gumbel(x; m, b) = −t − e^−t − log b, t = (x − m)/b, in float64. */
const lp64 = (x: number, m: number, b: number) => {
  const t = (x - m) / b;
  return -t - Math.exp(-t) - Math.log(b);
};

/** The CDF exp(−e^−t) and its complement −expm1(−e^−t), in float64. */
const cdf64 = (x: number, m: number, b: number) => Math.exp(-Math.exp(-(x - m) / b));
const sf64 = (x: number, m: number, b: number) => -Math.expm1(-Math.exp(-(x - m) / b));

/**
 * KL(G(m1, b1) ‖ G(m2, b2)) = log(b2/b1) + γ(r − 1) + d + e^(lgamma(1 + r) − d) − 1,
 * r = b1/b2, d = (m1 − m2)/b2, in float64; also the exponent lgamma(1 + r) − d.
 */
function kl64(m1: number, b1: number, m2: number, b2: number): { kl: number; exponent: number } {
  const r = b1 / b2, d = (m1 - m2) / b2;
  const exponent = lgamma64(1 + r) - d;
  return { kl: Math.log(b2 / b1) + EULER * (r - 1) + d + Math.expm1(exponent), exponent };
}

/** 1000 random parameters: locations in [−5, 5], scales log-uniform in [1e-3, 1e3] (float32 values). */
function randomParams(seed: number) {
  const rng = new Rng(seed);
  const n = 1000;
  const loc = () => 10 * rng.uniform() - 5, scale = () => 10 ** (6 * rng.uniform() - 3);
  return { n, m1: draws(n, loc), b1: draws(n, scale), m2: draws(n, loc), b2: draws(n, scale), t: draws(n, () => 60 * rng.uniform() - 20) };
}

describe('Gumbel log density', () => {
  it('matches values derived by hand', () => {
    // G(0, 1) at 0: −0 − 1 − 0 = −1;  at 1: −1 − e^−1 = −1.3678794412.
    // G(1, 2) at 3: t = 1: −1 − e^−1 − log 2 = −2.0610266218.
    expectClose(values(() => gumbel(0, 1).logProb(tf.tensor1d([0, 1]))), [-1, -1.3678794412], 1e-7, 1e-7);
    expectClose(values(() => gumbel(1, 2).logProb(tf.scalar(3))), [-2.0610266218], 1e-7, 1e-7);
  });

  /**
   * Float32 tolerance: t = (x − m)/b carries a relative error of ~1 ulp (6e-8) per op, so e^−t one
   * of |t|·1e-7; the bound allows 1e-6 times each term's size and its sensitivity.
   */
  const tolerance = (x: number, m: number, b: number) => {
    const t = (x - m) / b;
    return 1e-6 * (1 + Math.abs(Math.log(b)) + Math.abs(t) + Math.exp(-t) * (1 + Math.abs(t)));
  };

  it('matches the float64 formula at 1000 random parameters, t = (x − m)/b in [−20, 40]', () => {
    const { n, m1, b1, t } = randomParams(1);
    const x = t.map((ti, i) => f(m1[i] + b1[i] * ti));
    const got = values(() => new Gumbel(tf.tensor1d(m1), tf.tensor1d(b1)).logProb(tf.tensor1d(x)));
    for (let i = 0; i < n; i++) {
      expect(Math.abs(got[i] - lp64(x[i], m1[i], b1[i])), `x = ${x[i]}, G(${m1[i]}, ${b1[i]})`).toBeLessThan(tolerance(x[i], m1[i], b1[i]));
    }
  });

  it('at scales 1e-3 and 1e3, and far in both tails; −∞ where the true value is below −3.4e38', () => {
    const cases: [m: number, b: number, x: number][] = [
      [0, 1e-3, 0], [0, 1e-3, 0.05], [0, 1e-3, -0.08], [2, 1e-3, 1e3], // t = 0, 50, −80, ~1e6
      [0, 1e3, 0], [-3, 1e3, 8e4], [0, 1e3, -8e4], [5, 1e3, 1e9], // t = 0, 80, −80, 1e6
      [0, 1, 1e6], [0, 1, -88], [1, 0.5, 30], [0, 1, -20],
    ].map(([m, b, x]) => [f(m), f(b), f(x)]);
    const got = values(() => gumbel(cases.map((c) => c[0]), cases.map((c) => c[1])).logProb(tf.tensor1d(cases.map((c) => c[2]))));
    cases.forEach(([m, b, x], i) => {
      expect(Math.abs(got[i] - lp64(x, m, b)), `G(${m}, ${b}) at ${x}: ${got[i]} vs ${lp64(x, m, b)}`).toBeLessThan(tolerance(x, m, b));
    });
    // t = −100: −e^100 ≈ −2.7e43 is beyond float32; the density rounds to 0 (log −∞), not NaN.
    expect(values(() => gumbel(0, 1).logProb(tf.tensor1d([-100, -1e6])))).toEqual([-Infinity, -Infinity]);
    expect(lp64(-100, 0, 1)).toBeLessThan(-3.4e38);
  });

  it('uses a known log scale where the compiler passes one', () => {
    // Deliberately inconsistent with the scale (1), to see which is used: −0 − 1 − 5.
    expect(values(() => new Gumbel(tf.scalar(0), tf.scalar(1), tf.scalar(5)).logProb(tf.scalar(0)))).toEqual([-6]);
  });
});

describe('Gumbel sampler', () => {
  it('fromNoise is the inverse CDF: exp(−e^−t) = u, in both tails of the noise', () => {
    const u = [1e-7, 1e-3, 0.2, 0.5, 0.9, 0.999, 1 - 1e-7].map(f);
    const [m, b] = [2, 3];
    const z = values(() => gumbel(m, b).fromNoise(tf.tensor1d(u)));
    u.forEach((v, i) => {
      // Relative to the smaller tail: F(z) against u below ½, 1 − F(z) against 1 − u above.
      const err = v < 0.5 ? Math.abs(cdf64(z[i], m, b) - v) / v : Math.abs(sf64(z[i], m, b) - (1 - v)) / (1 - v);
      expect(err, `u = ${v}: z = ${z[i]}`).toBeLessThan(1e-5);
    });
  });

  it('100k draws have mean m + γb and variance π²b²/6 (within 4 SE)', () => {
    const [m, b] = [-1.5, 0.8];
    const z = tf.tidy(() => gumbel(m, b).sample([N], 11).dataSync());
    const mean = m + EULER * b;
    within(meanAndStdErr(z), mean, 'mean');
    within(meanAndStdErr(Float64Array.from(z, (v) => (v - mean) ** 2)), (Math.PI ** 2 * b * b) / 6, 'variance');
    expectClose(values(() => gumbel(m, b).mean([3])), [mean, mean, mean]);
  });

  it('the empirical CDF of 100k draws follows exp(−e^−t) (Kolmogorov–Smirnov, α = 0.1%)', () => {
    const [m, b] = [0.5, 2];
    const z = Float64Array.from(tf.tidy(() => gumbel(m, b).sample([N], 12).dataSync())).sort();
    let ks = 0;
    z.forEach((v, i) => {
      const F = cdf64(v, m, b);
      ks = Math.max(ks, Math.abs((i + 1) / N - F), Math.abs(i / N - F));
    });
    // P(√N D > 1.95) ≈ 0.001 under the null.
    expect(ks * Math.sqrt(N)).toBeLessThan(1.95);
    // And the statistic is not blind: the same draws against a Gumbel with 5% more scale fail it.
    const off = z.reduce((worst, v, i) => Math.max(worst, Math.abs((i + 1) / N - cdf64(v, m, 1.05 * b))), 0);
    expect(off * Math.sqrt(N)).toBeGreaterThan(1.95);
  });

  it('gradients flow through the sample: d/dm and d/db of Σ z² match float64 finite differences and E-values', () => {
    const [m, b] = [0.7, 1.3];
    const noise = tf.randomUniform([N], 1e-7, 1 - 1e-7, 'float32', 13);
    const u = noise.dataSync();
    // Per-sample gradients of z_i² (parameters broadcast to [N]): their means estimate
    // d/dm E[z²] = 2(m + γb) and d/db E[z²] = d/db (π²b²/6 + (m + γb)²) = π²b/3 + 2γ(m + γb).
    const [dm, db] = tf.tidy(() => tf.grads((lt: tf.Tensor, st: tf.Tensor) => tf.sum(tf.square(new Gumbel(lt, st).fromNoise(noise))))(
      [tf.fill([N], m), tf.fill([N], b)]).map((g) => g.dataSync()));
    expect(dm.every(Number.isFinite) && db.every(Number.isFinite)).toBe(true);
    within(meanAndStdErr(dm), 2 * (m + EULER * b), 'd/dm');
    within(meanAndStdErr(db), (Math.PI ** 2 * b) / 3 + 2 * EULER * (m + EULER * b), 'd/db');
    // The first 20 samples' gradients against central differences of z(m, b)² in float64.
    const z64 = (mm: number, bb: number, i: number) => mm - bb * Math.log(-Math.log(u[i]));
    const h = 1e-4;
    for (let i = 0; i < 20; i++) {
      const fdm = (z64(m + h, b, i) ** 2 - z64(m - h, b, i) ** 2) / (2 * h);
      const fdb = (z64(m, b + h, i) ** 2 - z64(m, b - h, i) ** 2) / (2 * h);
      expect(Math.abs(dm[i] - fdm), `d/dm, sample ${i}`).toBeLessThan(1e-4 * (1 + Math.abs(fdm)));
      expect(Math.abs(db[i] - fdb), `d/db, sample ${i}`).toBeLessThan(1e-4 * (1 + Math.abs(fdb)));
    }
    noise.dispose();
  });
});

describe('KL(Gumbel ‖ Gumbel)', () => {
  /** The registered closed form for G(m1, b1) ‖ G(m2, b2), evaluated and read. */
  function klOf(m1: number | number[], b1: number | number[], m2: number | number[], b2: number | number[]): number[] {
    const fn = lookupKl('Gumbel', 'Gumbel');
    expect(fn, 'KL(Gumbel ‖ Gumbel) is registered').toBeTypeOf('function');
    return values(() => fn!(gumbel(m1, b1), gumbel(m2, b2)));
  }

  it('is in the closed-form table with its formula, and matches a value derived by hand', () => {
    expect(closedFormKl('Gumbel', 'Gumbel')?.formula).toContain('Γ(1 + β₁/β₂)');
    // G(0, 1) ‖ G(1, 2): r = ½, d = −½: log 2 − γ/2 − ½ + e^½ Γ(3/2) − 1
    //   = 0.6931471806 − 0.2886078325 − 0.5 + 1.6487212707 · 0.8862269255 − 1 = 0.3656805308.
    expect(klOf(0, 1, 1, 2)[0]).toBeCloseTo(0.3656805308, 6);
  });

  it('is exactly 0 for q = p, at random and extreme parameters', () => {
    const { m1, b1 } = randomParams(2);
    const ms = [...m1, 0, 0, 1e4, -1e4], bs = [...b1, 1e-3, 1e3, 1e-3, 1e3];
    expect(klOf(ms, bs, ms, bs).every((v) => v === 0)).toBe(true);
  });

  /**
   * Float32 tolerance: each term (log-scales, γr, d) to ~1e-7 relative, and the exponential term
   * e^x, x = lgamma(1 + r) − d, to ~1e-7 of x's terms (lgamma to 2e-7 relative, r ψ(1 + r) from r).
   */
  function tolerance(m1: number, b1: number, m2: number, b2: number): number {
    const r = b1 / b2, d = (m1 - m2) / b2, x = lgamma64(1 + r) - d;
    const linear = 1 + Math.abs(Math.log(b1)) + Math.abs(Math.log(b2)) + r + Math.abs(d);
    const exponential = Math.exp(x) * (1 + Math.abs(lgamma64(1 + r)) + Math.abs(d) + r * Math.abs(digamma64(1 + r)));
    return 2e-6 * (linear + exponential);
  }

  it('matches the float64 formula at 1000 random parameter pairs (scales 1e-3 … 1e3 both ways), +∞ beyond float32', () => {
    const { n, m1, b1, m2, b2 } = randomParams(3);
    const got = klOf(m1, b1, m2, b2);
    let compared = 0, overflowed = 0;
    for (let i = 0; i < n; i++) {
      const { kl, exponent } = kl64(m1[i], b1[i], m2[i], b2[i]);
      const what = `G(${m1[i]}, ${b1[i]}) ‖ G(${m2[i]}, ${b2[i]}): ${got[i]} vs ${kl}`;
      if (exponent > 89) {
        // e^89 = 4.5e38 > the largest float32: the KL overflows, to +∞ and never to NaN.
        expect(got[i], what).toBe(Infinity);
        overflowed++;
      } else if (exponent < 88) {
        expect(Math.abs(got[i] - kl), what).toBeLessThan(tolerance(m1[i], b1[i], m2[i], b2[i]));
        expect(got[i], what).toBeGreaterThanOrEqual(-1e-6);
        compared++;
      }
    }
    // Both kinds occur among the pairs (with these seeds: most finite, a third or so overflowing).
    expect(compared).toBeGreaterThan(500);
    expect(overflowed).toBeGreaterThan(50);
  });

  it('a guide 1e3 times wider than its prior at the same location overflows to +∞ (the KL is ~e^5912)', () => {
    expect(klOf(0, 1, 0, 1e-3)).toEqual([Infinity]);
    expect(kl64(0, 1, 0, f(1e-3)).exponent).toBeGreaterThan(5900);
  });

  /** Monte Carlo: mean and SE of log q(z) − log p(z) over N draws z ~ q (q's sampler, seeded). */
  function monteCarlo(m1: number, b1: number, m2: number, b2: number, seed: number) {
    return meanAndStdErr(tf.tidy(() => {
      const q = gumbel(m1, b1);
      const z = q.sample([N], seed);
      return tf.sub(q.logProb(z), gumbel(m2, b2).logProb(z)).dataSync();
    }));
  }

  // The log ratio's variance has a term e^(−2d) (Γ(1 + 2r) − Γ(1 + r)²), r = b1/b2: Monte Carlo
  // means something where r ≲ 2, or where d is so large that the term is negligible (then the
  // extreme ratios r = 1e3 and 1e6 are checked: the KL is d + γ(r − 1) − log r up to e^(−d)).
  // Elsewhere at r ≫ 1 the sample misses the tail that carries the KL; the float64 test covers it.
  const cases: [m1: number, b1: number, m2: number, b2: number][] = [
    [0, 1, 1, 2], // 0.3656805308
    [1.5, 0.5, -0.5, 1.2],
    [0, 2, -1, 1], // q twice as wide
    [-1, 1.7, -1.5, 0.9],
    [0, 1e-3, 0, 1], // narrow q: ≈ log 1e3 − γ
    [0, 1e-3, 0, 1e3], // narrow q, wide p: ≈ log 1e6 − γ
    [0, 1e-3, 2e-3, 2e-3], // both tiny
    [500, 1e3, -300, 2e3], // both huge, far apart
    [8000, 1e3, 0, 1], // q 1e3 times wider, far to the right (d = 8000)
    [3e4, 1e3, 0, 1e-3], // q 1e6 times wider, d = 3e7
    [0, 1, 3, 1], // p to the right: the e^(−d) Γ(1 + r) term dominates (e³)
  ];
  it.each(cases.map((c, i) => [i, ...c]))('case %i: G(%f, %f) ‖ G(%f, %f) agrees with Monte Carlo within 3 SE', (i, m1, b1, m2, b2) => {
    const [exact] = klOf(m1, b1, m2, b2);
    const want = kl64(f(m1), f(b1), f(m2), f(b2)).kl;
    expect(Math.abs(exact - want), `closed form ${exact} vs float64 ${want}`).toBeLessThan(tolerance(f(m1), f(b1), f(m2), f(b2)));
    const mc = monteCarlo(m1, b1, m2, b2, 500 + i);
    expect(Math.abs(mc.mean - exact), `MC ${mc.mean} ± ${mc.stderr}, closed form ${exact}`).toBeLessThan(3 * mc.stderr + 1e-6 * Math.max(1, exact));
    // The band means something: at most ±3% of the value.
    expect(mc.stderr).toBeLessThan(0.01 * Math.max(1, Math.abs(exact)));
  });

  it('has finite gradients in the guide’s parameters that match float64 finite differences', () => {
    const [m1, b1, m2, b2] = [0.4, 0.7, -0.2, 1.5];
    const fn = lookupKl('Gumbel', 'Gumbel')!;
    const [gm, gb] = tf.tidy(() => tf.grads((l: tf.Tensor, s: tf.Tensor) => fn(new Gumbel(l, s), gumbel(m2, b2)))([tf.scalar(m1), tf.scalar(b1)])
      .map((g) => g.dataSync()[0]));
    const h = 1e-5;
    const fdm = (kl64(m1 + h, b1, m2, b2).kl - kl64(m1 - h, b1, m2, b2).kl) / (2 * h);
    const fdb = (kl64(m1, b1 + h, m2, b2).kl - kl64(m1, b1 - h, m2, b2).kl) / (2 * h);
    expect(Math.abs(gm - fdm), `d/dm ${gm} vs ${fdm}`).toBeLessThan(1e-5);
    expect(Math.abs(gb - fdb), `d/db ${gb} vs ${fdb}`).toBeLessThan(1e-5);
  });
});

describe('Gumbel in the family table', () => {
  it('is built by name from loc and scale, as the catalog describes it', () => {
    const [loc, scale] = [tf.scalar(0.5), tf.scalar(2)];
    const d = makeDistribution('Gumbel', { loc, scale });
    expect(d).toBeInstanceOf(Gumbel);
    expect(d.eventRank).toBe(0);
    expect(d.noiseKind).toBe(FAMILIES.Gumbel.noise);
    expect(d.reparameterized).toBe(FAMILIES.Gumbel.reparameterized);
    expect(FAMILIES.Gumbel.parameterizations).toEqual([[{ name: 'loc', constraint: 'real' }, { name: 'scale', constraint: 'positive' }]]);
    expect(FAMILIES.Gumbel.support).toBe('real');
    expect(FAMILIES.Gumbel.sampler).toContain('log(−log u)');
    tf.dispose([loc, scale]);
  });

  it('logProb, mean, sample, fromNoise, the KL and their gradients leave no tensor behind', () => {
    const [loc, scale, x] = [tf.tensor1d([0.2, -1, 3]), tf.tensor1d([1.5, 0.1, 20]), tf.tensor1d([0.1, 0.5, 0.9])];
    const noise = drawStandardNoise('uniform', [3], 2);
    const kl = lookupKl('Gumbel', 'Gumbel')!;
    const before = tf.memory().numTensors;
    const d = new Gumbel(loc, scale);
    const prior = gumbel(0, 1);
    const out = [d.logProb(x), d.mean([3]), d.sample([3], 1), d.fromNoise(noise), kl(d, prior)];
    const grads = tf.grads((l: tf.Tensor, s: tf.Tensor) => tf.sum(kl(new Gumbel(l, s), prior)))([loc, scale]);
    const constants = 2; // the prior's loc and scale
    expect(tf.memory().numTensors).toBe(before + out.length + grads.length + constants);
    tf.dispose([...out, ...grads, prior.loc, prior.scale, loc, scale, x, noise]);
  });
});

describe('a model with a Gumbel prior, guide and likelihood', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vae-gumbel-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const source = `model tiny_gumbel {
  data   x : binary[784]
  latent z : real[4]
  net encoder(x) -> (mu: real[4], log_sigma: real[4])      { dense 32 relu }
  net decoder(z) -> (loc: real[784], log_scale: real[784]) { dense 32 relu }
  prior      z ~ Gumbel(0, 1)
  likelihood x ~ Gumbel(decoder(z).loc, exp(decoder(z).log_scale))
  guide      z ~ Gumbel(encoder(x).mu, exp(encoder(x).log_sigma))
}
train {
  data      mnist(binarize = dynamic)
  optimizer adam(lr = 1e-3)
  batch     32
  epochs    4
  seed      1
}
`;

  it('checks with no warning, trains 20 steps with finite, falling losses, and samples its prior', async () => {
    const r = compile(source);
    if (!r.ok) throw new Error(r.errors.map((e) => e.rendered).join('\n'));
    expect(r.model.warnings).toEqual([]);
    // 4 epochs of 5 steps of 32 examples.
    const { metrics } = await r.model.fit({ limit: 160, testLimit: 100, out: join(dir, 'run') });
    expect(metrics).toHaveLength(4);
    for (const m of metrics) expect([m.train_loss, m.test_loss, m.test_kl].every(Number.isFinite), JSON.stringify(m)).toBe(true);
    expect(metrics[3].train_loss).toBeLessThan(metrics[0].train_loss);
    expect(metrics[3].test_loss).toBeLessThan(metrics[0].test_loss);
    // Prior draws of z ~ Gumbel(0, 1): mean γ within 4 SE, through the compiled model's sampler.
    const { latents, means } = await r.model.sample(2000, 7);
    within(meanAndStdErr(latents.z.values), EULER, 'prior mean');
    expect(Array.from(means.values).every(Number.isFinite)).toBe(true);
  });

  it('`vae explain` says the KL is in closed form, Gumbel‖Gumbel', () => {
    const file = join(dir, 'tiny_gumbel.vae');
    writeFileSync(file, source);
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'explain', file], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('KL(Gumbel(encoder(x).mu, exp(encoder(x).log_sigma)) ‖ Gumbel(0, 1))  [closed form]');
    expect(r.stdout).toContain('kl(z):  closed form Gumbel‖Gumbel');
    expect(r.stdout).toContain('Monte Carlo KL terms: none');
  });
});
