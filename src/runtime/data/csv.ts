/**
 * CSV files of numbers, decoded from text: one example per line, fields separated by commas,
 * optionally in double quotes (`""` is a quote inside), lines ended by LF or CRLF; blank lines are
 * skipped. The first line is a header when any of its fields is not a number. One column may
 * hold the labels (named in the header, or by its index from 0); it is not part of the values.
 * Numbers are as JavaScript reads them (`1`, `-0.5`, `2e-3`), and `nan`, `inf`, `-inf` in any
 * case, which the value checks then refuse with their place. Errors name the line and column.
 * Pure: no file system.
 */
import type { Locate } from './values.js';
import { DataError } from './errors.js';

/** A CSV table of numbers: `count` rows of `width` values (the label column left out), and the labels' column. */
export interface CsvTable {
  values: Float32Array;
  count: number;
  width: number;
  /** The header's names, when the first line is a header. */
  header?: string[];
  /** The label column's values, when a label column is asked for. */
  labels?: Float64Array;
  /** The line (from 1) of each example, for messages. */
  lines: Int32Array;
  /** The column (from 1) of each value index of a row (the label column skipped). */
  columns: Int32Array;
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?(?:nan|inf|infinity)$/i;

/** The fields of one line, its quotes read; a quote left open is a DataError at the line. */
function fields(line: string, path: string, lineNumber: number): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(field);
      field = '';
    } else field += c;
  }
  if (quoted) throw new DataError(`${path}: line ${lineNumber}: a quoted field does not end on its line (fields in quotes may not span lines).`);
  out.push(field);
  return out;
}

const toNumber = (text: string): number => {
  const t = text.trim().toLowerCase().replace(/^\+/, '');
  return t === 'nan' || t === '-nan' ? NaN : t === 'inf' || t === 'infinity' ? Infinity : t === '-inf' || t === '-infinity' ? -Infinity : Number(t);
};

/**
 * Parses CSV `text`. `label` names the label column (a header name, or an index from 0), if any.
 * A field that is not a number, a line with another number of fields than the first, or a label
 * column that is not there is a DataError naming `path`, the line and the column.
 */
export function parseCsv(text: string, path: string, label?: string | number): CsvTable {
  const raw = text.split(/\r?\n/);
  const rows: { line: number; fields: string[] }[] = [];
  raw.forEach((line, i) => {
    if (line.trim() !== '') rows.push({ line: i + 1, fields: fields(line, path, i + 1) });
  });
  if (rows.length === 0) throw new DataError(`${path}: the CSV file is empty.`);
  const first = rows[0].fields;
  const header = first.some((f) => !NUMBER.test(f.trim())) ? first.map((f) => f.trim()) : undefined;
  const body = header ? rows.slice(1) : rows;
  if (body.length === 0) throw new DataError(`${path}: the CSV file has a header line and no examples.`);
  const fieldCount = first.length;
  const labelColumn = labelIndex(label, header, fieldCount, path);
  const width = fieldCount - (labelColumn === undefined ? 0 : 1);
  const columns = Int32Array.from({ length: width }, (_, j) => (labelColumn !== undefined && j >= labelColumn ? j + 2 : j + 1));
  const values = new Float32Array(body.length * width);
  const labels = labelColumn === undefined ? undefined : new Float64Array(body.length);
  const lines = new Int32Array(body.length);
  body.forEach((row, r) => {
    lines[r] = row.line;
    if (row.fields.length !== fieldCount) {
      throw new DataError(`${path}: line ${row.line} has ${row.fields.length} fields, but ${header ? 'the header' : 'the first line'} has ${fieldCount}.`);
    }
    let k = r * width;
    row.fields.forEach((f, c) => {
      if (!NUMBER.test(f.trim())) {
        const name = header ? ` ("${header[c]}")` : '';
        throw new DataError(`${path}: line ${row.line}, column ${c + 1}${name}: ${JSON.stringify(f)} is not a number.`);
      }
      if (c === labelColumn) labels![r] = toNumber(f);
      else values[k++] = toNumber(f);
    });
  });
  return { values, count: body.length, width, ...(header && { header }), ...(labels && { labels }), lines, columns };
}

/** The index of the label column: a header name or an index from 0, checked. */
function labelIndex(label: string | number | undefined, header: string[] | undefined, fieldCount: number, path: string): number | undefined {
  if (label === undefined) return undefined;
  if (typeof label === 'number') {
    if (label >= fieldCount) throw new DataError(`${path}: label = ${label}: the lines have ${fieldCount} columns, 0..${fieldCount - 1}.`);
    return label;
  }
  if (!header) throw new DataError(`${path}: label = "${label}" names a column, but the file has no header line (its first line is all numbers); give the column's index from 0 instead, e.g. label = 0.`);
  const at = header.indexOf(label);
  if (at < 0) throw new DataError(`${path}: no column "${label}" in the header; it has ${header.map((h) => `"${h}"`).join(', ')}.`);
  return at;
}

/** Names a value of a CSV table by its line and column (from 1). */
export function csvLocate(table: CsvTable): Locate {
  return (example, index) => `line ${table.lines[example]}, column ${table.columns[index]} (example ${example} from 0)`;
}
