/**
 * `vae playground [--port 8080] [--host 127.0.0.1] [--data-dir DIR] [--static DIR]`: serves the
 * playground and the data it trains on, or writes it as static files (docs/playground.md). The
 * server (playground-server.ts) loads when the command runs, not with the CLI.
 */
import { InvalidArgumentError, type Command } from 'commander';

interface Flags { port: number; host: string; dataDir?: string; static?: string }

/** `--port`'s value: a whole number 0..65535. */
export const parsePort = (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('takes a port number, 0 to 65535 (0: any free port).');
  return n;
};

export function register(program: Command): void {
  program.command('playground')
    .description('Serve the playground: edit a model in the browser and watch it train (docs/playground.md).')
    .option('--port <n>', 'the port to listen on (0: any free port)', parsePort, 8080)
    .option('--host <address>', 'the address to listen on (0.0.0.0: every interface, visible to the network)', '127.0.0.1')
    .option('--data-dir <dir>', 'a directory of data files the page may train on (default $VAE_DATA_DIR)')
    .option('--static <dir>', 'write the page and MNIST into DIR as static files, instead of serving')
    .action(async (flags: Flags) => {
      const { startPlayground, writeStatic } = await import('./playground-server.js');
      if (flags.static !== undefined) {
        await writeStatic(flags.static);
        return;
      }
      const server = await startPlayground({ port: flags.port, host: flags.host, dataDir: flags.dataDir ?? (process.env.VAE_DATA_DIR || undefined) });
      console.log(`vae playground: ${server.url} (Ctrl+C stops it)`);
    });
}
