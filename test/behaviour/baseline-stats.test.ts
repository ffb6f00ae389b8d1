// Units of the baselines: running statistics (exact while learning, slow
// after, winsorised, hour-of-day), the robust score's floor, bounded
// first-seen sets, HTTP routes, subject keys and the settings parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CategorySet, hourCounts, RateStat, robustZ } from '../../src/detect/behaviour/baseline.js';
import { endpointKeys, flowVector, FLOW_DIMS, peerAlias, routeOf } from '../../src/detect/behaviour/features.js';
import { duration, parseBaselineSettings } from '../../src/detect/behaviour/baseline-config.js';
import { HarrierError } from '../../src/errors.js';
import type { Identity } from '../../src/k8s/identity-index.js';

function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('while learning, mean and variance are the exact population values of every bucket', () => {
  const rnd = mulberry(7);
  const xs = Array.from({ length: 500 }, () => Math.floor(rnd() * 40));
  const r = new RateStat();
  for (const x of xs) r.update(x, 0, 3);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
  assert.ok(Math.abs(r.mean - mean) < 1e-9, `${r.mean} vs ${mean}`);
  assert.ok(Math.abs(r.var - variance) < 1e-6, `${r.var} vs ${variance}`);
  assert.equal(r.n, 500);
  // The hour slot saw the same values.
  const e = r.expected(3, true, 10);
  assert.equal(e.basis, 'hour');
  assert.ok(Math.abs(e.mean - mean) < 1e-9);
});

test('after learning the baseline moves slowly, and a spike is winsorised before it is learned', () => {
  const r = new RateStat();
  for (let i = 0; i < 100; i++) r.update(10 + (i % 3) - 1, 0, -1); // mean 10, small variance
  const alpha = 1 - Math.pow(2, -60 / (7 * 86400)); // one-minute buckets, 7-day half-life
  const before = r.mean;
  r.update(10_000, alpha, -1);
  // Clipped to mean + 3·scale, then weighted by alpha: the mean barely moves.
  assert.ok(r.mean - before < 0.01, `mean moved ${r.mean - before}`);
  // A sustained level change is learned eventually (half-life semantics): 7 days of buckets at 20 halve the gap.
  const r2 = new RateStat();
  for (let i = 0; i < 50; i++) r2.update(10, 0, -1);
  for (let i = 0; i < 7 * 1440; i++) r2.update(12, alpha, -1);
  assert.ok(r2.mean > 10.9 && r2.mean < 11.1, `after one half-life ${r2.mean}`);
});

test('the robust score has a floor: a zero-variance baseline does not alarm on +1, a real spike scores high', () => {
  const r = new RateStat();
  for (let i = 0; i < 60; i++) r.update(4, 0, -1); // always exactly 4
  const e = r.expected(0, false, 1);
  assert.equal(e.sd, 0);
  assert.ok(robustZ(5, e, 1) <= 1, 'one more than usual is not an anomaly');
  assert.ok(robustZ(40, e, 1) > 6, 'ten times usual is');
  const zero = new RateStat();
  for (let i = 0; i < 60; i++) zero.update(0, 0, -1);
  assert.ok(robustZ(1, zero.expected(0, false, 1), 1) <= 1);
});

test('hour-of-day profiles are used only with enough samples in the slot', () => {
  const r = new RateStat();
  for (let d = 0; d < 10; d++) for (let h = 0; h < 24; h++) r.update(h === 3 ? 100 : 5, 0, h);
  assert.equal(r.expected(3, true, 5).basis, 'hour');
  assert.ok(Math.abs(r.expected(3, true, 5).mean - 100) < 1e-9);
  assert.equal(r.expected(3, true, 50).basis, 'all', 'too few samples in the slot');
  assert.equal(r.expected(3, false, 5).basis, 'all', 'not enough history');
});

test('statistics survive a JSON round trip', () => {
  const r = new RateStat();
  for (let i = 0; i < 30; i++) r.update(i, 0, i % 24);
  const back = RateStat.fromJSON(JSON.parse(JSON.stringify(r.toJSON())));
  assert.equal(back.n, r.n);
  assert.ok(Math.abs(back.mean - r.mean) < 1e-3);
  assert.ok(Math.abs(back.var - r.var) < 1e-3);
  assert.deepEqual(Array.from(back.hourly.subarray(0, 6)), Array.from(r.hourly.subarray(0, 6)).map((x) => Math.round(x * 1e4) / 1e4));
  assert.equal(RateStat.fromJSON('junk').n, 0, 'garbage gives an empty statistic, never a throw');
});

test('first-seen sets are bounded, evict the least recently seen, and count evictions', () => {
  const c = new CategorySet(3);
  assert.equal(c.touch('a', 0), true);
  assert.equal(c.touch('b', 1), true);
  assert.equal(c.touch('c', 2), true);
  assert.equal(c.touch('a', 5000), false); // seen again long after: moves to the young end
  assert.equal(c.touch('d', 5001), true); // evicts b, the least recently seen
  assert.equal(c.evicted, 1);
  assert.equal(c.has('b'), false);
  assert.equal(c.has('a'), true);
  const s = c.map.get('a')!;
  assert.deepEqual([s.first, s.last, s.n], [0, 5000, 2]);
  const back = CategorySet.fromJSON(JSON.parse(JSON.stringify(c.toJSON())), 3);
  assert.deepEqual([...back.map.keys()].sort(), ['a', 'c', 'd']);
  assert.equal(back.evicted, 1);
});

test('routes: query dropped, ids collapsed, absolute form reduced to its path', () => {
  assert.equal(routeOf('/cart/123/items?x=1'), '/cart/:id/items');
  assert.equal(routeOf('/u/3f2b8c1e-9d4a-4b6f-8e2d-1a2b3c4d5e6f/avatar#top'), '/u/:id/avatar');
  assert.equal(routeOf('/blob/0123456789abcdef0123'), '/blob/:id');
  assert.equal(routeOf('http://shop.example/api/v1/orders/77'), '/api/v1/orders/:id');
  assert.equal(routeOf('/a/b/c/d/e/f/g/h/i/j'), '/a/b/c/d/e/f/g/h/…');
  assert.equal(routeOf('*'), '*');
  assert.equal(routeOf('garbage'), '/');
  assert.equal(routeOf('/search?q=1%27%20OR%201=1'), '/search');
});

test('subjects: a pod is its owner (Deployment bare, other kinds named), external is never a subject', () => {
  const pod: Identity = { kind: 'pod', namespace: 'shop', pod: 'cart-5d8c7b9f6-x2x9q', uid: 'u', workload: { kind: 'Deployment', name: 'cart' }, labels: {}, node: 'node-2', host_network: false };
  const k = endpointKeys(pod, '10.244.2.2', true);
  assert.deepEqual([k.workload, k.namespace, k.node, k.peer, k.external], ['shop/cart', 'ns:shop', 'node:node-2', 'shop/cart', false]);
  const job: Identity = { kind: 'pod', namespace: 'batch', pod: 'report-1-x', uid: 'u', workload: { kind: 'CronJob', name: 'report' }, labels: {}, host_network: false };
  assert.equal(endpointKeys(job, '10.244.2.5', true).workload, 'batch/CronJob:report');
  const ext = endpointKeys({ kind: 'external' }, '203.0.113.30', false);
  assert.equal(ext.workload, null);
  assert.equal(ext.external, true);
  assert.equal(endpointKeys({ kind: 'service', namespace: 'shop', service: 'redis' }, '10.96.30.30', true).peer, 'svc:shop/redis');
  assert.equal(endpointKeys({ kind: 'unknown' }, '10.244.1.9', true).workload, null, 'an empty cluster address is a peer, not a subject');
  // Without identity: private addresses are their own subjects.
  assert.equal(endpointKeys(null, '192.168.1.4', true).workload, 'ip:192.168.1.4');
  assert.equal(endpointKeys(null, '8.8.8.8', false).workload, null);
  assert.equal(peerAlias('svc:shop/redis'), 'shop/redis');
  assert.equal(peerAlias('shop/redis'), 'svc:shop/redis');
  assert.equal(peerAlias('ip:10.0.0.1'), null);
});

test('flow vectors are fixed-width, finite and log-scaled', () => {
  const v = flowVector(
    { bytesOut: 6_000_000, bytesIn: 1200, pktsOut: 4000, pktsIn: 900, durationSec: 12.5, dstPort: 443, proto: 6, appProto: 'tls', hour: 13, external: true, newPeer: false, inbound: false },
    new Float64Array(FLOW_DIMS),
  );
  assert.equal(v.length, FLOW_DIMS);
  for (const x of v) assert.ok(Number.isFinite(x));
  assert.ok(Math.abs(v[0] - Math.log1p(6_000_000)) < 1e-9);
  assert.equal(v[5], 0); // well-known port
  assert.equal(v[8], 1); // external
});

test('settings: durations, levels and bad values (one-line HARRIER_ERR_CONFIG)', () => {
  assert.equal(duration('10m', 'x'), 600);
  assert.equal(duration('7d', 'x'), 7 * 86400);
  assert.equal(duration(30, 'x'), 30);
  const w: string[] = [];
  const s = parseBaselineSettings({ baseline: { learning: '2h', bucket: '30s', state: '/tmp/x.json', bogus: 1 }, anomaly: { z: 8, levels: ['workload', 'namespace'] }, model: { enabled: 'no', threshold: 0.8 } }, w);
  assert.equal(s.learningSec, 7200);
  assert.equal(s.bucketSec, 30);
  assert.equal(s.statePath, '/tmp/x.json');
  assert.equal(s.z, 8);
  assert.deepEqual(s.levels, ['workload', 'namespace']);
  assert.equal(s.model.enabled, false);
  assert.equal(s.model.threshold, 0.8);
  assert.deepEqual(w, ['config: ignoring unknown key behaviour.baseline.bogus']);
  assert.throws(
    () => parseBaselineSettings({ baseline: { learning: 'soon' } }),
    (e: unknown) => e instanceof HarrierError && e.code === 'HARRIER_ERR_CONFIG' && /behaviour\.baseline\.learning/.test(e.message) && !e.message.includes('\n'),
  );
  assert.throws(() => parseBaselineSettings({ anomaly: { levels: ['galaxy'] } }), /behaviour\.anomaly\.levels/);
});

test('silent buckets folded at once equal the same zeros learned one by one (exact while learning, mean exact after)', () => {
  const bucket = 60;
  const from = Math.floor(1_764_320_000 / bucket);
  for (const k of [1, 7, 90, 3000]) {
    const a = new RateStat();
    const b = new RateStat();
    for (let i = 0; i < 40; i++) {
      a.update(5 + (i % 4), 0, (i % 24));
      b.update(5 + (i % 4), 0, (i % 24));
    }
    for (let i = 0; i < k; i++) a.update(0, 0, Math.floor(((from + i) * bucket) / 3600) % 24);
    b.zeros(k, 0, hourCounts(from, from + k, bucket, new Float64Array(24)));
    assert.equal(b.n, a.n);
    assert.ok(Math.abs(b.mean - a.mean) < 1e-9 && Math.abs(b.var - a.var) < 1e-9, `k=${k}: ${b.mean}/${b.var} vs ${a.mean}/${a.var}`);
    for (let h = 0; h < 72; h++) assert.ok(Math.abs(b.hourly[h] - a.hourly[h]) < 1e-9, `k=${k} hourly[${h}] ${b.hourly[h]} vs ${a.hourly[h]}`);
    // After learning: the weighted mean decays exactly; the variance stays close.
    const alpha = 0.01;
    const c = new RateStat();
    const d = new RateStat();
    for (let i = 0; i < 40; i++) {
      c.update(5 + (i % 4), 0, -1);
      d.update(5 + (i % 4), 0, -1);
    }
    for (let i = 0; i < k; i++) c.update(0, alpha, -1);
    d.zeros(k, alpha, null);
    assert.ok(Math.abs(d.mean - c.mean) < 1e-9, `k=${k} mean ${d.mean} vs ${c.mean}`);
    assert.ok(Math.abs(d.var - c.var) <= 0.05 * Math.max(c.var, 1e-3) + 1e-9, `k=${k} var ${d.var} vs ${c.var}`);
  }
  const hc = hourCounts(from, from + 1440 * 3 + 17, bucket, new Float64Array(24));
  assert.equal(hc.reduce((x, y) => x + y, 0), 1440 * 3 + 17);
});
