/**
 * Rule reload with `--workers 2`: the capture thread forwards SIGHUP (and
 * the poll) to each worker, which swaps on its own and answers; one line per
 * worker (scenario in reload-scenario.ts).
 */
import { test } from 'node:test';
import { scenario } from './reload-scenario.js';

test('harrier analyze - --workers 2: every worker reloads and answers', async () => {
  await scenario(['--workers', '2'], 2);
});
