// A seeded random number generator (mulberry32) and float arrays drawn from it: the
// random weights and inputs of the generated models (host/bench/mlperf.ts) and the tests.

/** Deterministic uniform [0, 1) numbers (mulberry32: small, seedable). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Deterministic uniform [-1, 1) numbers (mulberry32). */
export function rng(seed: number): () => number {
  const u = mulberry32(seed);
  return () => u() * 2 - 1;
}

/** `n` numbers uniform in [offset - scale, offset + scale), from `seed`. */
export function randomArray(n: number, seed: number, scale = 1, offset = 0): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => offset + scale * r());
}
