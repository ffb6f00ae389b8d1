/**
 * Intel matching end to end: hand-made frames go through the real pipeline
 * (decode → flow → app layer → IntelMatcher → AlertPath → EVE) and the intel
 * alerts are checked field by field: which field matched, the listed
 * indicator, the orientation, per-flow dedupe, port-limited entries,
 * allow-lists (global and scoped by pod identity), and EVE schema validity.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { defaultConfig } from '../../src/sensor/config.js';
import { EveCollector } from '../../src/output/eve-writer.js';
import { IntelStoreBuilder } from '../../src/detect/intel/builder.js';
import { parseFeedText } from '../../src/detect/intel/feeds/registry.js';
import { IntelMatcher, INTEL_SIDS, type IntelIdentitySource } from '../../src/detect/intel/matcher.js';
import { AllowPolicy } from '../../src/detect/intel/allowlist.js';
import { HARRIER_GID } from '../../src/detect/alert.js';
import { encodeDnsMessage } from '../../src/applayer/dns/codec.js';
import type { IntelStore } from '../../src/detect/intel/store.js';
import { eth, ipv4, ipv6, tcp, udp } from '../decode/build.js';
import { clientHelloBody, handshakeRecords, hs, sniExt, groupsExt, pointFormatsExt } from '../applayer/tls-build.js';
import { eveSchemaErrors } from '../support/eve-schema.js';
import { skipWithoutShared } from '../support/shared.js';

const POD = '10.244.2.4';
const T0 = 1_700_000_000;

/** Frames of a TCP conversation client → server with the given payloads (client first). */
function tcpConv(src: string, dst: string, sport: number, dport: number, toServer: Buffer[], toClient: Buffer[] = []): Buffer[] {
  const v6 = src.includes(':');
  const frame = (from: string, to: string, sp: number, dp: number, o: { seq: number; ack?: number; flags: number; payload?: Buffer }): Buffer => {
    const seg = tcp({ src: from, dst: to, sport: sp, dport: dp, ...o });
    return v6 ? eth(0x86dd, ipv6({ src: from, dst: to, nh: 6, payload: seg })) : eth(0x0800, ipv4({ src: from, dst: to, proto: 6, payload: seg }));
  };
  const c = (o: { seq: number; ack?: number; flags: number; payload?: Buffer }) => frame(src, dst, sport, dport, o);
  const s = (o: { seq: number; ack?: number; flags: number; payload?: Buffer }) => frame(dst, src, dport, sport, o);
  const out: Buffer[] = [];
  let cs = 100;
  let ss = 9000;
  out.push(c({ seq: cs, flags: 0x02 }), s({ seq: ss, ack: cs + 1, flags: 0x12 }));
  cs++;
  ss++;
  out.push(c({ seq: cs, ack: ss, flags: 0x10 }));
  for (let i = 0; i < Math.max(toServer.length, toClient.length); i++) {
    const a = toServer[i];
    if (a) {
      out.push(c({ seq: cs, ack: ss, flags: 0x18, payload: a }));
      cs += a.length;
    }
    const b = toClient[i];
    if (b) {
      out.push(s({ seq: ss, ack: cs, flags: 0x18, payload: b }));
      ss += b.length;
    }
  }
  out.push(c({ seq: cs, ack: ss, flags: 0x11 }), s({ seq: ss, ack: cs + 1, flags: 0x11 }), c({ seq: cs + 1, ack: ss + 1, flags: 0x10 }));
  return out;
}

function udpPair(src: string, dst: string, sport: number, dport: number, q: Buffer, r: Buffer | null): Buffer[] {
  const out = [eth(0x0800, ipv4({ src, dst, proto: 17, payload: udp({ src, dst, sport, dport, payload: q }) }))];
  if (r) out.push(eth(0x0800, ipv4({ src: dst, dst: src, proto: 17, payload: udp({ src: dst, dst: src, sport: dport, dport: sport, payload: r }) })));
  return out;
}

function storeOf(feeds: Record<string, string>): IntelStore {
  const b = new IntelStoreBuilder();
  for (const [name, text] of Object.entries(feeds)) parseFeedText(text, name, b);
  return b.build();
}

interface Run {
  alerts: Array<Record<string, any>>;
  all: Array<Record<string, unknown>>;
  counters: Record<string, number>;
}

function run(store: IntelStore, convs: Buffer[][], opts: { allow?: AllowPolicy; identity?: IntelIdentitySource } = {}): Run {
  const eve = new EveCollector();
  const p = new Pipeline(defaultConfig(), { eve });
  p.addDetector(new IntelMatcher(store, p.alerts, opts));
  let t = 0;
  for (const conv of convs) {
    for (const f of conv) {
      t++;
      p.frame(f, 0, f.length, f.length, T0 + Math.floor(t / 10), (t % 10) * 1e8, 1, 0);
    }
  }
  p.finish();
  const alerts = eve.out.filter((r) => r.event_type === 'alert') as Array<Record<string, any>>;
  return { alerts, all: eve.out, counters: p.counters() };
}

const dnsQuery = (id: number, name: string): Buffer => encodeDnsMessage({ id, rd: true, questions: [{ name, type: 1, class: 1 }] });

const FEEDS = {
  'c2-list.txt': '203.0.113.66:4444\nevil.test\n198.51.100.9\n2001:db8:bad::/48\n',
  'mining-pools.txt': 'pool.mine.test\n203.0.113.30\n',
  'urls.txt': 'http://www.shop.test/gate.php\n',
  'trails/maltrail/malware/zeus.txt': '/admin/loader.php\n',
};

test('IP matches: once per flow, port-limited entries, both sides, IPv6', () => {
  const s = storeOf(FEEDS);
  const many = Array.from({ length: 20 }, (_, i) => Buffer.from(`line ${i}\n`));
  const r = run(s, [
    tcpConv(POD, '203.0.113.66', 40001, 4444, many, many), // listed ip:port, 20 data packets each way
    tcpConv(POD, '203.0.113.66', 40002, 80, [Buffer.from('x')]), // same IP, other port: not listed
    tcpConv('198.51.100.9', POD, 50000, 8080, [Buffer.from('scan')]), // listed client (inbound)
    tcpConv('fd00::5', '2001:db8:bad:1::7', 40003, 443, [Buffer.from('x')]),
    tcpConv(POD, '203.0.113.99', 40004, 80, [Buffer.from('x')]), // not listed
  ]);
  const ip = r.alerts.filter((a) => a.alert.metadata.harrier_field[0].endsWith('_ip'));
  assert.equal(ip.length, 3, JSON.stringify(ip.map((a) => a.alert.signature)));
  const c2 = ip.find((a) => a.dest_ip === '203.0.113.66')!;
  assert.equal(c2.dest_port, 4444);
  assert.equal(c2.src_ip, POD);
  assert.equal(c2.alert.gid, HARRIER_GID.INTEL);
  assert.equal(c2.alert.signature_id, INTEL_SIDS.dest_ip);
  assert.equal(c2.alert.signature, 'HARRIER INTEL c2 c2-list.txt: 203.0.113.66');
  assert.deepEqual(c2.alert.metadata.harrier_feed, ['c2-list.txt']);
  assert.deepEqual(c2.alert.metadata.harrier_category, ['c2']);
  assert.deepEqual(c2.alert.metadata.harrier_field, ['dest_ip']);
  assert.equal(c2.alert.severity, 1);
  const inbound = ip.find((a) => a.src_ip === '198.51.100.9')!;
  assert.deepEqual(inbound.alert.metadata.harrier_field, ['src_ip']);
  assert.equal(inbound.alert.signature_id, INTEL_SIDS.src_ip);
  const v6 = ip.find((a) => a.dest_ip.includes(':'))!; // EVE writes IPv6 in full (2001:0db8:0bad:…)
  assert.ok(v6, 'IPv6 CIDR entry matched');
  assert.equal(r.counters['harrier.intel.flows_checked'], 5);
  assert.equal(r.counters['harrier.intel.alerts'], 3);
});

test('DNS: query names (parent domains), CNAME chains and A answers', () => {
  const s = storeOf(FEEDS);
  const q1 = dnsQuery(1, 'a.b.evil.test');
  const r1 = encodeDnsMessage({ id: 1, qr: true, rd: true, ra: true, questions: [{ name: 'a.b.evil.test', type: 1, class: 1 }], answers: [{ name: 'a.b.evil.test', type: 1, ttl: 60, data: { kind: 'a', address: '192.0.2.1' } }] });
  const q2 = dnsQuery(2, 'innocent.example');
  const r2 = encodeDnsMessage({
    id: 2,
    qr: true,
    questions: [{ name: 'innocent.example', type: 1, class: 1 }],
    answers: [
      { name: 'innocent.example', type: 5, ttl: 60, data: { kind: 'name', name: 'cdn.pool.mine.test' } },
      { name: 'cdn.pool.mine.test', type: 1, ttl: 60, data: { kind: 'a', address: '203.0.113.30' } },
    ],
  });
  const r = run(s, [udpPair(POD, '10.96.0.10', 33000, 53, q1, r1), udpPair(POD, '10.96.0.10', 33001, 53, q2, r2)]);
  const byField = (f: string) => r.alerts.filter((a) => a.alert.metadata.harrier_field[0] === f);
  const q = byField('dns.query');
  assert.equal(q.length, 1, 'query alerted once (the answer repeats the name: deduplicated)');
  assert.deepEqual(q[0].alert.metadata.harrier_indicator, ['evil.test']);
  assert.deepEqual(q[0].alert.metadata.harrier_observed, ['a.b.evil.test']);
  assert.equal(q[0].src_ip, POD);
  assert.equal(q[0].dns.type, 'query');
  const ans = byField('dns.answer');
  const inds = ans.map((a) => a.alert.metadata.harrier_indicator[0]).sort();
  assert.deepEqual(inds, ['203.0.113.30', 'pool.mine.test']);
  for (const a of ans) {
    assert.equal(a.src_ip, POD, 'an answer alert is oriented from the asking pod');
    assert.equal(a.dns.type, 'answer');
    assert.deepEqual(a.alert.metadata.harrier_category, ['mining']);
  }
  assert.ok(r.counters['harrier.intel.deduplicated'] >= 1);
});

test('HTTP host and URL (full URL and host-less path entries)', () => {
  const s = storeOf(FEEDS);
  const req1 = Buffer.from('GET /x/y?z=1 HTTP/1.1\r\nHost: cdn.evil.test:8080\r\n\r\n');
  const req2 = Buffer.from('GET /gate.php HTTP/1.1\r\nHost: WWW.shop.test\r\n\r\n');
  const req3 = Buffer.from('POST /admin/loader.php?id=7 HTTP/1.1\r\nHost: 192.0.2.77\r\nContent-Length: 0\r\n\r\n');
  const resp = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  const r = run(s, [
    tcpConv(POD, '192.0.2.10', 41000, 8080, [req1], [resp]),
    tcpConv(POD, '192.0.2.11', 41001, 80, [req2], [resp]),
    tcpConv(POD, '192.0.2.77', 41002, 80, [req3], [resp]),
  ]);
  const f = (a: Record<string, any>) => `${a.alert.metadata.harrier_field[0]} ${a.alert.metadata.harrier_indicator[0]}`;
  assert.deepEqual(r.alerts.map(f).sort(), ['http.host evil.test', 'http.url /admin/loader.php', 'http.url www.shop.test/gate.php']);
  const zeus = r.alerts.find((a) => a.alert.metadata.harrier_indicator[0] === '/admin/loader.php')!;
  assert.deepEqual(zeus.alert.metadata.harrier_tag, ['zeus']);
  assert.equal(zeus.http.url, '/admin/loader.php?id=7');
});

function clientHello(sni: string): Buffer {
  return handshakeRecords(hs(1, clientHelloBody({ ciphers: [0x1301, 0xc02f, 0x009c], exts: [sniExt(sni), groupsExt([29, 23]), pointFormatsExt([0])] })));
}

test('TLS SNI and JA3 (the hash of the flow\'s own ClientHello)', () => {
  // First pass learns the ClientHello's JA3 hash from the EVE tls record; the second lists it.
  const conv = () => [tcpConv(POD, '192.0.2.20', 42000, 443, [clientHello('login.evil.test')])];
  const first = run(storeOf({ 'x.txt': 'unrelated.test\n' }), conv());
  const tlsRec = first.all.find((r) => r.event_type === 'tls') as Record<string, any> | undefined;
  assert.ok(tlsRec?.tls?.ja3?.hash, 'the app layer logged a JA3 hash');
  const ja3 = tlsRec!.tls.ja3.hash as string;
  const b = new IntelStoreBuilder();
  parseFeedText('evil.test\n', 'sni-c2.txt', b);
  b.add('sslbl-ja3', 'c2', { kind: 'ja3', value: ja3.toUpperCase(), port: 0, confidence: 80, category: null, tag: 'TestRAT' });
  const r = run(b.build(), conv());
  const f = r.alerts.map((a) => a.alert.metadata.harrier_field[0]).sort();
  assert.deepEqual(f, ['ja3', 'tls.sni']);
  const j = r.alerts.find((a) => a.alert.metadata.harrier_field[0] === 'ja3')!;
  assert.deepEqual(j.alert.metadata.harrier_indicator, [ja3]);
  assert.deepEqual(j.alert.metadata.harrier_confidence, ['80']);
  assert.deepEqual(j.alert.metadata.harrier_tag, ['TestRAT']);
  assert.equal(j.alert.signature_id, INTEL_SIDS.ja3);
  assert.ok(j.tls, 'the TLS transaction is attached');
});

test('allow-lists: global silences, scoped by namespace/workload only for that pod', () => {
  const s = storeOf(FEEDS);
  const convs = () => [
    tcpConv(POD, '203.0.113.30', 43000, 3333, [Buffer.from('{"method":"login"}\n')]),
    tcpConv('10.244.1.5', '203.0.113.30', 43001, 3333, [Buffer.from('{"method":"login"}\n')]),
    udpPair(POD, '10.96.0.10', 33002, 53, dnsQuery(3, 'x.evil.test'), null),
  ];
  const global = run(s, convs(), { allow: AllowPolicy.fromSpec(['203.0.113.0/24', 'evil.test']) });
  assert.equal(global.alerts.length, 0);
  assert.equal(global.counters['harrier.intel.allowlisted'], 3);

  const identity: IntelIdentitySource = {
    lookup: (ip) =>
      ip === POD
        ? { kind: 'pod', namespace: 'dev', workload: { kind: 'Deployment', name: 'toolbox' } }
        : ip === '10.244.1.5'
          ? { kind: 'pod', namespace: 'shop', workload: { kind: 'Deployment', name: 'legacy' } }
          : { kind: 'external' },
  };
  const scoped = run(s, convs(), { identity, allow: AllowPolicy.fromSpec([], [{ namespace: 'dev', workload: 'Deployment/toolbox', entries: ['203.0.113.30'] }]) });
  assert.deepEqual(
    scoped.alerts.map((a) => `${a.src_ip} ${a.alert.metadata.harrier_indicator[0]}`).sort(),
    ['10.244.1.5 203.0.113.30', `${POD} evil.test`],
    'the toolbox pod may reach the pool, the legacy pod may not; the DNS name is not allowed',
  );
  assert.equal(scoped.counters['harrier.intel.allowlisted'], 1);
  const wrongKind = run(s, convs(), { identity, allow: AllowPolicy.fromSpec([], [{ workload: 'StatefulSet/toolbox', entries: ['203.0.113.30'] }]) });
  assert.equal(wrongKind.counters['harrier.intel.allowlisted'], 0);
});

test('per-flow bound: many distinct indicators on one flow alert at most maxPerFlow times', () => {
  const names = Array.from({ length: 10 }, (_, i) => `n${i}.evil${i}.test`);
  const s = storeOf({ 'c2.txt': names.map((n) => n.split('.').slice(1).join('.')).join('\n') });
  const msgs = names.map((n, i) => dnsQuery(100 + i, n));
  const frames = msgs.map((m) => eth(0x0800, ipv4({ src: POD, dst: '10.96.0.10', proto: 17, payload: udp({ src: POD, dst: '10.96.0.10', sport: 34000, dport: 53, payload: m }) })));
  const eve = new EveCollector();
  const p = new Pipeline(defaultConfig(), { eve });
  p.addDetector(new IntelMatcher(s, p.alerts, { maxPerFlow: 4 }));
  frames.forEach((f, i) => p.frame(f, 0, f.length, f.length, T0 + i, 0, 1, 0));
  p.finish();
  const c = p.counters();
  assert.equal(c['harrier.intel.alerts'], 4);
  assert.equal(c['harrier.intel.per_flow_limit'], 6);
});

test('intel alerts validate against the EVE schema', { skip: skipWithoutShared('eve-schema') }, () => {
  const s = storeOf(FEEDS);
  const r = run(s, [
    tcpConv(POD, '203.0.113.66', 40001, 4444, [Buffer.from('id\n')]),
    udpPair(POD, '10.96.0.10', 33000, 53, dnsQuery(1, 'a.evil.test'), encodeDnsMessage({ id: 1, qr: true, questions: [{ name: 'a.evil.test', type: 1, class: 1 }], answers: [{ name: 'a.evil.test', type: 5, ttl: 5, data: { kind: 'name', name: 'pool.mine.test' } }] })),
    tcpConv(POD, '192.0.2.11', 41001, 80, [Buffer.from('GET /gate.php HTTP/1.1\r\nHost: www.shop.test\r\n\r\n')], [Buffer.from('HTTP/1.1 204 No Content\r\n\r\n')]),
    tcpConv(POD, '192.0.2.20', 42000, 443, [clientHello('login.evil.test')]),
  ]);
  assert.ok(r.alerts.length >= 5, `${r.alerts.length} alerts`);
  for (const a of r.alerts) assert.deepEqual(eveSchemaErrors(a), [], JSON.stringify(a));
});
