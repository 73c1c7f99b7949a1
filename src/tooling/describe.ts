/**
 * Hover texts (Markdown): what a name is (its kind, type and shape), a network's layers with
 * their widths, a distribution family's parameters, support and closed-form KL partners.
 */
import { ACTIVATIONS, ESTIMATORS, FAMILIES, FLOWS, FUNCTIONS, lookup, type FamilySpec } from '../core/catalog.js';
import { closedFormKl, KL_PAIRS } from '../core/kl-table.js';
import type { NetInfo, VarInfo } from '../compiler/checked.js';
import { layerRows } from '../compiler/layer-table.js';
import { networkLayers } from '../compiler/weights.js';
import { layersParameterCount } from '../core/layers.js';
import type { Analysis, Definition } from './analysis.js';
import { LAYER_KEYWORDS, MODEL_KEYWORDS, OTHER_KEYWORDS, PADDING_WORDS, POOL_WORDS, SETTINGS } from './vocabulary.js';

const code = (text: string) => `\`\`\`vae\n${text}\n\`\`\``;
const shapeText = (shape: number[]) => (shape.length === 0 ? 'a scalar' : `shape [${shape.join(', ')}]`);
const plural = (n: number, word: string) => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

/** The hover of a declared name: its declaration, then what the checked model knows of it. */
export function describeDefinition(a: Analysis, d: Definition): string {
  const declaration = code(a.src.text.slice(d.span.start.offset, d.span.end.offset).replace(/\s*\n\s*/g, ' '));
  const facts = checkedFacts(a, d);
  return [declaration, ...facts].join('\n\n');
}

function checkedFacts(a: Analysis, d: Definition): string[] {
  const m = a.checked;
  if (!m) return [`(${d.kind === 'output' ? `output of network \`${d.net}\`` : d.kind}; the model does not check, so no more is known)`];
  switch (d.kind) {
    case 'data': case 'latent': return variableFacts(a, m.data.concat(m.latents).find((v) => v.name === d.key)!);
    case 'param': case 'const': {
      const p = m.params.find((q) => q.name === d.key);
      if (!p) return ['A const: a named number, which `--const NAME=VALUE` changes without editing the file.'];
      const start = p.initScale === undefined ? `every entry starts at ${p.init}` : `entries drawn from N(${p.init}, ${p.initScale}²)`;
      return [`${p.fixed ? 'A fixed tensor (not trained)' : 'A learned tensor'}: ${shapeText(p.shape)}, ${plural(p.size, 'value')}; ${start}.`];
    }
    case 'net': return networkFacts(m.nets.find((n) => n.name === d.key)!);
    case 'output': {
      const net = m.nets.find((n) => n.name === d.net)!;
      const o = net.outputs.find((q) => q.name === d.name)!;
      const from = net.split === 'flat' ? `${o.size} units of the dense head \`out\`` : `${o.size / (o.shape[0] * o.shape[1])} of the last layer's channels`;
      return [`Output of network \`${net.name}\`: ${shapeText(o.shape)} per example (${from}).`];
    }
  }
}

function variableFacts(a: Analysis, v: VarInfo): string[] {
  const m = a.checked!;
  const head = `${v.role === 'data' ? 'Data' : 'Latent'} \`${v.name}\`: ${v.type} values, ${shapeText(v.shape)} (${plural(v.size, 'value')} per example).`;
  if (v.role === 'data') {
    const lik = m.likelihoods.find((l) => l.target === v.name);
    return [head, lik ? `Likelihood: ${lik.family}.` : 'No likelihood: a covariate the networks read.'];
  }
  const prior = m.priors.get(v.name);
  const guide = m.guides.find((g) => g.target === v.name);
  if (!prior || !guide) return [head];
  const closed = guide.flows.length === 0 && closedFormKl(guide.family, prior.family);
  const kl = closed ? `closed form (${closed.formula})` : 'Monte Carlo';
  return [head, `Prior ${prior.family}, guide ${guide.family}${guide.flows.map((f) => ` then ${f.kind}(${f.steps})`).join('')}; KL: ${kl}.`];
}

/** The layers with their shapes and weights, the input first and the outputs last. */
export function networkFacts(n: NetInfo): string[] {
  const layers = networkLayers(n);
  const rows = [
    `| input | ${shapeText(n.inputShape)} | |`,
    ...layerRows(layers).map((r) => `| ${'&nbsp;&nbsp;'.repeat(r.depth)}${r.layer}${r.name === 'out' ? ' (the head `out`)' : ''} | [${r.in.join(', ')}] → [${r.out.join(', ')}] | ${r.weights === undefined ? '' : r.weights.toLocaleString('en-US')} |`),
    ...n.outputs.map((o) => `| output \`${o.name}\` | ${shapeText(o.shape)} | |`),
  ];
  const how = n.split === 'flat' ? 'the outputs side by side in the dense head `out`' : "the outputs are the last layer's channels, in order";
  return [
    `Network \`${n.name}\`, ${plural(layersParameterCount(layers), 'parameter')}; ${how}:`,
    ['| layer | shape | parameters |', '| --- | --- | ---: |', ...rows].join('\n'),
  ];
}

/** A family's parameters, support, sampler and closed-form KL partners. */
export function describeFamily(f: FamilySpec): string {
  const params = f.parameterizations.map((ps) => `${f.name}(${ps.map((p) => (p.constraint === 'real' ? p.name : `${p.name} ${p.constraint === 'positive' ? '> 0' : 'in (0, 1)'}`)).join(', ')})`);
  const asGuide = KL_PAIRS.filter((k) => k.q === f.name).map((k) => k.p);
  const asPrior = KL_PAIRS.filter((k) => k.p === f.name).map((k) => k.q);
  const partners = asGuide.length + asPrior.length === 0
    ? 'Closed-form KL: none (the KL against it is Monte Carlo).'
    : `Closed-form KL: as the guide, against ${asGuide.join(', ') || 'none'}; as the prior, with guides ${asPrior.join(', ') || 'none'}.`;
  return [
    code(params.join('\n')),
    `Support: ${f.support}${f.event === 'vector' ? ' (one event is the whole vector)' : ''}. ${f.reparameterized ? 'Reparameterized' : 'Not reparameterized'}: ${f.sampler}.`,
    partners,
  ].join('\n\n');
}

/** The hover of a word that is not a declared name, if the language knows it. */
export function describeWord(word: string, inTrain: boolean): string | undefined {
  if (inTrain && SETTINGS[word]) return `**${word}** (train setting): ${SETTINGS[word].doc}`;
  if (FAMILIES[word]) return describeFamily(FAMILIES[word]);
  if (MODEL_KEYWORDS[word]) return `**${word}**: ${MODEL_KEYWORDS[word].doc}`;
  if (OTHER_KEYWORDS[word]) return `**${word}**: ${OTHER_KEYWORDS[word]}`;
  const layer = lookup(LAYER_KEYWORDS, word);
  if (layer) return `**${word}** (layer): ${layer.doc}`;
  const setting = lookup(PADDING_WORDS, word) ?? lookup(POOL_WORDS, word);
  if (setting) return `**${word}**: ${setting}`;
  if (FUNCTIONS[word]) {
    const r = FUNCTIONS[word].result;
    const known = r === 'any' ? '' : r === 'argument' ? ' Positive when its argument is.' : ` Its result is ${r === 'probability' ? 'in (0, 1)' : 'positive'}.`;
    return `**${word}**: an elementwise function.${known}`;
  }
  if ((ACTIVATIONS as readonly string[]).includes(word)) return `**${word}**: a layer activation.`;
  if (FLOWS[word]) return `**${word}**: a normalizing flow after a Gaussian guide; settings: steps${FLOWS[word].settings.map((s) => `, ${s}`).join('')}.`;
  if (ESTIMATORS[word]) return `**${word}**: a gradient estimator; settings: ${ESTIMATORS[word].settings.join(', ')}.`;
  return undefined;
}
