/**
 * The interpreter's networks (runNetwork in runtime/interpret.ts) with every kind of layer,
 * against the same network composed by hand from tfjs's own ops: a conv encoder, a
 * conv_transpose decoder whose outputs are its image's channels, residual blocks, pooling and
 * upsampling. The references spell out the padding of core/layers.ts themselves (explicit
 * zeros, then a `valid` conv; the full transpose, then the crop) rather than trusting tfjs's
 * `same`. Then: a gradient reaches every weight, and nothing leaks.
 *
 * Backend: cpu (VAE_TEST_BACKEND overrides), where tfjs has every gradient kernel; the wasm
 * backend lacks the conv filter's (Conv2DBackpropFilter).
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Activation } from '../../src/core/catalog.js';
import { samePadding, sameTransposeCrop, type NetLayer } from '../../src/core/layers.js';
import type { PlanNetwork } from '../../src/core/plan.js';
import { selectBackend, type BackendName } from '../../src/runtime/backend.js';
import '../../src/runtime/gradients.js';
import { activate, dense } from '../../src/runtime/dense.js';
import { runNetwork } from '../../src/runtime/interpret.js';
import type { Weights } from '../../src/runtime/program.js';
import { blocks, buildNetwork, convDecoder, convEncoder, denseNet, randomWeights } from '../helpers/nets.js';
import { expectClose } from '../helpers/tensors.js';

beforeAll(async () => {
  await selectBackend((process.env.VAE_TEST_BACKEND as BackendName | undefined) ?? 'cpu');
});

const ROWS = 3;

/** The network by hand: each layer as tfjs ops, `same` padding written out. */
function reference(net: PlanNetwork, x: tf.Tensor, weights: Weights): Map<string, tf.Tensor> {
  const h = layersByHand(net.name, net.layers, tf.reshape(x, [ROWS, ...net.inputShape]), weights);
  const out = new Map<string, tf.Tensor>();
  let at = 0;
  for (const o of net.outputs) {
    if (net.split === 'flat') {
      out.set(o.name, tf.reshape(tf.slice(h, [0, at], [ROWS, o.size]), [ROWS, ...o.shape]));
      at += o.size;
    } else {
      const channels = o.shape.slice(2).reduce((a, b) => a * b, 1);
      out.set(o.name, tf.reshape(tf.slice(h, [0, 0, 0, at], [ROWS, -1, -1, channels]), [ROWS, ...o.shape]));
      at += channels;
    }
  }
  return out;
}

function layersByHand(net: string, layers: NetLayer[], h: tf.Tensor, weights: Weights): tf.Tensor {
  for (const l of layers) {
    const w = (p: string) => weights.get(`${net}/${'name' in l ? l.name : ''}/${p}`)!;
    switch (l.kind) {
      case 'dense': h = activate(tf.add(tf.matMul(tf.reshape(h, [ROWS, -1]), w('w')), w('b')), l.activation); break;
      case 'conv': {
        const x = l.padding === 'same'
          ? tf.pad(h, [[0, 0], samePadding(l.in[0], l.kernel, l.stride), samePadding(l.in[1], l.kernel, l.stride), [0, 0]])
          : h;
        h = activate(tf.add(tf.conv2d(x as tf.Tensor4D, w('w') as tf.Tensor4D, l.stride, 'valid'), w('b')), l.activation);
        break;
      }
      case 'conv_transpose': {
        // The full transpose, (in − 1)·s + k along each axis; `same` crops it to in · s.
        const full = l.in.slice(0, 2).map((d) => (d - 1) * l.stride + l.kernel);
        let y: tf.Tensor = tf.conv2dTranspose(h as tf.Tensor4D, w('w') as tf.Tensor4D, [ROWS, full[0], full[1], l.filters], l.stride, 'valid');
        if (l.padding === 'same') {
          const [top] = sameTransposeCrop(l.in[0], l.kernel, l.stride);
          const [left] = sameTransposeCrop(l.in[1], l.kernel, l.stride);
          y = tf.slice(y, [0, top, left, 0], [ROWS, l.out[0], l.out[1], l.filters]);
        }
        h = activate(tf.add(y, w('b')), l.activation);
        break;
      }
      case 'flatten': case 'reshape': h = tf.reshape(h, [ROWS, ...l.out]); break;
      case 'pool': h = (l.op === 'max' ? tf.maxPool : tf.avgPool)(h as tf.Tensor4D, l.size, l.size, 'valid'); break;
      case 'upsample': h = tf.image.resizeNearestNeighbor(h as tf.Tensor4D, [l.out[0], l.out[1]]); break;
      case 'residual': h = tf.add(layersByHand(net, l.layers, h, weights), h); break;
    }
  }
  return h;
}

const input = (net: PlanNetwork, seed: number) => tf.randomNormal([ROWS, net.inputWidth], 0, 1, 'float32', seed);

describe.each([['conv encoder', convEncoder], ['conv_transpose decoder', convDecoder], ['residual, pool, upsample', blocks]] as const)('runNetwork: %s', (_, make) => {
  it('computes what the layers composed by hand compute, output by output', () => {
    const net = make();
    const weights = randomWeights(net, 10);
    tf.tidy(() => {
      const x = input(net, 1);
      const ours = runNetwork(net, [x], ROWS, false, weights);
      const theirs = reference(net, x, weights);
      expect([...ours.keys()]).toEqual(net.outputs.map((o) => o.name));
      for (const o of net.outputs) {
        expect(ours.get(o.name)!.shape, o.name).toEqual([ROWS, ...o.shape]);
        expectClose(ours.get(o.name)!.dataSync(), theirs.get(o.name)!.dataSync(), 1e-5, 1e-6);
      }
    });
    weights.forEach((w) => w.dispose());
  });

  it('passes a finite, non-zero gradient to every weight, and leaks no tensor', () => {
    const net = make();
    const weights = randomWeights(net, 20);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const x = input(net, 2);
      const probes = net.outputs.map((o, i) => tf.randomNormal([ROWS, ...o.shape], 0, 1, 'float32', 30 + i));
      const { grads } = tf.variableGrads(() => {
        const out = runNetwork(net, [x], ROWS, false, weights);
        return tf.addN(net.outputs.map((o, i) => tf.sum(tf.mul(out.get(o.name)!, probes[i])))) as tf.Scalar;
      }, [...weights.values()] as tf.Variable[]);
      for (const [name, w] of weights) {
        const g = grads[w.name];
        expect(g.shape, name).toEqual(w.shape);
        const v = g.dataSync();
        expect(v.every(Number.isFinite), `${name}: finite`).toBe(true);
        expect(v.some((d) => d !== 0), `${name}: not all zero`).toBe(true);
      }
    });
    expect(tf.memory().numTensors).toBe(before);
    weights.forEach((w) => w.dispose());
  });
});

describe('runNetwork', () => {
  it('gives a dense network the bits of the dense layers called by hand, as before layers of other kinds', () => {
    const net = denseNet();
    const weights = randomWeights(net, 40);
    tf.tidy(() => {
      const x = input(net, 3);
      const w = (l: string, p: string) => weights.get(`mlp/${l}/${p}`)!;
      let h = dense(x as tf.Tensor2D, w('hidden0', 'w') as tf.Tensor2D, w('hidden0', 'b') as tf.Tensor1D, 'relu', false);
      h = dense(h, w('hidden1', 'w') as tf.Tensor2D, w('hidden1', 'b') as tf.Tensor1D, 'tanh', true);
      h = dense(h, w('out', 'w') as tf.Tensor2D, w('out', 'b') as tf.Tensor1D, 'linear', true);
      const [mu, logSigma] = tf.split(h, [2, 2], 1);
      const ours = runNetwork(net, [x], ROWS, false, weights);
      expect(Array.from(ours.get('mu')!.dataSync())).toEqual(Array.from(mu.dataSync()));
      expect(Array.from(ours.get('log_sigma')!.dataSync())).toEqual(Array.from(logSigma.dataSync()));
    });
    weights.forEach((w) => w.dispose());
  });

  it('reads an image argument given flattened, and several arguments side by side', () => {
    const net = convEncoder();
    const weights = randomWeights(net, 50);
    tf.tidy(() => {
      const x = input(net, 4);
      const whole = runNetwork(net, [x], ROWS, true, weights).get('mu')!;
      // The same 162 values as two arguments of 100 and 62 (as a network of several arguments is given them).
      const [a, b] = tf.split(x, [100, 62], 1);
      expect(Array.from(runNetwork(net, [a, b], ROWS, true, weights).get('mu')!.dataSync())).toEqual(Array.from(whole.dataSync()));
    });
    weights.forEach((w) => w.dispose());
  });

  it.each(['relu', 'linear'] as Activation[])('with inputNeedsGrad false gives the first conv the same gradient (%s)', (activation) => {
    const net = buildNetwork('n', [5, 5, 1], [{ kind: 'conv', filters: 2, kernel: 3, activation }, { kind: 'flatten' }], [{ name: 'y', shape: [4] }]);
    const weights = randomWeights(net, 60);
    const w = weights.get('n/hidden0/w') as tf.Variable;
    tf.tidy(() => {
      const x = input(net, 5);
      const grad = (needsGrad: boolean) =>
        tf.variableGrads(() => tf.sum(tf.square(runNetwork(net, [x], ROWS, needsGrad, weights).get('y')!)) as tf.Scalar, [w]).grads[w.name];
      const [a, b] = [grad(false).dataSync(), grad(true).dataSync()];
      expect(a.some((d) => d !== 0)).toBe(true);
      expectClose(a, b, 1e-6, 1e-7);
    });
    weights.forEach((v) => v.dispose());
  });
});
