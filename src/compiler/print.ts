/** Prints checked expressions and distributions back as source text (for `explain` and for keys). */
import type { CExpr, DistInfo } from './checked.js';

const PRECEDENCE = { '+': 1, '-': 1, '*': 2, '/': 2 } as const;

/** `exp(encoder(x).log_sigma)`; parentheses only where precedence needs them. */
export function printExpr(e: CExpr, parentPrecedence = 0): string {
  switch (e.kind) {
    case 'const': return formatNumber(e.value);
    case 'var': case 'param': return e.name;
    case 'net': return `${e.call.key}.${e.output}`;
    case 'fn': return `${e.fn}(${printExpr(e.arg)})`;
    case 'neg': return `-${printExpr(e.operand, 3)}`;
    case 'binary': {
      const p = PRECEDENCE[e.op];
      const text = `${printExpr(e.left, p)} ${e.op} ${printExpr(e.right, p + 1)}`;
      return p < parentPrecedence ? `(${text})` : text;
    }
  }
}

export function formatNumber(v: number): string {
  return Number.isInteger(v) || Math.abs(v) >= 1e-3 ? String(v) : v.toExponential();
}

/** `Normal(encoder(x).mu, exp(encoder(x).log_sigma))`; a lone parameter is written by name. */
export function printDist(d: DistInfo): string {
  const entries = Object.entries(d.params);
  const named = entries.length === 1 || Object.keys(d.params).some((k) => !['loc', 'scale'].includes(k));
  return `${d.family}(${entries.map(([k, v]) => (named ? `${k} = ` : '') + printExpr(v)).join(', ')})`;
}
