/**
 * Named factories for the semantic diagnostics, one per kind of mistake, each with a stable code.
 * Tests assert on the code and the span, so wording can improve without breaking them.
 */
import { orList, type Diagnostic, type Span } from './source.js';

const error = (code: `VAE${number}`, span: Span, message: string, related?: Diagnostic['related']): Diagnostic =>
  ({ code, severity: 'error', span, message, ...(related ? { related } : {}) });

export const duplicateName = (span: Span, name: string, first: Span): Diagnostic =>
  error('VAE2001', span, `'${name}' is already declared.`, [{ span: first, message: `'${name}' is first declared here.` }]);
export const unknownName = (span: Span, name: string, hint: string): Diagnostic =>
  error('VAE2002', span, `Unknown name '${name}'.${hint}`);
export const unknownType = (span: Span, name: string, known: readonly string[]): Diagnostic =>
  error('VAE2003', span, `Unknown type '${name}'. Expected ${orList(known)}.`);
export const latentWithout = (span: Span, name: string, role: 'prior' | 'guide'): Diagnostic =>
  error('VAE2004', span, `Latent '${name}' has no ${role}. Add \`${role} ${name} ~ Normal(...)\`.`);
export const dataWithoutLikelihood = (span: Span, name: string): Diagnostic =>
  error('VAE2005', span, `Data '${name}' has no likelihood. Add \`likelihood ${name} ~ ...\`.`);
export const duplicateStatement = (span: Span, role: string, name: string, first: Span): Diagnostic =>
  error('VAE2006', span, `'${name}' already has a ${role}.`, [{ span: first, message: `The first ${role} of '${name}' is here.` }]);
export const wrongTarget = (span: Span, role: string, name: string, expected: string, actual: string): Diagnostic =>
  error('VAE2007', span, `A ${role} is for a ${expected} variable, but '${name}' is ${actual}.`);
export const unknownDistribution = (span: Span, name: string, known: string[], closest?: string): Diagnostic =>
  error('VAE2008', span, `Unknown distribution '${name}'. ${closest ? `Did you mean '${closest}'?` : `Expected ${orList(known)}.`}`);
export const badArguments = (span: Span, message: string): Diagnostic => error('VAE2009', span, message);
export const shapeMismatch = (span: Span, message: string): Diagnostic => error('VAE2010', span, message);
export const supportMismatch = (span: Span, message: string, related?: Diagnostic['related']): Diagnostic => error('VAE2011', span, message, related);
export const constraintViolated = (span: Span, message: string): Diagnostic => error('VAE2012', span, message);
export const notVisible = (span: Span, message: string): Diagnostic => error('VAE2013', span, message);
export const badNetwork = (span: Span, message: string): Diagnostic => error('VAE2014', span, message);
export const badExpression = (span: Span, message: string): Diagnostic => error('VAE2015', span, message);
/** A conv layer's words not as `k<size> [s<size>] [same | valid] [activation]`. */
export const badLayerWord = (span: Span, message: string): Diagnostic => error('VAE1007', span, message);
/** A layer that cannot take the shape it is given (the shape arithmetic is core/layers.ts's). */
export const badLayerShape = (span: Span, message: string, related?: Diagnostic['related']): Diagnostic => error('VAE2020', span, message, related);
/** A network's outputs that its last layer does not give. */
export const badNetworkOutputs = (span: Span, message: string, related?: Diagnostic['related']): Diagnostic => error('VAE2021', span, message, related);
export const badModifier = (span: Span, message: string): Diagnostic => error('VAE2017', span, message);

// Train-block errors (in the file or in `--set`), one code per kind of mistake.
type SettingError = (span: Span, message: string) => Diagnostic;
const setting = (code: `VAE${number}`): SettingError => (span, message) => error(code, span, message);
export const unknownSetting = setting('VAE3001');
export const settingTwice = setting('VAE3002');
export const notWholeNumber = setting('VAE3003');
export const notPositive = setting('VAE3004');
export const negativeNumber = setting('VAE3005');
/** An unknown data set, optimizer, objective, schedule or `kl` value. */
export const unknownChoice = setting('VAE3006');
/** An argument that a data set, optimizer, objective, schedule or `kl` value does not take. */
export const unknownSettingArgument = setting('VAE3007');
export const badDatasetArgument = setting('VAE3008');
export const optimizerSettingOutOfRange = setting('VAE3009');
export const badStepSchedule = setting('VAE3010');
/** beta, kl_warmup or free_bits with the iwae objective (in the file, in `--set`, or split between them). */
export const klSettingWithIwae = setting('VAE3011');
export const iwaeWithDiscreteLatents = setting('VAE3012');
export const labelsWithStaticBinarization = setting('VAE3013');
export const badLabels = setting('VAE3014');
export const datasetVariables = setting('VAE3015');
/** One batch's values (batch × samples × widths) would not fit in memory. */
export const batchTooLarge = setting('VAE3016');
export const noData = (span: Span, model: string): Diagnostic =>
  error('VAE2019', span, `Model '${model}' declares no data variable, so there is nothing to train on; declare one, as in \`data x : binary[784]\`, with its likelihood.`);
export const unusedNetwork = (span: Span, name: string): Diagnostic =>
  ({ code: 'VAE2016', severity: 'warning', span, message: `Network '${name}' is never used.` });
