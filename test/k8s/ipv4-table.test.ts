/**
 * The IPv4 open-addressing table against a Map under random inserts and
 * deletes (backward-shift deletion must keep every probe run reachable), and
 * the char-by-char dotted-quad parser against node:net.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIPv4 } from 'node:net';
import { Ipv4Table, parseIpv4 } from '../../src/k8s/ipv4-table.js';

test('Ipv4Table agrees with a Map through 200k random sets and deletes (growth, clustering, wrap-around)', () => {
  const t = new Ipv4Table<number, string>(16);
  const m = new Map<number, number>();
  let s = 12345;
  const next = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>>= 0);
  };
  for (let k = 0; k < 200_000; k++) {
    // Keys from a small dense range (10.244.0.0/20 style) so probe runs collide and wrap.
    const ip = (0x0af40000 + (next() % 6000)) >>> 0;
    if (next() % 3 === 0) assert.equal(t.delete(ip), m.delete(ip));
    else {
      t.set(ip, k);
      m.set(ip, k);
    }
    if (k % 997 === 0) t.setFast(ip, `f${k}`, 1, 2, 5);
  }
  assert.equal(t.size, m.size);
  for (let ip = 0x0af40000; ip < 0x0af40000 + 6000; ip++) assert.equal(t.get(ip), m.get(ip), `0x${ip.toString(16)}`);
  assert.equal(t.get(0xffffffff), undefined);
  t.set(0xffffffff, 1);
  assert.equal(t.get(0xffffffff), 1, 'the top address (a double key above 2^31)');
});

test('parseIpv4: canonical dotted quads only', () => {
  for (const s of ['0.0.0.0', '10.244.1.9', '255.255.255.255', '192.168.0.1']) {
    assert.equal(parseIpv4(s), s.split('.').reduce((a, b) => a * 256 + Number(b), 0));
  }
  for (const s of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1..2.3', '1.2.3.4 ', 'a.b.c.d', '::1', '1.2.3.4/8']) {
    assert.equal(parseIpv4(s), -1, s);
    assert.ok(!isIPv4(s) || s === '01.2.3.4');
  }
});
