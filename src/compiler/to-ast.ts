/**
 * CST → AST: a Chevrotain CST visitor that builds `ast.Model` with a span on every node.
 * Number tokens that must be whole (shapes, layer widths) are checked here, since this is where
 * their text is read.
 */
import type { CstNode, IToken } from 'chevrotain';
import type * as A from './ast.js';
import type { Padding } from '../core/layers.js';
import type * as C from './cst.js';
import * as D from './diagnostics.js';
import { parserInstance } from './parser.js';
import { fail, ok, spanOf, joinSpans, type Diagnostic, type Result, type SourceFile, type Span } from './source.js';

const BaseVisitor = parserInstance.getBaseCstVisitorConstructor();

/**
 * The deepest expression tree accepted (each operator, unary minus, call or '.' is a level):
 * the checker and lowering walk expressions recursively, so a chain of thousands of `+` would
 * overflow their stacks; this keeps every later stage far from it.
 */
export const MAX_EXPRESSION_DEPTH = 256;

/** The largest dimension or layer width (2^24, where float32 still counts exactly). */
export const MAX_DIMENSION = 2 ** 24;

/** The paddings of a conv layer (the padding arithmetic is core/layers.ts's). */
export const PADDINGS: readonly string[] = ['same', 'valid'] satisfies readonly Padding[];

/** The largest finite float32 value, and its smallest positive (subnormal) one. */
const FLOAT32_MAX = 3.4028234663852886e38;
const FLOAT32_MIN_POSITIVE = 1.401298464324817e-45;

/** Turns the CST of rule `file` into the AST, or diagnostics for malformed numbers. */
export function toAst(cst: CstNode, src: SourceFile): Result<A.Model> {
  const builder = new AstBuilder(src);
  const model = builder.visit(cst) as A.Model;
  return builder.diagnostics.length > 0 ? fail(builder.diagnostics) : ok(model);
}

class AstBuilder extends BaseVisitor {
  readonly diagnostics: Diagnostic[] = [];
  /** The depth of each expression node built: its operations along the longest path (a leaf is 0). */
  private readonly depths = new WeakMap<A.Expr, number>();

  constructor(private readonly src: SourceFile) {
    super();
    this.validateVisitor();
  }

  /** Visits `node`, handing the node itself to the rule method so it can take its span. */
  override visit(node: CstNode | CstNode[]): unknown {
    const n = Array.isArray(node) ? node[0] : node;
    return super.visit(n, n);
  }

  private tokenSpan(t: IToken): Span {
    return spanOf(this.src, t.startOffset, (t.endOffset ?? t.startOffset) + 1);
  }

  private nodeSpan(node: CstNode): Span {
    const loc = node.location!;
    return spanOf(this.src, loc.startOffset, (loc.endOffset ?? loc.startOffset) + 1);
  }

  private ident(t: IToken): A.Ident {
    return { name: t.image, span: this.tokenSpan(t) };
  }

  /** A positive whole number up to MAX_DIMENSION (a shape dimension or a layer width). */
  private count(t: IToken, what: string): number {
    const value = Number(t.image);
    if (!Number.isInteger(value) || value < 1 || value > MAX_DIMENSION) {
      const limit = value > MAX_DIMENSION ? ` up to ${MAX_DIMENSION.toLocaleString('en-US')}` : '';
      this.diagnostics.push({
        code: 'VAE1003', severity: 'error', span: this.tokenSpan(t),
        message: `${what} must be a positive whole number${limit}, not '${t.image}'.`,
      });
    }
    return value;
  }

  /** The size in a word `k4` or `s2`: a positive whole number up to MAX_DIMENSION. */
  private sizeWord(t: IToken, what: string): number {
    const value = Number(t.image.slice(1));
    if (value < 1 || value > MAX_DIMENSION) {
      const limit = value > MAX_DIMENSION ? ` up to ${MAX_DIMENSION.toLocaleString('en-US')}` : '';
      this.diagnostics.push({ code: 'VAE1003', severity: 'error', span: this.tokenSpan(t), message: `${what} must be a positive whole number${limit}, not '${t.image}'.` });
    }
    return value;
  }

  /** A number literal in an expression: computed in float32, it must neither overflow nor round a nonzero value to 0. */
  private float32(t: IToken): number {
    const value = Number(t.image);
    const problem = value > FLOAT32_MAX ? `is larger than ${FLOAT32_MAX.toPrecision(5)}, the largest float32`
      : value > 0 && value < FLOAT32_MIN_POSITIVE / 2 ? `is smaller than ${FLOAT32_MIN_POSITIVE.toPrecision(2)}, the smallest positive float32, and would be 0`
        : undefined;
    if (problem) this.diagnostics.push({ code: 'VAE1005', severity: 'error', span: this.tokenSpan(t), message: `The number ${t.image} ${problem}.` });
    return value;
  }

  /** `e`, with its depth: one more than its deepest operand's; past MAX_EXPRESSION_DEPTH, an error at the level that crosses it. */
  private nested(e: A.Expr, operands: A.Expr[], at: Span): A.Expr {
    const depth = 1 + operands.reduce((deepest, o) => Math.max(deepest, this.depths.get(o) ?? 0), 0);
    this.depths.set(e, depth);
    if (depth === MAX_EXPRESSION_DEPTH + 1) {
      this.diagnostics.push({
        code: 'VAE1004', severity: 'error', span: at,
        message: `Nested too deeply: an expression may be at most ${MAX_EXPRESSION_DEPTH} operations deep (each operator, unary minus, call or '.' is one). Name a part with a const, or simplify.`,
      });
    }
    return e;
  }

  file(ctx: C.FileCstChildren): A.Model {
    const model = this.visit(ctx.model[0]) as A.Model;
    return ctx.train ? { ...model, train: this.visit(ctx.train[0]) as A.TrainBlock } : model;
  }

  model(ctx: C.ModelCstChildren): A.Model {
    return {
      name: this.ident(ctx.Identifier[0]),
      items: (ctx.modelItem ?? []).map((item) => this.visit(item) as A.ModelItem),
      span: joinSpans(this.tokenSpan(ctx.Model[0]), this.tokenSpan(ctx.RBrace[0])),
    };
  }

  modelItem(ctx: C.ModelItemCstChildren): A.ModelItem {
    const child = ctx.dataDecl ?? ctx.latentDecl ?? ctx.paramDecl ?? ctx.constDecl ?? ctx.netDecl ?? ctx.statement;
    return this.visit(child![0]) as A.ModelItem;
  }

  dataDecl(ctx: C.DataDeclCstChildren): A.DataDecl {
    const type = this.visit(ctx.typeExpr[0]) as A.TypeExpr;
    return { kind: 'data', name: this.ident(ctx.Identifier[0]), type, span: joinSpans(this.tokenSpan(ctx.Data[0]), type.span) };
  }

  latentDecl(ctx: C.LatentDeclCstChildren): A.LatentDecl {
    const type = this.visit(ctx.typeExpr[0]) as A.TypeExpr;
    return { kind: 'latent', name: this.ident(ctx.Identifier[0]), type, span: joinSpans(this.tokenSpan(ctx.Latent[0]), type.span) };
  }

  paramDecl(ctx: C.ParamDeclCstChildren): A.ParamDecl {
    const type = this.visit(ctx.typeExpr[0]) as A.TypeExpr;
    const init = ctx.expr ? (this.visit(ctx.expr[0]) as A.Expr) : undefined;
    const random = ctx.distribution ? (this.visit(ctx.distribution[0]) as A.DistributionCall) : undefined;
    const span = joinSpans(this.tokenSpan(ctx.Param[0]), init?.span ?? random?.span ?? type.span);
    return { kind: 'param', name: this.ident(ctx.Identifier[0]), type, init, ...(random ? { random } : {}), span };
  }

  constDecl(ctx: C.ConstDeclCstChildren): A.ConstDecl {
    const type = ctx.typeExpr ? (this.visit(ctx.typeExpr[0]) as A.TypeExpr) : undefined;
    const value = ctx.expr ? (this.visit(ctx.expr[0]) as A.Expr) : undefined;
    const random = ctx.distribution ? (this.visit(ctx.distribution[0]) as A.DistributionCall) : undefined;
    const span = joinSpans(this.tokenSpan(ctx.Const[0]), (value ?? random)!.span);
    return { kind: 'const', name: this.ident(ctx.Identifier[0]), ...(type ? { type } : {}), ...(value ? { value } : {}), ...(random ? { random } : {}), span };
  }

  typeExpr(ctx: C.TypeExprCstChildren, node?: CstNode): A.TypeExpr {
    const shape = (ctx.NumberLiteral ?? []).map((t) => this.count(t, 'A dimension'));
    return { name: this.ident(ctx.Identifier[0]), shape, span: this.nodeSpan(node!) };
  }

  netDecl(ctx: C.NetDeclCstChildren, node?: CstNode): A.NetDecl {
    const signature = this.visit(ctx.netSignature[0]) as Pick<A.NetDecl, 'inputs' | 'outputs'>;
    return { kind: 'net', name: this.ident(ctx.Identifier[0]), ...signature, layers: this.visit(ctx.netBody[0]) as A.Layer[], span: this.nodeSpan(node!) };
  }

  netSignature(ctx: C.NetSignatureCstChildren): Pick<A.NetDecl, 'inputs' | 'outputs'> {
    return { inputs: ctx.netInput.map((n) => this.visit(n) as A.NetInput), outputs: ctx.netOutput.map((n) => this.visit(n) as A.NetOutput) };
  }

  netBody(ctx: C.NetBodyCstChildren): A.Layer[] {
    return (ctx.layer ?? []).map((n) => this.visit(n) as A.Layer);
  }

  netInput(ctx: C.NetInputCstChildren, node?: CstNode): A.NetInput {
    const type = ctx.typeExpr ? (this.visit(ctx.typeExpr[0]) as A.TypeExpr) : undefined;
    return { name: this.ident(ctx.Identifier[0]), type, span: this.nodeSpan(node!) };
  }

  netOutput(ctx: C.NetOutputCstChildren, node?: CstNode): A.NetOutput {
    return { name: this.ident(ctx.Identifier[0]), type: this.visit(ctx.typeExpr[0]) as A.TypeExpr, span: this.nodeSpan(node!) };
  }

  layer(ctx: C.LayerCstChildren): A.Layer {
    const child = ctx.denseLayer ?? ctx.convLayer ?? ctx.flattenLayer ?? ctx.reshapeLayer ?? ctx.upsampleLayer ?? ctx.poolLayer ?? ctx.residualLayer;
    return this.visit(child![0]) as A.Layer;
  }

  denseLayer(ctx: C.DenseLayerCstChildren, node?: CstNode): A.Layer {
    const activation = ctx.Identifier ? this.ident(ctx.Identifier[0]) : undefined;
    return { kind: 'dense', units: this.count(ctx.NumberLiteral[0], 'A layer width'), activation, span: this.nodeSpan(node!) };
  }

  /**
   * `conv C kK [sS] [PADDING] [ACTIVATION]`: the words after C in this order. A name that is
   * neither `k<size>` nor `s<size>` is the padding if it is `same` or `valid`, or if another such
   * name follows it; else the activation (the checker says which names are known).
   */
  convLayer(ctx: C.ConvLayerCstChildren, node?: CstNode): A.Layer {
    const kind = ctx.Conv ? 'conv' : 'conv_transpose';
    const span = this.nodeSpan(node!);
    const [filterToken, ...numbers] = ctx.NumberLiteral;
    const filters = this.count(filterToken, 'The number of filters');
    const words = [...(ctx.Identifier ?? []), ...numbers].sort((a, b) => a.startOffset - b.startOffset);
    const syntax = `${kind} C k<size> [s<size>] [same | valid] [activation]`;
    let i = 0;
    const kernel = words[i] && /^k\d+$/.test(words[i].image) ? this.sizeWord(words[i++], 'A kernel size') : undefined;
    if (kernel === undefined) {
      const at = words[0] ? this.tokenSpan(words[0]) : span;
      this.diagnostics.push(D.badLayerWord(at, `Expected the kernel size as k<size>, like k4${words[0] ? `, but found '${words[0].image}'` : ''}: a ${kind} layer is ${syntax}.`));
      return { kind, filters, kernel: 1, span };
    }
    const sizeWord = (t: IToken | undefined) => t !== undefined && /^[ks]\d+$/.test(t.image);
    /** A padding's or an activation's place: a name that is not a size word. */
    const name = (t: IToken | undefined) => t !== undefined && /^[A-Za-z_]/.test(t.image) && !sizeWord(t);
    const stride = words[i] && /^s\d+$/.test(words[i].image) ? this.sizeWord(words[i++], 'A stride') : undefined;
    const isPadding = (j: number) => name(words[j]) && (PADDINGS.includes(words[j].image) || name(words[j + 1]));
    const padding = isPadding(i) ? this.ident(words[i++]) : undefined;
    const activation = name(words[i]) ? this.ident(words[i++]) : undefined;
    if (i < words.length) {
      const t = words[i];
      const which = t.image[0] === 'k' && sizeWord(t) ? ' (the kernel size comes right after the number of filters)'
        : t.image[0] === 's' && sizeWord(t) ? ' (the stride comes right after the kernel size)' : '';
      this.diagnostics.push(D.badLayerWord(this.tokenSpan(t), `Unexpected '${t.image}'${which}: a ${kind} layer is ${syntax}, in this order.`));
    }
    return { kind, filters, kernel, ...(stride !== undefined ? { stride } : {}), ...(padding ? { padding } : {}), ...(activation ? { activation } : {}), span };
  }

  flattenLayer(_ctx: C.FlattenLayerCstChildren, node?: CstNode): A.Layer {
    return { kind: 'flatten', span: this.nodeSpan(node!) };
  }

  reshapeLayer(ctx: C.ReshapeLayerCstChildren, node?: CstNode): A.Layer {
    return { kind: 'reshape', shape: ctx.NumberLiteral.map((t) => this.count(t, 'A dimension')), span: this.nodeSpan(node!) };
  }

  upsampleLayer(ctx: C.UpsampleLayerCstChildren, node?: CstNode): A.Layer {
    return { kind: 'upsample', factor: this.count(ctx.NumberLiteral[0], 'An upsampling factor'), span: this.nodeSpan(node!) };
  }

  poolLayer(ctx: C.PoolLayerCstChildren, node?: CstNode): A.Layer {
    return { kind: 'pool', op: this.ident(ctx.Identifier[0]), size: this.count(ctx.NumberLiteral[0], 'A pooling window'), span: this.nodeSpan(node!) };
  }

  residualLayer(ctx: C.ResidualLayerCstChildren, node?: CstNode): A.Layer {
    return { kind: 'residual', layers: (ctx.layer ?? []).map((n) => this.visit(n) as A.Layer), span: this.nodeSpan(node!) };
  }

  statement(ctx: C.StatementCstChildren, node?: CstNode): A.Statement {
    const role: A.Role = ctx.Prior ? 'prior' : ctx.Likelihood ? 'likelihood' : 'guide';
    return {
      kind: 'statement', role, target: this.ident(ctx.Identifier[0]),
      dist: this.visit(ctx.distribution[0]) as A.DistributionCall,
      modifiers: (ctx.modifier ?? []).map((m) => this.visit(m) as A.Modifier),
      span: this.nodeSpan(node!),
    };
  }

  modifier(ctx: C.ModifierCstChildren, node?: CstNode): A.Modifier {
    return {
      kind: ctx.Then ? 'then' : 'using',
      name: this.ident(ctx.Identifier[0]),
      args: (ctx.argument ?? []).map((a) => this.visit(a) as A.Argument),
      span: this.nodeSpan(node!),
    };
  }

  distribution(ctx: C.DistributionCstChildren, node?: CstNode): A.DistributionCall {
    return {
      name: this.ident(ctx.Identifier[0]),
      args: (ctx.argument ?? []).map((a) => this.visit(a) as A.Argument),
      span: this.nodeSpan(node!),
    };
  }

  argument(ctx: C.ArgumentCstChildren, node?: CstNode): A.Argument {
    const name = ctx.Identifier ? this.ident(ctx.Identifier[0]) : undefined;
    return { name, value: this.visit(ctx.expr[0]) as A.Expr, span: this.nodeSpan(node!) };
  }

  expr(ctx: C.ExprCstChildren): A.Expr {
    const ops = [...(ctx.Plus ?? []), ...(ctx.Minus ?? [])].sort((a, b) => a.startOffset - b.startOffset);
    return this.leftAssociative(ctx.term, ops);
  }

  term(ctx: C.TermCstChildren): A.Expr {
    const ops = [...(ctx.Star ?? []), ...(ctx.Slash ?? [])].sort((a, b) => a.startOffset - b.startOffset);
    return this.leftAssociative(ctx.unary, ops);
  }

  /** `a - b + c` → `(a - b) + c`: operands and the operator tokens between them, in source order. */
  private leftAssociative(operands: CstNode[], ops: IToken[]): A.Expr {
    let result = this.visit(operands[0]) as A.Expr;
    ops.forEach((op, i) => {
      const right = this.visit(operands[i + 1]) as A.Expr;
      const left = result;
      result = this.nested({ kind: 'binary', op: op.image as A.BinaryOp, left, right, span: joinSpans(left.span, right.span) }, [left, right], this.tokenSpan(op));
    });
    return result;
  }

  unary(ctx: C.UnaryCstChildren, node?: CstNode): A.Expr {
    if (ctx.postfix) return this.visit(ctx.postfix[0]) as A.Expr;
    const operand = this.visit(ctx.unary![0]) as A.Expr;
    const span = this.nodeSpan(node!);
    return this.nested({ kind: 'neg', operand, span }, [operand], span);
  }

  postfix(ctx: C.PostfixCstChildren): A.Expr {
    let result = this.visit(ctx.primary[0]) as A.Expr;
    for (const field of ctx.Identifier ?? []) {
      const f = this.ident(field);
      const object = result;
      result = this.nested({ kind: 'member', object, field: f, span: joinSpans(object.span, f.span) }, [object], f.span);
    }
    return result;
  }

  primary(ctx: C.PrimaryCstChildren): A.Expr {
    if (ctx.NumberLiteral) {
      const t = ctx.NumberLiteral[0];
      return { kind: 'num', value: this.float32(t), span: this.tokenSpan(t) };
    }
    return this.visit((ctx.call ?? ctx.parenExpr)![0]) as A.Expr;
  }

  call(ctx: C.CallCstChildren, node?: CstNode): A.Expr {
    const name = this.ident(ctx.Identifier[0]);
    if (!ctx.LParen) return { kind: 'ref', name, span: name.span };
    const args = (ctx.expr ?? []).map((e) => this.visit(e) as A.Expr);
    return this.nested({ kind: 'call', callee: name, args, span: this.nodeSpan(node!) }, args, name.span);
  }

  parenExpr(ctx: C.ParenExprCstChildren): A.Expr {
    return this.visit(ctx.expr[0]) as A.Expr;
  }

  train(ctx: C.TrainCstChildren, node?: CstNode): A.TrainBlock {
    return { settings: (ctx.setting ?? []).map((s) => this.visit(s) as A.Setting), span: this.nodeSpan(node!) };
  }

  setting(ctx: C.SettingCstChildren, node?: CstNode): A.Setting {
    const nameToken = (ctx.Identifier ?? ctx.Data)![0];
    return { name: this.ident(nameToken), value: this.visit(ctx.settingValue[0]) as A.SettingValue, span: this.nodeSpan(node!) };
  }

  settingValue(ctx: C.SettingValueCstChildren, node?: CstNode): A.SettingValue {
    const span = this.nodeSpan(node!);
    if (ctx.NumberLiteral) {
      const sign = ctx.Minus ? -1 : 1;
      return { kind: 'num', value: sign * Number(ctx.NumberLiteral[0].image), span };
    }
    if (ctx.LBracket) return { kind: 'list', items: (ctx.settingValue ?? []).map((v) => this.visit(v) as A.SettingValue), span };
    const args = ctx.LParen ? (ctx.settingArg ?? []).map((a) => this.visit(a) as A.SettingArg) : undefined;
    return { kind: 'word', name: this.ident(ctx.Identifier![0]), args, span };
  }

  settingArg(ctx: C.SettingArgCstChildren, node?: CstNode): A.SettingArg {
    return { name: this.ident(ctx.Identifier[0]), value: this.visit(ctx.settingValue[0]) as A.SettingValue, span: this.nodeSpan(node!) };
  }
}
