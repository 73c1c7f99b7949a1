/**
 * Test helpers: networks of the plan (core/plan.ts) built by hand from a short list of layers,
 * with each layer's shapes from core/layers.ts, the weights named as the plan names them and
 * drawn as lowering draws them (U(±1/√fan_in)). For the back ends' tests of layers that a test
 * cannot (yet) write in a model file.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../../src/core/catalog.js';
import {
  convOutputSize, convTransposeOutputSize, layerFanIn, layerWeightShapes, shapeSize, weightedLayers,
  type NetLayer, type Padding, type PoolOp,
} from '../../src/core/layers.js';
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
    if (JSON.stringify(net.outputs) !== JSON.stringify(n.outputs)) throw new Error(`network ${n.name}: other outputs than the model's`);
    return { ...net, inputWidth: n.inputWidth, calls: n.calls };
  });
  const ofNet = (w: PlanWeight) => w.kind === 'tensor' && byName.has(w.name.slice(0, w.name.indexOf('/')));
  const first = plan.weights.findIndex(ofNet);
  const others = plan.weights.filter((w) => !ofNet(w));
  const replaced = networks.filter((n) => byName.has(n.name)).flatMap(networkWeights);
  return { ...plan, networks, weights: [...others.slice(0, first), ...replaced, ...others.slice(first)] };
}
