/**
 * Size limits, checked before training so that a model that cannot fit in memory is refused with
 * the figure instead of failing in the backend ("memory access out of bounds", "Invalid typed array
 * length"). The wasm backend addresses at most 4 GiB, of which a training step must hold:
 *
 * - the weights four times over (weights, gradients and Adam's two moments): at most MAX_WEIGHTS
 *   floats of weights, 2^26 = 67,108,864 (256 MiB; 1 GiB with the copies);
 * - one batch's values: batch × samples (elbo `samples`, iwae `k`) rows of every variable, layer
 *   (a conv layer's whole [H, W, C] output) and network output, at most MAX_BATCH_VALUES = 2^27 floats (512 MiB; the backward pass keeps
 *   about as much again);
 * - and any one variable or tensor at most MAX_TENSOR_VALUES = 2^24 values per example (16,777,216).
 */
import type * as A from './ast.js';
import type { CheckedModel, TrainConfig } from './checked.js';
import { flowParameterCount } from '../core/flows.js';
import { shapeSize, type NetLayer } from '../core/layers.js';
import { type Diagnostic, type Span } from './source.js';
import { flowSpec, networkWeightCount } from './weights.js';

export const MAX_WEIGHTS = 2 ** 26;
export const MAX_BATCH_VALUES = 2 ** 27;
export const MAX_TENSOR_VALUES = 2 ** 24;

const tooLarge = (code: `VAE${number}`, span: Span, message: string): Diagnostic => ({ code, severity: 'error', span, message });
const n = (x: number): string => x.toLocaleString('en-US');
/** The memory of `floats` float32 values, in MiB, GiB or TiB. */
function mib(floats: number): string {
  const bytes = floats * 4;
  const [unit, size] = bytes >= 2 ** 40 ? ['TiB', 2 ** 40] : bytes >= 2 ** 30 ? ['GiB', 2 ** 30] : ['MiB', 2 ** 20];
  const value = bytes / size;
  return `${value >= 100 ? n(Math.round(value)) : value.toPrecision(3)} ${unit}`;
}

/** A part of the model and its number of weights. */
interface WeightPart { what: string; span: Span; count: number }

/** Every network's, flow's and parameter's weights (fixed tensors included: they are in memory too). */
function weightParts(model: CheckedModel): WeightPart[] {
  const nets = model.nets.map((net) => ({
    what: `network '${net.name}'`, span: net.span, count: networkWeightCount(net),
  }));
  const flows = model.guides.flatMap((g) => {
    const size = model.latents.find((l) => l.name === g.target)?.size ?? 0;
    return g.flows.map((f) => ({
      what: `the flow of '${g.target}'`, span: f.span,
      count: flowParameterCount(flowSpec(f), size),
    }));
  });
  const params = model.params.map((p) => ({ what: `parameter '${p.name}'`, span: p.span, count: p.size }));
  return [...nets, ...flows, ...params];
}

/** The weights must fit: reported at the largest part, with the total. */
export function checkWeights(model: CheckedModel, out: Diagnostic[]): void {
  const parts = weightParts(model);
  const total = parts.reduce((sum, p) => sum + p.count, 0);
  if (total <= MAX_WEIGHTS) return;
  const largest = parts.reduce((a, b) => (b.count > a.count ? b : a));
  out.push(tooLarge('VAE2018', largest.span,
    `The model has ${n(total)} weights (${mib(total)} as float32), ${n(largest.count)} of them in ${largest.what}; training keeps four copies (weights, gradients and Adam's two moments), so the limit is ${n(MAX_WEIGHTS)} (${mib(MAX_WEIGHTS)}). Use fewer or narrower layers.`));
}

/**
 * Values of one example that the layers compute: each layer's output (a conv's activations
 * [H, W, C] as much as a dense layer's units), a residual block's layers' and its sum; flatten
 * and reshape only view their input in another shape.
 */
function layerValues(layers: readonly NetLayer[]): number {
  return layers.reduce((sum, l) => sum + (l.kind === 'flatten' || l.kind === 'reshape' ? 0 : shapeSize(l.out)) + (l.kind === 'residual' ? layerValues(l.layers) : 0), 0);
}

/** Values of one example: every variable, every layer and output of every network, every flow step. */
function valuesPerExample(model: CheckedModel): number {
  const vars = [...model.data, ...model.latents].reduce((sum, v) => sum + v.size, 0);
  const nets = model.nets.reduce((sum, net) => sum + layerValues(net.layers) + net.outputs.reduce((s, o) => s + o.size, 0), 0);
  const flows = model.guides.reduce((sum, g) => sum + g.flows.reduce((s, f) => s + f.steps * (f.hidden + 2 * (model.latents.find((l) => l.name === g.target)?.size ?? 0)), 0), 0);
  return vars + nets + flows;
}

/** One batch's values must fit: batch × samples rows of `valuesPerExample`, reported at `span` (the setting that makes it too large). */
export function checkBatch(model: CheckedModel, train: TrainConfig, span: Span, out: Diagnostic[]): void {
  const samples = train.objective.kind === 'iwae' ? train.objective.k : train.objective.samples;
  const perExample = valuesPerExample(model);
  const total = train.batch * samples * perExample;
  if (total <= MAX_BATCH_VALUES) return;
  const samplesText = samples > 1 ? ` × ${n(samples)} samples` : '';
  out.push(tooLarge('VAE3016', span,
    `One batch needs about ${n(total)} values (${mib(total)} as float32): batch ${n(train.batch)}${samplesText} × ${n(perExample)} values per example (variables, layers and outputs); the limit is ${n(MAX_BATCH_VALUES)} (${mib(MAX_BATCH_VALUES)}). Lower the batch size${samples > 1 ? ' or the number of samples' : ''}.`));
}

/** The setting to blame for a batch that is too large: `batch`, else the objective, else the block. */
export function batchSettingSpan(block: A.TrainBlock | undefined, fallback: Span): Span {
  const setting = (name: string) => block?.settings.find((s) => s.name.name === name);
  return (setting('batch') ?? setting('objective'))?.span ?? block?.span ?? fallback;
}

/** A variable's or tensor's values per example must fit: the error is at its type. */
export function checkTensorSize(name: string, shape: number[], span: Span, out: Diagnostic[]): void {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size <= MAX_TENSOR_VALUES) return;
  out.push(tooLarge('VAE2018', span,
    `'${name}' has ${n(size)} values ([${shape.join(', ')}]); a variable, parameter or network output may have at most ${n(MAX_TENSOR_VALUES)} (2^24).`));
}
