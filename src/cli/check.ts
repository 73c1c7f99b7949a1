/** `vae check` and `vae explain`: the front end, without training. */
import type { Command } from 'commander';
import { constantsOf, constOption, count, load, parameterCount } from './common.js';
import { pedanticOption, reportPedantic } from './pedantic.js';

export function register(program: Command): void {
  program.command('check')
    .description('Parse and check a model file; print a summary, or each error with its line and a caret.')
    .argument('<file>', 'a .vae model file')
    .addOption(constOption())
    .addOption(pedanticOption())
    .action(async (file: string, opts: { const: string[]; pedantic?: boolean }) => {
      const model = load(file, constantsOf(opts.const));
      if (opts.pedantic) await reportPedantic(model);
      console.log(`${file}: ok: model ${model.name}: ${count(model.data.length, 'data variable')}, ${count(model.latents.length, 'latent')}, ` +
        `${count(model.nets.length, 'network')}, ${parameterCount(model).toLocaleString('en-US')} parameters`);
    });

  program.command('explain')
    .description('Print the objective the compiler derives: each term, which KL is closed form and which Monte Carlo.')
    .argument('<file>', 'a .vae model file')
    .option('--mc-kl', 'use Monte Carlo for every KL term, even where a closed form exists')
    .option('--plan', 'print the plan (the steps every back end runs or prints) instead')
    .addOption(constOption())
    .action(async (file: string, opts: { mcKl?: boolean; plan?: boolean; const: string[] }) => {
      const model = load(file, constantsOf(opts.const));
      const { decide, lower } = await import('../compiler/lower.js');
      if (opts.plan) {
        const { printPlan } = await import('../compiler/plan-print.js');
        process.stdout.write(printPlan(lower(model, { forceMonteCarloKl: opts.mcKl })));
        return;
      }
      const { explainObjective } = await import('../compiler/explain.js');
      console.log(explainObjective(decide(model, { forceMonteCarloKl: opts.mcKl })));
    });
}
