/**
 * A model's network in the TensorFlow.js Layers format (`model.json` and `weights.bin`), which
 * `tf.loadLayersModel` loads in a browser or in Node.
 *
 * Our networks are dense stacks (see `runNetwork` in runtime/interpret.ts and the plan's networks): the
 * call's arguments flattened and concatenated into one input row, the hidden layers, then one
 * linear layer `out` holding every output head side by side. The export is the same stack as a
 * `tf.sequential` of `tf.layers.dense`, with the trained weights:
 *
 *   input  [batch, inputWidth]    e.g. z (20) for `decoder(z)`, x (784) for `encoder(x)`
 *   hidden dense(units, activation) for each `dense` line of the network
 *   output [batch, Σ head sizes]  e.g. [mu (20) | log_sigma (20)], heads in declaration order,
 *                                 each head flattened row-major; no activation (the model's
 *                                 expressions, such as exp(...) or the Bernoulli's sigmoid, are
 *                                 not part of the network)
 *
 * `model.json` carries the layout in `userDefinedMetadata.vae` (see `ExportLayout`).
 */
// The tfjs bundle for the Layers API; public signatures use tfjs-core's types only, so that this
// module's declarations do not pull tfjs-layers' (which do not type-check under --strict) into
// the package's types.
import { denseOnly } from '../core/layers.js';
import * as tf from '@tensorflow/tfjs';
import type { io, Tensor } from '@tensorflow/tfjs-core';
import type { Plan, PlanCall, PlanNetwork } from '../core/plan.js';

/** A network that cannot be exported as asked (none, several, or no such name); the message says which. */
export class ExportError extends Error {
  override name = 'ExportError';
}

/** Which network to export: the likelihood's, the guides', or one by name. */
export type NetworkSelection = 'decoder' | 'encoder' | { net: string };

/** How the exported network's input and output rows are laid out; stored in model.json. */
export interface ExportLayout {
  /** The model and the network's name in it. */
  model: string;
  network: string;
  /** What the network computes in the model: the likelihood's parameters, a guide's, or other. */
  role: 'decoder' | 'encoder' | 'other';
  /**
   * The input row: the call's arguments as written in the model (e.g. `z`), each flattened
   * row-major, side by side from `offset`.
   */
  input: { width: number; parts: { expr: string; shape: number[]; offset: number; size: number }[] };
  /** The output row: each head of the network, flattened row-major, side by side from `offset`. */
  output: { width: number; heads: { name: string; shape: number[]; offset: number; size: number }[] };
  /** The hidden layers, then the linear output layer. */
  layers: { units: number; activation: string }[];
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
      const size = a.shape.reduce((p, d) => p * d, 1);
      const part = { expr: a.expr, shape: a.shape, offset, size };
      offset += size;
      return part;
    })
    : [{ expr: '(the network is not called in the model)', shape: [net.inputWidth], offset: 0, size: net.inputWidth }];
  let at = 0;
  const heads = net.outputs.map((o) => {
    const head = { name: o.name, shape: o.shape, offset: at, size: o.size };
    at += o.size;
    return head;
  });
  return {
    model: plan.name, network: net.name, role,
    input: { width: net.inputWidth, parts },
    output: { width: at, heads },
    layers: denseOnly(net.layers).map((l) => ({ units: l.units, activation: l.activation as string })),
  };
}

/** `a (20) | b (784)`: a row's parts and their sizes. */
export function describeRow(parts: { name?: string; expr?: string; size: number }[]): string {
  return `[${parts.map((p) => `${p.name ?? p.expr} (${p.size})`).join(' | ')}]`;
}

/**
 * `net` as a tf.LayersModel: dense layers named `<net>_hidden<i>` and `<net>_out` with the
 * weights `<net>/hidden<i>/w|b` and `<net>/out/w|b` of `weights`.
 */
function layersModel(net: PlanNetwork, weights: ReadonlyMap<string, Tensor>): tf.Sequential {
  const model = tf.sequential({ name: net.name });
  denseOnly(net.layers).forEach((l, i) => {
    const layer = tf.layers.dense({ name: `${net.name}_${l.name}`, units: l.units, activation: l.activation, ...(i === 0 ? { inputShape: [l.inputs] } : {}) });
    model.add(layer);
    const w = weights.get(`${net.name}/${l.name}/w`);
    const b = weights.get(`${net.name}/${l.name}/b`);
    if (!w || !b) throw new ExportError(`no weights for layer '${l.name}' of network '${net.name}'.`);
    layer.setWeights([w, b]);
  });
  return model;
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
