/**
 * A network's layers as plain data, and the shape arithmetic of each: the one place the checker
 * (which reports a layer that cannot fit), the plan, the runtime and the printers take it from.
 *
 * Images are channels last, [H, W, C], as in TensorFlow.js. Padding follows TensorFlow:
 * - conv, `valid`:  out = floor((in − k) / s) + 1          (needs in ≥ k)
 * - conv, `same`:   out = ceil(in / s), padded with P = max((out − 1)·s + k − in, 0) zeros,
 *                   floor(P / 2) before and the rest after
 * - conv_transpose, `valid`: out = (in − 1)·s + k
 * - conv_transpose, `same`:  out = in · s (the transpose of a `same` conv from out to in; the full
 *                   transpose, (in − 1)·s + k, is cropped by floor(P / 2) before, P = max(k − s, 0))
 * - pool N:         out = floor(in / N) (windows of N × N, stride N; a remainder is dropped)
 * - upsample N:     out = in · N (each value repeated N × N times)
 */
import type { Activation } from './catalog.js';

export type Padding = 'same' | 'valid';
export type PoolOp = 'max' | 'avg';

/** The spatial settings of a conv or conv_transpose layer. */
export interface ConvSpec { filters: number; kernel: number; stride: number; padding: Padding }

/**
 * A layer of a network in the plan, with the shapes (without rows) it takes and gives:
 * - `dense`: y = act(flatten(x) W + b), W [inputs, units];
 * - `conv`: W [k, k, C_in, C_out] (tfjs's layout), b [C_out];
 * - `conv_transpose`: W [k, k, C_out, C_in] (tfjs's layout), b [C_out];
 * - `flatten`, `reshape`: the same values in a new shape (row-major);
 * - `pool`, `upsample`: no weights;
 * - `residual`: its layers, then their output added to its input (the shapes must agree).
 * Layers with weights have a `name`: the weights are `<net>/<name>/w` and `<net>/<name>/b`.
 */
export type NetLayer =
  | { kind: 'dense'; name: string; in: number[]; out: number[]; inputs: number; units: number; activation: Activation }
  | ({ kind: 'conv' | 'conv_transpose'; name: string; in: number[]; out: number[]; activation: Activation } & ConvSpec)
  | { kind: 'flatten'; in: number[]; out: number[] }
  | { kind: 'reshape'; in: number[]; out: number[] }
  | { kind: 'pool'; op: PoolOp; size: number; in: number[]; out: number[] }
  | { kind: 'upsample'; factor: number; in: number[]; out: number[] }
  | { kind: 'residual'; in: number[]; out: number[]; layers: NetLayer[] };

export type NetLayerKind = NetLayer['kind'];

/** The zeros a `same` conv pads an axis of `size` with: [before, after]. */
export function samePadding(size: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** A conv's output size along one axis (≤ 0: the layer does not fit). */
export function convOutputSize(size: number, kernel: number, stride: number, padding: Padding): number {
  return padding === 'same' ? Math.ceil(size / stride) : Math.floor((size - kernel) / stride) + 1;
}

/** A conv_transpose's output size along one axis. */
export function convTransposeOutputSize(size: number, kernel: number, stride: number, padding: Padding): number {
  return padding === 'same' ? size * stride : (size - 1) * stride + kernel;
}

/**
 * What a `same` conv_transpose crops from each end of the full transpose ((in − 1)·s + k) along
 * an axis, [before, after]: the padding of the `same` conv it is the transpose of.
 */
export function sameTransposeCrop(size: number, kernel: number, stride: number): [number, number] {
  const total = Math.max(kernel - stride, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** The number of values of a shape. */
export const shapeSize = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** The weight tensors of a layer with weights, [w shape, b shape]; none for the others. */
export function layerWeightShapes(l: NetLayer): [number[], number[]] | undefined {
  switch (l.kind) {
    case 'dense': return [[l.inputs, l.units], [l.units]];
    case 'conv': return [[l.kernel, l.kernel, l.in[2], l.filters], [l.filters]];
    case 'conv_transpose': return [[l.kernel, l.kernel, l.filters, l.in[2]], [l.filters]];
    default: return undefined;
  }
}

/**
 * The fan-in of PyTorch's default initialization, U(−1/√fan_in, 1/√fan_in) for weight and bias:
 * nn.Linear in_features; nn.Conv2d C_in·k²; nn.ConvTranspose2d C_out·k² (PyTorch takes the fan-in
 * from dimension 1 of its weight, [C_in, C_out, k, k]).
 */
export function layerFanIn(l: Extract<NetLayer, { kind: 'dense' | 'conv' | 'conv_transpose' }>): number {
  switch (l.kind) {
    case 'dense': return l.inputs;
    case 'conv': return l.in[2] * l.kernel * l.kernel;
    case 'conv_transpose': return l.filters * l.kernel * l.kernel;
  }
}

/** Every layer with weights, residual blocks' included, in order. */
export function weightedLayers(layers: readonly NetLayer[]): Extract<NetLayer, { kind: 'dense' | 'conv' | 'conv_transpose' }>[] {
  return layers.flatMap((l) => (l.kind === 'residual' ? weightedLayers(l.layers) : l.kind === 'dense' || l.kind === 'conv' || l.kind === 'conv_transpose' ? [l] : []));
}

/** Learned values of the layers: Σ |W| + |b|. */
export function layersParameterCount(layers: readonly NetLayer[]): number {
  return weightedLayers(layers).reduce((sum, l) => sum + layerWeightShapes(l)!.reduce((s, shape) => s + shapeSize(shape), 0), 0);
}

/** Multiply–adds of one example through the layers (the dense and conv products). */
export function layersMultiplyAdds(layers: readonly NetLayer[]): number {
  return weightedLayers(layers).reduce((sum, l) => {
    if (l.kind === 'dense') return sum + l.inputs * l.units;
    if (l.kind === 'conv') return sum + shapeSize(l.out) * l.in[2] * l.kernel * l.kernel;
    return sum + shapeSize(l.in) * l.filters * l.kernel * l.kernel; // each input value scatters into k² · C_out outputs
  }, 0);
}

export type DenseLayer = Extract<NetLayer, { kind: 'dense' }>;

/** The layers of a network that has dense layers only (for the back ends that support no other kind yet). */
export function denseOnly(layers: readonly NetLayer[]): DenseLayer[] {
  const other = layers.find((l) => l.kind !== 'dense');
  if (other) throw new Error(`a ${other.kind} layer is not supported here yet`);
  return layers as DenseLayer[];
}

/** A layer as a model file writes it, every setting spelled out: `conv 32 k4 s2 same relu`, `pool max 2`, `residual { ... }`. */
export function layerText(l: NetLayer): string {
  switch (l.kind) {
    case 'dense': return `dense ${l.units} ${l.activation}`;
    case 'conv': case 'conv_transpose': return `${l.kind} ${l.filters} k${l.kernel} s${l.stride} ${l.padding} ${l.activation}`;
    case 'flatten': return 'flatten';
    case 'reshape': return `reshape [${l.out.join(', ')}]`;
    case 'pool': return `pool ${l.op} ${l.size}`;
    case 'upsample': return `upsample ${l.factor}`;
    case 'residual': return `residual { ${l.layers.map(layerText).join('; ')} }`;
  }
}
