/** Vector (and categorical) families, by name (see index.ts). */
import type { DistributionFactory } from './index.js';

export const VECTOR_FAMILIES: Record<string, DistributionFactory> = {};
