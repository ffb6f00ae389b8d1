#!/usr/bin/env node
// `npm run bench`: runs every macro and micro benchmark under dist/bench
// (compiled from bench/*.bench.ts) one after another, each in its own
// process so that peak memory figures do not mix. Benchmarks print their
// figures as Markdown table rows; copy them into bench/RESULTS.md with the
// date and machine. Usage: npm run bench [-- substring-filter…]
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const dir = new URL('../dist/bench/', import.meta.url).pathname;
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
let failed = 0;
for (const f of files) {
  console.log(`\n## ${f.replace(/\.bench\.js$/, '')}`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(dir, f)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
