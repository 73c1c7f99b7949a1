/**
 * A model's network in the TensorFlow.js Layers format (`model.json` and `weights.bin`), which
 * `tf.loadLayersModel` loads in a browser or in Node.
 *
 * Our networks are dense stacks (see `layerShapes` and `runNet` in compiler/emit-tfjs.ts): the
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
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// The tfjs bundle for the Layers API; public signatures use tfjs-core's types only, so that this
// module's declarations do not pull tfjs-layers' (which do not type-check under --strict) into
// the package's types.
import * as tf from '@tensorflow/tfjs';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { CExpr, CheckedModel, NetCall, NetInfo } from '../compiler/checked.js';
import { layerShapes } from '../compiler/emit-tfjs.js';
import { printExpr } from '../compiler/print.js';
import { writeFileAtomic } from '../node/atomic-write.js';

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

export interface ExportResult {
  /** The files written: model.json, then weights.bin. */
  files: string[];
  layout: ExportLayout;
}

/** The name of the weights file beside model.json. */
export const WEIGHTS_FILE = 'weights.bin';

/** Every network call in `e`, outermost first. */
function netCalls(e: CExpr): NetCall[] {
  switch (e.kind) {
    case 'net': return [e.call, ...e.call.args.flatMap(netCalls)];
    case 'fn': return netCalls(e.arg);
    case 'neg': return netCalls(e.operand);
    case 'binary': return [...netCalls(e.left), ...netCalls(e.right)];
    default: return [];
  }
}

/** The calls in the likelihoods' (decoder) or the guides' (encoder) parameters, by network. */
function callsByRole(model: CheckedModel, role: 'decoder' | 'encoder'): Map<string, NetCall> {
  const dists = role === 'decoder' ? model.likelihoods : model.guides;
  const calls = new Map<string, NetCall>();
  for (const d of dists) {
    for (const call of Object.values(d.params).flatMap(netCalls)) if (!calls.has(call.net)) calls.set(call.net, call);
  }
  return calls;
}

/** Any call of network `name` in the model, for its input layout. */
function anyCall(model: CheckedModel, name: string): NetCall | undefined {
  const dists = [...model.likelihoods, ...model.guides, ...model.priors.values()];
  return dists.flatMap((d) => Object.values(d.params).flatMap(netCalls)).find((c) => c.net === name);
}

/**
 * The network `selection` names in `model`, with one call of it (whose arguments describe the
 * input). An ExportError when there is none, or several for a role.
 */
export function selectNetwork(model: CheckedModel, selection: NetworkSelection): { net: NetInfo; call?: NetCall; role: ExportLayout['role'] } {
  const names = model.nets.map((n) => n.name);
  if (typeof selection === 'object') {
    const net = model.nets.find((n) => n.name === selection.net);
    if (!net) throw new ExportError(`model '${model.name}' has no network '${selection.net}' (its networks: ${names.join(', ') || 'none'}).`);
    const role = callsByRole(model, 'decoder').has(net.name) ? 'decoder' : callsByRole(model, 'encoder').has(net.name) ? 'encoder' : 'other';
    return { net, call: anyCall(model, net.name), role };
  }
  const calls = callsByRole(model, selection);
  const where = selection === 'decoder' ? 'likelihood' : 'guide';
  if (calls.size === 0) {
    throw new ExportError(`model '${model.name}' has no ${selection}: no network computes a parameter of its ${where}` +
      `${names.length ? ` (its networks: ${names.join(', ')}; export one with --net NAME)` : ''}.`);
  }
  if (calls.size > 1) {
    throw new ExportError(`model '${model.name}' has ${calls.size} ${selection} networks (${[...calls.keys()].join(', ')}); export one with --net NAME.`);
  }
  const [call] = calls.values();
  return { net: model.nets.find((n) => n.name === call.net)!, call, role: selection };
}

/** The input and output layout of `net`, its input described by `call`'s arguments. */
export function exportLayout(model: CheckedModel, net: NetInfo, call: NetCall | undefined, role: ExportLayout['role']): ExportLayout {
  let offset = 0;
  const parts = call
    ? call.args.map((a) => {
      const size = a.shape.reduce((p, d) => p * d, 1);
      const part = { expr: printExpr(a), shape: a.shape, offset, size };
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
    model: model.name, network: net.name, role,
    input: { width: net.inputWidth, parts },
    output: { width: at, heads },
    layers: [...net.layers.map((l) => ({ units: l.units, activation: l.activation as string })), { units: at, activation: 'linear' }],
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
function layersModel(net: NetInfo, weights: ReadonlyMap<string, Tensor>): tf.Sequential {
  const shapes = layerShapes(net);
  const model = tf.sequential({ name: net.name });
  shapes.forEach((shape, i) => {
    const activation = i < net.layers.length ? net.layers[i].activation : 'linear';
    const layer = tf.layers.dense({
      name: `${net.name}_${shape.name}`, units: shape.out, activation,
      ...(i === 0 ? { inputShape: [shape.in] } : {}),
    });
    model.add(layer);
    const w = weights.get(`${net.name}/${shape.name}/w`);
    const b = weights.get(`${net.name}/${shape.name}/b`);
    if (!w || !b) throw new ExportError(`no weights for layer '${shape.name}' of network '${net.name}'.`);
    layer.setWeights([w, b]);
  });
  return model;
}

/** This package's version, for `generatedBy` in model.json. */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * Writes network `selection` of `model` with `weights` to `dir` as `model.json` and
 * `weights.bin` (each atomically; the weights first, so that a model.json on disk always has
 * its weights). Needs a tfjs backend to be active.
 */
export async function exportNetwork(model: CheckedModel, weights: ReadonlyMap<string, Tensor>, selection: NetworkSelection, dir: string): Promise<ExportResult> {
  const { net, call, role } = selectNetwork(model, selection);
  const layout = exportLayout(model, net, call, role);
  const layers = layersModel(net, weights);
  try {
    const modelJson = join(dir, 'model.json');
    const weightsBin = join(dir, WEIGHTS_FILE);
    await layers.save(tf.io.withSaveHandler(async (artifacts) => {
      const data = tf.io.concatenateArrayBuffers(artifacts.weightData as ArrayBuffer | ArrayBuffer[]);
      writeFileAtomic(weightsBin, new Uint8Array(data));
      const json: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology!,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: `vae-lang ${packageVersion()} (vae export)`,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs! }],
        userDefinedMetadata: { vae: layout as unknown as Record<string, unknown> },
      };
      writeFileAtomic(modelJson, `${JSON.stringify(json)}\n`);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: data.byteLength } };
    }));
    return { files: [modelJson, weightsBin], layout };
  } finally {
    layers.dispose();
  }
}
