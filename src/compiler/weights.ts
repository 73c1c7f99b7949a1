/**
 * The weights a checked model's networks and flows will have, as lowering lays them out: the
 * size check (check-size.ts) counts them before lowering, and the plan (plan-build.ts) lists them.
 */
import type { FlowSpec } from '../core/flows.js';
import type { PlanLayer } from '../core/plan.js';
import type { FlowInfo, NetInfo } from './checked.js';

/**
 * A network's dense layers: the hidden stack, then one linear layer `out` holding every output
 * head side by side (one matrix product instead of one per head; split afterwards).
 */
export function networkLayers(net: NetInfo): PlanLayer[] {
  const widths = [net.inputWidth, ...net.layers.map((l) => l.units)];
  const heads = net.outputs.reduce((sum, o) => sum + o.size, 0);
  return [
    ...net.layers.map((l, i): PlanLayer => ({ kind: 'dense', name: `hidden${i}`, inputs: widths[i], units: l.units, activation: l.activation })),
    { kind: 'dense', name: 'out', inputs: widths[widths.length - 1], units: heads, activation: 'linear' },
  ];
}

/** Weights and biases of a dense layer: (inputs + 1) · units. */
export const layerWeights = (l: PlanLayer) => (l.inputs + 1) * l.units;

/** The spec of a guide's flow: its context is flattened to a vector per example. */
export function flowSpec(f: FlowInfo): FlowSpec {
  return { kind: f.kind, steps: f.steps, hidden: f.hidden, contextWidth: f.context ? f.context.shape.reduce((a, b) => a * b, 1) : 0 };
}
