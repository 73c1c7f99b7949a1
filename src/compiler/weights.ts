/**
 * The weights a checked model's networks and flows will have, as lowering lays them out: the
 * size check (check-size.ts) counts them before lowering, and the plan (plan-build.ts) lists them.
 */
import type { FlowSpec } from '../core/flows.js';
import { layersParameterCount } from '../core/layers.js';
import type { PlanLayer } from '../core/plan.js';
import type { FlowInfo, NetInfo } from './checked.js';

/**
 * A network's dense layers: the hidden stack, then one linear layer `out` holding every output
 * head side by side (one matrix product instead of one per head; split afterwards).
 */
export function networkLayers(net: NetInfo): PlanLayer[] {
  const widths = [net.inputWidth, ...net.layers.map((l) => l.units)];
  const heads = net.outputs.reduce((sum, o) => sum + o.size, 0);
  const dense = (name: string, inputs: number, units: number, activation: PlanLayer & { kind: 'dense' } extends { activation: infer A } ? A : never): PlanLayer =>
    ({ kind: 'dense', name, in: [inputs], out: [units], inputs, units, activation });
  return [
    ...net.layers.map((l, i) => dense(`hidden${i}`, widths[i], l.units, l.activation)),
    dense('out', widths[widths.length - 1], heads, 'linear'),
  ];
}

/** Weights and biases of a network's layers. */
export const networkWeightCount = (net: NetInfo) => layersParameterCount(networkLayers(net));

/** The spec of a guide's flow: its context is flattened to a vector per example. */
export function flowSpec(f: FlowInfo): FlowSpec {
  return { kind: f.kind, steps: f.steps, hidden: f.hidden, contextWidth: f.context ? f.context.shape.reduce((a, b) => a * b, 1) : 0 };
}
