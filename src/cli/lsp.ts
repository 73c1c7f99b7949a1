/** `vae lsp --stdio`: the language server for editors (see src/tooling/server.ts). */
import type { Command } from 'commander';
import { UsageError } from './common.js';

export function register(program: Command): void {
  program.command('lsp')
    .description('Run the language server (diagnostics, hover, completion, definitions, symbols, formatting, rename) for an editor.')
    .option('--stdio', 'talk the Language Server Protocol over stdin and stdout (the only transport)')
    .action(async (opts: { stdio?: boolean }) => {
      if (!opts.stdio) throw new UsageError('vae lsp talks over stdin and stdout: run `vae lsp --stdio` (editors do this for you).');
      // stdout carries the protocol: anything printed goes to stderr instead
      console.log = console.error;
      const { serveStdio } = await import('../tooling/server.js');
      await serveStdio();
    });
}
