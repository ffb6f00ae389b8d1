/**
 * Rule reload of a running `harrier analyze -` on the main thread: SIGHUP
 * swaps set A for set B between packets, a broken set is refused with one
 * line, `--reload-poll` reloads a changed file (scenario in reload-scenario.ts).
 */
import { test } from 'node:test';
import { scenario } from './reload-scenario.js';

test('harrier analyze -: SIGHUP swaps rule sets between packets, keeps the set on a broken file, polls for changes', async () => {
  await scenario([], 1);
});
