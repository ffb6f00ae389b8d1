/**
 * `intel export`: CIDR aggregation is exact and minimal (checked against a
 * bitmap), Calico/Cilium objects parse back as YAML with the right shapes,
 * are split under the size limits and cover every listed address exactly
 * once; the DNS formats are well formed (RPZ also through named-checkzone
 * when bind9-utils is installed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { IntelStoreBuilder } from '../../src/detect/intel/builder.js';
import { parseFeedText } from '../../src/detect/intel/feeds/registry.js';
import { mergeRanges4, mergeRanges6, rangeToCidrs4, rangeToCidrs6, renderExport } from '../../src/detect/intel/export/index.js';
import { parseIPNet, parseIPv4 } from '../../src/detect/intel/normalize.js';
import { REPO_ROOT } from '../support/shared.js';

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>>= 0);
  };
}
const ipText = (v: number): string => `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;

test('range → CIDR: known cases', () => {
  assert.deepEqual(rangeToCidrs4(parseIPv4('10.0.0.0'), parseIPv4('10.0.0.255')), ['10.0.0.0/24']);
  assert.deepEqual(rangeToCidrs4(parseIPv4('203.0.113.50'), parseIPv4('203.0.113.51')), ['203.0.113.50/31']);
  assert.deepEqual(rangeToCidrs4(0, 0xffffffff), ['0.0.0.0/0']);
  assert.deepEqual(rangeToCidrs4(parseIPv4('10.0.0.1'), parseIPv4('10.0.0.6')), ['10.0.0.1/32', '10.0.0.2/31', '10.0.0.4/31', '10.0.0.6/32']);
  assert.deepEqual(rangeToCidrs4(parseIPv4('255.255.255.255'), 0xffffffff), ['255.255.255.255/32']);
  assert.deepEqual(mergeRanges4([5, 1, 3, 10], [6, 2, 4, 12]), [[1, 6], [10, 12]]);
  const v6 = (s: string): bigint => {
    const n = parseIPNet(s)!;
    return (BigInt(n.words[0]) << 96n) | (BigInt(n.words[1]) << 64n) | (BigInt(n.words[2]) << 32n) | BigInt(n.words[3]);
  };
  assert.deepEqual(rangeToCidrs6(v6('2001:db8::'), v6('2001:db8::ffff')), ['2001:db8::/112']);
  assert.deepEqual(
    mergeRanges6([[v6('2001:db8::2'), v6('2001:db8::3')], [v6('2001:db8::'), v6('2001:db8::1')]]).flatMap(([s, e]) => rangeToCidrs6(s, e)),
    ['2001:db8::/126'],
  );
});

test('range → CIDR: random ranges, exact cover and minimal (bitmap check)', () => {
  const r = rng(11);
  const BASE = parseIPv4('10.0.0.0');
  const SPACE = 1 << 14;
  for (let round = 0; round < 40; round++) {
    const n = 1 + (r() % 12);
    const s: number[] = [];
    const e: number[] = [];
    const want = new Uint8Array(SPACE);
    for (let i = 0; i < n; i++) {
      const a = r() % SPACE;
      const b = Math.min(SPACE - 1, a + (r() % 700));
      s.push(BASE + a);
      e.push(BASE + b);
      want.fill(1, a, b + 1);
    }
    const cidrs: string[] = [];
    for (const [a, b] of mergeRanges4(s, e)) rangeToCidrs4(a, b, cidrs);
    const got = new Uint8Array(SPACE);
    let prevEnd = -1;
    const blocks: Array<[number, number]> = [];
    for (const c of cidrs) {
      const net = parseIPNet(c)!;
      const start = net.words[0] - BASE;
      const size = 2 ** (32 - net.prefix);
      assert.ok(start > prevEnd, `sorted and disjoint: ${c}`);
      prevEnd = start + size - 1;
      for (let k = start; k < start + size; k++) got[k]++;
      blocks.push([start, size]);
    }
    assert.deepEqual(got, want, `round ${round}: CIDRs cover exactly the ranges`);
    // Minimal: no two consecutive blocks are the two halves of one aligned block.
    for (let i = 1; i < blocks.length; i++) {
      const [a, sa] = blocks[i - 1];
      const [b, sb] = blocks[i];
      assert.ok(!(sa === sb && a + sa === b && a % (2 * sa) === 0), `round ${round}: ${cidrs[i - 1]} + ${cidrs[i]} should be one block`);
    }
  }
});

/** A store with `n` random listed IPv4 addresses, a few CIDRs, IPv6, and domains. */
function bigStore(n: number): { store: ReturnType<IntelStoreBuilder['build']>; ips: number[] } {
  const r = rng(5);
  const ips: number[] = [];
  for (let i = 0; i < n; i++) ips.push(r());
  const text = [...ips.map(ipText), '192.0.2.0/24', '198.51.100.0/25', '198.51.100.128/25', '2001:db8:1::/48', '2001:db8:1::5', 'evil.test', 'sub.evil.test', 'other.example', 'x_y.bad-site.test'].join('\n');
  const b = new IntelStoreBuilder();
  parseFeedText(text, 'c2-big.txt', b);
  parseFeedText('pool.mine.test\n203.0.113.30\n', 'mining.txt', b);
  return { store: b.build(), ips };
}

function coverCount(cidrs: Array<[number, number]>, ip: number): number {
  let n = 0;
  // cidrs sorted by start: binary search the last start ≤ ip, then walk back over (disjoint) blocks.
  let lo = 0;
  let hi = cidrs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (cidrs[mid][0] <= ip) lo = mid;
    else hi = mid - 1;
  }
  for (let i = lo; i >= 0 && i >= lo - 1; i--) if (cidrs[i][0] <= ip && ip <= cidrs[i][1]) n++;
  return n;
}

test('calico and cilium: YAML shapes, split under the limits, every listed IP covered exactly once', () => {
  const { store, ips } = bigStore(12_000);
  for (const format of ['calico', 'cilium'] as const) {
    const res = renderExport(format, [store], { maxCidrs: 5_000 });
    assert.equal(res.files.length, 1);
    const docs = parseAllDocuments(res.files[0].text).map((d) => d.toJS() as Record<string, any>);
    const cidrText: string[] = [];
    if (format === 'calico') {
      assert.equal(docs[0].kind, 'Tier');
      const sets = docs.filter((d) => d.kind === 'GlobalNetworkSet');
      const pol = docs.filter((d) => d.kind === 'GlobalNetworkPolicy');
      assert.equal(pol.length, 1);
      assert.equal(pol[0].spec.tier, docs[0].metadata.name);
      assert.ok(pol[0].metadata.name.startsWith(`${docs[0].metadata.name}.`));
      assert.deepEqual(pol[0].spec.types, ['Egress']);
      assert.equal(pol[0].spec.egress[0].action, 'Deny');
      assert.equal(pol[0].spec.egress.at(-1).action, 'Pass', 'everything else goes on to the next tier');
      assert.equal(sets.length, 3, '12k+ CIDRs in sets of at most 5k');
      for (const s of sets) {
        assert.equal(s.apiVersion, 'projectcalico.org/v3');
        assert.equal(s.metadata.labels['harrier.io/intel'], 'blocked');
        assert.ok(s.spec.nets.length <= 5_000);
        assert.ok(JSON.stringify(s).length < 1024 * 1024, 'each object well under etcd\'s 1.5 MiB request limit');
        cidrText.push(...s.spec.nets);
      }
      assert.match(pol[0].spec.egress[0].destination.selector, /harrier\.io\/intel == 'blocked'/);
    } else {
      assert.equal(docs.length, 3);
      for (const d of docs) {
        assert.equal(d.apiVersion, 'cilium.io/v2');
        assert.equal(d.kind, 'CiliumClusterwideNetworkPolicy');
        assert.deepEqual(d.spec.endpointSelector, {});
        assert.deepEqual(d.spec.enableDefaultDeny, { egress: false, ingress: false });
        assert.equal(d.spec.egressDeny.length, 1);
        const set = d.spec.egressDeny[0].toCIDRSet as Array<{ cidr: string }>;
        assert.ok(set.length <= 5_000);
        assert.ok(JSON.stringify(d).length < 1024 * 1024);
        cidrText.push(...set.map((x) => x.cidr));
      }
    }
    assert.ok(cidrText.includes('192.0.2.0/24'));
    assert.ok(cidrText.includes('198.51.100.0/24'), 'adjacent /25s aggregated into a /24');
    assert.ok(cidrText.includes('2001:db8:1::/48'), 'IPv6 inside its /48 collapses into it');
    const v4 = cidrText
      .filter((c) => !c.includes(':'))
      .map((c): [number, number] => {
        const n = parseIPNet(c)!;
        return [n.words[0], n.words[0] + 2 ** (32 - n.prefix) - 1];
      })
      .sort((a, b) => a[0] - b[0]);
    for (const ip of ips) assert.equal(coverCount(v4, ip), 1, ipText(ip));
    assert.equal(coverCount(v4, parseIPv4('203.0.113.30')), 1);
    const r = rng(99);
    const listed = new Set(ips);
    let outside = 0;
    for (let i = 0; i < 20_000; i++) {
      const ip = r();
      if (listed.has(ip) || store.lookupIPv4(ip) >= 0) continue;
      outside++;
      assert.equal(coverCount(v4, ip), 0, `unlisted ${ipText(ip)} must not be blocked`);
    }
    assert.ok(outside > 19_000);
  }
  // Category filter: only the mining feed.
  const mining = renderExport('cilium', [store], { categories: ['mining'] });
  const d = parseAllDocuments(mining.files[0].text).map((x) => x.toJS() as Record<string, any>);
  assert.deepEqual(d[0].spec.egressDeny[0].toCIDRSet, [{ cidr: '203.0.113.30/32' }]);
});

test('RPZ, dnsmasq and CoreDNS hosts', () => {
  const { store } = bigStore(10);
  const rpz = renderExport('rpz', [store], { zone: 'rpz.test', serial: 7 }).files[0].text;
  const lines = rpz.split('\n').filter((l) => l !== '' && !l.startsWith(';'));
  assert.equal(lines[0], '$ORIGIN rpz.test.');
  assert.match(lines[2], /^@ IN SOA \S+ \S+ 7 /);
  assert.match(lines[3], /^@ IN NS /);
  const recs = lines.slice(4);
  // sub.evil.test is covered by evil.test's wildcard: written once as a root.
  const roots = ['evil.test', 'other.example', 'pool.mine.test', 'x_y.bad-site.test'];
  assert.deepEqual(recs, roots.flatMap((d) => [`${d} CNAME .`, `*.${d} CNAME .`]));
  const zf = join(mkdtempSync(join(tmpdir(), 'harrier-rpz-')), 'rpz.zone');
  writeFileSync(zf, rpz);
  const check = spawnSync('named-checkzone', ['rpz.test', zf], { encoding: 'utf8' });
  rmSync(zf, { force: true });
  if (check.error === undefined) assert.equal(check.status, 0, `named-checkzone: ${check.stdout}${check.stderr}`);
  else console.log('# named-checkzone not installed: structural checks only');

  const dm = renderExport('dnsmasq', [store]).files[0].text.split('\n').filter((l) => l && !l.startsWith('#'));
  assert.deepEqual(dm, ['address=/evil.test/', 'address=/other.example/', 'address=/pool.mine.test/', 'address=/x_y.bad-site.test/']);
  const hosts = renderExport('coredns', [store]).files[0].text.split('\n').filter((l) => l && !l.startsWith('#'));
  assert.ok(hosts.includes('0.0.0.0 sub.evil.test'), 'hosts files match exact names: every listed name is written');
  assert.ok(hosts.includes(':: evil.test'));
  assert.equal(hosts.length, 2 * 5);
});

test('CLI: intel export writes a folder or standard output; bad format is a usage error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-intel-export-'));
  try {
    writeFileSync(join(dir, 'c2.txt'), '203.0.113.7\nbad.test\n');
    const cli = (...a: string[]) => spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'harrier.js'), 'intel', 'export', ...a], { encoding: 'utf8' });
    const r1 = cli('--format', 'calico', '--intel', join(dir, 'c2.txt'), '--out', join(dir, 'out'));
    assert.equal(r1.status, 0, r1.stderr);
    assert.match(r1.stderr, /intel export calico: 1 IPv4 \+ 0 IPv6 CIDRs in 1 object/);
    assert.match(readFileSync(join(dir, 'out', 'calico-intel.yaml'), 'utf8'), /- 203\.0\.113\.7\/32/);
    const r2 = cli('--format', 'dnsmasq', '--intel', join(dir, 'c2.txt'));
    assert.equal(r2.status, 0, r2.stderr);
    assert.match(r2.stdout, /^address=\/bad\.test\/$/m);
    const r4 = cli('--format', 'rpz');
    assert.equal(r4.status, 2);
    assert.match(r4.stderr, /nothing to export/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
