/**
 * How much standard noise the gamma-based samplers use (a module without TensorFlow.js, so that
 * the compiler's catalog can size the noise of StudentT and Beta without loading tfjs).
 */

/** Proposals per gamma variate in `logStandardGamma`: all are rejected with probability < 0.049⁶ ≈ 1.4e-8. */
export const GAMMA_PROPOSALS = 6;

/**
 * Standard normals per gamma variate, on the last axis of the noise: K proposals, then K pairs
 * for the acceptance tests, then one pair for the boost (K = GAMMA_PROPOSALS).
 */
export const GAMMA_NOISE = 3 * GAMMA_PROPOSALS + 2;
