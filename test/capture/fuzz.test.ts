import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fuzzCapture, fuzzSeeds } from './fuzz-lib.js';

test('fuzz: 20k mutated and truncated captures only ever raise HarrierError, never hang', { timeout: 50_000 }, () => {
  const stats = fuzzCapture(fuzzSeeds(), 20_000, 20260101);
  assert.equal(stats.inputs, 20_000);
  // The mutations must reach every outcome, or the fuzzer is not testing much.
  assert.ok(stats.ok > 5000, JSON.stringify(stats));
  assert.ok(stats.harrierErrors > 100, JSON.stringify(stats));
  assert.ok(stats.truncated > 1000, JSON.stringify(stats));
  assert.ok(stats.corrupt > 500, JSON.stringify(stats));
  // Hangs are caught by the timeout; this only flags something grossly slow (the machine may be loaded).
  assert.ok(stats.maxMs < 10_000, `slowest input took ${stats.maxMs} ms`);
  console.log(`fuzz stats: ${JSON.stringify(stats)}`);
});
