/**
 * The grammar of the `.vae` language as a Chevrotain CST parser (grammar only, no actions), and
 * `parse()`, which turns source text into a CST or syntax diagnostics. `grammar/` holds the
 * syntax diagrams generated from this class (`npm run grammar`).
 *
 *   file       := model train?
 *   model      := 'model' NAME '{' item* '}'
 *   item       := dataDecl | latentDecl | paramDecl | constDecl | netDecl | statement
 *   netDecl    := 'net' NAME '(' input (',' input)* ')' '->' '(' output (',' output)* ')' '{' layer* '}'
 *   statement  := ('prior' | 'likelihood' | 'guide') NAME '~' NAME '(' args? ')' modifier*
 *   layer      := 'dense' N NAME? | ('conv' | 'conv_transpose') N NAME* | 'flatten' | 'reshape' '[' N (',' N)* ']'
 *               | 'upsample' N | 'pool' NAME N | 'residual' '{' layer* '}'
 *   modifier   := ('then' | 'using') NAME '(' args? ')'
 *   expr       := term (('+' | '-') term)*  ;  term := unary (('*' | '/') unary)*
 *   train      := 'train' '{' (NAME value)* '}'
 */
import { CstParser, EOF, type CstNode, type IParserErrorMessageProvider, type IToken, type TokenType } from 'chevrotain';
import * as T from './lexer.js';
import { fail, ok, spanOf, type Diagnostic, type Result, type SourceFile } from './source.js';

/** Error messages in the project's voice: "Expected ')' but found 'x'." */
const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, actual }) => `Expected ${label(expected)} but found ${found(actual)}.`,
  buildNotAllInputParsedMessage: ({ firstRedundant }) => `Unexpected ${found(firstRedundant)} after the end of the file's last block.`,
  buildNoViableAltMessage: ({ expectedPathsPerAlt, actual, ruleName }) =>
    `Expected ${alternatives(expectedPathsPerAlt.flat())} ${ruleContext(ruleName)}but found ${found(actual[0])}.`,
  buildEarlyExitMessage: ({ expectedIterationPaths, actual, ruleName }) =>
    `Expected ${alternatives(expectedIterationPaths)} ${ruleContext(ruleName)}but found ${found(actual[0])}.`,
};

const label = (t: TokenType): string => t.LABEL ?? t.name;
const found = (t: IToken): string => (t.tokenType === EOF ? 'the end of the file' : `'${t.image}'`);
const alternatives = (paths: TokenType[][]): string => {
  const firsts = [...new Set(paths.map((p) => (p.length > 0 ? label(p[0]) : 'nothing')))];
  return firsts.length <= 1 ? firsts.join('') : `${firsts.slice(0, -1).join(', ')} or ${firsts[firsts.length - 1]}`;
};
const ruleContext = (rule: string): string => (Object.hasOwn(RULE_WORDS, rule) ? `${RULE_WORDS[rule]} ` : '');
const RULE_WORDS: Record<string, string> = {
  modelItem: 'in a model (a declaration or a prior, likelihood or guide)',
  primary: 'in an expression',
  settingValue: 'as a setting value',
  layer: 'as a layer',
};

/** The parser. Rule names are the CST node names that `to-ast.ts` visits. */
export class VaeParser extends CstParser {
  constructor() {
    super(T.allTokens, { errorMessageProvider: messages, recoveryEnabled: true, maxLookahead: 3, nodeLocationTracking: 'full' });
    this.performSelfAnalysis();
  }

  file = this.RULE('file', () => {
    this.SUBRULE(this.model);
    this.OPTION(() => this.SUBRULE(this.train));
  });

  model = this.RULE('model', () => {
    this.CONSUME(T.Model);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.modelItem));
    this.CONSUME(T.RBrace);
  });

  modelItem = this.RULE('modelItem', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.dataDecl) },
      { ALT: () => this.SUBRULE(this.latentDecl) },
      { ALT: () => this.SUBRULE(this.paramDecl) },
      { ALT: () => this.SUBRULE(this.constDecl) },
      { ALT: () => this.SUBRULE(this.netDecl) },
      { ALT: () => this.SUBRULE(this.statement) },
    ]);
  });

  /** `data x : binary[784]` */
  dataDecl = this.RULE('dataDecl', () => {
    this.CONSUME(T.Data);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.typeExpr);
  });

  /** `latent z : real[20]` */
  latentDecl = this.RULE('latentDecl', () => {
    this.CONSUME(T.Latent);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.typeExpr);
  });

  /** `param log_s : real[784] = 0`, `param m : real[10, 20] ~ Normal(0, 1)`: a learned tensor and its initial value. */
  paramDecl = this.RULE('paramDecl', () => {
    this.CONSUME(T.Param);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.typeExpr);
    this.OPTION(() => {
      this.OR([
        { ALT: () => { this.CONSUME(T.Equals); this.SUBRULE(this.expr); } },
        { ALT: () => { this.CONSUME(T.Tilde); this.SUBRULE(this.distribution); } },
      ]);
    });
  });

  /**
   * `const tau = 0.5`: a named number, which `--const tau=0.3` can change without editing the
   * file; `const m : real[10, 20] ~ Normal(0, 3)`: a fixed (not learned) tensor.
   */
  constDecl = this.RULE('constDecl', () => {
    this.CONSUME(T.Const);
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Colon);
      this.SUBRULE(this.typeExpr);
    });
    this.OR([
      { ALT: () => { this.CONSUME(T.Equals); this.SUBRULE(this.expr); } },
      { ALT: () => { this.CONSUME(T.Tilde); this.SUBRULE(this.distribution); } },
    ]);
  });

  /** `real[20]`, `binary[28, 28]`, `real` (a scalar). */
  typeExpr = this.RULE('typeExpr', () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.LBracket);
      this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.CONSUME(T.NumberLiteral) });
      this.CONSUME(T.RBracket);
    });
  });

  /** `net encoder(x) -> (mu: real[20], log_sigma: real[20]) { dense 400 relu }` */
  netDecl = this.RULE('netDecl', () => {
    this.CONSUME(T.Net);
    this.CONSUME(T.Identifier);
    this.SUBRULE(this.netSignature);
    this.SUBRULE(this.netBody);
  });

  /** `(x) -> (mu: real[20], log_sigma: real[20])`: a rule of its own, so that an error in it re-syncs at the body's '{'. */
  netSignature = this.RULE('netSignature', () => {
    this.CONSUME(T.LParen);
    this.AT_LEAST_ONE_SEP1({ SEP: T.Comma, DEF: () => this.SUBRULE(this.netInput) });
    this.CONSUME(T.RParen);
    this.CONSUME(T.Arrow);
    this.CONSUME2(T.LParen);
    this.AT_LEAST_ONE_SEP2({ SEP: T.Comma, DEF: () => this.SUBRULE(this.netOutput) });
    this.CONSUME2(T.RParen);
  });

  /** `{ dense 400 relu }` */
  netBody = this.RULE('netBody', () => {
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.layer));
    this.CONSUME(T.RBrace);
  });

  netInput = this.RULE('netInput', () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Colon);
      this.SUBRULE(this.typeExpr);
    });
  });

  netOutput = this.RULE('netOutput', () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.typeExpr);
  });

  /** One layer of a network's body. */
  layer = this.RULE('layer', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.denseLayer) },
      { ALT: () => this.SUBRULE(this.convLayer) },
      { ALT: () => this.SUBRULE(this.flattenLayer) },
      { ALT: () => this.SUBRULE(this.reshapeLayer) },
      { ALT: () => this.SUBRULE(this.upsampleLayer) },
      { ALT: () => this.SUBRULE(this.poolLayer) },
      { ALT: () => this.SUBRULE(this.residualLayer) },
    ]);
  });

  /** `dense 400 relu` (the activation defaults to linear). */
  denseLayer = this.RULE('denseLayer', () => {
    this.CONSUME(T.Dense);
    this.CONSUME(T.NumberLiteral);
    this.OPTION(() => this.CONSUME(T.Identifier));
  });

  /**
   * `conv 32 k4 s2 same relu`, `conv_transpose 1 k4 s2`: the filters, then words: the kernel size
   * `k<size>`, the stride `s<size>`, the padding, the activation. to-ast.ts reads them (a number
   * among them, as in `conv 32 4`, is its error there, with the form of the layer).
   */
  convLayer = this.RULE('convLayer', () => {
    this.OR([{ ALT: () => this.CONSUME(T.Conv) }, { ALT: () => this.CONSUME(T.ConvTranspose) }]);
    this.CONSUME(T.NumberLiteral);
    this.MANY(() => this.OR2([{ ALT: () => this.CONSUME(T.Identifier) }, { ALT: () => this.CONSUME2(T.NumberLiteral) }]));
  });

  flattenLayer = this.RULE('flattenLayer', () => {
    this.CONSUME(T.Flatten);
  });

  /** `reshape [7, 7, 64]` */
  reshapeLayer = this.RULE('reshapeLayer', () => {
    this.CONSUME(T.Reshape);
    this.CONSUME(T.LBracket);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.CONSUME(T.NumberLiteral) });
    this.CONSUME(T.RBracket);
  });

  /** `upsample 2` */
  upsampleLayer = this.RULE('upsampleLayer', () => {
    this.CONSUME(T.Upsample);
    this.CONSUME(T.NumberLiteral);
  });

  /** `pool max 2`, `pool avg 2` */
  poolLayer = this.RULE('poolLayer', () => {
    this.CONSUME(T.Pool);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.NumberLiteral);
  });

  /** `residual { conv 32 k3 relu  conv 32 k3 }`: its layers' output is added to its input. */
  residualLayer = this.RULE('residualLayer', () => {
    this.CONSUME(T.Residual);
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.layer));
    this.CONSUME(T.RBrace);
  });

  /** `prior z ~ Normal(0, 1)` */
  statement = this.RULE('statement', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Prior) },
      { ALT: () => this.CONSUME(T.Likelihood) },
      { ALT: () => this.CONSUME(T.Guide) },
    ]);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Tilde);
    this.SUBRULE(this.distribution);
    this.MANY(() => this.SUBRULE(this.modifier));
  });

  /** `then planar(8)`, `then iaf(2, hidden = 64)`, `using score_function(decay = 0.9)` */
  modifier = this.RULE('modifier', () => {
    this.OR([{ ALT: () => this.CONSUME(T.Then) }, { ALT: () => this.CONSUME(T.Using) }]);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.argument) });
    this.CONSUME(T.RParen);
  });

  distribution = this.RULE('distribution', () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.argument) });
    this.CONSUME(T.RParen);
  });

  /** A positional `expr` or a named `name = expr`. */
  argument = this.RULE('argument', () => {
    this.OPTION(() => {
      this.CONSUME(T.Identifier);
      this.CONSUME(T.Equals);
    });
    this.SUBRULE(this.expr);
  });

  expr = this.RULE('expr', () => {
    this.SUBRULE(this.term);
    this.MANY(() => {
      this.OR([{ ALT: () => this.CONSUME(T.Plus) }, { ALT: () => this.CONSUME(T.Minus) }]);
      this.SUBRULE2(this.term);
    });
  });

  term = this.RULE('term', () => {
    this.SUBRULE(this.unary);
    this.MANY(() => {
      this.OR([{ ALT: () => this.CONSUME(T.Star) }, { ALT: () => this.CONSUME(T.Slash) }]);
      this.SUBRULE2(this.unary);
    });
  });

  unary = this.RULE('unary', () => {
    this.OR([
      { ALT: () => { this.CONSUME(T.Minus); this.SUBRULE(this.unary); } },
      { ALT: () => this.SUBRULE(this.postfix) },
    ]);
  });

  /** `decoder(z).logits` */
  postfix = this.RULE('postfix', () => {
    this.SUBRULE(this.primary);
    this.MANY(() => {
      this.CONSUME(T.Dot);
      this.CONSUME(T.Identifier);
    });
  });

  primary = this.RULE('primary', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.NumberLiteral) },
      { ALT: () => this.SUBRULE(this.call) },
      { ALT: () => this.SUBRULE(this.parenExpr) },
    ]);
  });

  /** A name, or a call of a function or a network: `z`, `exp(a)`, `encoder(x)`. */
  call = this.RULE('call', () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expr) });
      this.CONSUME(T.RParen);
    });
  });

  parenExpr = this.RULE('parenExpr', () => {
    this.CONSUME(T.LParen);
    this.SUBRULE(this.expr);
    this.CONSUME(T.RParen);
  });

  /** `train { data mnist(binarize = dynamic)  batch 128 }` */
  train = this.RULE('train', () => {
    this.CONSUME(T.Train);
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.setting));
    this.CONSUME(T.RBrace);
  });

  setting = this.RULE('setting', () => {
    this.OR([{ ALT: () => this.CONSUME(T.Identifier) }, { ALT: () => this.CONSUME(T.Data) }]);
    this.SUBRULE(this.settingValue);
  });

  /** `128`, `dynamic`, `adam(lr = 1e-3)`, `-1`, `[30, 60]` */
  settingValue = this.RULE('settingValue', () => {
    this.OR([
      { ALT: () => { this.OPTION(() => this.CONSUME(T.Minus)); this.CONSUME(T.NumberLiteral); } },
      {
        ALT: () => {
          this.CONSUME(T.LBracket);
          this.MANY_SEP2({ SEP: T.Comma, DEF: () => this.SUBRULE2(this.settingValue) });
          this.CONSUME(T.RBracket);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Identifier);
          this.OPTION2(() => {
            this.CONSUME(T.LParen);
            this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.settingArg) });
            this.CONSUME(T.RParen);
          });
        },
      },
    ]);
  });

  settingArg = this.RULE('settingArg', () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Equals);
    this.SUBRULE(this.settingValue);
  });
}

/** One parser instance: Chevrotain parsers are reusable and their self-analysis is costly. */
export const parserInstance = new VaeParser();

/**
 * The deepest nesting of parentheses, brackets, unary minus signs and residual blocks the parser
 * accepts: each level costs the recursive-descent parser about forty stack frames, so this keeps
 * parsing far from the stack's limit (which a few hundred levels would reach).
 */
export const MAX_NESTING = 64;

/**
 * Lexes and parses `src`; returns the CST of rule `file`, or the errors: every bad character
 * (VAE1001), a nesting deeper than MAX_NESTING (VAE1004), or the syntax errors (VAE1002) that
 * Chevrotain's recovery finds (it re-synchronizes at the next declaration, statement or setting),
 * at most one per line, none on a line with a bad character and no "unexpected input after the
 * end" after another error, so that one mistake gives one error.
 */
export function parse(src: SourceFile): Result<CstNode> {
  const lexed = T.vaeLexer.tokenize(src.text);
  const bad = [...(lexed.groups.bad ?? []).map((t) => ({ offset: t.startOffset, length: t.image.length })), ...lexed.errors];
  const diagnostics = bad.map((e): Diagnostic => ({
    code: 'VAE1001', severity: 'error', span: spanOf(src, e.offset, e.offset + e.length),
    message: `Unexpected character${e.length > 1 ? 's' : ''} '${src.text.slice(e.offset, e.offset + Math.min(e.length, 20))}${e.length > 20 ? '...' : ''}'.`,
  }));
  const tooDeep = tooDeepAt(lexed.tokens);
  if (tooDeep) return fail([...diagnostics, nestingDiagnostic(tooDeep, src)]);
  parserInstance.input = lexed.tokens;
  const cst = parserInstance.file();
  const badLines = new Set(diagnostics.map((d) => d.span.start.line));
  for (const e of parserInstance.errors) {
    const d = syntaxDiagnostic(e.token, e.message, src);
    // Input left after an error is mostly the rest of the block the recovery skipped out of.
    const leftOver = e.name === 'NotAllInputParsedException' && diagnostics.length > 0;
    if (badLines.has(d.span.start.line) || leftOver) continue;
    badLines.add(d.span.start.line);
    diagnostics.push(d);
  }
  return diagnostics.length > 0 ? fail(diagnostics) : ok(cst);
}

/** A syntax error at `token`; at the end of the file, it points just past the last character. */
function syntaxDiagnostic(token: IToken, message: string, src: SourceFile): Diagnostic {
  const atEnd = token.tokenType === EOF || Number.isNaN(token.startOffset);
  const start = atEnd ? src.text.trimEnd().length : token.startOffset;
  const end = atEnd ? start + 1 : (token.endOffset ?? start) + 1;
  return { code: 'VAE1002', severity: 'error', span: spanOf(src, start, end), message };
}

function nestingDiagnostic(token: IToken, src: SourceFile): Diagnostic {
  return {
    code: 'VAE1004', severity: 'error', span: spanOf(src, token.startOffset, (token.endOffset ?? token.startOffset) + 1),
    message: `Nested too deeply: more than ${MAX_NESTING} levels of parentheses, brackets, unary minus signs and residual blocks. Name a part with a const, or simplify.`,
  };
}

/**
 * The first token at which the nesting exceeds MAX_NESTING, if any. The depth is that of the
 * parser's recursion: one level per open '(', '[' or residual block's '{', plus one per unary '-'
 * before an operand (a '-' that does not follow a value), which lasts until that operand is
 * followed by an operator, a ',', '=' or a closing bracket.
 */
function tooDeepAt(tokens: IToken[]): IToken | undefined {
  const unaryPerLevel = [0];
  /** For each open '{', whether it opens a residual block (a level of its own). */
  const braces: boolean[] = [];
  let depth = 0;
  let previous: TokenType | undefined;
  for (const t of tokens) {
    const type = t.tokenType;
    const opensResidual = type === T.LBrace && previous === T.Residual;
    const closesResidual = type === T.RBrace && braces.pop() === true;
    if (type === T.LBrace) braces.push(opensResidual);
    if (type === T.LParen || type === T.LBracket || opensResidual) {
      unaryPerLevel.push(0);
      depth++;
    } else if (type === T.RParen || type === T.RBracket || closesResidual) {
      if (unaryPerLevel.length > 1) depth -= 1 + unaryPerLevel.pop()!;
      depth -= unaryPerLevel[unaryPerLevel.length - 1];
      unaryPerLevel[unaryPerLevel.length - 1] = 0;
    } else if (type === T.Minus && !(previous && ENDS_VALUE.has(previous))) {
      unaryPerLevel[unaryPerLevel.length - 1]++;
      depth++;
    } else if (ENDS_OPERAND.has(type)) {
      depth -= unaryPerLevel[unaryPerLevel.length - 1];
      unaryPerLevel[unaryPerLevel.length - 1] = 0;
    }
    if (depth > MAX_NESTING) return t;
    previous = type;
  }
  return undefined;
}

/** Tokens after which a '-' is binary. */
const ENDS_VALUE = new Set<TokenType>([T.NumberLiteral, T.Identifier, T.RParen, T.RBracket]);
/** Tokens that end the operand of the unary minus signs before them (binary operators, separators). */
const ENDS_OPERAND = new Set<TokenType>([T.Plus, T.Star, T.Slash, T.Comma, T.Equals, T.Tilde, T.LBrace, T.RBrace, T.Minus]);
