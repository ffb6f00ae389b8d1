/**
 * DnsAnswerTable: which name a client resolved to reach an IP, CNAME chains,
 * expiry, several names per address, per-client separation, LRU bounds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsAnswerTable } from '../../src/applayer/dns/answers.js';
import { type DnsMessage, type DnsMessageInit, decodeDnsMessage, encodeDnsMessage, isDnsDecodeError } from '../../src/applayer/dns/codec.js';

function msg(init: DnsMessageInit): DnsMessage {
  const b = encodeDnsMessage(init);
  const m = decodeDnsMessage(b, 0, b.length);
  if (isDnsDecodeError(m)) assert.fail(m.message);
  return m;
}

const POOL = msg({
  id: 1, qr: true,
  questions: [{ name: 'Pool.MineXMR.com', type: 1, class: 1 }],
  answers: [
    { name: 'pool.minexmr.com', type: 5, ttl: 300, data: { kind: 'name', name: 'edge.cdn.example' } },
    { name: 'edge.cdn.example', type: 5, ttl: 120, data: { kind: 'name', name: 'e1.cdn.example' } },
    { name: 'e1.cdn.example', type: 1, ttl: 60, data: { kind: 'a', address: '203.0.113.7' } },
    { name: 'e1.cdn.example', type: 28, ttl: 600, data: { kind: 'aaaa', address: '2001:db8::7' } },
    { name: 'other.example', type: 1, ttl: 30, data: { kind: 'a', address: '198.51.100.1' } },
  ],
});

test('answers map (client, IP) to the asked name with its CNAME chain and the smallest TTL', () => {
  const t = new DnsAnswerTable({ graceSec: 0 });
  assert.equal(t.addResponse('10.1.2.3', POOL, 1000), 3);
  const r = t.lookup('10.1.2.3', '203.0.113.7', 1001);
  assert.deepEqual(r, { name: 'pool.minexmr.com', cnames: ['edge.cdn.example', 'e1.cdn.example'], resolvedAt: 1000, expiresAt: 1060 });
  // AAAA: chain TTL 120 is smaller than the record's 600.
  assert.equal(t.lookup('10.1.2.3', '2001:db8::7', 1001)?.expiresAt, 1120);
  // A record not reachable from the question is recorded under its own name.
  assert.deepEqual(t.lookup('10.1.2.3', '198.51.100.1', 1001)?.name, 'other.example');
  assert.deepEqual(t.lookup('10.1.2.3', '198.51.100.1', 1001)?.cnames, []);
  // Other clients did not resolve it.
  assert.equal(t.lookup('10.9.9.9', '203.0.113.7', 1001), undefined);
  // Expiry (no grace): valid up to the expiry second, gone after.
  assert.ok(t.lookup('10.1.2.3', '203.0.113.7', 1060) !== undefined);
  assert.equal(t.lookup('10.1.2.3', '203.0.113.7', 1061), undefined);
  assert.equal(t.stats().expired, 1);
});

test('the latest unexpired name wins; an older one still valid is used once the newer expires', () => {
  const t = new DnsAnswerTable({ graceSec: 0 });
  const a = (name: string, ttl: number) =>
    msg({ id: 2, qr: true, questions: [{ name, type: 1, class: 1 }], answers: [{ name, type: 1, ttl, data: { kind: 'a', address: '192.0.2.1' } }] });
  t.addResponse('10.0.0.1', a('long.example', 300), 0);
  t.addResponse('10.0.0.1', a('short.example', 10), 5);
  assert.equal(t.lookup('10.0.0.1', '192.0.2.1', 6)?.name, 'short.example');
  assert.equal(t.lookup('10.0.0.1', '192.0.2.1', 20)?.name, 'long.example');
  // Re-resolving a name refreshes it and makes it the latest.
  t.addResponse('10.0.0.1', a('long.example', 300), 30);
  t.addResponse('10.0.0.1', a('short.example', 10), 31);
  t.addResponse('10.0.0.1', a('long.example', 300), 32);
  assert.equal(t.lookup('10.0.0.1', '192.0.2.1', 33)?.name, 'long.example');
  assert.equal(t.lookup('10.0.0.1', '192.0.2.1', 33)?.expiresAt, 332);
});

test('grace period, IPv6 client spelling, queries and empty responses are ignored', () => {
  const t = new DnsAnswerTable({ graceSec: 5 });
  t.addResponse('2001:0DB8:0:0::1', POOL, 0);
  assert.ok(t.lookup('2001:db8::1', '203.0.113.7', 64) !== undefined);
  // EVE's full IPv6 spelling finds the same entries.
  assert.equal(t.lookup('2001:0db8:0000:0000:0000:0000:0000:0001', '2001:0db8:0000:0000:0000:0000:0000:0007', 64)?.name, 'pool.minexmr.com');
  assert.equal(t.lookup('2001:db8::1', '203.0.113.7', 66), undefined);
  assert.equal(t.addResponse('10.0.0.1', msg({ id: 3, questions: [{ name: 'x', type: 1, class: 1 }] }), 0), 0);
  assert.equal(t.addResponse('10.0.0.1', msg({ id: 3, qr: true, rcode: 3, questions: [{ name: 'x', type: 1, class: 1 }] }), 0), 0);
});

test('bounded: least recently used pairs are evicted and counted; lookups refresh recency', () => {
  const t = new DnsAnswerTable({ maxEntries: 100, graceSec: 0 });
  const res = (name: string) => ({ name, cnames: [], resolvedAt: 0, expiresAt: 1e9 });
  for (let i = 0; i < 100; i++) t.add('10.0.0.1', `192.0.2.${i}`, res(`n${i}`));
  assert.ok(t.lookup('10.0.0.1', '192.0.2.0', 1) !== undefined); // 0 becomes most recent
  for (let i = 100; i < 150; i++) t.add('10.0.0.2', `198.51.100.${i}`, res(`m${i}`));
  assert.equal(t.size, 100);
  assert.equal(t.stats().evicted, 50);
  assert.ok(t.lookup('10.0.0.1', '192.0.2.0', 1) !== undefined, 'recently looked-up pair survived');
  assert.equal(t.lookup('10.0.0.1', '192.0.2.1', 1), undefined, 'oldest pair evicted');
  assert.ok(t.lookup('10.0.0.1', '192.0.2.99', 1) !== undefined);
  // Names per pair are bounded too.
  for (let i = 0; i < 10; i++) t.add('10.0.0.3', '192.0.2.200', res(`k${i}`));
  assert.equal(t.lookup('10.0.0.3', '192.0.2.200', 1)?.name, 'k9');
  assert.equal(t.prune(2e9), 100);
  assert.equal(t.size, 0);
});

test('lookup speed (reported) with 65,536 pairs', () => {
  const t = new DnsAnswerTable();
  const ips: string[] = [];
  const clients: string[] = [];
  for (let i = 0; i < 64; i++) clients.push(`10.0.${i}.1`);
  for (let i = 0; i < 65536; i++) {
    const ip = `100.${(i >> 8) & 255}.${i & 255}.1`;
    ips.push(ip);
    t.add(clients[i & 63], ip, { name: `h${i}.example`, cnames: [], resolvedAt: 0, expiresAt: 1e9 });
  }
  const N = 200_000;
  let hits = 0;
  // CPU time, not wall time: the test machine is shared.
  const t0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const k = (i * 7919) & 65535;
    if (t.lookup(clients[k & 63], ips[k], 1) !== undefined) hits++;
  }
  const c = process.cpuUsage(t0);
  const ns = ((c.user + c.system) * 1000) / N;
  console.log(`# DnsAnswerTable.lookup: ${ns.toFixed(0)} ns CPU (65,536 pairs, strings the caller already holds)`);
  assert.equal(hits, N);
});
