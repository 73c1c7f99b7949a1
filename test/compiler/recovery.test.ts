/**
 * Error recovery: one pass reports every independent syntax error (Chevrotain re-syncs at the
 * next declaration, statement or setting), and a mistake gives one error, not a cascade.
 */
import { describe, expect, it } from 'vitest';
import { at, diagnosticsOf } from './helpers.js';

describe('syntax error recovery', () => {
  it('reports two errors in different statements', () => {
    expect(diagnosticsOf('model m {\n  prior z Normal(0, 1)\n  guide z ~ ~ Normal(0, 1)\n}').map(at)).toEqual(['VAE1002 2:11', 'VAE1002 3:13']);
  });

  it('reports an error in the model and one in the train block', () => {
    expect(diagnosticsOf('model m {\n  latent z real\n}\ntrain {\n  batch = 5\n}').map(at)).toEqual(['VAE1002 2:12', 'VAE1002 5:9']);
  });

  it("re-syncs after a network's signature at its body, so the next declaration is still read", () => {
    expect(diagnosticsOf('model m {\n  net c() -> (o: real[2]) { dense 3 relu }\n  latent z real\n}').map(at)).toEqual(['VAE1002 2:9', 'VAE1002 3:12']);
  });

  it('reports an error inside a residual block and one in a later network, and none after them', () => {
    const text = 'model m {\n  net e(x) -> (o: real[2]) {\n    residual { conv 8 k3 ~ }\n  }\n  net d(z) -> (o: real[2]) { pool 2 }\n  latent z : real[2]\n}';
    expect(diagnosticsOf(text).map(at)).toEqual(['VAE1002 3:26', 'VAE1002 5:35']);
  });

  it('reports a bad character and a syntax error on another line, but no syntax error on the bad character\'s line', () => {
    expect(diagnosticsOf('model m {\n  data x : binary[784] @\n  prior z ~ Normal(0, 1\n}').map(at)).toEqual(['VAE1001 2:24', 'VAE1002 4:1']);
    expect(diagnosticsOf('model m {\n  data x : @ binary[784]\n}').map(at)).toEqual(['VAE1001 2:12']);
  });

  it('gives one error for one mistake: no follow-on errors after the skipped input', () => {
    for (const text of [
      'model m {\n  net c() -> (o: real[2]) { dense 3 relu }\n}',
      'train { }\nmodel m { }',
      'model m {\n  prior z ~ Normal(0, (1)\n}',
      'model m {\n  latent z : real[3\n  latent w : real\n}',
    ]) expect(diagnosticsOf(text), text).toHaveLength(1);
  });
});
