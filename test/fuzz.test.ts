/**
 * Fuzzing the front end through the public `compile()`: grammar-aware mutants of every model in
 * models/ (test/fuzz/mutants.ts) and fast-check strings for the lexer and the parser. Every input
 * must give a result, never an exception, in under 2 s of CPU time, with every diagnostic inside the file and
 * a caret line under it (test/fuzz/oracle.ts). Fixed seeds: a failure reproduces.
 *
 * A larger run: `FUZZ_CASES=100000 npx vitest run test/fuzz.test.ts`, or, with counts by outcome
 * and the failing inputs written out, `npx tsx test/fuzz/run.ts --cases 100000 --seed 1`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mutant } from './fuzz/mutants.js';
import { runCase, type CaseResult } from './fuzz/oracle.js';
import { ROOT } from './compiler/helpers.js';

const CASES = Number(process.env.FUZZ_CASES ?? 2400);
const SEED = Number(process.env.FUZZ_SEED ?? 1);
const MODELS = readdirSync(`${ROOT}models`).filter((f) => f.endsWith('.vae')).sort()
  .map((f) => ({ name: f, text: readFileSync(`${ROOT}models/${f}`, 'utf8') }));

/** The failures among `results`, each with its input, for the assertion's message. */
const failures = (results: { input: string; result: CaseResult }[]) =>
  results.filter(({ result }) => result.outcome !== 'accepted' && result.outcome !== 'rejected')
    .map(({ input, result }) => `${result.outcome} (${result.detail}) for:\n${input.slice(0, 2000)}`);

describe('fuzz: compile() on hostile inputs', () => {
  it(`survives ${CASES} grammar-aware mutants of the models (seed ${SEED})`, () => {
    const results = Array.from({ length: CASES }, (_, n) => {
      const input = mutant(MODELS[n % MODELS.length].text, SEED, n);
      return { input, result: runCase(input) };
    });
    expect(failures(results).slice(0, 3)).toEqual([]);
    // The mutants exercise both sides: most are rejected, some still compile.
    expect(results.filter((r) => r.result.outcome === 'accepted').length).toBeGreaterThan(CASES / 100);
  }, 300_000);

  /** Text made of the language's pieces, so that the parser gets deep, not just the lexer. */
  const pieces = fc.constantFrom('model', 'm', '{', '}', 'data', 'latent', 'x', 'z', ':', 'real', '[', ']', '2', ',', 'net', 'f', '(', ')',
    '->', 'dense', 'relu', 'conv', 'conv_transpose', 'k3', 's2', 'valid', 'flatten', 'reshape', 'upsample', 'pool', 'max', 'residual', 'prior', 'guide', 'likelihood', '~', 'Normal', '0', '1', '-', '+', '*', '/', '.', 'o', 'train', 'batch', '=',
    'toString', '__proto__', '1e39', '1e-50', '\n', '\r\n', '\r', ' ', '#c\n', '@');

  it('gives a result, located, for token soups of the language (fast-check)', () => {
    fc.assert(fc.property(fc.array(pieces, { maxLength: 80 }), (parts) => {
      const input = parts.join(' ');
      const { outcome, detail } = runCase(input);
      expect([outcome, detail]).toEqual([expect.stringMatching(/^(accepted|rejected)$/), undefined]);
    }), { seed: SEED, numRuns: 1500 });
  }, 300_000);

  it('gives a result, located, for arbitrary strings (fast-check)', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (input) => {
      const { outcome, detail } = runCase(input);
      expect([outcome, detail]).toEqual([expect.stringMatching(/^(accepted|rejected)$/), undefined]);
    }), { seed: SEED, numRuns: 1000 });
  }, 300_000);

  it('gives a result for a model prefix followed by arbitrary text (fast-check)', () => {
    const prefix = MODELS[0].text.slice(0, MODELS[0].text.indexOf('prior'));
    fc.assert(fc.property(fc.string({ maxLength: 100 }), (tail) => {
      const { outcome, detail } = runCase(prefix + tail);
      expect([outcome, detail]).toEqual([expect.stringMatching(/^(accepted|rejected)$/), undefined]);
    }), { seed: SEED, numRuns: 500 });
  }, 300_000);
});
