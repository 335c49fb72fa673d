// Seeded randomness: the same seed gives the same weights, shuffles and dropout masks on every machine,
// so a training run (and a test) can be reproduced.

/** Uniform random number source in [0, 1). */
export type Uniform = () => number;

/**
 * mulberry32: a tiny 32-bit-state generator, uniform in [0, 1) with 2^-32 resolution. Good enough for
 * initialisation, shuffling and dropout; not for cryptography.
 */
export function mulberry32(seed: number): Uniform {
  if (!Number.isFinite(seed)) throw new Error(`mulberry32: seed must be a finite number (got ${seed})`);
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One standard normal sample (Box–Muller; 1 − u keeps the logarithm away from 0). */
export function normal(rand: Uniform): number {
  const u = 1 - rand(); // (0, 1]
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** True with probability p. */
export function bernoulli(rand: Uniform, p: number): boolean {
  if (!(p >= 0 && p <= 1)) throw new Error(`bernoulli: p must lie in [0, 1] (got ${p})`);
  return rand() < p;
}
