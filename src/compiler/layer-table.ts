/**
 * A network's layers as a table, one row per layer with its input and output shapes and its
 * number of weights: `vae explain`, `vae explain --plan` and the editor's hover print it.
 */
import { layersParameterCount, type NetLayer } from '../core/layers.js';

const shape = (s: readonly number[]) => `[${s.join(', ')}]`;
const count = (x: number) => x.toLocaleString('en-US');

/** A layer in the language's syntax with every setting written out: `conv 32 k4 s2 same relu`, `dense 40 linear`. */
export function layerSyntax(l: NetLayer): string {
  switch (l.kind) {
    case 'dense': return `dense ${l.units} ${l.activation}`;
    case 'conv': case 'conv_transpose': return `${l.kind} ${l.filters} k${l.kernel} s${l.stride} ${l.padding} ${l.activation}`;
    case 'flatten': return 'flatten';
    case 'reshape': return `reshape ${shape(l.out)}`;
    case 'pool': return `pool ${l.op} ${l.size}`;
    case 'upsample': return `upsample ${l.factor}`;
    case 'residual': return 'residual';
  }
}

/** One row of the table: a residual block's layers follow it, one level deeper. */
export interface LayerRow { depth: number; name?: string; layer: string; in: number[]; out: number[]; weights?: number }

export function layerRows(layers: readonly NetLayer[], depth = 0): LayerRow[] {
  return layers.flatMap((l): LayerRow[] => {
    const row: LayerRow = { depth, layer: layerSyntax(l), in: l.in, out: l.out, ...('name' in l ? { name: l.name } : {}) };
    // A residual block's weights are its layers'; its own row adds the sum.
    if (l.kind === 'residual') return [{ ...row, layer: 'residual (output + input)' }, ...layerRows(l.layers, depth + 1)];
    return [{ ...row, weights: layersParameterCount([l]) }];
  });
}

/**
 * The rows as aligned text lines under a header, each starting with `indent`: the name of the
 * layer's weights (`hidden0`, the head `out`), the layer, its shapes and its number of weights.
 */
export function layerTable(layers: readonly NetLayer[], indent: string): string[] {
  const cells = [
    ['name', 'layer', 'input', 'output', 'parameters'],
    ...layerRows(layers).map((r) => [
      r.name ?? '', `${'  '.repeat(r.depth)}${r.layer}`, shape(r.in), shape(r.out), r.weights === undefined ? '' : count(r.weights),
    ]),
  ];
  const widths = cells[0].map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const last = widths.length - 1;
  return cells.map((row) => `${indent}${row.map((c, i) => (i === last ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ')}`.trimEnd());
}
