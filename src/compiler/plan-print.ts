/**
 * The plan as text (`vae explain --plan`, and the golden files test/compiler/golden/*.plan.expected):
 * one line per network, weight and step, in the plan's order, so that a change of lowering shows as
 * a change of these lines. One switch over the step kinds, one over the expression kinds.
 */
import type { Named, Plan, PlanExpr, PlanNetwork, PlanStep, PlanWeight, TermsFunction } from '../core/plan.js';
import { layerTable } from './layer-table.js';
import { formatNumber } from './print.js';

const shape = (s: number[]) => `[${s.join(', ')}]`;

export function printPlan(plan: Plan): string {
  const lines = [
    `plan ${plan.name}`,
    '',
    'data:',
    ...plan.info.data.map((d) => `  ${d.name} ${shape(d.shape)}${d.name === plan.info.labels ? ' (labels)' : ''}`),
    'latents, in sampling order:',
    ...plan.info.latents.map((l) => `  ${l.name} ${shape(l.shape)}: noise ${l.noise.kind} ${shape(l.noise.shape)}` +
      `${l.scoreFunction ? `, score function (decay ${l.scoreFunction.decay})` : ''}${l.standardNormalPrior ? ', prior N(0, I)' : ''}`),
    '',
    'networks:',
    ...plan.networks.flatMap((n) => [
      `  ${n.name}: input ${shape(n.inputShape)}${n.inputShape.length > 1 ? ` (${n.inputWidth} values)` : ''}; ${outputsText(n)}`,
      ...layerTable(n.layers, '    '),
      ...n.calls.map((c) => `    call ${c.key} in ${c.in.join(', ')}`),
    ]),
    '',
    'weights, in the order they are drawn:',
    ...plan.weights.map(weightLine),
    '',
    'KL terms:',
    ...plan.kls.map((k) => `  ${k.latent}: ${k.method === 'closed-form' ? `closed form ${k.pair}` : `Monte Carlo (${k.reason})`}`),
    `Monte Carlo KL variant: ${plan.monteCarloVariant ? 'switches the closed forms' : 'the same as the model'}`,
    '',
    'terms(batch, noise, repeats, mode, allMonteCarlo, monteCarloKl): rows = n · repeats',
    ...steps(plan.terms.steps),
    `  return ${terms(plan.terms)}`,
    '',
    'samplePrior(n, rng):',
    ...steps(plan.samplePrior.steps),
    `  return ${named(plan.samplePrior.latents)}`,
    '',
    'encode(batch):',
    ...steps(plan.encode.steps),
    `  return ${named(plan.encode.latents)}`,
    '',
    `decode(${plan.decode.reads.join(', ')}):`,
    ...steps(plan.decode.steps),
    `  return ${plan.decode.mean}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** How a network's outputs come from its last layer: cut from the dense head, or its image's channels. */
export function outputsText(n: Pick<PlanNetwork, 'split' | 'outputs'>): string {
  const outputs = n.outputs.map((o) => `${o.name} ${shape(o.shape)}`).join(', ');
  return n.split === 'flat' ? `outputs ${outputs}, side by side in the dense head out` : `outputs ${outputs}, the channels of the last layer in order`;
}

function weightLine(w: PlanWeight): string {
  switch (w.kind) {
    case 'tensor': {
      const init = w.init.kind === 'uniform' ? `U(±${formatNumber(w.init.bound)})`
        : w.init.kind === 'fill' ? `= ${formatNumber(w.init.value)}` : `N(${formatNumber(w.init.mean)}, ${formatNumber(w.init.std)}²)`;
      return `  ${w.name} ${shape(w.shape)} ${init}${w.trainable ? '' : ' (not trained)'}`;
    }
    case 'flow': {
      const { kind, steps: n, hidden, contextWidth } = w.spec;
      return `  ${w.prefix}/... ${kind}(${n}${hidden !== undefined ? `, hidden ${hidden}` : ''}${contextWidth ? `, context ${contextWidth}` : ''}) on ${w.size}: ${w.parameters} values`;
    }
    case 'state': return `  ${w.name} ${shape(w.shape)} = 0 (state, not trained)`;
  }
}

const named = (entries: Named) => entries.map(([variable, value]) => `${variable}: ${value}`).join(', ') || '(nothing)';

function terms(t: TermsFunction): string {
  const parts = [['rec', t.rec], ['kl', t.kl], ['scoreLogQ', t.scoreLogQ], ['baselines', t.baselines]] as const;
  return parts.filter(([, entries]) => entries.length > 0).map(([name, entries]) => `${name} { ${named(entries)} }`).join(', ');
}

function steps(list: PlanStep[]): string[] {
  return list.map((s) => `  ${s.name} = ${step(s)}`);
}

function step(s: PlanStep): string {
  switch (s.kind) {
    case 'input': return `input ${s.variable}`;
    case 'network': return `${s.net}(${s.inputs.map(expr).join(', ')}) on ${s.rows}${s.inputNeedsGrad ? '' : ', no input gradient'}`;
    case 'repeat': return `repeat ${s.of}`;
    case 'let': return expr(s.value);
    case 'distribution': {
      if (s.standard) return 'Normal(0, 1), standard';
      const params = Object.entries(s.params).map(([k, v]) => `${k} = ${expr(v)}`).join(', ');
      return `${s.family}(${params})${s.logScale ? `, log scale ${expr(s.logScale)}` : ''}`;
    }
    case 'sample': {
      const how = s.relaxed ? `; in training relaxed at temperature ${formatNumber(s.relaxed.temperature)}` : s.detach ? ', detached' : '';
      return `sample ${s.dist} from noise ${s.latent}${how}`;
    }
    case 'flows': return `${s.flows.map((f) => `${f.spec.kind}(${f.spec.steps}) ${f.prefix}${f.context ? ` context ${expr(f.context)}` : ''}`).join(' then ')} of ${s.base}` +
      `${s.logq ? `; ${s.logq.name} = log ${s.logq.dist}(${s.base}) − log det` : ''}`;
    case 'kl': {
      const mc = `Monte Carlo log ${s.q}(${s.z}) − log ${s.p}(${s.z}) ${s.monteCarlo.split === 'joint' ? `joint${s.monteCarlo.logq ? ` with ${s.monteCarlo.logq}` : ''}` : `per ${s.monteCarlo.split}`}`;
      if (!s.closed) return `kl ${mc}`;
      const when = s.closed.switch === 'allMonteCarlo' ? 'allMonteCarlo' : 'allMonteCarlo or monteCarloKl';
      return `kl closed form ${s.closed.pair}(${s.q}, ${s.p}) ${s.closed.event}; ${mc} with ${when}`;
    }
    case 'rec': return `−Σ log ${s.dist}(${expr(s.x)})`;
    case 'logq': return `Σ log ${s.dist}(${s.z})`;
    case 'baseline': return `${expr(s.value)} as [rows]`;
    case 'priorSample': return `sample ${s.dist} ${shape(s.shape)}`;
    case 'mean': return `mean of ${s.dist} ${shape(s.shape)}`;
  }
}

function expr(e: PlanExpr): string {
  switch (e.kind) {
    case 'number': return formatNumber(e.value);
    case 'value': return e.name;
    case 'output': return `${e.of}.${e.output}`;
    case 'weight': return `weight ${e.name}`;
    case 'unary': return `${e.fn}(${expr(e.x)})`;
    case 'binary': return `${e.fn}(${expr(e.a)}, ${expr(e.b)})`;
    case 'broadcast': return `broadcast(${expr(e.x)}, ${e.rows ? `[${e.rows}, ${e.shape.join(', ')}]` : shape(e.shape)})`;
    case 'flatten': return `flatten(${expr(e.x)})`;
  }
}
