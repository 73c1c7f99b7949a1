/**
 * The KL registry: closed forms of KL(q ‖ p) by (family of q, family of p). `lower.ts` looks each
 * (guide, prior) pair up at compile time; a pair with no entry falls back to the single-sample
 * Monte Carlo estimate log q(z) - log p(z) (as Pyro's TraceMeanField_ELBO does).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Distribution } from './distributions/distribution.js';
import { Normal } from './distributions/normal.js';

/** Elementwise KL(q ‖ p). */
export type KlFn = (q: Distribution, p: Distribution) => tf.Tensor;

const registry = new Map<string, KlFn>();
const key = (q: string, p: string) => `${q}||${p}`;

/** Registers the closed form of KL(q ‖ p) for a pair of families; each pair once. */
export function registerKl(qFamily: string, pFamily: string, fn: KlFn): void {
  if (registry.has(key(qFamily, pFamily))) throw new Error(`KL(${qFamily} ‖ ${pFamily}) is already registered.`);
  registry.set(key(qFamily, pFamily), fn);
}

/** Every registered pair, as [q, p]. */
export function registeredKlPairs(): [string, string][] {
  return [...registry.keys()].map((k) => k.split('||') as [string, string]);
}

/** The closed form for the pair, if one is registered. */
export function lookupKl(qFamily: string, pFamily: string): KlFn | undefined {
  return registry.get(key(qFamily, pFamily));
}

/**
 * KL(N(m1, s1) ‖ N(m2, s2)) = log(s2 / s1) + (s1^2 + (m1 - m2)^2) / (2 s2^2) - 1/2
 *                           = 0.5 ((m1 - m2) / s2)^2 + 0.5 (r^2 - 1) - log r,   r = s1 / s2,
 * and against the standard normal, KL(N(m, s) ‖ N(0, 1)) = 0.5 (m^2 + s^2 - 1) - log s.
 */
registerKl('Normal', 'Normal', (q, p) => {
  const [a, b] = [q as Normal, p as Normal];
  return tf.tidy(() => {
    if (b.isStandard) return tf.sub(tf.mul(0.5, tf.sub(tf.add(tf.square(a.loc), tf.square(a.scale)), 1)), a.logScale());
    const r = tf.div(a.scale, b.scale);
    const d = tf.div(tf.sub(a.loc, b.loc), b.scale);
    return tf.sub(tf.mul(0.5, tf.add(tf.square(d), tf.sub(tf.square(r), 1))), tf.sub(a.logScale(), b.logScale()));
  });
});
