/**
 * The weights a checked model's networks and flows will have, as lowering lays them out: the
 * size check (check-size.ts) counts them before lowering, and the plan (plan-build.ts) lists them.
 */
import type { FlowSpec } from '../core/flows.js';
import { layersParameterCount, shapeSize } from '../core/layers.js';
import type { PlanLayer } from '../core/plan.js';
import type { FlowInfo, NetInfo } from './checked.js';

/**
 * A network's layers as the plan holds them: the checked layers (names and shapes from
 * check-net.ts), then, when they end in a vector (`split: 'flat'`), one linear layer `out` holding
 * every output head side by side (one matrix product instead of one per head; split afterwards).
 */
export function networkLayers(net: NetInfo): PlanLayer[] {
  if (net.split === 'channels') return net.layers;
  const last = net.layers[net.layers.length - 1]?.out ?? net.inputShape;
  const inputs = shapeSize(last);
  const heads = net.outputs.reduce((sum, o) => sum + o.size, 0);
  return [...net.layers, { kind: 'dense', name: 'out', in: last, out: [heads], inputs, units: heads, activation: 'linear' }];
}

/** Weights and biases of a network's layers. */
export const networkWeightCount = (net: NetInfo) => layersParameterCount(networkLayers(net));

/** The spec of a guide's flow: its context is flattened to a vector per example. */
export function flowSpec(f: FlowInfo): FlowSpec {
  return { kind: f.kind, steps: f.steps, hidden: f.hidden, contextWidth: f.context ? f.context.shape.reduce((a, b) => a * b, 1) : 0 };
}
