/**
 * A network's body, checked and laid out: the names its layers use (activations, paddings,
 * pooling), then, once its calls have fixed its input shape, each layer's output shape (by the
 * arithmetic of core/layers.ts), and how the last layer gives the outputs:
 *
 * - after a vector (or with no layers), a linear dense head `out` computes every output side by
 *   side (`split: 'flat'`);
 * - after an image [H, W, C], the outputs are its channels in order (`split: 'channels'`): each
 *   output [H, W, ...rest] takes product(rest) of them, and they must add up to C.
 *
 * Layers with weights are named `hidden0`, `hidden1`, ... in order of appearance, residual blocks'
 * inner layers included. Every error is at the layer that cannot take its input, and says the
 * shapes and the arithmetic.
 */
import type * as A from './ast.js';
import { ACTIVATIONS, type Activation } from '../core/catalog.js';
import {
  convOutputSize, convTransposeOutputSize, shapeSize, type NetLayer, type Padding, type PoolOp,
} from '../core/layers.js';
import { MAX_TENSOR_VALUES } from './check-size.js';
import * as D from './diagnostics.js';
import { orList, spanOf, type Diagnostic, type SourceFile, type Span } from './source.js';
import { PADDINGS } from './to-ast.js';

const POOL_OPS: readonly PoolOp[] = ['max', 'avg'];

const showShape = (s: readonly number[]): string => `[${s.join(', ')}]`;
const n = (x: number): string => x.toLocaleString('en-US');

/** Unknown activations, paddings and pooling operations, at the word. */
export function checkLayerNames(layers: readonly A.Layer[], out: Diagnostic[]): void {
  for (const l of layers) {
    if (l.kind === 'residual') checkLayerNames(l.layers, out);
    if (l.kind === 'pool' && !(POOL_OPS as readonly string[]).includes(l.op.name)) {
      out.push(D.badNetwork(l.op.span, `Unknown pooling '${l.op.name}'. Expected max or avg, as in pool max 2.`));
    }
    if ((l.kind === 'conv' || l.kind === 'conv_transpose') && l.padding && !PADDINGS.includes(l.padding.name)) {
      out.push(D.badNetwork(l.padding.span, `Unknown padding '${l.padding.name}'. Expected same or valid.`));
    }
    if ((l.kind === 'dense' || l.kind === 'conv' || l.kind === 'conv_transpose') && l.activation && !(ACTIVATIONS as readonly string[]).includes(l.activation.name)) {
      const padding = l.kind !== 'dense' && !l.padding ? ' (or the padding, same or valid)' : '';
      out.push(D.badNetwork(l.activation.span, `Unknown activation '${l.activation.name}'. Expected ${orList(ACTIVATIONS)}${padding}.`));
    }
  }
}

/** What the checker knows of a network's input, for the layout and its messages. */
export interface NetInput {
  net: A.NetDecl;
  /** The shape the first layer sees. */
  shape: number[];
  /** Where it comes from, for messages: "the input x of encoder". */
  origin: string;
  /** How the input could be declared with another shape: "Declare x as binary[…]" (given the shape's text). */
  redeclare?: (shape: string) => string;
}

/** A checked network body: its layers with shapes and names (no head), and how outputs are cut. */
export interface NetLayout { layers: NetLayer[]; split: 'flat' | 'channels' }

/**
 * The layers of `input.net` from its input shape, then its outputs against the last layer's
 * shape; undefined (with the errors in `out`) at the first layer or output that does not fit.
 */
export function layOutNetwork(input: NetInput, src: SourceFile, out: Diagnostic[]): NetLayout | undefined {
  const ctx: Context = { src, out, input, hidden: 0 };
  const layers = layOut(input.net.layers, input.shape, input.origin, ctx);
  if (!layers) return undefined;
  const last = layers[layers.length - 1]?.out ?? input.shape;
  if (layers.length === 0 || last.length === 1) return { layers, split: 'flat' };
  if (last.length !== 3) {
    const l = input.net.layers[input.net.layers.length - 1];
    out.push(D.badNetworkOutputs(layerSpan(l, src),
      `The last layer of ${input.net.name.name}, ${describe(l, src)}, gives ${showShape(last)}: a network ends in a vector (a dense head then computes its outputs) or in an image [H, W, C] (its outputs are then the image's channels). Add flatten${last.length === 2 ? `, or reshape ${showShape([...last, 1])}` : ''}.`));
    return undefined;
  }
  return checkChannels(layers, ctx) ? { layers, split: 'channels' } : undefined;
}

interface Context { src: SourceFile; out: Diagnostic[]; input: NetInput; hidden: number }

/** The layers from `shape` on; `from` says where `shape` comes from (for messages). */
function layOut(layers: readonly A.Layer[], shape: number[], from: string, ctx: Context): NetLayer[] | undefined {
  const result: NetLayer[] = [];
  let current = shape;
  for (const l of layers) {
    const laid = layOne(l, current, from, ctx);
    if (!laid) return undefined;
    if (shapeSize(laid.out) > MAX_TENSOR_VALUES) {
      ctx.out.push({
        code: 'VAE2018', severity: 'error', span: layerSpan(l, ctx.src),
        message: `${describe(l, ctx.src)} gives ${showShape(laid.out)}, ${n(shapeSize(laid.out))} values per example; a layer may give at most ${n(MAX_TENSOR_VALUES)} (2^24).`,
      });
      return undefined;
    }
    result.push(laid);
    current = laid.out;
    from = `the output of ${describe(l, ctx.src, 'inside')}`;
  }
  return result;
}

function layOne(l: A.Layer, shape: number[], from: string, ctx: Context): NetLayer | undefined {
  const size = shapeSize(shape);
  const fail = (message: string) => { ctx.out.push(D.badLayerShape(layerSpan(l, ctx.src), message)); return undefined; };
  const given = `it is given ${showShape(shape)} (${from})`;
  const name = () => `hidden${ctx.hidden++}`;
  switch (l.kind) {
    case 'dense':
      return { kind: 'dense', name: name(), in: shape, out: [l.units], inputs: size, units: l.units, activation: activation(l.activation) };
    case 'flatten':
      return { kind: 'flatten', in: shape, out: [size] };
    case 'reshape':
      if (shapeSize(l.shape) !== size) return fail(`${describe(l, ctx.src)} has ${n(shapeSize(l.shape))} values; it is given ${n(size)} = ${showShape(shape)} (${from}).`);
      return { kind: 'reshape', in: shape, out: l.shape };
    case 'residual': {
      const inner = layOut(l.layers, shape, from, ctx);
      if (!inner) return undefined;
      const result = inner[inner.length - 1]?.out ?? shape;
      if (showShape(result) !== showShape(shape)) {
        return fail(`This residual block's layers give ${showShape(result)}, but its input is ${showShape(shape)} (${from}): the block adds its layers' output to its input, so the two must have the same shape.`);
      }
      return { kind: 'residual', in: shape, out: shape, layers: inner };
    }
    default: break;
  }
  if (shape.length !== 3) {
    const guess = imageShape(shape);
    const fix = guess ? `${ctx.input.redeclare && from === ctx.input.origin ? `${ctx.input.redeclare(showShape(guess))} or add` : 'Add'} reshape ${showShape(guess)}${from === ctx.input.origin ? '' : ' before it'}.`
      : `Add reshape [H, W, C] before it, with H · W · C = ${n(size)}.`;
    return fail(`${l.kind} needs an image [H, W, C]; ${given}. ${fix}`);
  }
  const [h, w, c] = shape;
  switch (l.kind) {
    case 'conv': case 'conv_transpose': {
      const stride = l.stride ?? 1;
      const padding = (l.padding?.name ?? 'same') as Padding;
      const spatial = l.kind === 'conv' ? convOutputSize : convTransposeOutputSize;
      const [oh, ow] = [spatial(h, l.kernel, stride, padding), spatial(w, l.kernel, stride, padding)];
      if (oh < 1 || ow < 1) {
        const axis = oh < 1 ? h : w;
        return fail(`${describe(l, ctx.src)} needs at least ${l.kernel} × ${l.kernel} values without padding, but ${given}: ⌊(${axis} − ${l.kernel}) / ${stride}⌋ + 1 = ${Math.min(oh, ow)}. Use padding same, or a kernel of at most ${Math.min(h, w)}.`);
      }
      return { kind: l.kind, name: name(), in: shape, out: [oh, ow, l.filters], filters: l.filters, kernel: l.kernel, stride, padding, activation: activation(l.activation) };
    }
    case 'pool':
      if (l.size > h || l.size > w) {
        return fail(`${describe(l, ctx.src)} takes windows of ${l.size} × ${l.size}, but ${given}: ⌊${Math.min(h, w)} / ${l.size}⌋ = 0. Use a window of at most ${Math.min(h, w)}.`);
      }
      return { kind: 'pool', op: l.op.name as PoolOp, size: l.size, in: shape, out: [Math.floor(h / l.size), Math.floor(w / l.size), c] };
    case 'upsample':
      return { kind: 'upsample', factor: l.factor, in: shape, out: [h * l.factor, w * l.factor, c] };
  }
}

const activation = (a: A.Ident | undefined): Activation => (a?.name ?? 'linear') as Activation;

/**
 * An image shape with the values of `shape`, to suggest: [H, W] becomes [H, W, 1]; a vector of
 * n² or 3n² values a square of 1 or 3 channels.
 */
function imageShape(shape: number[]): number[] | undefined {
  if (shape.length === 2) return [...shape, 1];
  const size = shapeSize(shape);
  for (const c of [1, 3]) {
    const side = Math.round(Math.sqrt(size / c));
    if (side * side * c === size) return [side, side, c];
  }
  return undefined;
}

/**
 * The outputs of a network ending in an image [H, W, C]: each output is [H, W, ...rest] and takes
 * product(rest) channels; together they take all C.
 */
function checkChannels(layers: NetLayer[], ctx: Context): boolean {
  const net = ctx.input.net;
  const [h, w, c] = layers[layers.length - 1].out;
  const last = net.layers[net.layers.length - 1];
  for (const o of net.outputs) {
    const s = o.type.shape;
    const related = [{ span: o.type.span, message: `'${o.name.name}' is declared here.` }];
    if (s.length < 2) {
      const channels = shapeSize(s) / (h * w);
      const as = Number.isInteger(channels) ? `real${showShape([h, w, channels])} (the same ${n(shapeSize(s))} values)` : `real[${h}, ${w}, …]`;
      ctx.out.push(D.badNetworkOutputs(o.type.span,
        `${net.name.name} ends in the image ${showShape([h, w, c])}, whose channels are its outputs, but its output ${o.name.name} is declared ${showType(o.type)}. Declare it ${as}, or end the network in flatten for a dense head.`));
      return false;
    }
    if (s[0] !== h || s[1] !== w) {
      const axis = s[0] !== h ? 0 : 1;
      const why = whySize(layers, axis, ctx);
      ctx.out.push(D.badNetworkOutputs(why.span,
        `${net.name.name} gives ${showShape([h, w, c])}, but its output ${o.name.name} is declared ${showType(o.type)}: ${why.text}.`, related));
      return false;
    }
  }
  const taken = net.outputs.map((o) => shapeSize(o.type.shape.slice(2)));
  const total = taken.reduce((a, b) => a + b, 0);
  if (total !== c) {
    const parts = net.outputs.map((o, i) => `${o.name.name} ${showType(o.type)} takes ${plural(taken[i], 'channel')}`).join(', ');
    ctx.out.push(D.badNetworkOutputs(layerSpan(last, ctx.src),
      `The last layer of ${net.name.name}, ${describe(last, ctx.src)}, gives ${plural(c, 'channel')} (${showShape([h, w, c])}), but its outputs take ${n(total)}: ${parts}. Its outputs are the channels of the last layer's image, in order; make it give ${n(total)}.`));
    return false;
  }
  return true;
}

/**
 * Why the last layer's image has its size along `axis` (0: H, 1: W): the last layer that changed
 * it, with the arithmetic ("conv_transpose 1 k4 s2 same (line 14) makes 32 = 16 · 2 from
 * [16, 16, 32]"), or the input.
 */
function whySize(layers: NetLayer[], axis: 0 | 1, ctx: Context): { text: string; span: Span } {
  const decls = ctx.input.net.layers;
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i];
    const [before, after] = [l.in[axis], l.out[axis]];
    if (l.in.length === 3 && before === after) continue;
    const text = `${describe(decls[i], ctx.src, 'parenthesized')} makes ${l.in.length === 3 ? `${sizeFormula(l, axis)} from ${showShape(l.in)}` : `it ${showShape(l.out)}`}`;
    return { text, span: layerSpan(decls[i], ctx.src) };
  }
  const span = decls.length > 0 ? layerSpan(decls[decls.length - 1], ctx.src) : ctx.input.net.name.span;
  return { text: `${ctx.input.origin} is ${showShape(ctx.input.shape)}`, span };
}

/** A layer's output size along `axis` as the arithmetic of core/layers.ts gives it, written out. */
function sizeFormula(l: NetLayer, axis: 0 | 1): string {
  const [i, o] = [l.in[axis], l.out[axis]];
  switch (l.kind) {
    case 'conv': return l.padding === 'same' ? `${o} = ⌈${i} / ${l.stride}⌉` : `${o} = ⌊(${i} − ${l.kernel}) / ${l.stride}⌋ + 1`;
    case 'conv_transpose': return l.padding === 'same' ? `${o} = ${i} · ${l.stride}` : `${o} = (${i} − 1) · ${l.stride} + ${l.kernel}`;
    case 'pool': return `${o} = ⌊${i} / ${l.size}⌋`;
    case 'upsample': return `${o} = ${i} · ${l.factor}`;
    default: return `${o}`;
  }
}

const plural = (x: number, word: string) => `${n(x)} ${word}${x === 1 ? '' : 's'}`;
const showType = (t: A.TypeExpr) => `${t.name.name}${t.shape.length > 0 ? showShape(t.shape) : ''}`;

/**
 * A layer as written, for messages: "conv 32 k4 s2 same relu"; with `line`, where it is: "conv 32
 * k4 s2 same relu (line 9)", or in parentheses already "..., line 9". A residual block is named by its line.
 */
export function describe(l: A.Layer, src: SourceFile, line: 'none' | 'parenthesized' | 'inside' = 'none'): string {
  const text = l.kind === 'residual' ? 'the residual block' : src.text.slice(l.span.start.offset, l.span.end.offset).replace(/\s+/g, ' ');
  const where = line === 'none' ? '' : line === 'inside' ? `, line ${l.span.start.line}` : ` (line ${l.span.start.line})`;
  return `${text}${where}`;
}

/** Where an error about a layer points: the layer; for a residual block, its keyword. */
export function layerSpan(l: A.Layer, src: SourceFile): Span {
  return l.kind === 'residual' ? spanOf(src, l.span.start.offset, l.span.start.offset + 'residual'.length) : l.span;
}
