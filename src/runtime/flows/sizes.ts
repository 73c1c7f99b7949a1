/**
 * Sizes of flows that do not need TensorFlow.js (so that `vae check` can count parameters
 * without loading it): the default MADE width and the number of learned values of a flow.
 */
import type { FlowSpec } from './index.js';

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
