/**
 * `vae lsp --stdio`: the language server. Diagnostics on open and on change (debounced; every
 * error and warning with the compiler's code), hover, completion, go to definition, document
 * symbols, formatting (`vae fmt`'s layout) and rename.
 *
 * Initialization options: `{ debounceMs?: number, pedantic?: boolean }` (pedantic adds the
 * warnings of `vae check --pedantic`).
 */
import {
  createConnection, DiagnosticSeverity, DocumentSymbol, Location, ResponseError, StreamMessageReader, StreamMessageWriter,
  SymbolKind, TextDocuments, TextDocumentSyncKind, TextEdit,
  type Connection, type Diagnostic as LspDiagnostic, type InitializeParams, type Range,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { Diagnostic, Span } from '../compiler/source.js';
import { pedanticWarnings } from '../compiler/pedantic.js';
import { analyze, occurrenceAt, type Analysis } from './analysis.js';
import { complete } from './complete.js';
import { describeDefinition, describeWord } from './describe.js';
import { formatSource } from './format.js';
import { lexWithComments, tokenAt, tokenTypes as T } from './tokens.js';

const DEFAULT_DEBOUNCE_MS = 200;

/**
 * Serves the protocol over stdin and stdout. The client's `exit` notification ends the process;
 * the promise resolves if stdin ends first (the client went away without one).
 */
export function serveStdio(): Promise<void> {
  const closed = new Promise<void>((resolve) => process.stdin.once('end', resolve));
  serve(createConnection(new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout)));
  return closed;
}

export function serve(connection: Connection): void {
  const documents = new TextDocuments(TextDocument);
  const analyses = new Map<string, Analysis>();
  /** The last analysis of each document that parsed: its names serve completion while the text is broken. */
  const lastParsed = new Map<string, Analysis>();
  const timers = new Map<string, NodeJS.Timeout>();
  let debounceMs = DEFAULT_DEBOUNCE_MS;
  let pedantic = false;

  const analysisOf = (uri: string): Analysis | undefined => {
    const doc = documents.get(uri);
    if (!doc) return undefined;
    let a = analyses.get(uri);
    if (!a || a.src.text !== doc.getText()) {
      a = analyze({ name: uri, text: doc.getText() });
      analyses.set(uri, a);
      if (a.ast) lastParsed.set(uri, a);
    }
    return a;
  };

  const publish = (uri: string) => {
    timers.delete(uri);
    const a = analysisOf(uri);
    if (!a) return;
    const extra = pedantic && a.checked ? pedanticWarnings(a.checked) : [];
    void connection.sendDiagnostics({ uri, diagnostics: [...a.diagnostics, ...extra].map(toLspDiagnostic(uri)) });
  };

  connection.onInitialize((params: InitializeParams) => {
    const options = (params.initializationOptions ?? {}) as { debounceMs?: number; pedantic?: boolean };
    debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    pedantic = options.pedantic === true;
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        completionProvider: { triggerCharacters: ['.', '~', ':'] },
        definitionProvider: true,
        documentSymbolProvider: true,
        documentFormattingProvider: true,
        renameProvider: { prepareProvider: true },
      },
      serverInfo: { name: 'vae-lang' },
    };
  });

  documents.onDidOpen((e) => publish(e.document.uri));
  documents.onDidChangeContent((e) => {
    clearTimeout(timers.get(e.document.uri));
    timers.set(e.document.uri, setTimeout(() => publish(e.document.uri), debounceMs));
  });
  documents.onDidClose((e) => {
    clearTimeout(timers.get(e.document.uri));
    analyses.delete(e.document.uri);
    lastParsed.delete(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  connection.onHover(({ textDocument, position }) => {
    const a = analysisOf(textDocument.uri);
    if (!a) return null;
    const offset = documents.get(textDocument.uri)!.offsetAt(position);
    const o = occurrenceAt(a, offset);
    if (o) return { contents: { kind: 'markdown', value: describeDefinition(a, a.definitions.get(o.key)!) }, range: toRange(o.span) };
    const tokens = lexWithComments(a.src.text).tokens;
    const t = tokenAt(tokens, offset);
    const inTrain = t !== undefined && tokens.some((u) => u.tokenType === T.Train && u.startOffset < t.startOffset);
    const text = t && describeWord(t.image, inTrain);
    return text ? { contents: { kind: 'markdown', value: text } } : null;
  });

  connection.onCompletion(({ textDocument, position }) => {
    const doc = documents.get(textDocument.uri);
    const a = analysisOf(textDocument.uri);
    if (!doc || !a) return [];
    return complete(doc.getText(), doc.offsetAt(position), (lastParsed.get(textDocument.uri) ?? a).definitions);
  });

  connection.onDefinition(({ textDocument, position }) => {
    const a = analysisOf(textDocument.uri);
    const o = a && occurrenceAt(a, documents.get(textDocument.uri)!.offsetAt(position));
    return o ? Location.create(textDocument.uri, toRange(a.definitions.get(o.key)!.nameSpan)) : null;
  });

  connection.onDocumentSymbol(({ textDocument }) => {
    const a = analysisOf(textDocument.uri);
    return a?.ast ? documentSymbols(a) : [];
  });

  connection.onDocumentFormatting(({ textDocument }) => {
    const doc = documents.get(textDocument.uri);
    if (!doc) return [];
    const r = formatSource({ name: textDocument.uri, text: doc.getText() });
    if (!r.ok || r.value === doc.getText()) return [];
    return [TextEdit.replace({ start: { line: 0, character: 0 }, end: doc.positionAt(doc.getText().length) }, r.value)];
  });

  connection.onPrepareRename(({ textDocument, position }) => {
    const a = analysisOf(textDocument.uri);
    const o = a && occurrenceAt(a, documents.get(textDocument.uri)!.offsetAt(position));
    return o ? toRange(o.span) : null;
  });

  connection.onRenameRequest(({ textDocument, position, newName }) => {
    const a = analysisOf(textDocument.uri);
    const o = a && occurrenceAt(a, documents.get(textDocument.uri)!.offsetAt(position));
    if (!o) return null;
    const renamed = lexWithComments(newName).tokens;
    if (renamed.length !== 1 || renamed[0].tokenType !== T.Identifier) {
      throw new ResponseError(1, `'${newName}' is not a name: a name is a letter or '_' followed by letters, digits and '_', and not a keyword.`);
    }
    const def = a.definitions.get(o.key)!;
    if (a.definitions.has(def.net ? `${def.net}.${newName}` : newName)) {
      throw new ResponseError(1, `'${newName}' is already declared${def.net ? ` as an output of '${def.net}'` : ''}.`);
    }
    const edits = a.occurrences.filter((x) => x.key === o.key).map((x) => TextEdit.replace(toRange(x.span), newName));
    return { changes: { [textDocument.uri]: edits } };
  });

  documents.listen(connection);
  connection.listen();
}

const toRange = (s: Span): Range => ({
  start: { line: s.start.line - 1, character: s.start.column - 1 },
  end: { line: s.end.line - 1, character: s.end.column - 1 },
});

const toLspDiagnostic = (uri: string) => (d: Diagnostic): LspDiagnostic => ({
  range: toRange(d.span),
  severity: d.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
  code: d.code,
  source: 'vae',
  message: d.message,
  ...(d.related ? { relatedInformation: d.related.map((r) => ({ location: Location.create(uri, toRange(r.span)), message: r.message })) } : {}),
});

const SYMBOL_KINDS = {
  data: SymbolKind.Variable, latent: SymbolKind.Variable, param: SymbolKind.Field, const: SymbolKind.Constant, net: SymbolKind.Function,
} as const;

/** The model with its declarations (a network with its outputs) and statements, and the train block with its settings. */
function documentSymbols(a: Analysis): DocumentSymbol[] {
  const m = a.ast!;
  const children = m.items.map((item): DocumentSymbol => {
    if (item.kind === 'statement') {
      return DocumentSymbol.create(`${item.role} ${item.target.name}`, item.dist.name.name, SymbolKind.Event, toRange(item.span), toRange(item.target.span));
    }
    const outputs = item.kind === 'net'
      ? item.outputs.map((o) => DocumentSymbol.create(o.name.name, o.type.name.name, SymbolKind.Property, toRange(o.span), toRange(o.name.span)))
      : undefined;
    const detail = item.kind === 'net' ? 'net' : item.kind;
    return DocumentSymbol.create(item.name.name, detail, SYMBOL_KINDS[item.kind], toRange(item.span), toRange(item.name.span), outputs);
  });
  const symbols = [DocumentSymbol.create(m.name.name, 'model', SymbolKind.Module, toRange(m.span), toRange(m.name.span), children)];
  if (m.train) {
    const settings = m.train.settings.map((s) => DocumentSymbol.create(s.name.name, 'setting', SymbolKind.Property, toRange(s.span), toRange(s.name.span)));
    symbols.push(DocumentSymbol.create('train', 'train block', SymbolKind.Namespace, toRange(m.train.span), toRange(m.train.span), settings));
  }
  return symbols;
}
