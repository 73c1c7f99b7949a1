/**
 * Test helpers: networks of the plan (core/plan.ts) built by hand from a short list of layers,
 * with each layer's shapes from core/layers.ts, the weights named as the plan names them and
 * drawn as lowering draws them (U(±1/√fan_in)). For the back ends' tests of layers that a test
 * cannot (yet) write in a model file; and a model whose networks are such, `conv_layers`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../../src/core/catalog.js';
import {
  convOutputSize, convTransposeOutputSize, layerFanIn, layerWeightShapes, shapeSize, weightedLayers,
  type NetLayer, type Padding, type PoolOp,
} from '../../src/core/layers.js';
import type { CheckedModel } from '../../src/compiler/checked.js';
import { checkModel } from '../../src/compiler/index.js';
import type { Plan, PlanNetwork, PlanWeight } from '../../src/core/plan.js';
import type { Weights } from '../../src/runtime/program.js';

/** A layer as written in a model file, without its shapes. */
export type LayerSpec =
  | { kind: 'dense'; units: number; activation?: Activation }
  | { kind: 'conv' | 'conv_transpose'; filters: number; kernel: number; stride?: number; padding?: Padding; activation?: Activation }
  | { kind: 'flatten' }
  | { kind: 'reshape'; shape: number[] }
  | { kind: 'pool'; op: PoolOp; size: number }
  | { kind: 'upsample'; factor: number }
  | { kind: 'residual'; layers: LayerSpec[] };

/** `specs` from an input of shape `input`, with shapes and weight names (`hidden0`, ... in order of appearance). */
export function buildLayers(input: number[], specs: LayerSpec[], counter = { next: 0 }): NetLayer[] {
  const layers: NetLayer[] = [];
  let shape = input;
  for (const s of specs) {
    const l = buildLayer(shape, s, counter);
    layers.push(l);
    shape = l.out;
  }
  return layers;
}

function buildLayer(shape: number[], s: LayerSpec, counter: { next: number }): NetLayer {
  switch (s.kind) {
    case 'dense': {
      const inputs = shapeSize(shape);
      return { kind: 'dense', name: `hidden${counter.next++}`, in: shape, out: [s.units], inputs, units: s.units, activation: s.activation ?? 'linear' };
    }
    case 'conv':
    case 'conv_transpose': {
      const [stride, padding] = [s.stride ?? 1, s.padding ?? 'same'];
      const size = (d: number) => (s.kind === 'conv' ? convOutputSize : convTransposeOutputSize)(d, s.kernel, stride, padding);
      return {
        kind: s.kind, name: `hidden${counter.next++}`, in: shape, out: [size(shape[0]), size(shape[1]), s.filters],
        filters: s.filters, kernel: s.kernel, stride, padding, activation: s.activation ?? 'linear',
      };
    }
    case 'flatten': return { kind: 'flatten', in: shape, out: [shapeSize(shape)] };
    case 'reshape': return { kind: 'reshape', in: shape, out: s.shape };
    case 'pool': return { kind: 'pool', op: s.op, size: s.size, in: shape, out: [Math.floor(shape[0] / s.size), Math.floor(shape[1] / s.size), shape[2]] };
    case 'upsample': return { kind: 'upsample', factor: s.factor, in: shape, out: [shape[0] * s.factor, shape[1] * s.factor, shape[2]] };
    case 'residual': {
      const layers = buildLayers(shape, s.layers, counter);
      return { kind: 'residual', in: shape, out: layers[layers.length - 1]?.out ?? shape, layers };
    }
  }
}

/**
 * A network as lowering lays it out: its layers, then a linear dense head `out` holding every
 * output side by side where the last layer gives a vector (`flat`); none where it gives an
 * image, whose channels are the outputs (`channels`).
 */
export function buildNetwork(name: string, inputShape: number[], specs: LayerSpec[], outputs: { name: string; shape: number[] }[]): PlanNetwork {
  const counter = { next: 0 };
  const layers = buildLayers(inputShape, specs, counter);
  const last = layers.length ? layers[layers.length - 1].out : inputShape;
  const sized = outputs.map((o) => ({ ...o, size: shapeSize(o.shape) }));
  const split = last.length === 3 ? 'channels' : 'flat';
  if (split === 'flat') {
    const heads = sized.reduce((s, o) => s + o.size, 0);
    layers.push({ kind: 'dense', name: 'out', in: last, out: [heads], inputs: shapeSize(last), units: heads, activation: 'linear' });
  }
  return { name, inputWidth: shapeSize(inputShape), inputShape, layers, split, outputs: sized, calls: [] };
}

/** The network's weights as the plan lists them: w then b of every layer with weights, in order. */
export function networkWeights(net: PlanNetwork): PlanWeight[] {
  return weightedLayers(net.layers).flatMap((l) => {
    const bound = 1 / Math.sqrt(layerFanIn(l));
    const [w, b] = layerWeightShapes(l)!;
    const note = `${net.name}: ${l.name} ${l.kind}`;
    return [
      { kind: 'tensor', name: `${net.name}/${l.name}/w`, shape: w, init: { kind: 'uniform', bound }, trainable: true, note },
      { kind: 'tensor', name: `${net.name}/${l.name}/b`, shape: b, init: { kind: 'uniform', bound }, trainable: true, note },
    ] satisfies PlanWeight[];
  });
}

/** Variables for the network's weights, drawn U(±1/√fan_in) from `seed` (the bias too, as PyTorch does). */
export function randomWeights(net: PlanNetwork, seed: number): Weights {
  const weights: Weights = new Map();
  networkWeights(net).forEach((w, i) => {
    if (w.kind !== 'tensor' || w.init.kind !== 'uniform') return;
    const init = tf.randomUniform(w.shape, -w.init.bound, w.init.bound, 'float32', seed + i);
    weights.set(w.name, tf.variable(init));
    init.dispose();
  });
  return weights;
}

/**
 * `plan` with some of its networks replaced (by name; outputs as before, the steps unchanged) and
 * the plan's weights of those networks replaced by the new layers' weights, in the same place.
 */
export function withNetworks(plan: Plan, nets: PlanNetwork[]): Plan {
  const byName = new Map(nets.map((n) => [n.name, n]));
  const networks = plan.networks.map((n) => {
    const net = byName.get(n.name);
    if (!net) return n;
    if (JSON.stringify(net.outputs) !== JSON.stringify(n.outputs) || net.inputWidth !== n.inputWidth) {
      throw new Error(`network ${n.name}: another input width or other outputs than the model's`);
    }
    return { ...net, calls: n.calls };
  });
  const ofNet = (w: PlanWeight) => w.kind === 'tensor' && byName.has(w.name.slice(0, w.name.indexOf('/')));
  const first = plan.weights.findIndex(ofNet);
  const others = plan.weights.filter((w) => !ofNet(w));
  const replaced = networks.filter((n) => byName.has(n.name)).flatMap(networkWeights);
  return { ...plan, networks, weights: [...others.slice(0, first), ...replaced, ...others.slice(first)] };
}

// Networks of every kind of layer, for the runtime's tests.

/** A conv encoder of 9 × 9 × 2 images (odd sizes: `same` pads unevenly), with a dense head. */
export const convEncoder = () => buildNetwork('conv_encoder', [9, 9, 2], [
  { kind: 'conv', filters: 4, kernel: 3, stride: 2, padding: 'same', activation: 'relu' },
  { kind: 'conv', filters: 5, kernel: 2, padding: 'valid', activation: 'tanh' },
  { kind: 'conv', filters: 3, kernel: 4, stride: 3, padding: 'same', activation: 'elu' },
  { kind: 'flatten' },
  { kind: 'dense', units: 7, activation: 'softplus' },
], [{ name: 'mu', shape: [3] }, { name: 'log_sigma', shape: [3] }]);

/** A conv_transpose decoder to 12 × 12 images (`same` and `valid`, k below, equal to and above s), whose channels are three outputs. */
export const convDecoder = () => buildNetwork('conv_decoder', [4], [
  { kind: 'dense', units: 2 * 2 * 6, activation: 'relu' },
  { kind: 'reshape', shape: [2, 2, 6] },
  { kind: 'conv_transpose', filters: 5, kernel: 3, stride: 2, padding: 'same', activation: 'relu' }, // 4 × 4
  { kind: 'conv_transpose', filters: 4, kernel: 2, stride: 3, padding: 'valid', activation: 'sigmoid' }, // (4 − 1)·3 + 2 = 11: k < s
  { kind: 'conv_transpose', filters: 4, kernel: 2, padding: 'valid' }, // 12
  { kind: 'conv_transpose', filters: 4, kernel: 5, stride: 1, padding: 'same' }, // 12, k > s: crops 2 and 2
], [{ name: 'loc', shape: [12, 12] }, { name: 'scales', shape: [12, 12, 2] }, { name: 'rest', shape: [12, 12, 1] }]);

/** Residual blocks, both poolings and upsampling on 8 × 8 × 3 images, the channels as outputs. */
export const blocks = () => buildNetwork('blocks', [8, 8, 3], [
  { kind: 'residual', layers: [{ kind: 'conv', filters: 4, kernel: 3, activation: 'relu' }, { kind: 'conv', filters: 3, kernel: 1 }] },
  { kind: 'pool', op: 'max', size: 3 }, // 2 × 2: a remainder of 2 dropped
  { kind: 'upsample', factor: 3 }, // 6 × 6
  { kind: 'residual', layers: [{ kind: 'pool', op: 'avg', size: 2 }, { kind: 'upsample', factor: 2 }, { kind: 'conv_transpose', filters: 3, kernel: 3 }] },
  { kind: 'pool', op: 'avg', size: 2 }, // 3 × 3
], [{ name: 'a', shape: [3, 3, 2] }, { name: 'b', shape: [3, 3] }]);

/** A dense network as lowering writes every existing model's. */
export const denseNet = () => buildNetwork('mlp', [6], [{ kind: 'dense', units: 5, activation: 'relu' }, { kind: 'dense', units: 4, activation: 'tanh' }],
  [{ name: 'mu', shape: [2] }, { name: 'log_sigma', shape: [2] }]);

/**
 * A model with a layer of every kind, whatever models/ holds: its networks are built by hand
 * (buildNetwork) into the plan of a dense model of the same variables and outputs. The
 * encoder reads the image through strided convs; the decoder goes from z through a dense layer
 * and conv_transposes, a residual block of pooling, upsampling and a conv, and ends in an image
 * whose two channels are its two outputs.
 */
export const CONV = `model conv_layers {
  data   x : binary[28, 28, 1]
  latent z : real[4]
  net encoder(x) -> (mu: real[4], log_sigma: real[4])               { dense 8 relu }
  net decoder(z) -> (a: real[28, 28, 1], b: real[28, 28, 1])        { dense 8 relu }
  prior      z ~ Normal(0, 1)
  likelihood x ~ Bernoulli(logits = decoder(z).a + decoder(z).b)
  guide      z ~ Normal(encoder(x).mu, exp(encoder(x).log_sigma))
}
train {
  data  mnist(binarize = dynamic)
  batch 16
}
`;

/** The conv model's networks, in place of its dense ones. */
export const convNetworks = (plan: Plan): Plan => withNetworks(plan, [
  buildNetwork('encoder', [28, 28, 1], [
    { kind: 'conv', filters: 4, kernel: 4, stride: 2, padding: 'same', activation: 'relu' },
    { kind: 'conv', filters: 6, kernel: 3, stride: 2, padding: 'valid', activation: 'elu' },
    { kind: 'flatten' },
  ], [{ name: 'mu', shape: [4] }, { name: 'log_sigma', shape: [4] }]),
  buildNetwork('decoder', [4], [
    { kind: 'dense', units: 7 * 7 * 4, activation: 'relu' },
    { kind: 'reshape', shape: [7, 7, 4] },
    { kind: 'conv_transpose', filters: 4, kernel: 4, stride: 2, padding: 'same', activation: 'relu' },
    { kind: 'residual', layers: [
      { kind: 'pool', op: 'avg', size: 2 }, { kind: 'upsample', factor: 2 }, { kind: 'conv', filters: 4, kernel: 3, activation: 'tanh' },
    ] },
    { kind: 'pool', op: 'max', size: 2 },
    { kind: 'upsample', factor: 2 },
    { kind: 'conv_transpose', filters: 2, kernel: 4, stride: 2, padding: 'same' },
  ], [{ name: 'a', shape: [28, 28, 1] }, { name: 'b', shape: [28, 28, 1] }]),
]);

export const CONV_SOURCE = { name: 'conv_layers.vae', text: CONV };

export function convModel(): CheckedModel {
  const r = checkModel(CONV_SOURCE);
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.value;
}

