/**
 * Networks as the checker lays them out (compiler/check-net.ts) and lowering lists them: every
 * layer's shapes, the names of the layers with weights, the input shape that the calls fix, how
 * the outputs are cut (a dense head after a vector, the channels of a final image), and one error
 * at the layer for each shape that does not fit. Expected shapes are worked out by hand here, from
 * the formulas in core/layers.ts's header, not by calling its functions.
 */
import { describe, expect, it } from 'vitest';
import type { NetLayer } from '../../src/core/layers.js';
import type { NetInfo } from '../../src/compiler/checked.js';
import { lower } from '../../src/compiler/lower.js';
import { at, checked, diagnosticsOf, errorsOf, rendered } from './helpers.js';

/** A model whose encoder reads x of type `x` with `encoder` as its body, and whose decoder gives `logits` with `decoder`. */
function model(o: { x?: string; z?: string; encoder?: string; decoder?: string; logits?: string; mu?: string; train?: string } = {}): string {
  const z = o.z ?? 'real[20]';
  const mu = o.mu ?? z.slice('real'.length);
  return `model m {
  data x : ${o.x ?? 'binary[28, 28, 1]'}
  latent z : ${z}
  net encoder(x) -> (mu: real${mu}, log_sigma: real${mu}) {
${o.encoder ?? '    conv 8 k3 s2 relu\n    flatten'}
  }
  net decoder(z) -> (logits: real${o.logits ?? '[28, 28, 1]'}) {
${o.decoder ?? '    dense 784\n    reshape [28, 28, 1]'}
  }
  prior z ~ Normal(0, 1)
  likelihood x ~ Bernoulli(logits = decoder(z).logits)
  guide z ~ Normal(encoder(x).mu, exp(encoder(x).log_sigma))
}
${o.train ?? ''}`;
}
// Lines of `model()`: 5 is the encoder's first layer, 9 the decoder's first.

const net = (text: string, name: string): NetInfo => checked(text).nets.find((n) => n.name === name)!;
/** Each layer as `kind in → out` (a residual block's layers in braces after it). */
const shapes = (layers: NetLayer[]): string[] => layers.flatMap((l) => [
  `${'name' in l ? `${l.name} ` : ''}${l.kind} [${l.in.join(', ')}] → [${l.out.join(', ')}]`,
  ...(l.kind === 'residual' ? ['{', ...shapes(l.layers), '}'] : []),
]);

describe('the layout of a network', () => {
  it('takes the shapes through conv, pool, upsample, conv_transpose, flatten and reshape', () => {
    const enc = net(model({ encoder: [
      'conv 16 k5 valid relu', // ⌊(28 − 5) / 1⌋ + 1 = 24
      'conv 16 k3 s2 same', //    ⌈24 / 2⌉ = 12
      'pool max 5', //            ⌊12 / 5⌋ = 2 (the remainder of 2 dropped)
      'upsample 3', //            2 · 3 = 6
      'conv_transpose 4 k3 s2 valid', // (6 − 1) · 2 + 3 = 13
      'conv_transpose 2 k4 s3 same', //  13 · 3 = 39
      'flatten', //               39 · 39 · 2 = 3042
      'reshape [2, 1521]',
      'dense 10 tanh',
    ].map((l) => `    ${l}`).join('\n') }), 'encoder');
    expect(enc.inputShape).toEqual([28, 28, 1]);
    expect(enc.split).toBe('flat');
    expect(shapes(enc.layers)).toEqual([
      'hidden0 conv [28, 28, 1] → [24, 24, 16]', 'hidden1 conv [24, 24, 16] → [12, 12, 16]', 'pool [12, 12, 16] → [2, 2, 16]',
      'upsample [2, 2, 16] → [6, 6, 16]', 'hidden2 conv_transpose [6, 6, 16] → [13, 13, 4]', 'hidden3 conv_transpose [13, 13, 4] → [39, 39, 2]',
      'flatten [39, 39, 2] → [3042]', 'reshape [3042] → [2, 1521]', 'hidden4 dense [2, 1521] → [10]',
    ]);
    expect(enc.layers[0]).toMatchObject({ filters: 16, kernel: 5, stride: 1, padding: 'valid', activation: 'relu' });
    expect(enc.layers[1]).toMatchObject({ stride: 2, padding: 'same', activation: 'linear' });
    expect(enc.layers[8]).toMatchObject({ inputs: 3042, units: 10 });
  });

  it('names the layers with weights in order of appearance, a residual block\'s included, and adds the head `out` after a vector', () => {
    const enc = net(model({ encoder: '    conv 8 k3 relu\n    residual {\n      conv 8 k3 relu\n      residual { conv 8 k1 }\n    }\n    pool avg 2\n    flatten\n    dense 32 relu' }), 'encoder');
    expect(shapes(enc.layers)).toEqual([
      'hidden0 conv [28, 28, 1] → [28, 28, 8]', 'residual [28, 28, 8] → [28, 28, 8]', '{',
      'hidden1 conv [28, 28, 8] → [28, 28, 8]', 'residual [28, 28, 8] → [28, 28, 8]', '{', 'hidden2 conv [28, 28, 8] → [28, 28, 8]', '}', '}',
      'pool [28, 28, 8] → [14, 14, 8]', 'flatten [14, 14, 8] → [1568]', 'hidden3 dense [1568] → [32]',
    ]);
    const plan = lower(checked(model({ encoder: '    conv 8 k3 relu\n    residual { conv 8 k3 relu  conv 8 k1 }\n    flatten' })));
    const names = plan.weights.filter((w) => w.kind === 'tensor' && w.name.startsWith('encoder/')).map((w) => w.kind === 'tensor' && `${w.name} [${w.shape.join(', ')}]`);
    // conv w is [k, k, C_in, C_out]; the head reads the 28 · 28 · 8 = 6272 flattened values.
    expect(names).toEqual([
      'encoder/hidden0/w [3, 3, 1, 8]', 'encoder/hidden0/b [8]', 'encoder/hidden1/w [3, 3, 8, 8]', 'encoder/hidden1/b [8]',
      'encoder/hidden2/w [1, 1, 8, 8]', 'encoder/hidden2/b [8]', 'encoder/out/w [6272, 40]', 'encoder/out/b [40]',
    ]);
  });

  it('initializes conv and conv_transpose weights with PyTorch\'s fan-in: C_in · k² and C_out · k²', () => {
    const plan = lower(checked(model({ decoder: '    dense 1568\n    reshape [14, 14, 8]\n    conv_transpose 3 k4 s2 same\n    conv 1 k5 same' })));
    const bound = (name: string) => plan.weights.find((w) => w.kind === 'tensor' && w.name === name)!;
    expect(bound('decoder/hidden1/w')).toMatchObject({ shape: [4, 4, 3, 8], init: { kind: 'uniform', bound: 1 / Math.sqrt(3 * 16) } });
    expect(bound('decoder/hidden1/b')).toMatchObject({ shape: [3], init: { kind: 'uniform', bound: 1 / Math.sqrt(3 * 16) } });
    expect(bound('decoder/hidden2/w')).toMatchObject({ shape: [5, 5, 3, 1], init: { kind: 'uniform', bound: 1 / Math.sqrt(3 * 25) } });
    expect(plan.weights.some((w) => w.kind === 'tensor' && w.name === 'decoder/out/w')).toBe(false);
  });

  it('cuts the outputs of a final image along its channels, each output [H, W, ...] taking product(rest) of them', () => {
    const text = model({ z: 'real[7, 7, 2]', mu: '[7, 7, 2]', encoder: '    conv 8 k4 s4 relu\n    conv 4 k1' });
    const enc = net(text, 'encoder');
    expect(enc.split).toBe('channels');
    const plan = lower(checked(text)).networks.find((n) => n.name === 'encoder')!;
    expect(plan).toMatchObject({ split: 'channels', inputShape: [28, 28, 1], inputWidth: 784 });
    expect(plan.layers.map((l) => l.kind)).toEqual(['conv', 'conv']); // no head
    // [28, 28] takes one channel of a 3-channel image, [28, 28, 2] the other two
    const three = lower(checked(`model m {
  data x : unit[28, 28]
  latent z : real[8]
  net encoder(x) -> (mu: real[8], log_sigma: real[8]) { dense 64 relu }
  net decoder(z) -> (a: real[28, 28], b: real[28, 28, 2]) { dense 196  reshape [14, 14, 1]  conv_transpose 3 k2 s2 }
  prior z ~ Normal(0, 1)
  likelihood x ~ Normal(sigmoid(decoder(z).a), 1)
  guide z ~ Normal(encoder(x).mu, exp(encoder(x).log_sigma))
}`)).networks.find((n) => n.name === 'decoder')!;
    expect(three).toMatchObject({ split: 'channels', outputs: [{ name: 'a', shape: [28, 28], size: 784 }, { name: 'b', shape: [28, 28, 2], size: 1568 }] });
    expect(three.layers[three.layers.length - 1].out).toEqual([28, 28, 3]);
  });

  it('takes the input shape from a typed input, else from the first call; several inputs side by side; a scalar as [1]', () => {
    const typed = net(model({ x: 'binary[784]', logits: '[784]', decoder: '    dense 64 relu', encoder: '    conv 4 k3 relu\n    flatten' })
      .replace('net encoder(x)', 'net encoder(image: binary[28, 28, 1])'), 'encoder');
    expect([typed.inputShape, typed.inputWidth]).toEqual([[28, 28, 1], 784]);
    const m = checked(`model m {
  data x : binary[28, 28, 1]
  latent z : real[20]
  param s : real = 0
  net encoder(x, s) -> (mu: real[20], log_sigma: real[20]) { dense 64 relu }
  net decoder(z) -> (logits: real[28, 28, 1]) { dense 784  reshape [28, 28, 1] }
  net scale(s) -> (v: real) { dense 4 }
  prior z ~ Normal(0, exp(scale(s)))
  likelihood x ~ Bernoulli(logits = decoder(z).logits)
  guide z ~ Normal(encoder(x, s).mu, exp(encoder(x, s).log_sigma))
}`);
    const by = (name: string) => m.nets.find((n) => n.name === name)!;
    expect([by('encoder').inputShape, by('encoder').layers[0]]).toEqual([[785], expect.objectContaining({ in: [785], inputs: 785 })]);
    expect(by('scale').inputShape).toEqual([1]);
  });

  it('accepts image-shaped data for the mnist data set (784 values) and image-shaped latents', () => {
    const m = checked(model({ z: 'real[7, 7, 4]', mu: '[7, 7, 4]', encoder: '    pool max 4\n    conv 8 k1', decoder: '    upsample 4\n    conv 1 k3', train: 'train {\n  data mnist(binarize = dynamic)\n}\n' }));
    expect(m.data[0]).toMatchObject({ shape: [28, 28, 1], size: 784 });
    expect(m.latents[0]).toMatchObject({ shape: [7, 7, 4], size: 196 });
  });
});

describe('layout errors, each at the layer with the shapes and the arithmetic', () => {
  const one = (text: string) => {
    const errors = errorsOf(text);
    expect(errors, rendered(text, errors)).toHaveLength(1);
    return { where: at(errors[0]), message: errors[0].message };
  };

  it('conv, pool and upsample need an image', () => {
    expect(one(model({ x: 'binary[784]', logits: '[784]', decoder: '    dense 64 relu' }))).toEqual({
      where: 'VAE2020 5:5',
      message: 'conv needs an image [H, W, C]; it is given [784] (the input x of encoder). Declare x as binary[28, 28, 1] or add reshape [28, 28, 1].',
    });
    expect(one(model({ encoder: '    flatten\n    pool max 2\n    flatten' })).message)
      .toBe('pool needs an image [H, W, C]; it is given [784] (the output of flatten, line 5). Add reshape [28, 28, 1] before it.');
    expect(one(model({ encoder: '    flatten\n    dense 30\n    upsample 2\n    flatten' })).message)
      .toBe('upsample needs an image [H, W, C]; it is given [30] (the output of dense 30, line 6). Add reshape [H, W, C] before it, with H · W · C = 30.');
  });

  it('a valid conv larger than its input, a pool window larger than its input', () => {
    expect(one(model({ encoder: '    pool max 4\n    conv 8 k8 valid\n    flatten' }))).toEqual({
      where: 'VAE2020 6:5',
      message: 'conv 8 k8 valid needs at least 8 × 8 values without padding, but it is given [7, 7, 1] (the output of pool max 4, line 5): ⌊(7 − 8) / 1⌋ + 1 = 0. Use padding same, or a kernel of at most 7.',
    });
    expect(one(model({ encoder: '    conv 8 k3 s2\n    pool avg 15\n    flatten' }))).toEqual({
      where: 'VAE2020 6:5',
      message: 'pool avg 15 takes windows of 15 × 15, but it is given [14, 14, 8] (the output of conv 8 k3 s2, line 5): ⌊14 / 15⌋ = 0. Use a window of at most 14.',
    });
    expect(errorsOf(model({ encoder: '    conv 8 k28 valid\n    pool max 1\n    flatten' }))).toEqual([]); // exactly fits: 1 × 1
  });

  it('a reshape whose size differs, a residual block that changes the shape', () => {
    expect(one(model({ decoder: '    dense 784\n    reshape [7, 7, 32]' }))).toEqual({
      where: 'VAE2020 10:5', message: 'reshape [7, 7, 32] has 1,568 values; it is given 784 = [784] (the output of dense 784, line 9).',
    });
    expect(one(model({ encoder: '    conv 8 k3\n    residual {\n      conv 8 k3 s2\n    }\n    flatten' }))).toEqual({
      where: 'VAE2020 6:5',
      message: "This residual block's layers give [14, 14, 8], but its input is [28, 28, 8] (the output of conv 8 k3, line 5): the block adds its layers' output to its input, so the two must have the same shape.",
    });
  });

  it('an image output whose size the layers do not make, saying which layer made it', () => {
    const text = model({ decoder: '    dense 1024\n    reshape [8, 8, 16]\n    conv_transpose 8 k4 s2 same relu\n    conv 4 k3\n    conv_transpose 1 k4 s2 same\n    conv 1 k3' });
    const errors = errorsOf(text);
    expect(errors.map(at)).toEqual(['VAE2021 13:5']);
    expect(errors[0].message).toBe('decoder gives [32, 32, 1], but its output logits is declared real[28, 28, 1]: conv_transpose 1 k4 s2 same (line 13) makes 32 = 16 · 2 from [16, 16, 4].');
    expect(errors[0].related?.map((r) => `${r.span.start.line}:${r.span.start.column} ${r.message}`)).toEqual(["8:30 'logits' is declared here."]);
    expect(one(model({ decoder: '    dense 800\n    reshape [20, 40, 1]' })).message)
      .toBe('decoder gives [20, 40, 1], but its output logits is declared real[28, 28, 1]: reshape [20, 40, 1] (line 10) makes it [20, 40, 1].');
  });

  it('channels that do not add up to the outputs, an output that is not [H, W, ...], a last layer neither a vector nor an image', () => {
    expect(one(model({ decoder: '    dense 1568\n    reshape [28, 28, 2]' }))).toEqual({
      where: 'VAE2021 10:5',
      message: "The last layer of decoder, reshape [28, 28, 2], gives 2 channels ([28, 28, 2]), but its outputs take 1: logits real[28, 28, 1] takes 1 channel. Its outputs are the channels of the last layer's image, in order; make it give 1.",
    });
    expect(one(model({ z: 'real[196]', encoder: '    pool max 2\n    conv 1 k1' }))).toEqual({
      where: 'VAE2021 4:26',
      message: 'encoder ends in the image [14, 14, 1], whose channels are its outputs, but its output mu is declared real[196]. Declare it real[14, 14, 1] (the same 196 values), or end the network in flatten for a dense head.',
    });
    expect(one(model({ decoder: '    dense 784\n    reshape [28, 28]' }))).toEqual({
      where: 'VAE2021 10:5',
      message: 'The last layer of decoder, reshape [28, 28], gives [28, 28]: a network ends in a vector (a dense head then computes its outputs) or in an image [H, W, C] (its outputs are then the image\'s channels). Add flatten, or reshape [28, 28, 1].',
    });
  });

  it('a second call that gives a one-input network another shape; a typed input takes any shape of its size', () => {
    const text = model({ x: 'binary[784]', logits: '[784]', encoder: '    dense 64 relu', decoder: '    dense 64 relu' })
      .replace('Normal(encoder(x).mu, exp(encoder(x).log_sigma))', 'Normal(encoder(x).mu, exp(encoder(y).log_sigma))')
      .replace('latent z', 'data y : binary[28, 28]\n  latent z');
    const errors = errorsOf(text).filter((d) => d.code === 'VAE2010');
    expect(errors.map((d) => d.message)).toEqual([
      "Input 'x' of network 'encoder' is [784], fixed by its first call, encoder(x); this argument is [28, 28]. Give every call the same shape, or type the input (x: real[784]) so that each argument is reshaped to it.",
    ]);
    expect(errorsOf(text.replace('net encoder(x)', 'net encoder(x: real[784])')).filter((d) => d.code === 'VAE2010')).toEqual([]);
  });

  it('a layer giving more than 2^24 values per example (VAE2018)', () => {
    expect(one(model({ encoder: '    upsample 4096\n    flatten' }))).toEqual({
      where: 'VAE2018 5:5', message: 'upsample 4096 gives [114688, 114688, 1], 13,153,337,344 values per example; a layer may give at most 16,777,216 (2^24).',
    });
  });
});

describe('sizes: weights and one batch\'s values count the conv layers', () => {
  it('counts a conv layer\'s weights, k² · C_in · C_out + C_out', () => {
    // On a 1 × 1 image (few activations): conv 4096 k64 from 1 channel, 64² · 4096 + 4096 = 16,781,312; from 4096
    // channels, 64² · 4096² + 4096 = 68,719,480,832; the head 4096 · 40 + 40 = 163,880: 68,736,426,024 in the encoder,
    // and the decoder's dense 784 from 20, 20 · 784 + 784 = 16,464.
    const errors = errorsOf(model({ encoder: '    pool max 28\n    conv 4096 k64\n    conv 4096 k64\n    flatten' }));
    expect(errors.map((d) => d.code)).toEqual(['VAE2018']);
    expect(errors[0].message).toMatch(/^The model has 68,736,442,488 weights .*, 68,736,426,024 of them in network 'encoder'/);
  });

  it('counts a conv layer\'s activations [H, W, C] in one batch\'s values', () => {
    // conv 512 k3 on [28, 28, 1] gives 28 · 28 · 512 = 401,408 values per example; 512 rows of it pass 2^27.
    const text = model({ encoder: '    conv 512 k3\n    flatten', train: 'train {\n  batch 512\n}\n' });
    const errors = errorsOf(text);
    expect(errors.map((d) => d.code)).toEqual(['VAE3016']);
    // x 784 + z 20 + conv 401,408 (flatten only views it) + mu, log_sigma 40 + dense 784 (reshape views it) + logits 784
    expect(errors[0].message).toContain('batch 512 × 403,820 values per example');
    expect(diagnosticsOf(text.replace('batch 512', 'batch 256'))).toEqual([]);
  });
});
