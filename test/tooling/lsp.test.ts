/**
 * `vae lsp --stdio` as an editor sees it: the server is a subprocess and the test is a client
 * talking the Language Server Protocol to it over stdio (vscode-languageserver-protocol).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompletionRequest, createProtocolConnection, DefinitionRequest, DidChangeTextDocumentNotification, DidOpenTextDocumentNotification,
  DocumentFormattingRequest, DocumentSymbolRequest, ExitNotification, HoverRequest, InitializedNotification, InitializeRequest,
  PrepareRenameRequest, PublishDiagnosticsNotification, RenameRequest, ShutdownRequest, StreamMessageReader, StreamMessageWriter,
  type CompletionItem, type DocumentSymbol, type Hover, type Location, type ProtocolConnection, type PublishDiagnosticsParams,
  type Range, type TextEdit, type WorkspaceEdit,
} from 'vscode-languageserver-protocol/node';

const MNIST = readFileSync('models/mnist.vae', 'utf8');
const LINES = MNIST.split('\n');

/** The position of the `nth` occurrence of `needle` on the line that contains `lineHas`, plus `shift` characters. */
function at(lineHas: string, needle: string, shift = 0, text = MNIST): { line: number; character: number } {
  const lines = text.split('\n');
  const line = lines.findIndex((l) => l.includes(lineHas));
  return { line, character: lines[line].indexOf(needle) + shift };
}

let server: ChildProcess;
let client: ProtocolConnection;
const diagnostics = new Map<string, PublishDiagnosticsParams[]>();
let version = 1;

/** The next diagnostics published for `uri` after `action`. */
async function diagnosticsAfter(uri: string, action: () => Promise<void>): Promise<PublishDiagnosticsParams> {
  const before = diagnostics.get(uri)?.length ?? 0;
  await action();
  for (let waited = 0; waited < 10_000; waited += 20) {
    const list = diagnostics.get(uri) ?? [];
    if (list.length > before) return list[list.length - 1];
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no diagnostics for ${uri}`);
}

const open = (uri: string, text: string) => diagnosticsAfter(uri, () =>
  client.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'vae', version: version++, text } }));

const change = (uri: string, text: string) => diagnosticsAfter(uri, () =>
  client.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: version++ }, contentChanges: [{ text }] }));

beforeAll(async () => {
  server = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'lsp', '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  client = createProtocolConnection(new StreamMessageReader(server.stdout!), new StreamMessageWriter(server.stdin!));
  client.onNotification(PublishDiagnosticsNotification.type, (p: PublishDiagnosticsParams) => {
    diagnostics.set(p.uri, [...(diagnostics.get(p.uri) ?? []), p]);
  });
  client.listen();
  const init = await client.sendRequest(InitializeRequest.type, {
    processId: process.pid, rootUri: null, capabilities: {}, initializationOptions: { debounceMs: 150, pedantic: true },
  });
  expect(init.capabilities.hoverProvider).toBe(true);
  await client.sendNotification(InitializedNotification.type, {});
  await open('file:///mnist.vae', MNIST);
});

afterAll(async () => {
  await client.sendRequest(ShutdownRequest.type);
  await client.sendNotification(ExitNotification.type);
  client.dispose();
  await new Promise((r) => (server.exitCode === null ? server.on('exit', r) : r(null)));
  expect(server.exitCode).toBe(0); // shutdown, then exit: a clean end
});

describe('diagnostics', () => {
  it('publishes none for a good model and every error with its code for a bad one', async () => {
    expect(diagnostics.get('file:///mnist.vae')![0].diagnostics).toEqual([]);
    const bad = MNIST.replace('Bernoulli(logits', 'Bernulli(logits').replace('Normal(0, 1)', 'Normal(0, 1, 2)');
    const published = await open('file:///bad.vae', bad);
    const byCode = Object.fromEntries(published.diagnostics.map((d) => [d.code, d]));
    expect(Object.keys(byCode).sort()).toEqual(['VAE2008', 'VAE2009']);
    expect(byCode.VAE2008.range.start).toEqual(at('Bernulli', 'Bernulli', 0, bad));
    expect(byCode.VAE2008.severity).toBe(1);
    expect(byCode.VAE2008.source).toBe('vae');
  });

  it('publishes the pedantic warnings when asked to (initializationOptions.pedantic)', async () => {
    const fast = MNIST.replace('adam(lr = 1e-3)', 'adam(lr = 0.05)');
    const [w] = (await open('file:///fast.vae', fast)).diagnostics;
    expect(w).toMatchObject({ code: 'VAE4005', severity: 2, range: { start: at('optimizer', 'optimizer', 0, fast) } });
  });

  it('publishes again after a change (a syntax error, then the fix)', async () => {
    const broken = await change('file:///bad.vae', MNIST.replace('latent z : real[20]', 'latent z real[20]'));
    expect(broken.diagnostics.map((d) => d.code)).toEqual(['VAE1002']);
    expect(broken.diagnostics[0].range.start.line).toBe(at('latent z', 'latent').line);
    const fixed = await change('file:///bad.vae', MNIST);
    expect(fixed.diagnostics).toEqual([]);
  });

  it('waits for typing to pause: one publication for a burst of changes', async () => {
    const uri = 'file:///burst.vae';
    await open(uri, MNIST);
    const before = diagnostics.get(uri)!.length;
    await Promise.all([1, 2, 3, 4].map((n) => client.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: version++ }, contentChanges: [{ text: MNIST.replace('seed      1', `seed      ${n}`) }],
    })));
    await new Promise((r) => setTimeout(r, 1000));
    expect(diagnostics.get(uri)!.length - before).toBe(1);
  });
});

describe('hover', () => {
  const hover = async (pos: { line: number; character: number }) =>
    ((await client.sendRequest(HoverRequest.type, { textDocument: { uri: 'file:///mnist.vae' }, position: pos })) as Hover | null);
  const text = (h: Hover | null) => (h?.contents as { value: string }).value;

  it('shows a latent\'s type, shape, prior, guide and KL', async () => {
    const h = text(await hover(at('prior', 'z', 0)));
    expect(h).toContain('latent z : real[20]');
    expect(h).toContain('shape [20]');
    expect(h).toMatch(/Prior Normal, guide Normal; KL: closed form/);
  });

  it('shows a network\'s layers with their shapes and parameters', async () => {
    const h = text(await hover(at('guide', 'encoder', 2)));
    // 784·400 + 400 and 400·40 + 40: the hidden layer, then the dense head of both outputs.
    expect(h).toContain('| dense 400 relu | [784] → [400] | 314,000 |');
    expect(h).toContain('| dense 40 linear (the head `out`) | [400] → [40] | 16,040 |');
    expect(h).toContain('| output `mu` | shape [20] | |');
    expect(h).toContain('Network `encoder`, 330,040 parameters; the outputs side by side in the dense head `out`');
  });

  it('shows a conv network\'s layers, and that its outputs are the last layer\'s channels', async () => {
    const uri = 'file:///mnist_conv.vae';
    const conv = readFileSync('models/mnist_conv.vae', 'utf8');
    await open(uri, conv);
    const h = ((await client.sendRequest(HoverRequest.type, { textDocument: { uri }, position: at('likelihood', 'decoder', 2, conv) })) as Hover | null);
    const value = (h?.contents as { value: string }).value;
    expect(value).toContain('| reshape [7, 7, 64] | [3136] → [7, 7, 64] | 0 |');
    // k² · C_in · C_out + C_out = 16 · 32 · 1 + 1
    expect(value).toContain('| conv_transpose 1 k4 s2 same linear | [14, 14, 32] → [28, 28, 1] | 513 |');
    expect(value).toContain("the outputs are the last layer's channels, in order");
    const output = ((await client.sendRequest(HoverRequest.type, { textDocument: { uri }, position: at('likelihood', 'logits)', 1, conv) })) as Hover | null);
    expect((output?.contents as { value: string }).value).toContain("shape [28, 28, 1] per example (1 of the last layer's channels)");
    const word = ((await client.sendRequest(HoverRequest.type, { textDocument: { uri }, position: at('conv 64', 'same', 1, conv) })) as Hover | null);
    expect((word?.contents as { value: string }).value).toMatch(/^\*\*same\*\*: Padding `same`/);
  });

  it('shows a network output\'s shape', async () => {
    expect(text(await hover(at('guide', 'log_sigma', 1)))).toContain('Output of network `encoder`: shape [20]');
  });

  it('shows a distribution\'s parameters, support and closed-form KL partners', async () => {
    const h = text(await hover(at('likelihood', 'Bernoulli', 3)));
    expect(h).toContain('Bernoulli(logits)');
    expect(h).toContain('Bernoulli(probs in (0, 1))');
    expect(h).toContain('Support: binary');
    expect(h).toContain('as the guide, against Bernoulli');
    const normal = text(await hover(at('prior', 'Normal', 1)));
    expect(normal).toMatch(/as the prior, with guides Normal, Laplace, MultivariateNormal, LowRankMultivariateNormal/);
  });

  it('explains train settings', async () => {
    expect(text(await hover(at('optimizer', 'optimizer', 1)))).toContain('The optimizer and its settings');
  });
});

describe('completion', () => {
  async function complete(text: string, uri: string): Promise<string[]> {
    const cursor = text.indexOf('|');
    const source = text.replace('|', '');
    await change(uri, source).catch(() => undefined);
    const before = source.slice(0, cursor).split('\n');
    const items = (await client.sendRequest(CompletionRequest.type, {
      textDocument: { uri }, position: { line: before.length - 1, character: before[before.length - 1].length },
    })) as CompletionItem[];
    return items.map((i) => i.label);
  }
  const uri = 'file:///complete.vae';
  beforeAll(async () => { await open(uri, MNIST); });

  it('offers network outputs after `.`', async () => {
    expect(await complete(MNIST.replace('encoder(x).mu,', 'encoder(x).|,'), uri)).toEqual(['mu', 'log_sigma']);
  });

  it('offers distributions after `~`, with their parameters', async () => {
    const labels = await complete(MNIST.replace('z ~ Normal(0, 1)', 'z ~ |'), uri);
    expect(labels).toEqual(expect.arrayContaining(['Normal', 'Laplace', 'Bernoulli', 'GaussianMixture']));
    const items = (await client.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: at('prior', '~', 2, MNIST.replace('z ~ Normal(0, 1)', 'z ~ ')) })) as CompletionItem[];
    expect(items.find((i) => i.label === 'GaussianMixture')!.insertText).toBe('GaussianMixture(logits = ${1}, locs = ${2}, scales = ${3})');
  });

  it('offers keywords at the start of a model line, names and functions in expressions', async () => {
    expect(await complete(MNIST.replace('  prior ', '  |\n  prior '), uri)).toEqual(expect.arrayContaining(['data', 'latent', 'net', 'prior', 'guide']));
    const names = await complete(MNIST.replace('Normal(0, 1)', 'Normal(|0, 1)'), uri);
    expect(names).toEqual(expect.arrayContaining(['x', 'z', 'encoder', 'decoder', 'exp', 'softplus']));
  });

  it('offers layers in a network\'s body and in a residual block, and each layer\'s next word', async () => {
    const layers = ['dense', 'conv', 'conv_transpose', 'flatten', 'reshape', 'upsample', 'pool', 'residual'];
    const withBody = (body: string) => MNIST.replace('{ dense 400 relu }\n  net decoder', `{ ${body} }\n  net decoder`);
    expect(await complete(withBody('dense 400 relu  |'), uri)).toEqual(layers);
    expect(await complete(withBody('residual { |'), uri)).toEqual(layers);
    expect(await complete(withBody('dense 400 |'), uri)).toEqual(['relu', 'tanh', 'sigmoid', 'softplus', 'elu', 'linear']);
    expect(await complete(withBody('conv 32 |'), uri)).toEqual(['k3', 'k4', 'k5']);
    expect(await complete(withBody('conv 32 k4 s2 |'), uri)).toEqual(['same', 'valid', 'relu', 'tanh', 'sigmoid', 'softplus', 'elu', 'linear', ...layers]);
    expect(await complete(withBody('conv 32 k4 valid |'), uri)).toEqual(['relu', 'tanh', 'sigmoid', 'softplus', 'elu', 'linear', ...layers]);
    expect(await complete(withBody('pool |'), uri)).toEqual(['max', 'avg']);
  });

  it('offers train settings, their values and an optimizer\'s settings', async () => {
    expect(await complete(MNIST.replace('  batch ', '  |\n  batch '), uri)).toEqual(expect.arrayContaining(['kl_warmup', 'free_bits', 'schedule']));
    expect(await complete(MNIST.replace('adam(lr = 1e-3)', '|'), uri)).toEqual(expect.arrayContaining(['adam(lr = 1e-3)']));
    expect(await complete(MNIST.replace('adam(lr = 1e-3)', 'adam(|)'), uri)).toEqual(['lr', 'beta1', 'beta2', 'epsilon']);
  });
});

describe('navigation and edits', () => {
  const uri = 'file:///mnist.vae';

  it('goes to a name\'s definition and to a network output\'s', async () => {
    const def = (await client.sendRequest(DefinitionRequest.type, { textDocument: { uri }, position: at('guide', 'encoder', 1) })) as Location;
    expect(def.range.start).toEqual(at('net encoder', 'encoder'));
    const out = (await client.sendRequest(DefinitionRequest.type, { textDocument: { uri }, position: at('likelihood', 'logits)', 1) })) as Location;
    expect(out.range.start).toEqual(at('net decoder', 'logits'));
  });

  it('lists the document\'s symbols', async () => {
    const symbols = (await client.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } })) as DocumentSymbol[];
    expect(symbols.map((s) => s.name)).toEqual(['mnist_vae', 'train']);
    expect(symbols[0].children!.map((s) => s.name)).toEqual(['x', 'z', 'encoder', 'decoder', 'prior z', 'likelihood x', 'guide z']);
    expect(symbols[0].children![2].children!.map((s) => s.name)).toEqual(['mu', 'log_sigma']);
    expect(symbols[1].children!.map((s) => s.name)).toEqual(['data', 'optimizer', 'batch', 'epochs', 'seed']);
  });

  it('formats the document with vae fmt\'s layout', async () => {
    const messy = 'model m{data x:binary[4] latent z:real[2]\nnet d(z)->(l:real[4]){dense 8 relu}\nprior z~Normal(0,1) likelihood x~Bernoulli(logits=d(z).l) guide z~Normal(0,1)}';
    await open('file:///messy.vae', messy);
    const edits = (await client.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri: 'file:///messy.vae' }, options: { tabSize: 2, insertSpaces: true } })) as TextEdit[];
    expect(edits).toHaveLength(1);
    expect(edits[0].newText).toContain('  prior      z ~ Normal(0, 1)\n  likelihood x ~ Bernoulli(logits = d(z).l)\n');
    const none = await client.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
    expect(none).toEqual([]);
  });

  it('renames a name everywhere it is written, and a network output at its calls', async () => {
    const range = (await client.sendRequest(PrepareRenameRequest.type, { textDocument: { uri }, position: at('latent z', 'z') })) as Range;
    expect(range.start).toEqual(at('latent z', 'z'));
    const edit = (await client.sendRequest(RenameRequest.type, { textDocument: { uri }, position: at('latent z', 'z'), newName: 'code' })) as WorkspaceEdit;
    const starts = edit.changes![uri].map((e) => `${e.range.start.line}:${e.range.start.character}`);
    const expected = LINES.flatMap((l, i) => [...l.matchAll(/\bz\b/g)].map((m) => `${i}:${m.index}`))
      .filter((p) => !p.startsWith(`${at('net decoder', 'z').line}:`)); // the network's own input name is not the latent
    expect(starts.sort()).toEqual(expected.sort());
    const outputs = (await client.sendRequest(RenameRequest.type, { textDocument: { uri }, position: at('guide', 'log_sigma', 1), newName: 'log_scale' })) as WorkspaceEdit;
    expect(outputs.changes![uri]).toHaveLength(2);
    await expect(client.sendRequest(RenameRequest.type, { textDocument: { uri }, position: at('latent z', 'z'), newName: 'prior' })).rejects.toThrow(/not a name/);
    await expect(client.sendRequest(RenameRequest.type, { textDocument: { uri }, position: at('latent z', 'z'), newName: 'x' })).rejects.toThrow(/'x' is already declared/);
  });
});
