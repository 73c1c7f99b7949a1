// The vae-lang extension: the language client of `vae lsp --stdio` (diagnostics, hover,
// completion, go to definition, symbols, formatting, rename). The grammar and the language
// configuration are declared in package.json.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { workspace } = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

/** `vae.server.path` if set, else the workspace's own node_modules/.bin/vae, else `vae` on the PATH. */
function serverCommand() {
  const configured = workspace.getConfiguration('vae').get('server.path');
  if (configured) return configured;
  for (const folder of workspace.workspaceFolders ?? []) {
    const local = join(folder.uri.fsPath, 'node_modules', '.bin', process.platform === 'win32' ? 'vae.cmd' : 'vae');
    if (existsSync(local)) return local;
  }
  return 'vae';
}

async function activate(context) {
  const config = workspace.getConfiguration('vae');
  // TransportKind.stdio appends --stdio to the arguments: the server runs as `vae lsp --stdio`.
  const server = { command: serverCommand(), args: ['lsp'], transport: TransportKind.stdio, options: { shell: process.platform === 'win32' } };
  client = new LanguageClient('vae', 'vae-lang', server, {
    documentSelector: [{ language: 'vae' }],
    initializationOptions: { pedantic: config.get('pedantic'), debounceMs: config.get('diagnosticsDelay') },
  });
  context.subscriptions.push(client);
  await client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
