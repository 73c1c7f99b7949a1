/** `vae check --pedantic`'s rules, one model per rule: the code, the place and what the message says. */
import { describe, expect, it } from 'vitest';
import { checkModel } from '../../src/compiler/index.js';
import { pedanticWarnings } from '../../src/compiler/pedantic.js';
import type { Diagnostic } from '../../src/compiler/source.js';
import { MODEL_FILES } from './examples.js';

const MNIST = MODEL_FILES.find((f) => f.name === 'models/mnist.vae')!.text;

function warnings(text: string): Diagnostic[] {
  const r = checkModel({ name: 'm.vae', text });
  if (!r.ok) throw new Error(`does not check: ${r.diagnostics.map((d) => d.message).join(' ')}`);
  return pedanticWarnings(r.value);
}

/** The text at a warning's span. */
const under = (text: string, d: Diagnostic) => text.slice(d.span.start.offset, d.span.end.offset);

/** mnist.vae with each replacement of [from, to] made. */
const mnistWith = (...edits: [string, string][]) => edits.reduce((t, [from, to]) => {
  expect(t).toContain(from);
  return t.replace(from, to);
}, MNIST);

describe('pedantic warnings', () => {
  it('find nothing in mnist.vae', () => {
    expect(warnings(MNIST)).toEqual([]);
  });

  it('VAE4001: a likelihood scale computed by a network without a floor, not one with a floor', () => {
    const text = mnistWith(['(logits: real[784])', '(mean: real[784], s: real[784])'],
      ['Bernoulli(logits = decoder(z).logits)', 'Normal(decoder(z).mean, exp(decoder(z).s))'], ['binary[784]', 'unit[784]'], ['binarize = dynamic', 'binarize = none']);
    const [w] = warnings(text);
    expect(w.code).toBe('VAE4001');
    expect(under(text, w)).toBe('exp(decoder(z).s)');
    expect(w.message).toMatch(/network 'decoder' with no floor.*softplus\(\.\.\.\) \+ 1e-3/);
    expect(warnings(text.replace('exp(decoder(z).s)', 'softplus(decoder(z).s) + 1e-3'))).toEqual([]);
  });

  it('VAE4002: a network output, a param and a const that nothing reads', () => {
    const text = mnistWith(['log_sigma: real[20])', 'log_sigma: real[20], h: real[5])'],
      ['latent z : real[20]', 'latent z : real[20]\n  param  unused_p : real[3]\n  const  unused_c = 2\n  const  used_c = 1'],
      ['Normal(0, 1)', 'Normal(0, used_c)']);
    const found = warnings(text);
    expect(found.map((w) => [w.code, under(text, w)])).toEqual([['VAE4002', 'unused_p'], ['VAE4002', 'unused_c'], ['VAE4002', 'h']]);
    expect(found[2].message).toBe("Output 'h' of network 'encoder' is never used; its head's weights are trained for nothing.");
  });

  it('VAE4003: a Monte Carlo KL that one word makes closed form; none when no one-word change helps', () => {
    const text = mnistWith(['guide      z ~ Normal(', 'guide      z ~ Logistic(']);
    const [w] = warnings(text);
    expect(w.code).toBe('VAE4003');
    expect(under(text, w)).toMatch(/^Logistic\(/);
    expect(w.message).toContain('KL(Logistic ‖ Normal)');
    expect(w.message).toContain('a guide Normal(...) with the same arguments');
    const planar = mnistWith(['exp(encoder(x).log_sigma))', 'exp(encoder(x).log_sigma)) then planar(2)']);
    expect(warnings(planar)).toEqual([]);
  });

  it('VAE4004: free bits at or above the most a discrete dimension\'s KL can be, and a warm-up as long as training', () => {
    const sf = MODEL_FILES.find((f) => f.name === 'models/mnist_discrete_sf.vae')!.text;
    const text = sf.replace('  seed      1', '  seed      1\n  free_bits 0.7');
    const found = warnings(text).filter((w) => w.code === 'VAE4004'); // 0.7 × 50 dimensions is also VAE4006's
    expect(found).toHaveLength(1);
    expect(under(text, found[0])).toBe('free_bits 0.7');
    expect(found[0].message).toContain('(0.693 nats)');
    expect(warnings(sf.replace('  seed      1', '  seed      1\n  free_bits 0.6')).map((w) => w.code)).not.toContain('VAE4004');
    const warm = mnistWith(['  seed      1', '  seed      1\n  kl_warmup 10']);
    expect(warnings(warm).map((w) => [w.code, under(warm, w)])).toEqual([['VAE4004', 'kl_warmup 10']]);
  });

  it('VAE4005: Adam with lr 1e-2 or more', () => {
    const text = mnistWith(['adam(lr = 1e-3)', 'adam(lr = 1e-2)']);
    expect(warnings(text).map((w) => [w.code, under(text, w)])).toEqual([['VAE4005', 'optimizer adam(lr = 1e-2)']]);
    expect(warnings(mnistWith(['adam(lr = 1e-3)', 'adam(lr = 9e-3)']))).toEqual([]);
  });

  it('VAE4006: free bits times dimensions above log N of the data set', () => {
    const text = mnistWith(['  seed      1', '  seed      1\n  free_bits 1']);
    const [w] = warnings(text);
    expect(w.code).toBe('VAE4006');
    expect(w.message).toMatch(/free_bits 1 × 20 dimensions of 'z' = 20\.0 nats, above the 11\.0 nats \(log 60,000\)/);
    expect(warnings(mnistWith(['  seed      1', '  seed      1\n  free_bits 0.5']))).toEqual([]);
  });

  it('VAE4007: an activation on the layer whose channels are the outputs, also through upsampling; none before a dense head', () => {
    const conv = MODEL_FILES.find((f) => f.name === 'models/mnist_conv.vae')!.text;
    expect(warnings(conv)).toEqual([]);
    const text = conv.replace('conv_transpose 1 k4 s2 same\n', 'conv_transpose 1 k4 s1 same relu\n    upsample 2\n');
    const [w] = warnings(text);
    expect([w.code, under(text, w)]).toEqual(['VAE4007', 'conv_transpose 1 k4 s1 same relu']);
    expect(w.message).toContain("The outputs of 'decoder' (logits) are the channels of its last layer, so they pass through its relu: they can only take values ≥ 0.");
    // The encoder's conv layers end in relu, but its outputs come from the linear dense head after flatten.
    expect(warnings(conv.replace('conv 64 k4 s2 same relu\n    flatten', 'conv 64 k4 s2 same relu\n    flatten\n    dense 100 tanh'))).toEqual([]);
  });
});
