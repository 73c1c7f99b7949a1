/** Elementwise families beyond Normal and Bernoulli, by name (see index.ts). */
import type { DistributionFactory } from './index.js';

export const SCALAR_FAMILIES: Record<string, DistributionFactory> = {};
