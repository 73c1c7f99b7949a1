/**
 * Sizes of flows that do not need TensorFlow.js (so that `vae check` can count parameters
 * without loading it): the default MADE width and the number of learned values of a flow.
 */
export type FlowKind = 'planar' | 'radial' | 'iaf';

/** A flow as its weights and steps see it (runtime/flows builds it). */
export interface FlowSpec {
  kind: FlowKind;
  /** Number of stacked steps (planar(8) = 8 planar steps). */
  steps: number;
  /** IAF only: hidden units of each MADE layer; default max(16, 2·size). */
  hidden?: number;
  /** IAF only: hidden layers of each MADE; default 1. */
  hiddenLayers?: number;
  /** Width of the context vector h (an encoder output) the parameters are conditioned on; 0 for none. */
  contextWidth: number;
}

/** MADE hidden units when the spec gives none. */
export function defaultHidden(size: number): number {
  return Math.max(16, 2 * size);
}

/**
 * The number of learned values of a flow on `size` dimensions (without building it):
 * planar (2D + 1) per step, radial (D + 2), each plus C × that for a context of width C;
 * IAF: the MADE's D·H + H (+ C·H), (H² + H) per further hidden layer, and H·2D + 2D.
 */
export function flowParameterCount(spec: FlowSpec, size: number): number {
  const c = spec.contextWidth;
  const perStep = (width: number) => width * (1 + c);
  if (spec.kind === 'planar') return spec.steps * perStep(2 * size + 1);
  if (spec.kind === 'radial') return spec.steps * perStep(size + 2);
  const h = spec.hidden ?? defaultHidden(size);
  const layers = spec.hiddenLayers ?? 1;
  return spec.steps * (size * h + h + c * h + (layers - 1) * (h * h + h) + h * 2 * size + 2 * size);
}
