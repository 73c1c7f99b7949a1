/**
 * The playground's editor: CodeMirror 6 with `.vae` highlighting, the compiler's diagnostics as
 * underlines (pushed in when the compile worker answers: setDiagnostics, not a polling linter),
 * and completion of the language's words.
 */
import { autocompletion, closeBrackets, closeBracketsKeymap, completeFromList } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { bracketMatching, indentOnInput } from '@codemirror/language';
import { lintGutter, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { Compartment, EditorState } from '@codemirror/state';
import { drawSelection, EditorView, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers } from '@codemirror/view';
import { vaeHighlighting, vaeLanguage } from './highlight.js';
import type { PageDiagnostic, Vocabulary } from './protocol.js';

export interface Editor {
  view: EditorView;
  text(): string;
  setText(text: string): void;
  showDiagnostics(diagnostics: PageDiagnostic[]): void;
  useVocabulary(vocabulary: Vocabulary): void;
}

export function createEditor(parent: HTMLElement, text: string, onChange: (text: string) => void): Editor {
  const language = new Compartment();
  const completion = new Compartment();
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: text,
      extensions: [
        lineNumbers(), highlightActiveLineGutter(), lintGutter(), history(), drawSelection(), indentOnInput(), bracketMatching(),
        closeBrackets(), highlightActiveLine(), vaeHighlighting, language.of(vaeLanguage()), completion.of([]),
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, indentWithTab]),
        EditorState.tabSize.of(2),
        EditorView.updateListener.of((update) => { if (update.docChanged) onChange(update.state.doc.toString()); }),
      ],
    }),
  });
  return {
    view,
    text: () => view.state.doc.toString(),
    setText: (next) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: next } }),
    showDiagnostics(diagnostics) {
      const length = view.state.doc.length;
      const marks: Diagnostic[] = diagnostics.map((d) => ({
        from: Math.min(d.from, length), to: Math.min(Math.max(d.to, d.from), length), severity: d.severity, message: `${d.message} [${d.code}]`,
      }));
      view.dispatch(setDiagnostics(view.state, marks));
    },
    useVocabulary(vocabulary) {
      const words = [
        ...vocabulary.keywords.map((label) => ({ label, type: 'keyword' })),
        ...vocabulary.families.map((label) => ({ label, type: 'class' })),
        ...vocabulary.types.map((label) => ({ label, type: 'type' })),
        ...vocabulary.functions.map((label) => ({ label, type: 'function' })),
        ...vocabulary.names.map((label) => ({ label, type: 'constant' })),
        ...vocabulary.settings.map((label) => ({ label, type: 'property' })),
      ];
      view.dispatch({ effects: [language.reconfigure(vaeLanguage(vocabulary)), completion.reconfigure(autocompletion({ override: [completeFromList(words)] }))] });
    },
  };
}
