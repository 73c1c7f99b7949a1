/**
 * Bits per dimension for 8-bit data: which models get them (the plan's program info names the
 * `pixel` images variable, its size, and whether the one likelihood is a probability of the 256
 * levels), the formula NLL / (D · ln 2), the epoch line, how the data set feeds `pixel` data
 * (grey levels unscaled) and how pictures show it.
 * `vae train` and `vae eval` on a pixel model are in test/cli.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { lower } from '../../src/compiler/lower.js';
import { bitsPerDimension, imageMaximum, type ProgramInfo } from '../../src/core/program-info.js';
import { inUnitRange } from '../../src/runtime/image.js';
import { formatEpoch, type EpochMetrics } from '../../src/runtime/train.js';
import { checked, errorsOf } from '../compiler/helpers.js';

const model = (data: string, likelihood: string, dataset = 'mnist(binarize = none)') => `model m {
  data   x : ${data}
  latent z : real[4]
  net enc(x) -> (mu: real[4]) { dense 8 relu }
  net dec(z) -> (a: real[28, 28, 1], b: real[28, 28, 1]) { dense 8 relu }
  prior      z ~ Normal(0, 1)
  likelihood x ~ ${likelihood}
  guide      z ~ Normal(enc(x).mu, 1)
}
train {
  data ${dataset}
}
`;
const LOGISTIC = 'DiscretizedLogistic(dec(z).a, exp(dec(z).b))';
const infoOf = (text: string) => lower(checked(text)).info;

describe('which models report bits per dimension', () => {
  it('the plan names the pixel variable of the likelihood and its size D (all its dimensions)', () => {
    expect(infoOf(model('pixel[28, 28, 1]', LOGISTIC)).pixels).toEqual({ variable: 'x', size: 784, bitsPerDim: true });
    const mixture = model('pixel[28, 28, 1]', 'DiscretizedLogisticMixture(dec(z).a, dec(z).a, exp(dec(z).b))').replace(/real\[28, 28, 1\]/g, 'real[28, 28, 1, 3]');
    expect(infoOf(mixture).pixels).toEqual({ variable: 'x', size: 784, bitsPerDim: true });
  });

  it('no other model does, nor a Normal over pixel values (a density, not a probability of the 256 levels)', () => {
    expect(infoOf(model('unit[28, 28, 1]', 'ContinuousBernoulli(logits = dec(z).a)'))).not.toHaveProperty('pixels');
    expect(infoOf(model('binary[28, 28, 1]', 'Bernoulli(logits = dec(z).a)', 'mnist(binarize = dynamic)'))).not.toHaveProperty('pixels');
    const normal = infoOf(model('pixel[28, 28, 1]', 'Normal(dec(z).a, exp(dec(z).b))'));
    expect(normal.pixels).toEqual({ variable: 'x', size: 784, bitsPerDim: false });
    expect(bitsPerDimension(normal, 1000)).toBeUndefined();
    expect(imageMaximum(normal)).toBe(255); // still 8-bit values in the pictures
  });
});

describe('the formula and the epoch line', () => {
  const info = (pixels?: ProgramInfo['pixels']): ProgramInfo => ({ name: 'm', data: [], images: 'x', latents: [], ...(pixels ? { pixels } : {}) });

  it('is NLL / (D · ln 2): D · ln 2 nats per example are 1 bit per dimension', () => {
    expect(bitsPerDimension(info({ variable: 'x', size: 784, bitsPerDim: true }), 3 * 784 * Math.LN2)).toBeCloseTo(3, 12);
    expect(bitsPerDimension(info({ variable: 'x', size: 3072, bitsPerDim: true }), 3072 * Math.log(256))).toBeCloseTo(8, 12);
    expect(bitsPerDimension(info({ variable: 'x', size: 784, bitsPerDim: false }), 100)).toBeUndefined();
    expect(bitsPerDimension(info(), 100)).toBeUndefined();
  });

  it('vae train’s epoch line shows test_bpd when there is one', () => {
    const m: EpochMetrics = { epoch: 2, train_loss: 1000, test_loss: 900, test_rec: 880, test_kl: 20, test_terms: {}, seconds: 1.5, examples_per_second: 400 };
    expect(formatEpoch(m, 10)).not.toMatch(/bits/);
    expect(formatEpoch({ ...m, test_bpd: 1.65617 }, 10)).toBe('epoch  2/10  train 1000.00  test 900.00 (rec 880.00, kl 20.00)  1.656 bits/dim  1.5 s  400 ex/s');
  });
});

describe('8-bit data from a data set of grey levels', () => {
  it('takes every data set of grey levels for a pixel variable, and the choice records the type the feed reads', () => {
    for (const source of ['mnist(binarize = none)', 'mnist', 'fashion_mnist', 'fashion_mnist(binarize = none)']) {
      expect(checked(model('pixel[28, 28, 1]', LOGISTIC, source)).train.dataset).toMatchObject({ type: 'pixel', shape: [28, 28, 1] });
    }
    const frey = model('pixel[28, 20, 1]', LOGISTIC, 'frey_face').replace(/real\[28, 28, 1\]/g, 'real[28, 20, 1]');
    expect(checked(frey).train.dataset).toMatchObject({ name: 'frey_face', type: 'pixel' });
    expect(checked(model('unit[28, 28, 1]', 'ContinuousBernoulli(logits = dec(z).a)')).train.dataset).toMatchObject({ type: 'unit' });
  });

  it('refuses binarized data for a pixel variable, saying where 8-bit values come from (VAE2011)', () => {
    for (const name of ['mnist', 'fashion_mnist']) {
      const errors = errorsOf(model('pixel[28, 28, 1]', LOGISTIC, `${name}(binarize = dynamic)`));
      expect(errors.map((d) => d.code)).toEqual(['VAE2011']);
      expect(errors[0].message).toContain(`yields binary values, but 'x' is declared pixel. 8-bit values are grey levels: use ${name}(binarize = none).`);
    }
    const files = errorsOf(model('pixel[28, 28, 1]', LOGISTIC, 'npy(train = "x.npy", binarize = dynamic)'));
    expect(files.map((d) => d.code)).toEqual(['VAE2011']);
    expect(files[0].message).toContain("binarize makes binary values (0 or 1), but 'x' is declared pixel");
  });

  it('pictures show 8-bit values divided by 255', () => {
    const pixel = infoOf(model('pixel[28, 28, 1]', LOGISTIC));
    expect(imageMaximum(pixel)).toBe(255);
    expect(Array.from(inUnitRange(Float32Array.from([0, 51, 255]), imageMaximum(pixel)))).toEqual([0, Math.fround(0.2), 1]);
    const unit = infoOf(model('unit[28, 28, 1]', 'ContinuousBernoulli(logits = dec(z).a)'));
    const values = Float32Array.from([0, 0.5, 1]);
    expect(inUnitRange(values, imageMaximum(unit))).toBe(values);
  });
});
