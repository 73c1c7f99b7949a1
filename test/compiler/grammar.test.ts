/**
 * The generated grammar artifacts (syntax diagrams, CST node types) are committed; they must be
 * what the parser generates now, so a grammar change cannot land without them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { grammarArtifacts } from '../../src/compiler/grammar-artifacts.js';
import { ROOT } from './helpers.js';

describe('grammar artifacts', () => {
  const artifacts = grammarArtifacts();

  it('are the syntax diagrams and the CST types', () => {
    expect(artifacts.map((a) => a.path)).toEqual(['grammar/diagrams.html', 'src/compiler/cst.d.ts']);
  });

  it.each(artifacts.map((a) => [a.path, a] as const))('%s is up to date', (path, { content }) => {
    const committed = readFileSync(`${ROOT}${path}`, 'utf8');
    expect(committed === content, `${path} differs from what src/compiler/parser.ts generates; run \`npm run grammar\` and commit the result.`).toBe(true);
  });
});
