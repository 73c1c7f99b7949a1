/**
 * Hostile inputs of a given size for the front end: long files, deep nesting and long lines.
 * Each must be rejected (or accepted) quickly, with located diagnostics, and never crash.
 */

/** A small correct model whose body can be padded with more items. */
const head = `model big {
  data x : binary[784]
  latent z : real[20]
  net enc(x) -> (mu: real[20], ls: real[20]) { dense 400 relu }
  net dec(z) -> (logits: real[784]) { dense 400 relu }
  prior z ~ Normal(0, 1)
  likelihood x ~ Bernoulli(logits = dec(z).logits)
  guide z ~ Normal(enc(x).mu, exp(enc(x).ls))
`;

const lines = (n: number, line: (i: number) => string): string => Array.from({ length: n }, (_, i) => line(i)).join('\n');

/** Named hostile sources, `n` scaling each one's size. */
export const STRESS: Record<string, (n: number) => string> = {
  duplicateDeclarations: (n) => `${head}${lines(n, () => '  latent z : real[20]')}\n}\n`,
  unusedNets: (n) => `${head}${lines(n, (i) => `  net u${i}(x) -> (o: real[2]) { dense 2 }`)}\n}\n`,
  denseLayers: (n) => `${head}  net deep(z) -> (o: real[2]) {\n${lines(n, () => '    dense 2 relu')}\n  }\n}\n`,
  latentsWithPriorsAndGuides: (n) => `${head}${lines(n, (i) => `  latent w${i} : real[2]\n  prior w${i} ~ Normal(0, 1)\n  guide w${i} ~ Normal(0, 1)`)}\n}\n`,
  unknownNames: (n) => `${head}${lines(n, (i) => `  param p${i} : real = q${i}`)}\n}\n`,
  nestedParentheses: (n) => `${head}  param p : real = ${'('.repeat(n)}0${')'.repeat(n)}\n}\n`,
  unaryMinus: (n) => `${head}  param p : real = ${'-'.repeat(n)}1\n}\n`,
  longSum: (n) => `${head}  param p : real = ${Array(n).fill('0').join(' + ')}\n}\n`,
  longMemberChain: (n) => `${head}  param p : real = dec(z)${'.logits'.repeat(n)}\n}\n`,
  unexpectedCharacters: (n) => `${head}  ${' @'.repeat(n)}\n}\n`,
  syntaxErrorPerLine: (n) => `${head}${lines(n, () => '  latent : real[2]')}\n}\n`,
};
