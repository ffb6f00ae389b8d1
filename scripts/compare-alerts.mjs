#!/usr/bin/env node
// Compares Harrier's alerts with Suricata's by (sid, flow 5-tuple normalised
// for direction) and prints found/missed/extra by sid, then the totals.
// Usage: node scripts/compare-alerts.mjs <harrier-eve.json> <suricata-alerts.jsonl> [--top N] [--json FILE]
// The logic lives in test/conformance/compare-alerts.ts (compiled by `npm run build`).
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const lib = join(root, 'dist', 'test', 'conformance', 'compare-alerts.js');
if (!existsSync(lib)) {
  console.error('compare-alerts: not built; run `npm run build` first');
  process.exit(2);
}
const { readSide, compare, formatComparison } = await import(lib);

const usage = 'usage: compare-alerts.mjs <harrier-eve.json> <suricata-alerts.jsonl> [--top N] [--json FILE]';
const files = [];
let top = 20;
let json = null;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--top') top = Math.max(1, Number(argv[++i]) || 20);
  else if (a === '--json') json = argv[++i];
  else if (a === '--help' || a === '-h') {
    console.log(usage);
    process.exit(0);
  } else if (a.startsWith('--')) {
    console.error(`compare-alerts: unknown option ${a}\n${usage}`);
    process.exit(2);
  } else files.push(a);
}
if (files.length !== 2 || (json !== null && json === undefined)) {
  console.error(usage);
  process.exit(2);
}
for (const f of files) {
  if (!existsSync(f)) {
    console.error(`compare-alerts: ${f}: no such file`);
    process.exit(1);
  }
}
const [harrier, suricata] = await Promise.all(files.map((f) => readSide(f)));
for (const [name, side] of [['Harrier', harrier], ['Suricata', suricata]]) {
  if (side.badLines > 0) console.error(`compare-alerts: warning: ${side.badLines} ${name} lines were not JSON objects (ignored)`);
}
const c = compare(harrier, suricata);
process.stdout.write(formatComparison(c, top));
if (json) writeFileSync(json, JSON.stringify(c, null, 1) + '\n');
