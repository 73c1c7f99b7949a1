/**
 * A model's network in the TensorFlow.js Layers format (`model.json` and `weights.bin`), which
 * `tf.loadLayersModel` loads in a browser or in Node.
 *
 * The export computes what the model's network computes (`runNetwork` in runtime/interpret.ts),
 * layer by layer, with the trained weights, as a functional tf.LayersModel:
 *
 *   input  [batch, ...inputShape]   the call's one argument in its shape (x [28, 28, 1] for
 *                                   `encoder(x)` of images, z [20] for `decoder(z)`), or several
 *                                   arguments flattened and side by side ([batch, Σ sizes])
 *   layers dense (after a flatten where it is given an image), conv2d, conv2dTranspose (cropped
 *          where a `valid` one has k < s: tfjs-layers then makes it s − k longer), flatten,
 *          reshape, maxPooling2d / averagePooling2d, upSampling2d, and residual blocks as an
 *          `add` of the block's output and its input
 *   output [batch, Σ head sizes]    after a dense head (`split: 'flat'`): every output flattened
 *                                   row-major, side by side in declaration order
 *          [batch, H, W, C]         the last layer's image (`split: 'channels'`): each output
 *                                   takes its channels in declaration order
 *
 * Either way an output is `output[..., offset : offset + length]` reshaped to [batch, ...shape]
 * (see `ExportLayout`), before any function of the model (such as exp(...) or the Bernoulli's
 * sigmoid). `model.json` carries the layout in `userDefinedMetadata.vae`.
 */
// The tfjs bundle for the Layers API; public signatures use tfjs-core's types only, so that this
// module's declarations do not pull tfjs-layers' (which do not type-check under --strict) into
// the package's types.
import * as tf from '@tensorflow/tfjs';
import type { io, Tensor } from '@tensorflow/tfjs-core';
import { shapeSize, weightedLayers, type NetLayer } from '../core/layers.js';
import type { Plan, PlanCall, PlanNetwork } from '../core/plan.js';

/** A network that cannot be exported as asked (none, several, or no such name); the message says which. */
export class ExportError extends Error {
  override name = 'ExportError';
}

/** Which network to export: the likelihood's, the guides', or one by name. */
export type NetworkSelection = 'decoder' | 'encoder' | { net: string };

/** How the exported network's input and output are laid out; stored in model.json. */
export interface ExportLayout {
  /** The model and the network's name in it. */
  model: string;
  network: string;
  /** What the network computes in the model: the likelihood's parameters, a guide's, or other. */
  role: 'decoder' | 'encoder' | 'other';
  /**
   * The input, [batch, ...shape]: the call's arguments as written in the model (e.g. `z`), each
   * flattened row-major, side by side from `offset` (`width` values); one argument keeps its shape.
   */
  input: { width: number; shape: number[]; parts: { expr: string; shape: number[]; offset: number; size: number }[] };
  /**
   * The output, [batch, ...shape]: `flat`, the heads flattened row-major side by side; `channels`,
   * an image whose channels the heads take in order. Head h is output[..., offset : offset + length]
   * (along the last axis, `width` long) reshaped to [batch, ...h.shape]; `size` is its values.
   */
  output: {
    width: number; shape: number[]; split: 'flat' | 'channels';
    heads: { name: string; shape: number[]; offset: number; length: number; size: number }[];
  };
  /** The layers (core/layers.ts), the dense head `out` last where there is one. */
  layers: NetLayer[];
}

/** The name of the weights file beside model.json. */
export const WEIGHTS_FILE = 'weights.bin';

/** The first call of network `net` in the distributions of `role`. */
const callIn = (net: PlanNetwork, role: PlanCall['in'][number]) => net.calls.find((c) => c.in.includes(role));

/**
 * The network `selection` names in `plan`, with one call of it (whose arguments describe the
 * input). An ExportError when there is none, or several for a role.
 */
export function selectNetwork(plan: Plan, selection: NetworkSelection): { net: PlanNetwork; call?: PlanCall; role: ExportLayout['role'] } {
  const names = plan.networks.map((n) => n.name);
  if (typeof selection === 'object') {
    const net = plan.networks.find((n) => n.name === selection.net);
    if (!net) throw new ExportError(`model '${plan.name}' has no network '${selection.net}' (its networks: ${names.join(', ') || 'none'}).`);
    const role = callIn(net, 'likelihood') ? 'decoder' : callIn(net, 'guide') ? 'encoder' : 'other';
    return { net, call: net.calls[0], role };
  }
  const where = selection === 'decoder' ? 'likelihood' : 'guide';
  const nets = plan.networks.filter((n) => callIn(n, where));
  if (nets.length === 0) {
    throw new ExportError(`model '${plan.name}' has no ${selection}: no network computes a parameter of its ${where}` +
      `${names.length ? ` (its networks: ${names.join(', ')}; export one with --net NAME)` : ''}.`);
  }
  if (nets.length > 1) {
    throw new ExportError(`model '${plan.name}' has ${nets.length} ${selection} networks (${nets.map((n) => n.name).join(', ')}); export one with --net NAME.`);
  }
  return { net: nets[0], call: callIn(nets[0], where), role: selection };
}

/** The input and output layout of `net`, its input described by `call`'s arguments. */
export function exportLayout(plan: Plan, net: PlanNetwork, call: PlanCall | undefined, role: ExportLayout['role']): ExportLayout {
  let offset = 0;
  const parts = call
    ? call.args.map((a) => {
      const size = shapeSize(a.shape);
      const part = { expr: a.expr, shape: a.shape, offset, size };
      offset += size;
      return part;
    })
    : [{ expr: '(the network is not called in the model)', shape: net.inputShape, offset: 0, size: net.inputWidth }];
  const last = net.layers.length ? net.layers[net.layers.length - 1].out : net.inputShape;
  const pixels = net.split === 'flat' ? 1 : last[0] * last[1];
  let at = 0;
  const heads = net.outputs.map((o) => {
    const head = { name: o.name, shape: o.shape, offset: at, length: o.size / pixels, size: o.size };
    at += head.length;
    return head;
  });
  return {
    model: plan.name, network: net.name, role,
    input: { width: net.inputWidth, shape: net.inputShape, parts },
    output: { width: at, shape: net.split === 'flat' ? [at] : last, split: net.split, heads },
    layers: structuredClone(net.layers),
  };
}

/** `[a (20) | b (784)]`: a row's parts and their sizes. */
export function describeRow(parts: { name?: string; expr?: string; size: number }[]): string {
  return `[${parts.map((p) => `${p.name ?? p.expr} (${p.size})`).join(' | ')}]`;
}

/** The input as `vae export` reports it: `[z (20)]`, `[x (784) | y (10)]`, or an image `x [28, 28, 1]`. */
export function describeInput(input: ExportLayout['input']): string {
  return input.shape.length > 1 ? `${input.parts[0].expr} [${input.shape.join(', ')}]` : describeRow(input.parts);
}

/** The output as `vae export` reports it: `[mu (20) | log_sigma (20)]`, or `[28, 28, 2] channels [loc (1) | scale (1)]`. */
export function describeOutput(output: ExportLayout['output']): string {
  if (output.split === 'flat') return describeRow(output.heads);
  return `[${output.shape.join(', ')}] channels [${output.heads.map((h) => `${h.name} (${h.length})`).join(' | ')}]`;
}

/**
 * `net` as a tf.LayersModel: the layers with weights named `<net>_hidden<i>` and `<net>_out`
 * holding `<net>/hidden<i>/w|b` and `<net>/out/w|b` of `weights`, the others `<net>_<kind><i>`.
 */
function layersModel(net: PlanNetwork, weights: ReadonlyMap<string, Tensor>): tf.LayersModel {
  for (const l of weightedLayers(net.layers)) {
    if (!weights.has(`${net.name}/${l.name}/w`) || !weights.has(`${net.name}/${l.name}/b`)) throw new ExportError(`no weights for layer '${l.name}' of network '${net.name}'.`);
  }
  const input = tf.input({ shape: net.inputShape, name: `${net.name}_input` });
  const output = new LayerBuilder(net.name, weights).layers(net.layers, input);
  return tf.model({ name: net.name, inputs: input, outputs: output });
}

type Symbolic = tf.SymbolicTensor;

/** Applies layers to symbolic tensors, naming the weightless ones by kind and count and setting the weights. */
class LayerBuilder {
  private readonly counts = new Map<string, number>();

  constructor(private readonly net: string, private readonly weights: ReadonlyMap<string, Tensor>) {}

  layers(layers: readonly NetLayer[], x: Symbolic): Symbolic {
    return layers.reduce((h, l) => this.layer(l, h), x);
  }

  private layer(l: NetLayer, x: Symbolic): Symbolic {
    switch (l.kind) {
      case 'dense': {
        const flat = l.in.length === 1 ? x : this.apply(tf.layers.flatten({ name: `${this.net}_${l.name}_flatten` }), x);
        return this.withWeights(l.name, tf.layers.dense({ name: `${this.net}_${l.name}`, units: l.units, activation: l.activation }), flat);
      }
      case 'conv':
        return this.withWeights(l.name, tf.layers.conv2d({
          name: `${this.net}_${l.name}`, filters: l.filters, kernelSize: l.kernel, strides: l.stride, padding: l.padding, activation: l.activation,
        }), x);
      case 'conv_transpose': {
        const y = this.withWeights(l.name, tf.layers.conv2dTranspose({
          name: `${this.net}_${l.name}`, filters: l.filters, kernelSize: l.kernel, strides: l.stride, padding: l.padding, activation: l.activation,
        }), x);
        // tfjs-layers makes a `valid` one in·s + max(k − s, 0) long, the full transpose (in − 1)·s + k
        // followed by s − k values of the bias alone where k < s: those are cropped.
        const extra = l.padding === 'valid' ? Math.max(l.stride - l.kernel, 0) : 0;
        return extra === 0 ? y : this.apply(tf.layers.cropping2D({ name: `${this.net}_${l.name}_crop`, cropping: [[0, extra], [0, extra]] }), y);
      }
      case 'flatten': return this.apply(tf.layers.flatten({ name: this.name('flatten') }), x);
      case 'reshape': return this.apply(tf.layers.reshape({ name: this.name('reshape'), targetShape: l.out }), x);
      case 'pool': {
        const settings = { name: this.name('pool'), poolSize: l.size, strides: l.size, padding: 'valid' as const };
        return this.apply(l.op === 'max' ? tf.layers.maxPooling2d(settings) : tf.layers.averagePooling2d(settings), x);
      }
      case 'upsample': return this.apply(tf.layers.upSampling2d({ name: this.name('upsample'), size: [l.factor, l.factor], interpolation: 'nearest' }), x);
      case 'residual': {
        const name = this.name('residual');
        return tf.layers.add({ name }).apply([this.layers(l.layers, x), x]) as Symbolic;
      }
    }
  }

  private apply(layer: tf.layers.Layer, x: Symbolic): Symbolic {
    return layer.apply(x) as Symbolic;
  }

  /** `layer` applied to `x` (which builds it), then given the weights of the plan's layer `name`. */
  private withWeights(name: string, layer: tf.layers.Layer, x: Symbolic): Symbolic {
    const y = this.apply(layer, x);
    layer.setWeights([this.weights.get(`${this.net}/${name}/w`)!, this.weights.get(`${this.net}/${name}/b`)!]);
    return y;
  }

  private name(kind: string): string {
    const k = this.counts.get(kind) ?? 0;
    this.counts.set(kind, k + 1);
    return `${this.net}_${kind}${k}`;
  }
}

/** A network in the Layers format, before anything is written: model.json's content and the weights' bytes. */
export interface ExportArtifacts {
  modelJson: io.ModelJSON;
  weights: Uint8Array;
  layout: ExportLayout;
}

/**
 * Network `selection` of `plan` with `weights` as TensorFlow.js Layers artifacts (model.json's
 * object, whose manifest names `weights.bin`, and the weights' bytes). Needs a tfjs backend to
 * be active. `convertedBy` names the writer in model.json.
 */
export async function exportArtifacts(plan: Plan, weights: ReadonlyMap<string, Tensor>, selection: NetworkSelection, convertedBy: string): Promise<ExportArtifacts> {
  const { net, call, role } = selectNetwork(plan, selection);
  const layout = exportLayout(plan, net, call, role);
  const layers = layersModel(net, weights);
  try {
    let result: ExportArtifacts | undefined;
    await layers.save(tf.io.withSaveHandler(async (artifacts) => {
      const data = tf.io.concatenateArrayBuffers(artifacts.weightData as ArrayBuffer | ArrayBuffer[]);
      result = {
        modelJson: {
          modelTopology: artifacts.modelTopology!,
          format: artifacts.format,
          generatedBy: artifacts.generatedBy,
          convertedBy,
          weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs! }],
          userDefinedMetadata: { vae: layout as unknown as Record<string, unknown> },
        },
        weights: new Uint8Array(data),
        layout,
      };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: data.byteLength } };
    }));
    return result!;
  } finally {
    layers.dispose();
  }
}
