// Every list under ../shared/data/intel loads: per-feed counts and malformed
// counts are printed, and the totals must be plausible for what each source is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IntelStoreBuilder } from '../../src/detect/intel/builder.js';
import { loadFeeds } from '../../src/detect/intel/feeds/registry.js';
import { parseIPv4 } from '../../src/detect/intel/normalize.js';
import { emptyCounts, INDICATOR_KINDS, type FeedReport } from '../../src/detect/intel/types.js';
import { sharedPath, skipWithoutShared } from '../support/shared.js';

test('every intel list under ../shared/data/intel loads', { skip: skipWithoutShared('intel') }, () => {
  const root = sharedPath('intel')!;
  const b = new IntelStoreBuilder();
  const reports = loadFeeds(root, b);
  const bySource = new Map<string, { files: number; malformed: number; counts: ReturnType<typeof emptyCounts> }>();
  for (const r of reports) {
    const src = r.feed.split('/')[0];
    let a = bySource.get(src);
    if (!a) bySource.set(src, (a = { files: 0, malformed: 0, counts: emptyCounts() }));
    a.files++;
    a.malformed += r.malformed;
    for (const k of INDICATOR_KINDS) a.counts[k] += r.counts[k];
  }
  for (const [src, a] of bySource) {
    const c = INDICATOR_KINDS.filter((k) => a.counts[k] > 0).map((k) => `${k}=${a.counts[k]}`).join(' ');
    console.log(`# ${src}: ${a.files} files, ${c}, malformed=${a.malformed}`);
  }
  const show = (r: FeedReport): string => `${r.feed} [${r.format}] lines=${r.lines} malformed=${r.malformed}`;
  for (const r of reports) if (r.malformed > 0) console.log(`#   ${show(r)} e.g. ${JSON.stringify(r.malformedExamples[0])}`);

  const ipsum = reports.find((r) => r.feed === 'ipsum/ipsum.txt')!;
  assert.equal(ipsum.format, 'ipsum');
  assert.ok(ipsum.counts.ipv4 > 110_000 && ipsum.counts.ipv4 < 130_000, show(ipsum));
  assert.equal(ipsum.malformed, 0);
  const mt = bySource.get('maltrail')!;
  const trails = INDICATOR_KINDS.reduce((n, k) => n + mt.counts[k], 0);
  assert.ok(trails > 1_700_000 && trails < 2_000_000, `maltrail ${trails}`);
  assert.ok(mt.counts.domain > 1_000_000 && mt.counts.ipv4 > 200_000 && mt.counts.url > 100_000 && mt.counts.ipv6 > 0);
  assert.ok(mt.malformed < trails * 0.001, 'maltrail malformed (regex trails) stay rare');
  const feodo = reports.find((r) => r.feed.includes('feodotracker'))!;
  assert.equal(feodo.format, 'csv');
  assert.ok(feodo.counts.ipv4 > 20 && feodo.malformed === 0, show(feodo));
  const ja3 = reports.find((r) => r.feed.includes('ja3'))!;
  assert.ok(ja3.counts.ja3 > 90 && ja3.malformed === 0, show(ja3));
  const sha = reports.find((r) => r.feed.includes('cert_sha1'))!;
  assert.ok(sha.counts.sha1 > 5000 && sha.malformed === 0, show(sha));
  for (const r of reports.filter((x) => x.feed.startsWith('urlhaus/') && /hosts|rpz|bind|unbound|dnsmasq|agh/.test(x.feed))) {
    assert.ok(r.counts.domain + r.counts.ipv4 > 500 && r.malformed === 0, show(r));
  }
  // urlhaus-filter mixes plain entries with `||host/path^$all` adblock rules: both kinds parse.
  const uh = bySource.get('urlhaus')!;
  const uhTotal = INDICATOR_KINDS.reduce((n, k) => n + uh.counts[k], 0);
  assert.ok(uh.malformed < uhTotal * 0.01, `urlhaus malformed ${uh.malformed} of ${uhTotal}`);
  for (const r of reports.filter((x) => x.feed.startsWith('blocklistproject/') || x.feed.startsWith('coinblockerlists/'))) {
    assert.ok(r.malformed <= 2, show(r));
  }
  // A known entry of each kind made it through the builder.
  const s = b.build();
  assert.ok(s.lookupIPv4(parseIPv4('192.9.135.73')) >= 0);
  assert.ok(s.lookupDomain('x.0022a601.pphost.net') >= 0);
  assert.ok(s.lookupHash('ja3', 'b386946a5a44d1ddcc843bc75336dfce') >= 0);
  assert.ok(s.describe(s.lookupDomain('coinhive.com')).some((m) => m.category === 'mining'));
  console.log('# store', JSON.stringify(s.counts()));
});
