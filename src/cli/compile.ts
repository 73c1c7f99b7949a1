/** `vae compile`: a model file → one TypeScript module that trains it (see docs/compile.md). */
import type { Command } from 'commander';
import { readSource } from '../node/source-file.js';
import { constantsOf, constOption, load } from './common.js';

export function register(program: Command): void {
  program.command('compile')
    .description('Generate a TypeScript trainer for a model: its networks, weights and objective as straight-line tfjs code, and a main with the flags of vae train.')
    .argument('<file>', 'a .vae model file')
    .option('-o, --output <file>', 'write the trainer here (default: print it)')
    .addOption(constOption())
    .action(async (file: string, opts: { output?: string; const: string[] }) => {
      const constants = constantsOf(opts.const);
      const model = load(file, constants);
      const { emitTrainer } = await import('../codegen/emit-ts.js');
      const text = emitTrainer({ model, file: readSource(file), constants });
      if (!opts.output) {
        process.stdout.write(text);
        return;
      }
      const { writeOutputFile } = await import('../node/run-dir.js');
      writeOutputFile(opts.output, text, 'the trainer');
      console.log(`wrote ${opts.output}: a trainer for ${model.name} (run it with \`npx tsx ${opts.output}\`, or compile it with tsc and run it with node)`);
    });
}
