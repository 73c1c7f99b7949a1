/**
 * Normalizing flows for amortized Gaussian guides: z0 ~ q0(z | x) is pushed through K steps,
 *   zK = f_K ∘ … ∘ f_1(z0),   log q(zK) = log q0(z0) − Σ_k log|det ∂f_k/∂z_{k−1}|.
 *
 * Kinds: planar and radial (Rezende & Mohamed 2015; planar.ts, radial.ts) and inverse
 * autoregressive flow (Kingma et al. 2016; iaf.ts) with a MADE (Germain et al. 2015; made.ts).
 * With a context h (an encoder output), planar/radial parameters are global + h W_ctx and IAF's
 * MADEs take h as an extra input of their first hidden layer.
 *
 * Weight names, for step k of a flow at `prefix` (P = `${prefix}/${k}`):
 *   planar  P/u [D], P/w [D], P/b [1]                        (+ P/context [C, 2D+1])
 *   radial  P/z0 [D], P/alpha [1], P/beta [1] (pre-softplus) (+ P/context [C, D+2])
 *   iaf     P/hidden{l}/w, P/hidden{l}/b, P/out/w [H, 2D], P/out/b [2D]   (+ P/context [C, H])
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../rng.js';
import { defaultHidden, type FlowSpec } from '../../core/flows.js';
import type { FlowWeights } from './common.js';
import { iafStep, initIaf } from './iaf.js';
import type { MadeShape } from './made.js';
import { initPlanar, planarParams, planarStep } from './planar.js';
import { initRadial, radialParams, radialStep } from './radial.js';

export type { FlowKind, FlowSpec } from '../../core/flows.js';


const isCount = (n: number, min: number) => Number.isInteger(n) && n >= min;

/** Throws on a spec that cannot build a flow on `size` dimensions. */
export function checkFlowSpec(spec: FlowSpec, size: number): void {
  const fail = (why: string) => { throw new Error(`${spec.kind} flow: ${why}`); };
  if (!['planar', 'radial', 'iaf'].includes(spec.kind)) fail(`unknown kind (expected planar, radial or iaf)`);
  if (!isCount(spec.steps, 1)) fail(`steps must be a positive integer, got ${spec.steps}`);
  if (!isCount(size, 1)) fail(`latent size must be a positive integer, got ${size}`);
  if (!isCount(spec.contextWidth, 0)) fail(`contextWidth must be a non-negative integer, got ${spec.contextWidth}`);
  if (spec.hidden !== undefined && !isCount(spec.hidden, 1)) fail(`hidden must be a positive integer, got ${spec.hidden}`);
  if (spec.hiddenLayers !== undefined && !isCount(spec.hiddenLayers, 1)) fail(`hiddenLayers must be a positive integer, got ${spec.hiddenLayers}`);
}

/** The MADE shape of IAF step k (odd steps use the reversed order). */
function madeShape(spec: FlowSpec, size: number, k: number): MadeShape {
  return {
    size,
    hidden: spec.hidden ?? defaultHidden(size),
    layers: spec.hiddenLayers ?? 1,
    contextWidth: spec.contextWidth,
    reversed: k % 2 === 1,
  };
}

/** The shapes of the weights of a flow on a latent of `size` dimensions, by name relative to `prefix` (e.g. `flow/z/0/u`), with their initializers. */
export function initFlowWeights(spec: FlowSpec, size: number, prefix: string, rng: Rng): Map<string, tf.Variable> {
  checkFlowSpec(spec, size);
  const weights = new Map<string, tf.Variable>();
  for (let k = 0; k < spec.steps; k++) {
    const p = `${prefix}/${k}`;
    const step = spec.kind === 'planar' ? initPlanar(size, p, spec.contextWidth, rng)
      : spec.kind === 'radial' ? initRadial(size, p, spec.contextWidth, rng)
      : initIaf(madeShape(spec, size, k), p, rng);
    for (const [name, v] of step) weights.set(name, v);
  }
  return weights;
}

/** Step k of the flow on z [N, D]. */
function applyStep(spec: FlowSpec, weights: FlowWeights, p: string, k: number, z: tf.Tensor2D, context?: tf.Tensor2D): { z: tf.Tensor2D; logDet: tf.Tensor1D } {
  switch (spec.kind) {
    case 'planar': return planarStep(z, planarParams(weights, p, context));
    case 'radial': return radialStep(z, radialParams(weights, p, context));
    case 'iaf': return iafStep(z, weights, p, madeShape(spec, z.shape[1], k), context);
  }
}

/** Throws unless z0 is [N, size ≥ 1] and the context matches the spec ([N, contextWidth], or absent for 0). */
function checkInputs(spec: FlowSpec, z0: tf.Tensor2D, context?: tf.Tensor2D): void {
  if (z0.rank !== 2) throw new Error(`${spec.kind} flow: z0 must be [N, size], got [${z0.shape}]`);
  checkFlowSpec(spec, z0.shape[1]);
  if (spec.contextWidth === 0 && context) throw new Error(`${spec.kind} flow: a context was given to a flow with contextWidth 0`);
  if (spec.contextWidth > 0) {
    const ok = context !== undefined && context.rank === 2 && context.shape[0] === z0.shape[0] && context.shape[1] === spec.contextWidth;
    if (!ok) throw new Error(`${spec.kind} flow: context must be [${z0.shape[0]}, ${spec.contextWidth}], got ${context ? `[${context.shape}]` : 'none'}`);
  }
}

/** Pushes z0 [N, size] through the steps; returns zK [N, size] and Σ_k log|det ∂f_k/∂z_{k-1}| per example [N]. context: [N, contextWidth] or undefined. */
export function applyFlow(spec: FlowSpec, weights: Map<string, tf.Variable>, prefix: string, z0: tf.Tensor2D, context?: tf.Tensor2D): { z: tf.Tensor2D; logDet: tf.Tensor1D } {
  checkInputs(spec, z0, context);
  return tf.tidy(() => {
    let z = z0;
    let logDet = tf.zeros([z0.shape[0]]) as tf.Tensor1D;
    for (let k = 0; k < spec.steps; k++) {
      const step = applyStep(spec, weights, `${prefix}/${k}`, k, z, context);
      z = step.z;
      logDet = tf.add(logDet, step.logDet);
    }
    return { z, logDet };
  });
}

export { defaultHidden, flowParameterCount } from '../../core/flows.js';
