#!/usr/bin/env node
/**
 * The `vae` command. Each command lives in its own module under src/cli/. User errors (model
 * files, data files, bad flags, a diverging run) are printed as one clear message with exit
 * status 1; only bugs show a stack trace.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { register as registerCheck } from './cli/check.js';
import { register as registerCompile } from './cli/compile.js';
import { register as registerCompare } from './cli/compare.js';
import { register as registerEval } from './cli/eval.js';
import { register as registerExport } from './cli/export.js';
import { register as registerFmt } from './cli/fmt.js';
import { register as registerLsp } from './cli/lsp.js';
import { register as registerPictures } from './cli/pictures.js';
import { register as registerPlayground } from './cli/playground.js';
import { register as registerSample } from './cli/sample.js';
import { register as registerTrain } from './cli/train.js';
import { isUserError } from './trainer/errors.js';

const program = new Command('vae')
  .description('A probabilistic programming language for variational autoencoders.')
  .showHelpAfterError();
for (const register of [registerCheck, registerTrain, registerEval, registerCompare, registerSample, registerPictures, registerExport, registerCompile, registerFmt, registerLsp, registerPlayground]) register(program);

/** Runs the CLI with `argv` (without `node` and the script); returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (isUserError(e)) {
      console.error(`error: ${e.message}`);
      return 1;
    }
    // Anything else is a bug: say so, with the stack for the report (instead of letting the wasm
    // backend's uncaught-exception handler print a line of its minified source).
    console.error(`internal error: ${(e as Error).message ?? e}\nThis is a bug in vae; please report it with the lines below.\n${(e as Error).stack ?? ''}`);
    return 70;
  }
}

/** True when this file is the program (`vae ...`, through npm's bin link), not an import. */
const invokedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) process.exitCode = await main(process.argv.slice(2));
