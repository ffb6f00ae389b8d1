#!/usr/bin/env node
// Writes docs/ndpi-agreement.md: Harrier's protocol identification, SNI and
// JA3 against nDPI's expectations on nDPI's test captures. Run after the
// build (it uses dist/test/applayer/ndpi-agreement.js).
// Usage: node scripts/ndpi-report.mjs [--with-recognisers] [output.md]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const { compareAll, renderReport, pct, NDPI_REL, pipelineWithRecognisers } = await import(join(root, 'dist/test/applayer/ndpi-agreement.js'));
const { sharedPath } = await import(join(root, 'dist/test/support/shared.js'));
const base = sharedPath(NDPI_REL);
if (base === null) {
  console.error(`ndpi-report: ${NDPI_REL} not found under the shared data folder`);
  process.exit(1);
}
// --with-recognisers: measure src/applayer/recognisers.ts before the registry lists them (development only).
const args = process.argv.slice(2);
const dev = args.includes('--with-recognisers');
const r = compareAll(base, dev ? pipelineWithRecognisers : undefined);
const out = args.find((a) => !a.startsWith('--')) ?? join(root, 'docs/ndpi-agreement.md');
writeFileSync(out, renderReport(r, dev ? 'APP_PARSERS plus src/applayer/recognisers.ts (development mode, --with-recognisers)' : undefined));
console.log(`protocol ${pct(r.proto).toFixed(2)}% of ${r.proto.total}, SNI ${pct(r.sni).toFixed(2)}% of ${r.sni.total}, JA3 ${pct(r.ja3).toFixed(2)}% of ${r.ja3.total}; ${r.mismatches.length} mismatches; ${r.elapsedSec.toFixed(1)} s → ${out}`);
