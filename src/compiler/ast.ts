/**
 * The abstract syntax tree of a `.vae` file: discriminated unions, every node with its span.
 * Produced by `to-ast.ts`, consumed by `check.ts` and the printers in `explain.ts`.
 */
import type { Span } from './source.js';

export interface Ident { name: string; span: Span }

/** `real[20]`: a type name and the shape (an empty shape is a scalar). */
export interface TypeExpr { name: Ident; shape: number[]; span: Span }

export interface DataDecl { kind: 'data'; name: Ident; type: TypeExpr; span: Span }
export interface LatentDecl { kind: 'latent'; name: Ident; type: TypeExpr; span: Span }
/** A learned tensor, initialised to `init` (0 when absent), or drawn from `random` (`~ Normal(0, 1)`). */
export interface ParamDecl { kind: 'param'; name: Ident; type: TypeExpr; init?: Expr; random?: DistributionCall; span: Span }

/**
 * `const tau = 0.5`: a named number (overridable from the command line); with a type or drawn
 * (`const m : real[10, 20] ~ Normal(0, 3)`), a fixed tensor: a parameter that is not learned.
 */
export interface ConstDecl { kind: 'const'; name: Ident; type?: TypeExpr; value?: Expr; random?: DistributionCall; span: Span }

export interface NetInput { name: Ident; type?: TypeExpr; span: Span }
export interface NetOutput { name: Ident; type: TypeExpr; span: Span }
/**
 * A layer as written. A conv layer's optional words are kept as written (the checker validates
 * the padding and the activation names); the stride and padding default to 1 and `same`.
 */
export type Layer =
  | { kind: 'dense'; units: number; activation?: Ident; span: Span }
  | { kind: 'conv' | 'conv_transpose'; filters: number; kernel: number; stride?: number; padding?: Ident; activation?: Ident; span: Span }
  | { kind: 'flatten'; span: Span }
  | { kind: 'reshape'; shape: number[]; span: Span }
  | { kind: 'upsample'; factor: number; span: Span }
  | { kind: 'pool'; op: Ident; size: number; span: Span }
  | { kind: 'residual'; layers: Layer[]; span: Span };
export type DenseLayer = Extract<Layer, { kind: 'dense' }>;
export type ConvLayer = Extract<Layer, { kind: 'conv' | 'conv_transpose' }>;
/** A network: its inputs (flattened and concatenated when several), its layers, then its outputs (core/layers.ts). */
export interface NetDecl {
  kind: 'net'; name: Ident; inputs: NetInput[]; outputs: NetOutput[]; layers: Layer[]; span: Span;
}

export type Role = 'prior' | 'likelihood' | 'guide';
export interface Argument { name?: Ident; value: Expr; span: Span }
export interface DistributionCall { name: Ident; args: Argument[]; span: Span }
/** `then planar(8)` (a flow after a guide) or `using score_function(decay = 0.9)` (its estimator). */
export interface Modifier { kind: 'then' | 'using'; name: Ident; args: Argument[]; span: Span }
/** `prior z ~ Normal(0, 1)`, `guide z ~ Normal(m, s) then planar(8)` */
export interface Statement { kind: 'statement'; role: Role; target: Ident; dist: DistributionCall; modifiers: Modifier[]; span: Span }

export type Declaration = DataDecl | LatentDecl | ParamDecl | ConstDecl | NetDecl;
export type ModelItem = Declaration | Statement;

export type BinaryOp = '+' | '-' | '*' | '/';
export type Expr =
  | { kind: 'num'; value: number; span: Span }
  | { kind: 'ref'; name: Ident; span: Span }
  | { kind: 'call'; callee: Ident; args: Expr[]; span: Span }
  | { kind: 'member'; object: Expr; field: Ident; span: Span }
  | { kind: 'neg'; operand: Expr; span: Span }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; span: Span };

export type SettingValue =
  | { kind: 'num'; value: number; span: Span }
  | { kind: 'list'; items: SettingValue[]; span: Span }
  | { kind: 'word'; name: Ident; args?: SettingArg[]; span: Span };
export interface SettingArg { name: Ident; value: SettingValue; span: Span }
/** `batch 128`, `optimizer adam(lr = 1e-3)` */
export interface Setting { name: Ident; value: SettingValue; span: Span }
export interface TrainBlock { settings: Setting[]; span: Span }

export interface Model { name: Ident; items: ModelItem[]; train?: TrainBlock; span: Span }
