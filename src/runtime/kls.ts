/**
 * Every registered KL closed form: importing this module registers them all (kl.ts holds the
 * registry and Normal‖Normal; kl-scalar.ts and kl-vector.ts the rest).
 */
import './kl-scalar.js';
import './kl-vector.js';

export { lookupKl, registerKl, registeredKlPairs, type KlFn } from './kl.js';
