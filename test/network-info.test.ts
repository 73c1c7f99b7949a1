/**
 * The API's description of a model's networks (Model.networks, NetworkInfo): a dense model's
 * layers keep the fields they had (units, activation), with their kind, shapes and parameters
 * beside; conv, pool, upsample and residual layers are described by their settings and shapes,
 * with parameter counts worked out here by hand.
 */
import { describe, expect, it } from 'vitest';
import { compileOrThrow } from '../src/api/compile.js';
import { networkInfo } from '../src/api/model.js';
import { blocks, convEncoder } from './helpers/nets.js';
import { tinyMnistVae } from './helpers/models.js';

describe('Model.networks', () => {
  it('describes a dense model as before, with each layer\'s kind, shapes and parameters', () => {
    const model = compileOrThrow(tinyMnistVae({ latent: 4, hidden: 8, batch: 16, epochs: 1, seed: 1 }));
    const [encoder, decoder] = model.networks;
    expect(encoder).toEqual({
      name: 'encoder', inputWidth: 784, inputShape: [784], split: 'flat',
      layers: [{ kind: 'dense', name: 'hidden0', in: [784], out: [8], inputs: 784, units: 8, activation: 'relu', parameters: 784 * 8 + 8 }],
      head: { kind: 'dense', name: 'out', in: [8], out: [8], inputs: 8, units: 8, activation: 'linear', parameters: 8 * 8 + 8 },
      outputs: [{ name: 'mu', shape: [4], size: 4 }, { name: 'log_sigma', shape: [4], size: 4 }],
      parameters: 784 * 8 + 8 + 8 * 8 + 8,
    });
    // What NetworkInfo held before: each hidden layer's units and activation.
    expect(decoder.layers.map((l) => l.kind === 'dense' && [l.units, l.activation])).toEqual([[8, 'relu']]);
    expect(encoder.parameters + decoder.parameters).toBe(model.parameterCount);
    model.dispose();
  });
});

describe('networkInfo', () => {
  it('describes conv layers by their settings and shapes, with C_in·k²·C_out + C_out parameters', () => {
    const info = networkInfo(convEncoder());
    expect(info.inputShape).toEqual([9, 9, 2]);
    expect(info.inputWidth).toBe(162);
    expect(info.layers.map((l) => [l.kind, l.in, l.out, l.parameters])).toEqual([
      ['conv', [9, 9, 2], [5, 5, 4], 3 * 3 * 2 * 4 + 4],
      ['conv', [5, 5, 4], [4, 4, 5], 2 * 2 * 4 * 5 + 5],
      ['conv', [4, 4, 5], [2, 2, 3], 4 * 4 * 5 * 3 + 3],
      ['flatten', [2, 2, 3], [12], 0],
      ['dense', [12], [7], 12 * 7 + 7],
    ]);
    expect(info.layers[0]).toMatchObject({ name: 'hidden0', filters: 4, kernel: 3, stride: 2, padding: 'same', activation: 'relu' });
    expect(info.head).toMatchObject({ kind: 'dense', name: 'out', units: 6, parameters: 7 * 6 + 6 });
    expect(info.parameters).toBe(76 + 85 + 243 + 91 + 48);
  });

  it('describes residual blocks with their layers, and a network whose outputs are an image\'s channels without a head', () => {
    const info = networkInfo(blocks());
    expect(info.split).toBe('channels');
    expect(info.head).toBeUndefined();
    const [first, pool, upsample, second] = info.layers;
    expect(first).toMatchObject({ kind: 'residual', in: [8, 8, 3], out: [8, 8, 3], parameters: 3 * 3 * 3 * 4 + 4 + 4 * 3 + 3 });
    expect(first.kind === 'residual' && first.layers.map((l) => [l.kind, l.parameters])).toEqual([['conv', 112], ['conv', 15]]);
    expect(pool).toEqual({ kind: 'pool', op: 'max', size: 3, in: [8, 8, 3], out: [2, 2, 3], parameters: 0 });
    expect(upsample).toEqual({ kind: 'upsample', factor: 3, in: [2, 2, 3], out: [6, 6, 3], parameters: 0 });
    // conv_transpose: k²·C_out·C_in + C_out.
    expect(second.kind === 'residual' && second.layers.map((l) => l.kind)).toEqual(['pool', 'upsample', 'conv_transpose']);
    expect(second.parameters).toBe(3 * 3 * 3 * 3 + 3);
    expect(info.parameters).toBe(112 + 15 + 84);
  });
});
