/** `vae fmt`'s layout: the style of models/, idempotent, every comment kept, the meaning unchanged. */
import { describe, expect, it } from 'vitest';
import { lexWithComments } from '../../src/tooling/tokens.js';
import { formatSource } from '../../src/tooling/format.js';
import type { SourceFile } from '../../src/compiler/source.js';
import { DOC_EXAMPLES, MODEL_FILES } from './examples.js';
import { sameMeaning } from './meaning.js';

function format(src: SourceFile): string {
  const r = formatSource(src);
  if (!r.ok) throw new Error(`${src.name} does not parse: ${r.diagnostics[0].message}`);
  return r.value;
}

const comments = (text: string) => lexWithComments(text).comments.map((c) => c.image.trimEnd());

describe.each([...MODEL_FILES, ...DOC_EXAMPLES].map((src) => [src.name, src] as const))('%s', (_, src) => {
  const once = format(src);
  it('is idempotent', () => {
    expect(format({ ...src, text: once })).toBe(once);
  });
  it('keeps every comment, in order', () => {
    expect(comments(once)).toEqual(comments(src.text));
  });
  it('keeps the meaning', () => {
    sameMeaning(src, { ...src, text: once });
  });
});

/** `text` with the spaces between tokens changed: one to three spaces (by position) where there were spaces or none. */
function respace(text: string): string {
  const { tokens, comments } = lexWithComments(text);
  const all = [...tokens, ...comments].sort((a, b) => a.startOffset - b.startOffset);
  let out = '';
  let at = 0;
  all.forEach((t, i) => {
    const gap = text.slice(at, t.startOffset);
    out += gap.includes('\n') ? gap.replace(/[ \t]+/g, ' '.repeat(1 + (i % 3))) : ' '.repeat(1 + (i % 3));
    out += t.image;
    at = t.startOffset + t.image.length;
  });
  return out + text.slice(at);
}

describe('the layout', () => {
  it.each(MODEL_FILES.map((f) => [f.name, f] as const))('of %s does not depend on the spaces within its lines', (_, src) => {
    expect(format({ ...src, text: respace(src.text) })).toBe(format(src));
  });

  it('aligns the columns of a group as models/mnist.vae does', () => {
    const messy = [
      'model m{ data x:binary[784]', 'latent z:real[20]', 'net encoder(x)->(mu:real[20],log_sigma:real[20]){dense 400 relu}',
      'net decoder(z)->(logits:real[784]){dense 400 relu}', 'prior z~Normal(0,1)', 'likelihood x~Bernoulli(logits=decoder(z).logits)',
      'guide z~Normal(encoder(x).mu,exp(encoder(x).log_sigma))}', 'train{data mnist(binarize=dynamic) optimizer adam(lr=1e-3)}',
    ].join('\n');
    expect(format({ name: 'm.vae', text: messy })).toBe([
      'model m {',
      '  data   x : binary[784]',
      '  latent z : real[20]',
      '  net encoder(x) -> (mu: real[20], log_sigma: real[20]) { dense 400 relu }',
      '  net decoder(z) -> (logits: real[784])                 { dense 400 relu }',
      '  prior      z ~ Normal(0, 1)',
      '  likelihood x ~ Bernoulli(logits = decoder(z).logits)',
      '  guide      z ~ Normal(encoder(x).mu, exp(encoder(x).log_sigma))',
      '}',
      '',
      'train {',
      '  data      mnist(binarize = dynamic)',
      '  optimizer adam(lr = 1e-3)',
      '}',
      '',
    ].join('\n'));
  });

  it('keeps comments at line ends (aligned), on their own lines, and moves one from inside a line above it', () => {
    const text = [
      '# header', '', '', 'model m {', '  data x : binary[784] # pixels', '  latent zz : real[2]   # code', '',
      '  const tau = 0.5', '  const s_min = tau/100', '  net e(x) -> (mu: real[2], ls: real[2]) {',
      '      dense 40 relu  # hidden', '  }', '  net d(zz) -> (logits: real[784]) { dense 40 relu }',
      '  prior zz ~ Normal(0, 1)', '  likelihood x ~ Bernoulli(logits = d(zz).logits)',
      '  guide zz ~ Normal(e(x).mu,  # the mean', '    exp(e(x).ls) + s_min)', '      then planar(2) then radial(1)',
      '  # last', '', '}', '# end',
    ].join('\n');
    expect(format({ name: 'c.vae', text })).toBe([
      '# header', '', 'model m {', '  data   x  : binary[784] # pixels', '  latent zz : real[2]     # code', '',
      '  const tau   = 0.5', '  const s_min = tau / 100', '  net e(x) -> (mu: real[2], ls: real[2]) {',
      '    dense 40 relu # hidden', '  }', '  net d(zz) -> (logits: real[784]) { dense 40 relu }',
      '  prior      zz ~ Normal(0, 1)', '  likelihood x  ~ Bernoulli(logits = d(zz).logits)',
      '  # the mean', '  guide      zz ~ Normal(e(x).mu, exp(e(x).ls) + s_min)', '                then planar(2) then radial(1)',
      '  # last', '}', '# end', '',
    ].join('\n'));
  });

  it('spaces signs, operators, lists and negative settings', () => {
    const text = 'model m{data x:binary[2] latent z:real[2] param p:real=-2 net d(z)->(l:real[2]){}\n' +
      'prior z~Normal(0,exp(p)*-1*-1) likelihood x~Bernoulli(logits=-(d(z).l)) guide z~Normal(0,1)}\n' +
      'train{schedule step(at=[1,2],factor=0.5) seed -1}';
    const out = format({ name: 's.vae', text });
    expect(out).toContain('  param  p : real = -2\n');
    expect(out).toContain('  net d(z) -> (l: real[2]) {}\n');
    expect(out).toContain('prior      z ~ Normal(0, exp(p) * -1 * -1)\n');
    expect(out).toContain('likelihood x ~ Bernoulli(logits = -(d(z).l))\n');
    expect(out).toContain('  schedule step(at = [1, 2], factor = 0.5)\n  seed     -1\n');
  });

  it('lays out the new layers: one per line in a multi-line body, residual blocks on one line or opened as written', () => {
    const text = [
      'model m {   data x:binary[28,28,1]', ' latent z : real[20]', ' net e(x)->(mu:real[20],ls:real[20]){',
      '   conv 32  k4 s2 same relu    # first', '      residual {   conv 32 k3 relu', '        conv 32 k3 }', '   residual {',
      '# inner', ' conv 32 k3 relu', '', '   residual{conv 32 k1}', '   }', '   pool max 2', '   flatten }',
      ' net d(z) -> (logits: real[28,28,1]) { dense 3136 relu reshape[7,7,64] residual{conv 64 k3 relu conv 64 k3} upsample 4 conv 1 k3 }',
      ' prior z ~ Normal(0,1)', ' likelihood x ~ Bernoulli(logits=d(z).logits)', ' guide z ~ Normal(e(x).mu, exp(e(x).ls))', '}',
    ].join('\n');
    const out = format({ name: 'conv.vae', text });
    expect(out).toBe([
      'model m {', '  data   x : binary[28, 28, 1]', '  latent z : real[20]', '  net e(x) -> (mu: real[20], ls: real[20]) {',
      '    conv 32 k4 s2 same relu # first', '    residual { conv 32 k3 relu  conv 32 k3 }', '    residual {', '      # inner',
      '      conv 32 k3 relu', '', '      residual { conv 32 k1 }', '    }', '    pool max 2', '    flatten', '  }',
      '  net d(z) -> (logits: real[28, 28, 1]) { dense 3136 relu  reshape [7, 7, 64]  residual { conv 64 k3 relu  conv 64 k3 }  upsample 4  conv 1 k3 }',
      '  prior      z ~ Normal(0, 1)', '  likelihood x ~ Bernoulli(logits = d(z).logits)', '  guide      z ~ Normal(e(x).mu, exp(e(x).ls))', '}', '',
    ].join('\n'));
    expect(format({ name: 'conv.vae', text: out })).toBe(out);
    sameMeaning({ name: 'conv.vae', text }, { name: 'conv.vae', text: out });
  });

  it('refuses a file that does not parse, with the parser\'s diagnostic', () => {
    const r = formatSource({ name: 'bad.vae', text: 'model m { data x binary[784] }' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.diagnostics[0].code).toBe('VAE1002');
  });
});
