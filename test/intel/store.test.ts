import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Allowlist } from '../../src/detect/intel/allowlist.js';
import { IntelStoreBuilder } from '../../src/detect/intel/builder.js';
import { normalizeDomain, normalizeUrl, parseIPv4, parseIPv6 } from '../../src/detect/intel/normalize.js';
import { intelStoreFromBuffer, loadIntelStore, writeIntelStore, type IntelStore } from '../../src/detect/intel/store.js';
import type { IndicatorKind } from '../../src/detect/intel/types.js';
import { HarrierError } from '../../src/errors.js';

function build(entries: Array<[string, IndicatorKind, string, number?]>): IntelStore {
  const b = new IntelStoreBuilder();
  for (const [feed, kind, value, port] of entries) {
    b.add(feed, feed.startsWith('mine') ? 'mining' : 'c2', { kind, value, port: port ?? 0, confidence: -1, category: null, tag: null });
  }
  return b.build();
}

const ip = (s: string): number => parseIPv4(s);
const v6 = (s: string): Uint8Array => {
  const w = parseIPv6(s)!;
  const b = Buffer.alloc(16);
  for (let i = 0; i < 4; i++) b.writeUInt32BE(w[i], 4 * i);
  return b;
};
const feedsOf = (s: IntelStore, set: number): string[] => (set < 0 ? [] : s.describe(set).map((m) => m.feed).sort());

const SAMPLE: Array<[string, IndicatorKind, string, number?]> = [
  ['big', 'ipv4', '10.0.0.0/8'],
  ['mid', 'ipv4', '10.1.0.0/16'],
  ['small', 'ipv4', '10.1.2.0/24'],
  ['host', 'ipv4', '10.1.2.3'],
  ['other', 'ipv4', '10.1.2.3'],
  ['port', 'ipv4', '192.0.2.1', 4444],
  ['edge', 'ipv4', '0.0.0.0/32'],
  ['edge', 'ipv4', '255.255.255.255'],
  ['v6', 'ipv6', '2001:db8::/32'],
  ['v6h', 'ipv6', '2001:db8::1'],
  ['v6top', 'ipv6', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
  ['dom', 'domain', 'evil.com'],
  ['dom2', 'domain', 'b.evil.com'],
  ['mine', 'domain', 'pool.minexmr.com.'],
  ['url', 'url', 'HTTP://Bad.Example:80/Path%7e?q=1'],
  ['ja3', 'ja3', 'B386946A5A44D1DDCC843BC75336DFCE'],
  ['cert', 'sha1', '19e664f09401bf648b6ea57719e34ad795f3b6cb'],
];

function checkSample(s: IntelStore): void {
  // IPv4: most specific network wins; identical networks keep both feeds.
  assert.deepEqual(feedsOf(s, s.lookupIPv4(ip('10.1.2.3'))), ['host', 'other']);
  assert.deepEqual(feedsOf(s, s.lookupIPv4(ip('10.1.2.4'))), ['small']);
  assert.deepEqual(feedsOf(s, s.lookupIPv4(ip('10.1.2.0'))), ['small']);
  assert.deepEqual(feedsOf(s, s.lookupIPv4(ip('10.1.2.255'))), ['small']);
  assert.deepEqual(feedsOf(s, s.lookupIPv4(ip('10.1.3.0'))), ['mid']);
  assert.deepEqual(feedsOf(s, s.lookupIPv4(ip('10.1.1.255'))), ['mid']);
  assert.deepEqual(feedsOf(s, s.lookupIPv4(ip('10.0.0.0'))), ['big']);
  assert.deepEqual(feedsOf(s, s.lookupIPv4(ip('10.255.255.255'))), ['big']);
  assert.equal(s.lookupIPv4(ip('11.0.0.0')), -1);
  assert.equal(s.lookupIPv4(ip('9.255.255.255')), -1);
  assert.deepEqual(feedsOf(s, s.lookupIPv4(0)), ['edge']);
  assert.deepEqual(feedsOf(s, s.lookupIPv4(0xffffffff)), ['edge']);
  assert.equal(s.lookupIPv4(1), -1);
  const p = s.lookupIPv4(ip('192.0.2.1'));
  assert.ok(p >= 0 && s.portMatches(p, 4444) && !s.portMatches(p, 80));
  assert.ok(s.portMatches(s.lookupIPv4(ip('10.0.0.1')), 80));
  // IPv6
  assert.deepEqual(feedsOf(s, s.lookupIPv6(v6('2001:db8::1'), 0)), ['v6h']);
  assert.deepEqual(feedsOf(s, s.lookupIPv6(v6('2001:db8::2'), 0)), ['v6']);
  assert.deepEqual(feedsOf(s, s.lookupIPv6(v6('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff'), 0)), ['v6']);
  assert.equal(s.lookupIPv6(v6('2001:db9::'), 0), -1);
  assert.equal(s.lookupIPv6(v6('::1'), 0), -1);
  assert.deepEqual(feedsOf(s, s.lookupIPv6(v6('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), 0)), ['v6top']);
  const off = Buffer.concat([Buffer.alloc(3), v6('2001:db8::1')]);
  assert.deepEqual(feedsOf(s, s.lookupIPv6(off, 3)), ['v6h']);
  // Domains: exact, parent, most specific, case and trailing dot, no partial-label match.
  assert.deepEqual(feedsOf(s, s.lookupDomain('evil.com')), ['dom']);
  assert.deepEqual(feedsOf(s, s.lookupDomain('A.X.Evil.COM.')), ['dom']);
  assert.deepEqual(feedsOf(s, s.lookupDomain('a.b.evil.com')), ['dom2']);
  assert.equal(s.lookupDomain('notevil.com'), -1);
  assert.equal(s.lookupDomain('com'), -1);
  assert.equal(s.lookupDomain('evil.com.au'), -1);
  const q = Buffer.from('xxpool.minexmr.comyy');
  assert.equal(s.describe(s.lookupDomainBytes(q, 2, q.length - 2))[0].category, 'mining');
  assert.equal(s.lookupDomainBytes(q, 0, q.length - 2), -1); // "xxpool" is not the label "pool"
  // URLs (normalised key) and hashes.
  assert.deepEqual(feedsOf(s, s.lookupUrl(normalizeUrl('http://bad.example/Path~?q=1')!)), ['url']);
  assert.deepEqual(feedsOf(s, s.lookupUrl(normalizeUrl('https://BAD.example:443/Path%7E?q=1')!)), ['url']);
  assert.equal(s.lookupUrl(normalizeUrl('http://bad.example/path~?q=1')!), -1);
  assert.deepEqual(feedsOf(s, s.lookupHash('ja3', 'b386946a5a44d1ddcc843bc75336dfce')), ['ja3']);
  assert.deepEqual(feedsOf(s, s.lookupHash('sha1', '19E664F09401BF648B6EA57719E34AD795F3B6CB')), ['cert']);
  assert.equal(s.lookupHash('md5', 'b386946a5a44d1ddcc843bc75336dfce'), -1);
}

test('store lookups: CIDR boundaries, nesting, ports, IPv6, parent domains, URLs, hashes', () => {
  checkSample(build(SAMPLE));
});

test('compile → write → load gives the same answers; bad files are clear errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-intel-'));
  try {
    const s = build(SAMPLE);
    const f = join(dir, 'intel.hrn');
    const size = writeIntelStore(s, f);
    assert.equal(readFileSync(f).length, size);
    const l = loadIntelStore(f);
    checkSample(l);
    assert.deepEqual(l.counts(), s.counts());
    // Unaligned buffer is copied, not misread.
    const raw = readFileSync(f);
    const shifted = Buffer.concat([Buffer.alloc(3), raw]).subarray(3);
    checkSample(intelStoreFromBuffer(shifted));
    const bad = join(dir, 'bad');
    writeFileSync(bad, 'hello world, not a store');
    assert.throws(() => loadIntelStore(bad), (e: unknown) => e instanceof HarrierError && e.code === 'HARRIER_ERR_INTEL_STORE');
    writeFileSync(bad, raw.subarray(0, raw.length - 100));
    assert.throws(() => loadIntelStore(bad), /truncated/);
    assert.throws(() => loadIntelStore(join(dir, 'missing')), (e: unknown) => e instanceof HarrierError && e.code === 'HARRIER_ERR_INPUT_OPEN');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('random ranges: lookups agree with a brute-force most-specific search', () => {
  let seed = 7;
  const rnd = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed;
  };
  const nets: Array<[number, number, string]> = [];
  const b = new IntelStoreBuilder();
  for (let i = 0; i < 400; i++) {
    const prefix = 8 + (rnd() % 25);
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    const start = ((0x0a000000 | (rnd() & 0x00ffffff)) & mask) >>> 0;
    const feed = `f${i % 7}`;
    nets.push([start, prefix, feed]);
    b.add(feed, 'c2', { kind: 'ipv4', value: `${start >>> 24}.${(start >>> 16) & 255}.${(start >>> 8) & 255}.${start & 255}/${prefix}`, port: 0, confidence: -1, category: null, tag: null });
  }
  const s = b.build();
  for (let i = 0; i < 5000; i++) {
    const a = (0x0a000000 | (rnd() & 0x00ffffff)) >>> 0;
    let best = -1;
    const feeds = new Set<string>();
    for (const [st, p, f] of nets) {
      const size = 2 ** (32 - p);
      if (a >= st && a < st + size) {
        if (p > best) {
          best = p;
          feeds.clear();
        }
        if (p === best) feeds.add(f);
      }
    }
    assert.deepEqual(feedsOf(s, s.lookupIPv4(a)), [...feeds].sort(), `address ${a}`);
  }
});

test('allow-list: IPs, CIDRs, domains with subdomains; invalid entries reported', () => {
  const a = Allowlist.fromEntries(['10.0.0.0/8', '# comment', 'registry.example.com', '2001:db8::/32', 'bogus entry', '1.2.3.4:80']);
  assert.equal(a.report.entries, 3);
  assert.deepEqual(a.report.invalid, ['bogus entry', '1.2.3.4:80']);
  assert.ok(a.allowsIPv4(ip('10.20.30.40')));
  assert.ok(!a.allowsIPv4(ip('11.0.0.1')));
  assert.ok(a.allowsDomain('eu.registry.example.com'));
  assert.ok(!a.allowsDomain('example.com'));
  assert.ok(a.allowsIPv6(v6('2001:db8::5'), 0));
  assert.ok(!Allowlist.empty().allowsIPv4(ip('10.0.0.1')));
});

test('domains: parent-suffix markers stop the walk early without losing a match (random nested names vs brute force)', () => {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const labels = ['a', 'b', 'c', 'dd', 'x-y'];
  const name = (depth: number): string => [...Array.from({ length: depth }, () => labels[rnd(labels.length)]), rnd(2) ? 'test' : 'example'].join('.');
  for (let round = 0; round < 20; round++) {
    const listed = new Set<string>();
    for (let i = 0; i < 30; i++) listed.add(name(1 + rnd(4)));
    const b = new IntelStoreBuilder();
    for (const d of listed) b.add('f', 'c2', { kind: 'domain', value: d, port: 0, confidence: -1, category: null, tag: null });
    const s = b.build();
    assert.equal(s.counts().domains, listed.size, 'markers are not counted as entries');
    for (let q = 0; q < 300; q++) {
      const query = name(1 + rnd(6));
      // Brute force: the longest listed suffix at a label boundary.
      let want: string | null = null;
      for (let i = 0; i < query.length; i++) {
        if (i === 0 || query[i - 1] === '.') {
          const suf = query.slice(i);
          if (listed.has(suf)) {
            want = suf;
            break;
          }
        }
      }
      const e = s.lookupDomainEntry(query.toUpperCase());
      assert.equal(e < 0 ? null : s.domainEntryName(e), want, query);
      const bytes = Buffer.from(query + '.');
      const eb = s.lookupDomainEntryBytes(bytes, 0, bytes.length);
      assert.equal(eb, e);
    }
  }
});

test('IPv4 bucket index sized by range count: 200k addresses (a /18 index) answer exactly', () => {
  let seed = 777;
  const rnd = (): number => {
    seed ^= seed << 13;
    seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>>= 0);
  };
  const listed = new Set<number>();
  const b = new IntelStoreBuilder();
  const ind = { kind: 'ipv4' as const, value: '', port: 0, confidence: -1, category: null, tag: null };
  while (listed.size < 200_000) {
    const v = rnd();
    listed.add(v);
    ind.value = `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
    b.add('f', 'c2', ind);
  }
  const s = b.build();
  assert.equal(s.p.v4.blockShift, 32 - 18);
  for (const v of listed) assert.ok(s.lookupIPv4(v) >= 0);
  for (let i = 0; i < 200_000; i++) {
    const v = rnd();
    assert.equal(s.lookupIPv4(v) >= 0, listed.has(v));
    // Neighbours of listed addresses are the interesting misses.
    if (i < 50_000) {
      const n = (v ^ 1) >>> 0;
      assert.equal(s.lookupIPv4(n) >= 0, listed.has(n));
    }
  }
  assert.equal(s.lookupIPv4(0) >= 0, listed.has(0));
  assert.equal(s.lookupIPv4(0xffffffff) >= 0, listed.has(0xffffffff));
});

test('raw builder entry points (addIPv4Net, addIPv6Net, addDomainBytes) agree with add() of the same text', () => {
  const text = new IntelStoreBuilder();
  const raw = new IntelStoreBuilder();
  const nets = ['10.0.0.0/8', '10.1.2.3', '10.1.2.77/24', '192.0.2.1', '0.0.0.0/0', '203.0.113.0/25'];
  const m = raw.metaId('f', 'c2', null, -1, 0);
  for (const n of nets) {
    text.add('f', 'c2', { kind: 'ipv4', value: n, port: 0, confidence: -1, category: null, tag: null });
    const [a, p] = n.split('/');
    raw.addIPv4Net(parseIPv4(a), p === undefined ? 32 : Number(p), m); // host bits masked by the builder
  }
  for (const n of ['2001:db8::1', '2001:db8:1::/48']) {
    text.add('f', 'c2', { kind: 'ipv6', value: n, port: 0, confidence: -1, category: null, tag: null });
    const [a, p] = n.split('/');
    raw.addIPv6Net(parseIPv6(a)!, p === undefined ? 128 : Number(p), m);
  }
  // Domains: the byte normaliser must accept and refuse exactly what normalizeDomain does.
  const names = ['Evil.COM', '*.wild.example', '.lead.example', 'trail.example.', ' spaced.example ', 'a..b.com', 'single', 'x.123', '1.2.3.4', 'ok-_.x1', 'bad!.com', 'é.example', `${'a'.repeat(64)}.com`, `${'a'.repeat(63)}.com`, '', '.', '*.'];
  let accepted = 0;
  for (const d of names) {
    text.add('f', 'c2', { kind: 'domain', value: d, port: 0, confidence: -1, category: null, tag: null });
    const b = Buffer.from(d, 'utf8');
    const ok = raw.addDomainBytes(b, 0, b.length, m);
    assert.equal(ok, normalizeDomain(d) !== null, JSON.stringify(d));
    if (ok) accepted++;
  }
  assert.equal(raw.rejected, names.length - accepted);
  assert.equal(text.rejected, raw.rejected);
  const st = text.build();
  const sr = raw.build();
  assert.deepEqual(sr.counts(), st.counts());
  for (const q of ['10.1.2.3', '10.1.2.4', '10.9.9.9', '11.0.0.1', '192.0.2.1', '192.0.2.2', '203.0.113.127', '203.0.113.128']) assert.equal(sr.lookupIPv4(ip(q)) >= 0, st.lookupIPv4(ip(q)) >= 0, q);
  for (const q of ['x.evil.com', 'wild.example', 'a.lead.example', 'trail.example', 'spaced.example', 'ok-_.x1', 'é.example', 'other.com']) {
    const b = Buffer.from(q, 'utf8');
    assert.equal(sr.lookupDomainBytes(b, 0, b.length) >= 0, st.lookupDomainBytes(b, 0, b.length) >= 0, q);
  }
  assert.ok(sr.lookupDomain('x.evil.com') >= 0 && sr.lookupDomain('other.com') < 0);
  assert.throws(() => raw.build(), /after build/);
});

test('a domain or network listed by several feeds carries every feed; markers and HAS_CHILD survive write/load', () => {
  const b = new IntelStoreBuilder();
  const add = (feed: string, kind: IndicatorKind, value: string): void => b.add(feed, 'c2', { kind, value, port: 0, confidence: -1, category: null, tag: null });
  add('f1', 'domain', 'evil.example');
  add('f2', 'domain', 'EVIL.example');
  add('f1', 'domain', 'evil.example'); // same feed again: one member
  add('f3', 'domain', 'deep.a.b.evil.example');
  add('f1', 'ipv4', '198.51.100.0/24');
  add('f2', 'ipv4', '198.51.100.0/24');
  add('f3', 'ipv4', '198.51.100.7');
  const s = b.build();
  const dir = mkdtempSync(join(tmpdir(), 'harrier-intel-'));
  try {
    const f = join(dir, 's.hrn');
    writeIntelStore(s, f);
    for (const t of [s, loadIntelStore(f)]) {
      assert.deepEqual(feedsOf(t, t.lookupDomain('www.evil.example')), ['f1', 'f2']);
      // a.b.evil.example is a marker under evil.example: the walk goes on to the deeper listed name.
      assert.deepEqual(feedsOf(t, t.lookupDomain('x.deep.a.b.evil.example')), ['f3']);
      assert.deepEqual(feedsOf(t, t.lookupDomain('a.b.evil.example')), ['f1', 'f2']);
      assert.equal(t.lookupDomain('b.evil.example.org'), -1);
      assert.equal(t.counts().domains, 2);
      assert.deepEqual(feedsOf(t, t.lookupIPv4(ip('198.51.100.1'))), ['f1', 'f2']);
      assert.deepEqual(feedsOf(t, t.lookupIPv4(ip('198.51.100.7'))), ['f3']);
      const e = t.lookupDomainEntry('Q.EVIL.EXAMPLE.');
      assert.equal(t.domainEntryName(e), 'evil.example');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a store file of an older format version is refused with a one-line error naming the fix', () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-intel-'));
  try {
    const f = join(dir, 'old.hrn');
    writeIntelStore(build(SAMPLE), f);
    const raw = readFileSync(f);
    raw.writeUInt32LE(2, 8);
    writeFileSync(f, raw);
    assert.throws(
      () => loadIntelStore(f),
      (e: unknown) => e instanceof HarrierError && e.code === 'HARRIER_ERR_INTEL_STORE' && /version 2/.test(e.message) && /harrier intel update/.test(e.message) && !e.message.includes('\n'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('IPv4 at a /24 index (≥ 8M ranges is too big for a unit test; the index width is forced): sorted radix build answers like brute force', () => {
  // 60k random /32s and 1k random CIDRs /12–/31 inside 100.64.0.0/10, nested and overlapping.
  let seed = 4242;
  const rnd = (): number => {
    seed ^= seed << 13;
    seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>>= 0);
  };
  const base = 0x64400000;
  const b = new IntelStoreBuilder();
  const metas = [0, 1, 2].map((i) => b.metaId(`f${i}`, 'c2', null, -1, 0));
  const nets: Array<[number, number, number]> = [];
  for (let i = 0; i < 61_000; i++) {
    const prefix = i < 1000 ? 12 + (rnd() % 20) : 32;
    const mask = (0xffffffff << (32 - prefix)) >>> 0;
    const start = ((base | (rnd() & 0x003fffff)) & mask) >>> 0;
    const f = rnd() % 3;
    nets.push([start, prefix, f]);
    b.addIPv4Net(start, prefix, metas[f]);
  }
  const s = b.build();
  const v4 = s.p.v4;
  // Rebuild the index at /24 to exercise the width used at the scale.
  const r = v4.ranges;
  const block = new Uint32Array(2 ** 24 + 1);
  let k = 0;
  for (let top = 0; top < 2 ** 24; top++) {
    while (k < r.length / 3 && r[3 * k] < top * 256) k++;
    block[top] = k;
  }
  block[2 ** 24] = r.length / 3;
  v4.block = block;
  v4.blockShift = 8;
  const hosts = new Map<number, Set<string>>();
  for (const [st, p, f] of nets) if (p === 32) hosts.set(st, (hosts.get(st) ?? new Set()).add(`f${f}`));
  for (let i = 0; i < 20_000; i++) {
    const a = i % 4 === 0 ? nets[rnd() % nets.length][0] : (base | (rnd() & 0x003fffff)) >>> 0;
    // Brute force: a listed /32 wins; otherwise the longest CIDR (the first 1000 networks) holding a.
    let feeds = hosts.get(a) ?? new Set<string>();
    if (feeds.size === 0) {
      let best = -1;
      for (let j = 0; j < 1000; j++) {
        const [st, p, f] = nets[j];
        if (a >= st && a <= st + 2 ** (32 - p) - 1) {
          if (p > best) {
            best = p;
            feeds = new Set();
          }
          if (p === best) feeds.add(`f${f}`);
        }
      }
    }
    assert.deepEqual(feedsOf(s, s.lookupIPv4(a)), [...feeds].sort(), `address ${a}`);
  }
});

test('batch lookups (IPv4, domain strings and bytes) give exactly the single lookups’ answers', () => {
  let seed = 99;
  const rnd = (): number => {
    seed ^= seed << 13;
    seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>>= 0);
  };
  const b = new IntelStoreBuilder();
  const m = b.metaId('f', 'c2', null, -1, 0);
  const m2 = b.metaId('g', 'mining', null, -1, 0);
  for (let i = 0; i < 5000; i++) b.addIPv4Net(rnd(), i % 10 === 0 ? 8 + (rnd() % 24) : 32, i & 1 ? m : m2);
  const listed: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const d = `${i % 7 === 0 ? 'sub.' : ''}n${(rnd() % 5000).toString(36)}.${['com', 'net', 'lab.test'][i % 3]}`;
    listed.push(d);
    const bytes = Buffer.from(d);
    b.addDomainBytes(bytes, 0, bytes.length, i & 1 ? m : m2);
  }
  const s = b.build();
  // 1,000 queries (not a multiple of the batch size), listed and random.
  const ips = new Uint32Array(1000);
  for (let i = 0; i < ips.length; i++) ips[i] = i % 3 === 0 ? (s.p.v4.ranges[3 * (rnd() % (s.p.v4.ranges.length / 3))] + (rnd() % 3)) >>> 0 : rnd();
  const out = new Int32Array(ips.length);
  s.lookupIPv4Batch(ips, out);
  let hits = 0;
  for (let i = 0; i < ips.length; i++) {
    assert.equal(out[i], s.lookupIPv4(ips[i]), `ip ${ips[i]}`);
    if (out[i] >= 0) hits++;
  }
  assert.ok(hits > 200, `hits ${hits}`);
  const names: string[] = [];
  for (let i = 0; i < 999; i++) names.push(i % 2 ? `www.${listed[rnd() % listed.length]}${i % 5 === 0 ? '.' : ''}` : `x.n${rnd().toString(36)}.com`);
  names.push('com', '', '.', 'a.b');
  const bytes = Buffer.from(names.join(''));
  const offs = new Uint32Array(names.length + 1);
  for (let i = 0; i < names.length; i++) offs[i + 1] = offs[i] + Buffer.byteLength(names[i]);
  const os = new Int32Array(names.length);
  const ob = new Int32Array(names.length);
  s.lookupDomainBatch(names, os);
  s.lookupDomainBytesBatch(bytes, offs, ob);
  let dh = 0;
  for (let i = 0; i < names.length; i++) {
    assert.equal(os[i], s.lookupDomain(names[i]), names[i]);
    assert.equal(ob[i], os[i], names[i]);
    if (os[i] >= 0) dh++;
  }
  assert.ok(dh >= 490, `domain hits ${dh}`);
});

test('a corrupt table (every slot taken, a slot past the blob) is refused at load, not an endless probe', () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-intel-'));
  try {
    const f = join(dir, 's.hrn');
    writeIntelStore(build(SAMPLE), f);
    const raw = readFileSync(f);
    const hlen = raw.readUInt32LE(12);
    const header = JSON.parse(raw.toString('utf8', 16, 16 + hlen)) as { sections: Array<{ name: string; type: string; length: number }> };
    let pos = 16 + hlen;
    const at: Record<string, number> = {};
    for (const sec of header.sections) {
      if (pos % 8) pos += 8 - (pos % 8);
      at[sec.name] = pos;
      pos += sec.length * (sec.type === 'u8' ? 1 : 4);
    }
    const slots = header.sections.find((x) => x.name === 'domains.slots')!;
    const full = Buffer.from(raw);
    for (let i = 1; i < slots.length; i += 2) full.writeUInt32LE(1, at['domains.slots'] + 4 * i);
    writeFileSync(f, full);
    assert.throws(() => loadIntelStore(f), /inconsistent table domains/);
    const past = Buffer.from(raw);
    past.writeUInt32LE(0x7fffffff, at['domains.slots'] + 4);
    writeFileSync(f, past);
    assert.throws(() => loadIntelStore(f), /inconsistent table domains/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
