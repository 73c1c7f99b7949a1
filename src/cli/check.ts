/** `vae check` and `vae explain`: the front end, without training. */
import type { Command } from 'commander';
import { constantsOf, constOption, count, load, parameterCount } from './common.js';

export function register(program: Command): void {
  program.command('check')
    .description('Parse and check a model file; print a summary, or each error with its line and a caret.')
    .argument('<file>', 'a .vae model file')
    .addOption(constOption())
    .action((file: string, opts: { const: string[] }) => {
      const model = load(file, constantsOf(opts.const));
      console.log(`${file}: ok: model ${model.name}: ${count(model.data.length, 'data variable')}, ${count(model.latents.length, 'latent')}, ` +
        `${count(model.nets.length, 'network')}, ${parameterCount(model).toLocaleString('en-US')} parameters`);
    });

  program.command('explain')
    .description('Print the objective the compiler derives: each term, which KL is closed form and which Monte Carlo.')
    .argument('<file>', 'a .vae model file')
    .option('--mc-kl', 'use Monte Carlo for every KL term, even where a closed form exists')
    .addOption(constOption())
    .action(async (file: string, opts: { mcKl?: boolean; const: string[] }) => {
      const { decide } = await import('../compiler/lower.js');
      const { explainObjective } = await import('../compiler/explain.js');
      console.log(explainObjective(decide(load(file, constantsOf(opts.const)), { forceMonteCarloKl: opts.mcKl })));
    });
}
