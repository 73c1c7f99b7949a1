/**
 * The words the playground's highlighter colours, taken from where the language defines them:
 * the keywords are the lexer's tokens that a longer name overrides (`data` but not `datum`), the
 * number and name patterns the lexer's, every other word the catalog's. Computed in the compile
 * worker (which has the compiler loaded anyway) and sent to the page once.
 */
import { ACTIVATIONS, ESTIMATORS, FAMILIES, FLOWS, FUNCTIONS, OPTIMIZERS, VALUE_TYPES } from '../core/catalog.js';
import { DATASETS } from '../core/data-sources.js';
import { TRAIN_SETTINGS } from '../core/config.js';
import { allTokens, Identifier, NumberLiteral } from '../compiler/lexer.js';
import type { Vocabulary } from './protocol.js';

const source = (pattern: unknown) => (pattern instanceof RegExp ? pattern.source : String(pattern));

export function vocabulary(): Vocabulary {
  const keywords = allTokens.filter((t) => t.LONGER_ALT === Identifier).map((t) => source(t.PATTERN));
  return {
    keywords,
    types: [...VALUE_TYPES],
    families: Object.keys(FAMILIES),
    functions: Object.keys(FUNCTIONS),
    names: [...ACTIVATIONS, ...Object.keys(FLOWS), ...Object.keys(ESTIMATORS), ...Object.keys(DATASETS), ...Object.keys(OPTIMIZERS)],
    settings: Object.keys(TRAIN_SETTINGS),
    number: source(NumberLiteral.PATTERN),
    identifier: source(Identifier.PATTERN),
  };
}
