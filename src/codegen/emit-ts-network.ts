/**
 * A network of the plan as a function of a generated trainer (see emit-ts.ts): straight-line
 * tfjs code, one constant per layer, the same calls on the same values as the interpreter's
 * `runNetwork` (runtime/interpret.ts): the input as the network's input shape, each layer by its
 * kind (dense flattening what it is given; conv, conv_transpose, pool and upsample through the
 * runtime's layers; residual blocks adding their input), then the outputs cut as the plan's
 * `split` says.
 */
import type { FunctionDeclarationStructure, OptionalKind } from 'ts-morph';
import { layerText, weightedLayers, type NetLayer } from '../core/layers.js';
import type { PlanNetwork } from '../core/plan.js';
import { call, commented, Names, propertyName, shapeCode, str, use, type Module } from './emit-ts-body.js';

/** A value the function holds: its code, static type and shape (without rows). */
interface Held { code: string; type: string; shape: number[] }

/** The static type of a value of `shape` with rows: [rows, n] a Tensor2D, [rows, H, W, C] a Tensor4D. */
const typeOf = (shape: number[]) => (shape.length === 1 ? 'tf.Tensor2D' : shape.length === 3 ? 'tf.Tensor4D' : 'tf.Tensor');
const as = (h: Held, type: string) => (h.type === type ? h.code : `${h.code} as ${type}`);
const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
const shapeText = (shape: number[]) => `[${shape.join(', ')}]`;

/** One row of the doc comment's table of layers: the constant, the layer as written, its output shape. */
interface Row { id: string; text: string; shape: number[]; depth: number }

class NetworkPrinter {
  readonly statements = ['const rows = input.shape[0];'];
  readonly rows: Row[] = [];
  private needsGrad = 'inputNeedsGrad';
  private readonly counts = new Map<string, number>();
  private depth = 0;

  constructor(private readonly m: Module, private readonly net: PlanNetwork, private readonly names: Names) {}

  /** The input as the network's input shape. */
  input(): Held {
    const shape = this.net.inputShape;
    if (shape.length === 1) return { code: 'input', type: 'tf.Tensor', shape };
    const id = this.names.take('image');
    const type = typeOf(shape);
    this.statements.push(commented(`const ${id} = tf.reshape(input, ${shapeCode(shape, 'rows')}) as ${type};`, [`the input as [rows, ${shape.join(', ')}]`]));
    return { code: id, type, shape };
  }

  layers(layers: readonly NetLayer[], h: Held): Held {
    for (const l of layers) {
      h = this.layer(l, h);
      if (weightedLayers([l]).length > 0) this.needsGrad = 'true';
    }
    return h;
  }

  private layer(l: NetLayer, h: Held): Held {
    const arrow = `${shapeText(l.in)} → ${shapeText(l.out)}`;
    switch (l.kind) {
      case 'dense': {
        const x = sameShape(h.shape, [l.inputs]) ? as(h, 'tf.Tensor2D') : `tf.reshape(${h.code}, [rows, ${l.inputs}]) as tf.Tensor2D`;
        const id = this.names.take(l.name);
        const code = call(use(this.m, 'dense'), [x, this.weight(l.name, 'w', 2), this.weight(l.name, 'b', 1), str(l.activation), this.needsGrad], `const ${id} = `);
        return this.bind(id, code, l, [`${l.name}: ${l.inputs} → ${l.units}, ${l.activation}`]);
      }
      case 'conv':
      case 'conv_transpose': {
        const id = this.names.take(l.name);
        const spec = `{ filters: ${l.filters}, kernel: ${l.kernel}, stride: ${l.stride}, padding: ${str(l.padding)} }`;
        const fn = use(this.m, l.kind === 'conv' ? 'conv2d' : 'conv2dTranspose');
        const code = call(fn, [as(h, 'tf.Tensor4D'), this.weight(l.name, 'w', 4), this.weight(l.name, 'b', 1), spec, str(l.activation), this.needsGrad], `const ${id} = `);
        return this.bind(id, code, l, [`${l.name}: ${layerText(l)}, ${arrow}`]);
      }
      case 'flatten':
      case 'reshape': return this.bind(this.id(l.kind), `tf.reshape(${h.code}, ${shapeCode(l.out, 'rows')}) as ${typeOf(l.out)}`, l, [`${layerText(l)}: ${arrow}`]);
      case 'pool': return this.bind(this.id('pool'), `${use(this.m, 'pool2d')}(${as(h, 'tf.Tensor4D')}, ${str(l.op)}, ${l.size})`, l, [`${layerText(l)}: ${arrow}`]);
      case 'upsample': return this.bind(this.id('upsample'), `${use(this.m, 'upsample2d')}(${as(h, 'tf.Tensor4D')}, ${l.factor})`, l, [`${layerText(l)}: ${arrow}`]);
      case 'residual': {
        const id = this.id('residual');
        this.statements.push(commented('', [`${id}: ${arrow}, the layers of the block, then their output added to its input`]).trimEnd());
        this.rows.push({ id, text: 'residual', shape: l.out, depth: this.depth });
        this.depth++;
        const inner = this.layers(l.layers, h);
        this.depth--;
        this.statements.push(`const ${id} = tf.add(${inner.code}, ${h.code}) as ${typeOf(l.out)};`);
        return { code: id, type: typeOf(l.out), shape: l.out };
      }
    }
  }

  /** `weights.get('<net>/<layer>/w')` as a tensor of the rank the layer takes. */
  private weight(layer: string, p: 'w' | 'b', rank: number): string {
    return `weights.get(${str(`${this.net.name}/${layer}/${p}`)}) as tf.Tensor${rank}D`;
  }

  /** A weightless layer's constant: its kind and how many of that kind came before. */
  private id(kind: string): string {
    const k = this.counts.get(kind) ?? 0;
    this.counts.set(kind, k + 1);
    return this.names.take(`${kind}${k}`);
  }

  private bind(id: string, code: string, l: NetLayer, note: string[]): Held {
    const type = l.kind === 'dense' ? 'tf.Tensor2D' : l.kind === 'conv' || l.kind === 'conv_transpose' || l.kind === 'pool' || l.kind === 'upsample' ? 'tf.Tensor4D' : typeOf(l.out);
    this.statements.push(commented(`const ${id} = ${code};`, note));
    this.rows.push({ id, text: layerText(l), shape: l.out, depth: this.depth });
    return { code: id, type, shape: l.out };
  }

  /** The outputs cut from the last layer's output, as [rows, ...shape] each. */
  outputs(h: Held): void {
    const outs = this.net.outputs;
    const head = (part: string, o: PlanNetwork['outputs'][number]) => `${propertyName(o.name)}: tf.reshape(${part}, ${shapeCode(o.shape, 'rows')})`;
    if (outs.length === 1) {
      this.statements.push(`return { ${head(h.code, outs[0])} };`);
      return;
    }
    const [sizes, axis] = this.net.split === 'flat' ? [outs.map((o) => o.size), 1] : [channelsOf(this.net), 3];
    this.statements.push(`const parts = tf.split(${h.code}, [${sizes.join(', ')}], ${axis});`);
    this.statements.push(`return {\n${outs.map((o, i) => `${head(`parts[${i}]`, o)},`).join('\n')}\n};`);
  }
}

/** The channels each output of a `channels` network takes: size / (H·W). */
const channelsOf = (net: PlanNetwork) => {
  const last = net.layers[net.layers.length - 1].out;
  return net.outputs.map((o) => o.size / (last[0] * last[1]));
};

/** Which channels each output takes: `loc: channel 0`, `scales: channels 1–2`. */
function channelRanges(net: PlanNetwork): string[] {
  let at = 0;
  return channelsOf(net).map((c, i) => {
    const text = c === 1 ? `channel ${at}` : `channels ${at}–${at + c - 1}`;
    at += c;
    return `${net.outputs[i].name}: ${text}`;
  });
}

/** A network's function, as the interpreter's `runNetwork`. */
export function networkFunction(m: Module, net: PlanNetwork): OptionalKind<FunctionDeclarationStructure> {
  const p = new NetworkPrinter(m, net, new Names(['weights', 'input', 'inputNeedsGrad', 'rows', 'parts']));
  p.outputs(p.layers(net.layers, p.input()));
  return {
    name: m.netFunctions.get(net.name)!, docs: [networkDocs(net, p.rows)], statements: p.statements,
    parameters: [{ name: 'weights', type: 'Weights' }, { name: 'input', type: 'tf.Tensor' }, { name: 'inputNeedsGrad', type: 'boolean' }],
    returnType: `{ ${net.outputs.map((o) => `${propertyName(o.name)}: tf.Tensor`).join('; ')} }`,
  };
}

/**
 * The function's doc comment: a dense stack in one line (`784 inputs → dense 400 relu → mu [20],
 * log_sigma [20]`); any other network as a table of its layers with their output shapes.
 */
function networkDocs(net: PlanNetwork, rows: Row[]): string {
  const outputs = net.outputs.map((o) => `${o.name} [${o.shape.join(', ')}]`).join(', ');
  const head = net.split === 'flat' ? net.layers[net.layers.length - 1] : undefined;
  const cut = head?.kind === 'dense'
    ? `One linear layer computes every head side by side (${head.units} units), split by output.`
    : `The last layer's image is cut along its channels: ${channelRanges(net).join(', ')}.`;
  if (net.inputShape.length === 1 && net.layers.every((l) => l.kind === 'dense')) {
    const hidden = net.layers.slice(0, -1).map(layerText);
    return [
      `Network \`${net.name}\`: ${[`${net.inputWidth} inputs`, ...hidden].join(' → ')} → ${outputs}.`,
      '',
      cut,
      '`inputNeedsGrad` is false when the input is data: the first layer then skips dL/dinput.',
    ].join('\n');
  }
  const table = [{ id: 'input', text: '', shape: net.inputShape, depth: 0 }, ...rows]
    .map((r) => [`${'  '.repeat(r.depth)}${r.id}`, `${'  '.repeat(r.depth)}${r.text}`, shapeText(r.shape)]);
  const widths = [0, 1].map((c) => Math.max(...table.map((r) => r[c].length)));
  return [
    `Network \`${net.name}\`: ${shapeText(net.inputShape)} → ${outputs}.`,
    '',
    ...table.map(([id, text, shape]) => `  ${id.padEnd(widths[0])}  ${text.padEnd(widths[1])}  ${shape}`.trimEnd()),
    '',
    cut,
    '`inputNeedsGrad` is false when the input is data: the first layer with weights then skips dL/dinput.',
  ].join('\n');
}
