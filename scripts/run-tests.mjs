#!/usr/bin/env node
// Runs every compiled test file under dist/test with Node's own test runner.
// Node 20's `--test` does not expand globs, so the files are listed here.
// Usage: node scripts/run-tests.mjs [substring-filter…]
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('../dist/test/', import.meta.url).pathname;
const filters = process.argv.slice(2);
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js') && (filters.length === 0 || filters.some((f) => p.includes(f)))) files.push(p);
  }
})(root);
if (files.length === 0) {
  console.error('run-tests: no test files found under dist/test (did the build run?)');
  process.exit(1);
}
const concurrency = process.env.HARRIER_TEST_CONCURRENCY ?? '2';
// The spec report goes to the terminal; a TAP copy goes to a file so that the
// run can end with one plain summary line. (Node's spec reporter prints its
// totals and then repeats the failing and todo tests' details, so its own
// totals are not the last line.)
const tapDir = mkdtempSync(join(tmpdir(), 'harrier-tests-'));
const tap = join(tapDir, 'report.tap');
const r = spawnSync(
  process.execPath,
  [
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
    ...files,
  ],
  { stdio: 'inherit' },
);
const totals = {};
try {
  for (const m of readFileSync(tap, 'utf8').matchAll(/^# (pass|fail|skipped|todo|cancelled) (\d+)$/gm)) totals[m[1]] = Number(m[2]);
} catch {
  /* no TAP written: the runner itself failed; its status says so */
}
rmSync(tapDir, { recursive: true, force: true });
const n = (k) => totals[k] ?? 0;
if (n('todo') > 0) console.log(`(${n('todo')} todo: known gaps, listed above)`);
console.log(`tests: ${n('pass')} passed, ${n('fail') + n('cancelled')} failed, ${n('skipped')} skipped`);
process.exit(r.status ?? 1);
