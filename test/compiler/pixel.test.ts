/**
 * The checker and 8-bit data: `pixel` data with DiscretizedLogistic and
 * DiscretizedLogisticMixture (parameters [..., K], the 'mixture' shape), which are likelihoods
 * only; each mistake one error with its code at its place.
 */
import { describe, expect, it } from 'vitest';
import { at, checked, errorsOf, rendered } from './helpers.js';

/** A model of 8-bit images [28, 28, 1]; line 5 is the decoder, 7 the likelihood. */
const PIXELS = (likelihood: string, decoderOutputs = 'loc: real[28, 28, 1], log_scale: real[28, 28, 1]', more = '') => `model px {
  data   x : pixel[28, 28, 1]
  latent z : real[8]
  net encoder(x) -> (mu: real[8], log_sigma: real[8]) { dense 64 relu }
  net decoder(z) -> (${decoderOutputs}) { dense 64 relu }${more}
  prior      z ~ Normal(0, 1)
  likelihood x ~ ${likelihood}
  guide      z ~ Normal(encoder(x).mu, exp(encoder(x).log_sigma))
}
`;
const MIXTURE_OUTPUTS = (k: number[]) => `logits: real[28, 28, 1, ${k[0]}], locs: real[28, 28, 1, ${k[1]}], log_scales: real[28, 28, 1, ${k[2]}]`;
const MIXTURE = 'DiscretizedLogisticMixture(decoder(z).logits, decoder(z).locs, exp(decoder(z).log_scales))';

const errorsAt = (text: string) => {
  const errors = errorsOf(text);
  return { where: errors.map(at), why: rendered(text, errors), messages: errors.map((d) => d.message) };
};

describe('pixel data and the 8-bit likelihoods', () => {
  it('accepts DiscretizedLogistic for pixel data of any shape', () => {
    const m = checked(PIXELS('DiscretizedLogistic(decoder(z).loc, exp(decoder(z).log_scale))'));
    expect(m.data[0]).toMatchObject({ type: 'pixel', shape: [28, 28, 1], size: 784 });
    expect(m.likelihoods[0].family).toBe('DiscretizedLogistic');
    checked(PIXELS('DiscretizedLogistic(decoder(z).loc, 0.05)').replace('pixel[28, 28, 1]', 'pixel[784]').replace(/real\[28, 28, 1\]/g, 'real[784]'));
  });

  it('accepts a mixture with parameters [28, 28, 1, K], and logits [K] shared by every pixel', () => {
    expect(checked(PIXELS(MIXTURE, MIXTURE_OUTPUTS([10, 10, 10]))).likelihoods[0].family).toBe('DiscretizedLogisticMixture');
    const shared = PIXELS('DiscretizedLogisticMixture(w, decoder(z).locs, exp(decoder(z).log_scales))',
      'locs: real[28, 28, 1, 5], log_scales: real[28, 28, 1, 5]', '\n  param  w : real[5]');
    expect(checked(shared).params[0]).toMatchObject({ name: 'w', shape: [5] });
  });

  it('rejects them for data that is not pixel, and Bernoulli for pixel data (VAE2011 at the family)', () => {
    const unit = PIXELS('DiscretizedLogistic(decoder(z).loc, exp(decoder(z).log_scale))').replace('pixel[28, 28, 1]', 'unit[28, 28, 1]');
    expect(errorsAt(unit).where).toEqual(['VAE2011 7:18']);
    expect(errorsAt(PIXELS('Bernoulli(logits = decoder(z).loc)')).where).toEqual(['VAE2011 7:18']);
  });

  it('rejects mixture parameters of another K, another leading shape or without the component axis (VAE2010 at the argument)', () => {
    const k = errorsAt(PIXELS(MIXTURE, MIXTURE_OUTPUTS([10, 4, 10])));
    expect(k.where, k.why).toEqual(['VAE2010 7:64']);
    expect(k.messages[0]).toContain('have shape [28, 28, 1, 10]');
    const lead = errorsAt(PIXELS(MIXTURE, 'logits: real[28, 28, 5], locs: real[28, 28, 1, 5], log_scales: real[28, 28, 1, 5]'));
    expect(lead.where, lead.why).toEqual(['VAE2010 7:45']);
    const scalar = errorsAt(PIXELS('DiscretizedLogisticMixture(0, decoder(z).locs, exp(decoder(z).log_scales))', 'locs: real[28, 28, 1, 5], log_scales: real[28, 28, 1, 5]'));
    expect(scalar.where, scalar.why).toEqual(['VAE2010 7:45']);
  });

  it('asks for positive scales (VAE2012)', () => {
    const r = errorsAt(PIXELS('DiscretizedLogisticMixture(decoder(z).logits, decoder(z).locs, decoder(z).log_scales)', MIXTURE_OUTPUTS([3, 3, 3])));
    expect(r.where, r.why).toEqual(['VAE2012 7:81']);
  });

  it('are likelihoods only: as the guide or the prior of a latent, one error at the family (VAE2011)', () => {
    const latent = `model m {
  data   x : pixel[4]
  latent z : pixel[4]
  net enc(x) -> (loc: real[4]) { }
  prior      z ~ PRIOR
  likelihood x ~ DiscretizedLogistic(z / 255, 0.1)
  guide      z ~ GUIDE
}
`;
    const asGuide = errorsAt(latent.replace('PRIOR', 'Normal(0, 1)').replace('GUIDE', 'DiscretizedLogistic(enc(x).loc, 0.1)'));
    expect(asGuide.where, asGuide.why).toEqual(['VAE2011 7:18']);
    expect(asGuide.messages[0]).toContain('DiscretizedLogistic is a likelihood for pixel data; it cannot be the guide');
    const asPrior = errorsAt(latent.replace('PRIOR', 'DiscretizedLogisticMixture(0, 0, 1)').replace('GUIDE', 'Normal(enc(x).loc, 1)'));
    expect(asPrior.where.filter((w) => w.startsWith('VAE2011 5:')), asPrior.why).toEqual(['VAE2011 5:18']);
    expect(asPrior.messages.join(' ')).toContain('it cannot be the prior');
  });
});
