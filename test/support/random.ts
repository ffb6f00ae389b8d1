/**
 * Deterministic PRNG (mulberry32) for randomised tests: a failing seed can be
 * replayed. Returns floats in [0, 1). The product's own (the isolation
 * forest samples with it), so there is one implementation.
 */
export { mulberry32 } from '../../src/detect/behaviour/model/isolation-forest.js';
