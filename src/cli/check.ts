/** `vae check` and `vae explain`: the front end, without training. */
import type { Command } from 'commander';
import type { CheckedModel } from '../compiler/checked.js';
import { count, load } from './common.js';

export function register(program: Command): void {
  program.command('check')
    .description('Parse and check a model file; print a summary, or each error with its line and a caret.')
    .argument('<file>', 'a .vae model file')
    .action((file: string) => {
      const model = load(file);
      console.log(`${file}: ok: model ${model.name}: ${count(model.data.length, 'data variable')}, ${count(model.latents.length, 'latent')}, ` +
        `${count(model.nets.length, 'network')}, ${parameterCount(model).toLocaleString('en-US')} parameters`);
    });

  program.command('explain')
    .description('Print the objective the compiler derives: each term, which KL is closed form and which Monte Carlo.')
    .argument('<file>', 'a .vae model file')
    .option('--mc-kl', 'use Monte Carlo for every KL term, even where a closed form exists')
    .action(async (file: string, opts: { mcKl?: boolean }) => {
      const { lower } = await import('../compiler/lower.js');
      const { explainObjective } = await import('../compiler/explain.js');
      console.log(explainObjective(lower(load(file), { forceMonteCarloKl: opts.mcKl })));
    });
}

/** Weights and biases of every network, plus learned parameters. */
function parameterCount(model: CheckedModel): number {
  const nets = model.nets.reduce((sum, n) => {
    const widths = [n.inputWidth, ...n.layers.map((l) => l.units)];
    const hidden = n.layers.reduce((s, l, i) => s + (widths[i] + 1) * l.units, 0);
    return sum + hidden + n.outputs.reduce((s, o) => s + (widths[widths.length - 1] + 1) * o.size, 0);
  }, 0);
  return nets + model.params.reduce((s, p) => s + p.size, 0);
}
