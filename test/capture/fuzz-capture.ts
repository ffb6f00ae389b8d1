/**
 * Long fuzz run of the capture parser (the test runs 20k inputs):
 *   node dist/test/capture/fuzz-capture.js [count=1000000] [seed=1]
 * Uses the same seeds as the test (real captures when ../shared/data exists).
 */
import { fuzzCapture, fuzzSeeds } from './fuzz-lib.js';

const count = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 1);
const seeds = fuzzSeeds();
const batch = 100_000;
const t0 = performance.now();
for (let done = 0; done < count; done += batch) {
  const n = Math.min(batch, count - done);
  const s = fuzzCapture(seeds, n, seed + done);
  console.log(`${done + n} inputs (${((performance.now() - t0) / 1000).toFixed(1)} s): ${JSON.stringify(s)}`);
}
