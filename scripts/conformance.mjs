#!/usr/bin/env node
// Runs suricata-verify's tests (../shared/data/suricata-verify/tests) through
// `harrier analyze` and evaluates their test.yaml checks on Harrier's EVE.
// The logic lives in test/conformance/sv-*.ts (compiled by `npm run build`).
//
// Usage: node scripts/conformance.mjs [--filter SUBSTR] [--jobs N] [--timeout S]
//          [--json FILE] [--list-skips] [--write-doc] [--quiet] [--tests DIR]
//          [--from-json FILE]       (report from a saved --json run)
//          [--no-snapshot]          (run dist/ in place instead of a copy taken at start)
//          [--spawn]                (a harrier process per test instead of worker threads)
//          [--suricata-version V]   (behaviour Harrier is held to; default 7.0.4,
//          the version of the reference runs in ../shared/data)
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const lib = join(root, 'dist', 'test', 'conformance');
if (!existsSync(join(lib, 'sv-run.js'))) {
  console.error('conformance: not built; run `npm run build` first (or `npm run conformance`)');
  process.exit(2);
}
const { defaultProfile, findTests, planTest } = await import(join(lib, 'sv-plan.js'));
const { parseVersion } = await import(join(lib, 'sv-check.js'));
const { runAll, summarise, skipGroups, docSection, replaceSection } = await import(join(lib, 'sv-run.js'));

const usage = 'usage: conformance.mjs [--filter SUBSTR] [--jobs N] [--timeout SECONDS] [--json FILE] [--list-skips] [--write-doc] [--quiet] [--tests DIR] [--suricata-version 7.0.4] [--from-json FILE] [--no-snapshot] [--spawn]';
const opts = { spawn: false, noSnapshot: false, fromJson: null, filter: [], suricataVersion: '7.0.4', jobs: 2, timeout: 60, json: null, listSkips: false, writeDoc: false, quiet: false, tests: null };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const val = () => {
    if (i + 1 >= argv.length) {
      console.error(`conformance: ${a} needs a value\n${usage}`);
      process.exit(2);
    }
    return argv[++i];
  };
  if (a === '--filter') opts.filter.push(val());
  else if (a === '--jobs' || a === '-j') opts.jobs = Math.max(1, Number(val()) || 1);
  else if (a === '--timeout') opts.timeout = Math.max(1, Number(val()) || 60);
  else if (a === '--json') opts.json = val();
  else if (a === '--tests') opts.tests = val();
  else if (a === '--suricata-version') opts.suricataVersion = val();
  else if (a === '--from-json') opts.fromJson = val();
  else if (a === '--no-snapshot') opts.noSnapshot = true;
  else if (a === '--spawn') opts.spawn = true;
  else if (a === '--list-skips') opts.listSkips = true;
  else if (a === '--write-doc') opts.writeDoc = true;
  else if (a === '--quiet' || a === '-q') opts.quiet = true;
  else if (a === '--help' || a === '-h') {
    console.log(usage);
    process.exit(0);
  } else {
    console.error(`conformance: unknown option ${a}\n${usage}`);
    process.exit(2);
  }
}

const shared = process.env.HARRIER_SHARED_DATA ?? resolve(root, '..', 'shared', 'data');
const testsDir = resolve(opts.tests ?? join(shared, 'suricata-verify', 'tests'));
if (!existsSync(testsDir)) {
  console.error(`conformance: ${testsDir} not found (third-party data; see ../shared/data/README.md). Nothing to run.`);
  process.exit(0);
}
// Other builds may rewrite dist/ while the suite runs (tsc writes files in
// place, and a module read half-written fails to load). So the suite runs a
// snapshot of the build taken now: dist/src, bin and package.json copied to a
// temporary folder, node_modules linked. --no-snapshot runs the tree itself.
let harrier = join(root, 'bin', 'harrier.js');
let snapshot = null;
if (!opts.noSnapshot && !opts.fromJson) {
  for (let attempt = 1; attempt <= 5 && !snapshot; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'harrier-sv-build-'));
    try {
      cpSync(join(root, 'dist', 'src'), join(dir, 'dist', 'src'), { recursive: true });
      cpSync(join(root, 'bin'), join(dir, 'bin'), { recursive: true });
      cpSync(join(root, 'package.json'), join(dir, 'package.json'));
      symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
      execFileSync(process.execPath, [join(dir, 'bin', 'harrier.js'), 'analyze', '--help'], { stdio: 'ignore', timeout: 120_000 });
      snapshot = dir;
      harrier = join(dir, 'bin', 'harrier.js');
    } catch {
      rmSync(dir, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 2000)); // a build was probably mid-write: try again
    }
  }
  if (!snapshot) console.log('note: could not take a working snapshot of dist/; running the tree itself');
}
process.on('exit', () => {
  if (snapshot) rmSync(snapshot, { recursive: true, force: true });
});

// Which analyze options exist today (the rule engine may not be in yet).
let help = '';
try {
  help = execFileSync(process.execPath, [harrier, 'analyze', '--help'], { encoding: 'utf8', timeout: 30_000 });
} catch (err) {
  help = String(err.stdout ?? '');
}
const analyzeOptions = new Set(help.match(/--[a-z][a-z0-9-]*/g) ?? []);
if (!analyzeOptions.has('--rules')) console.log('note: `harrier analyze` has no --rules option yet; tests with rules will fail with its error');

const version = parseVersion(opts.suricataVersion);
if (!version) {
  console.error(`conformance: bad --suricata-version ${opts.suricataVersion}`);
  process.exit(2);
}
const profile = defaultProfile(analyzeOptions, version);
let dirs = findTests(testsDir);
if (opts.filter.length) dirs = dirs.filter((d) => opts.filter.some((f) => d.slice(testsDir.length + 1).includes(f)));
const plans = dirs.map((d) => planTest(d, testsDir, profile));

const t0 = Date.now();
const print = (r) => {
  if (opts.quiet && r.status !== 'FAIL') return;
  console.log(`${r.status} ${r.name}${r.reason ? `: ${r.reason}` : ''}`);
};
// --from-json: report (and --write-doc) from a saved --json file instead of running.
const results = opts.fromJson
  ? JSON.parse(readFileSync(opts.fromJson, 'utf8')).results
  : await runAll(
      plans,
      opts.jobs,
      {
        harrier,
        timeoutMs: opts.timeout * 1000,
        // In-process worker threads (one module load per worker, not per test) unless --spawn.
        mainModule: opts.spawn ? undefined : join(dirname(dirname(harrier)), 'dist', 'src', 'cli', 'main.js'),
      },
      print,
    );
if (opts.fromJson) results.forEach(print);

const s = summarise(results);
if (opts.listSkips) {
  console.log('\nskip reasons:');
  for (const [reason, n] of skipGroups(results)) console.log(`${String(n).padStart(5)}  ${reason}`);
}
const pct = s.alertsTotal ? ((100 * s.alertsPassed) / s.alertsTotal).toFixed(1) : '0.0';
console.log(`\nin-scope tests whose checks are on alerts (event_type alert): ${s.alertsPassed}/${s.alertsTotal} passed (${pct}%)`);
console.log(`time: ${((Date.now() - t0) / 1000).toFixed(1)} s, ${opts.jobs} jobs`);

if (opts.json) {
  writeFileSync(opts.json, JSON.stringify({ summary: s, results }, null, 1) + '\n');
}
if (opts.writeDoc) {
  if (opts.filter.length) console.log('note: --write-doc ignored with --filter (the section describes a full run)');
  else {
    const docPath = join(root, 'docs', 'conformance.md');
    const doc = existsSync(docPath) ? readFileSync(docPath, 'utf8') : '';
    const when = new Date().toISOString().slice(0, 10);
    writeFileSync(docPath, replaceSection(doc, docSection(results, when)));
    console.log(`wrote the suricata-verify section of ${docPath}`);
  }
}
console.log(`${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`);
process.exit(0);
