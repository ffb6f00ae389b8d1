/**
 * Behaviour detectors on synthetic traffic through the real pipeline, one
 * test per detector at the edge of its threshold (one below: quiet; at it:
 * one alert), plus the benign look-alike each must not confuse with it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Synth, T0, detectorsOf, meta } from './synth.js';
import { IdentityIndex } from '../../src/k8s/identity-index.js';
import { K8sEnricher } from '../../src/k8s/enrich.js';
import { skipWithoutShared } from '../support/shared.js';
import { eveSchemaErrors, EVE_SCHEMA } from '../support/eve-schema.js';

const CLIENT = '10.1.0.5';
const SERVER = '10.2.0.9';
const EXTERNAL = '203.0.113.7';

function count(alerts: Record<string, unknown>[], detector: string): number {
  return detectorsOf(alerts).filter((d) => d === detector).length;
}

test('scan.vertical: 19 closed ports are quiet, 20 raise one alert; successful connections never count', () => {
  for (const [ports, want] of [[19, 0], [20, 1]] as const) {
    const s = new Synth();
    for (let p = 0; p < ports; p++) s.closedPort(CLIENT, SERVER, 40000 + p, 1000 + p, T0 + p * 0.01);
    const a = s.finish();
    assert.equal(count(a, 'scan.vertical'), want, `${ports} ports`);
    if (want) assert.equal(meta(a[0]!, 'harrier_observed'), '20');
  }
  const s = new Synth();
  for (let p = 0; p < 40; p++) s.session(CLIENT, SERVER, 41000 + p, 2000 + p, T0 + p, [{ c: true, data: 'hello\n' }, { c: false, data: 'world\n' }]);
  assert.equal(count(s.finish(), 'scan.vertical'), 0, '40 services used with data');
});

test('scan.vertical: UDP ports with no reply; a long scan is one alert plus one update carrying the latest figure', () => {
  const s = new Synth();
  for (let p = 0; p < 200; p++) s.udpPkt(CLIENT, SERVER, 50000, 1 + p, Buffer.alloc(0), T0 + p * 0.01);
  const a = s.finish().filter((x) => meta(x, 'harrier_detector') === 'scan.vertical');
  assert.equal(a.length, 2, 'first alert + update');
  assert.equal(meta(a[0]!, 'harrier_observed'), '20');
  assert.equal(meta(a[1]!, 'harrier_update'), 'true');
  assert.ok(Number(meta(a[1]!, 'harrier_observed')) >= 160, `update observed ${meta(a[1]!, 'harrier_observed')}`);
  assert.equal(meta(a[1]!, 'harrier_count'), String(4)); // 20, 40, 80, 160
});

test('scan.horizontal: one port on 19 hosts is quiet, on 20 hosts one alert', () => {
  for (const [hosts, want] of [[19, 0], [20, 1]] as const) {
    const s = new Synth();
    for (let h = 0; h < hosts; h++) s.tcpPkt(CLIENT, `10.3.0.${h + 1}`, 42000 + h, 445, 0x02, T0 + h * 0.01);
    assert.equal(count(s.finish(), 'scan.horizontal'), want, `${hosts} hosts`);
  }
});

test('scan.probe: 2 odd-flag openings are quiet, 3 (NULL, FIN, Xmas) raise; ACK-first (mid-stream) never counts', () => {
  for (const [flags, want] of [[[0x00, 0x01], 0], [[0x00, 0x01, 0x29], 1], [[0x10, 0x10, 0x10, 0x18], 0]] as const) {
    const s = new Synth();
    flags.forEach((f, i) => s.tcpPkt(CLIENT, SERVER, 43000 + i, 80 + i, f, T0 + i));
    assert.equal(count(s.finish(), 'scan.probe'), want, JSON.stringify(flags));
  }
});

function httpExchange(s: Synth, i: number, uri: string, status: number, t: number): void {
  s.session(CLIENT, SERVER, 44000 + i, 80, t, [
    { c: true, data: `GET ${uri} HTTP/1.1\r\nHost: shop.example\r\n\r\n` },
    { c: false, data: `HTTP/1.1 ${status} X\r\nContent-Length: 0\r\n\r\n` },
  ]);
}

test('scan.web: 4 distinct missing URIs are quiet, 5 raise; the same missing URI repeated is not probing', () => {
  for (const [n, want] of [[4, 0], [5, 1]] as const) {
    const s = new Synth();
    for (let i = 0; i < n; i++) httpExchange(s, i, `/probe-${i}`, 404, T0 + i);
    assert.equal(count(s.finish(), 'scan.web'), want, `${n} URIs`);
  }
  const s = new Synth();
  for (let i = 0; i < 20; i++) httpExchange(s, i, '/favicon.ico', 404, T0 + i);
  assert.equal(count(s.finish(), 'scan.web'), 0);
});

test('bruteforce.http: 9 401s on one route are quiet, 10 raise with the route; 401s spread over routes are not', () => {
  for (const [n, want] of [[9, 0], [10, 1]] as const) {
    const s = new Synth();
    for (let i = 0; i < n; i++) httpExchange(s, i, '/login?u=a', 401, T0 + i);
    const a = s.finish();
    assert.equal(count(a, 'bruteforce.http'), want, `${n} failures`);
    if (want) assert.equal(meta(a.find((x) => meta(x, 'harrier_detector') === 'bruteforce.http')!, 'harrier_route'), 'shop.example/login');
  }
  const s = new Synth();
  for (let i = 0; i < 12; i++) httpExchange(s, i, `/r${i}`, 403, T0 + i);
  assert.equal(count(s.finish(), 'bruteforce.http'), 0);
});

test('bruteforce.ssh: 4 short sessions quiet, 5 raise', () => {
  for (const [n, want] of [[4, 0], [5, 1]] as const) {
    const s = new Synth();
    for (let i = 0; i < n; i++) {
      s.session(CLIENT, SERVER, 45000 + i, 22, T0 + i * 2, [
        { c: false, data: 'SSH-2.0-OpenSSH_8.9\r\n' },
        { c: true, data: 'SSH-2.0-libssh_0.9.6\r\n' },
        { c: true, data: randomBytes(200) },
        { c: false, data: randomBytes(300) },
      ]);
    }
    assert.equal(count(s.finish(), 'bruteforce.ssh'), want, `${n} sessions`);
  }
});

test('bruteforce.login: FTP 530 replies — 4 quiet, 5 raise', () => {
  for (const [n, want] of [[4, 0], [5, 1]] as const) {
    const s = new Synth();
    const msgs: { c: boolean; data: string }[] = [
      { c: false, data: '220 ProFTPD Server (FTP) ready\r\n' },
      { c: true, data: 'USER admin\r\n' },
    ];
    for (let i = 0; i < n; i++) msgs.push({ c: true, data: `PASS guess${i}\r\n` }, { c: false, data: '530 Login incorrect.\r\n' });
    s.session(CLIENT, SERVER, 46000, 21, T0, msgs);
    assert.equal(count(s.finish(), 'bruteforce.login'), want, `${n} failures`);
  }
});

test('dns.tunnel: 9 encoded queries quiet, 10 raise naming the parent; repeated ordinary names never', () => {
  for (const [n, want] of [[9, 0], [10, 1]] as const) {
    const s = new Synth();
    for (let i = 0; i < n; i++) s.dnsQuery(CLIENT, SERVER, 30000 + i, i, `${randomBytes(20).toString('hex')}.t.evil-tunnel.com`, 16, T0 + i);
    const a = s.finish();
    assert.equal(count(a, 'dns.tunnel'), want, `${n} queries`);
    if (want) assert.equal(meta(a[0]!, 'harrier_parent_domain'), 'evil-tunnel.com');
  }
  const s = new Synth();
  for (let i = 0; i < 50; i++) s.dnsQuery(CLIENT, SERVER, 31000 + i, i, ['www.example.com', 'api.example.com', 'cdn.example.com'][i % 3]!, 1, T0 + i);
  for (let i = 0; i < 30; i++) s.dnsQuery(CLIENT, SERVER, 32000 + i, 100 + i, `r${i}---sn-4g5e6nzz.googlevideo.com`, 1, T0 + i);
  assert.equal(count(s.finish(), 'dns.tunnel'), 0);
});

function linuxPing(seq: number): Buffer {
  const b = Buffer.alloc(56);
  b.writeUInt32LE(T0 + seq, 0); // timestamp
  for (let i = 16; i < 56; i++) b[i] = i;
  return b;
}

test('icmp.tunnel: 9 random echo payloads quiet, 10 raise; 100 Linux/Windows pings never', () => {
  for (const [n, want] of [[9, 0], [10, 1]] as const) {
    const s = new Synth();
    for (let i = 0; i < n; i++) s.icmpEcho(CLIENT, EXTERNAL, 7, i, randomBytes(120), T0 + i);
    assert.equal(count(s.finish(), 'icmp.tunnel'), want, `${n} packets`);
  }
  const s = new Synth();
  const win = Buffer.from('abcdefghijklmnopqrstuvwabcdefghi');
  for (let i = 0; i < 50; i++) {
    s.icmpEcho(CLIENT, EXTERNAL, 9, i, linuxPing(i), T0 + i);
    s.icmpEcho(EXTERNAL, CLIENT, 9, i, linuxPing(i), T0 + i + 0.01, true);
    s.icmpEcho('10.1.0.6', EXTERNAL, 10, i, win, T0 + i);
  }
  assert.equal(count(s.finish(), 'icmp.tunnel'), 0);
});

test('beacon: 7 regular intervals quiet, 8 raise; jittery connections never', () => {
  for (const [n, want] of [[7, 0], [8, 1]] as const) {
    const s = new Synth();
    for (let i = 0; i <= n; i++) s.tcpPkt(CLIENT, EXTERNAL, 47000 + i, 8443, 0x02, T0 + i * 60 + (i % 2) * 0.5);
    const a = s.finish();
    assert.equal(count(a, 'beacon'), want, `${n} intervals`);
    if (want) assert.equal(meta(a[0]!, 'harrier_period_sec'), '60.00');
  }
  const s = new Synth();
  let t = T0;
  for (let i = 0; i < 30; i++) s.tcpPkt(CLIENT, EXTERNAL, 48000 + i, 8443, 0x02, (t += 10 + ((i * 37) % 50)));
  assert.equal(count(s.finish(), 'beacon'), 0);
});

test('flood.syn: below the rate quiet; at it raises; completed handshakes at that rate are not a flood', () => {
  const cfg = { detectors: { 'flood.syn': { window: 1, 'syn-rate': 50 } } };
  for (const [n, want] of [[49, 0], [50, 1]] as const) {
    const s = new Synth(cfg);
    for (let i = 0; i < n; i++) s.tcpPkt(`198.51.100.${(i % 200) + 1}`, SERVER, 10000 + i, 443, 0x02, T0 + i / 1000);
    assert.equal(count(s.finish(), 'flood.syn'), want, `${n} SYNs`);
  }
  const s = new Synth(cfg);
  for (let i = 0; i < 60; i++) {
    const c = `198.51.100.${i + 1}`;
    s.tcpPkt(c, SERVER, 20000 + i, 443, 0x02, T0 + i / 1000, { seq: 10 });
    s.tcpPkt(SERVER, c, 443, 20000 + i, 0x12, T0 + i / 1000 + 0.0001, { seq: 50, ack: 11 });
    s.tcpPkt(c, SERVER, 20000 + i, 443, 0x10, T0 + i / 1000 + 0.0002, { seq: 11, ack: 51 });
  }
  assert.equal(count(s.finish(), 'flood.syn'), 0);
});

test('flood.udp and flood.icmp: packet rates at the edge', () => {
  const cfg = { detectors: { 'flood.syn': { window: 1 }, 'flood.udp': { 'packet-rate': 100 }, 'flood.icmp': { 'packet-rate': 30 } } };
  for (const [n, want] of [[99, 0], [100, 1]] as const) {
    const s = new Synth(cfg);
    for (let i = 0; i < n; i++) s.udpPkt(EXTERNAL, SERVER, 1000 + i, 9999, Buffer.alloc(8), T0 + i / 1000);
    assert.equal(count(s.finish(), 'flood.udp'), want, `${n} datagrams`);
  }
  for (const [n, want] of [[29, 0], [30, 1]] as const) {
    const s = new Synth(cfg);
    for (let i = 0; i < n; i++) s.icmpEcho(EXTERNAL, SERVER, i, 1, linuxPing(i), T0 + i / 1000);
    assert.equal(count(s.finish(), 'flood.icmp'), want, `${n} echo requests`);
  }
});

test('p2p: a BitTorrent handshake raises; UDP fan-out to 29 peers quiet, 30 raise', () => {
  const s = new Synth();
  const hs = Buffer.concat([Buffer.from('\x13BitTorrent protocol', 'latin1'), Buffer.alloc(8), randomBytes(40)]);
  s.session(CLIENT, EXTERNAL, 49000, 51413, T0, [{ c: true, data: hs }, { c: false, data: hs }]);
  assert.equal(count(s.finish(), 'p2p.bittorrent'), 1);
  for (const [n, want] of [[29, 0], [30, 1]] as const) {
    const s2 = new Synth();
    for (let i = 0; i < n; i++) s2.udpPkt(CLIENT, `198.51.100.${i + 1}`, 6881, 20000 + i, randomBytes(30), T0 + i * 0.1);
    assert.equal(count(s2.finish(), 'p2p.fanout'), want, `${n} peers`);
  }
});

test('mining.stratum: a mining.subscribe raises naming the pool; ordinary JSON-RPC does not', () => {
  const s = new Synth();
  s.session(CLIENT, EXTERNAL, 49100, 3333, T0, [
    { c: true, data: '{"id": 1, "method": "mining.subscribe", "params": ["cgminer/4.10"]}\n' },
    { c: false, data: '{"id":1,"result":[[["mining.notify","ae6812eb"]],"08000002",4],"error":null}\n' },
  ]);
  const a = s.finish();
  assert.equal(count(a, 'mining.stratum'), 1);
  assert.equal(meta(a[0]!, 'harrier_pool'), `${EXTERNAL}:3333`);
  const s2 = new Synth();
  s2.session(CLIENT, EXTERNAL, 49101, 3333, T0, [{ c: true, data: '{"id": 1, "method": "getStatus", "params": []}\n' }]);
  assert.equal(count(s2.finish(), 'mining.stratum'), 0);
});

function upload(s: Synth, dst: string, bytes: number, t: number): void {
  const chunk = Buffer.alloc(1400, 0x41);
  const msgs: { c: boolean; data: Buffer }[] = [];
  for (let sent = 0; sent < bytes; sent += chunk.length) msgs.push({ c: true, data: chunk });
  s.session(CLIENT, dst, 49200, 443, t, msgs);
}

test('exfil.volume: outbound volume to an external address at the threshold raises; to an internal one never', () => {
  const cfg = { detectors: { 'exfil.volume': { bytes: 2 * 1024 * 1024 } } };
  const s1 = new Synth(cfg);
  upload(s1, EXTERNAL, 1.5 * 1024 * 1024, T0);
  assert.equal(count(s1.finish(), 'exfil.volume'), 0, '1.5 MiB payload');
  const s2 = new Synth(cfg);
  upload(s2, EXTERNAL, 2.1 * 1024 * 1024, T0);
  const a = s2.finish();
  assert.equal(count(a, 'exfil.volume'), 1, '2.1 MiB payload');
  assert.equal(meta(a[0]!, 'harrier_destination'), EXTERNAL);
  const s3 = new Synth(cfg);
  upload(s3, SERVER, 3 * 1024 * 1024, T0);
  assert.equal(count(s3.finish(), 'exfil.volume'), 0, 'internal destination');
});

test('dedupe: one incident inside the window is one alert plus one update with the count; after the window a new incident', () => {
  const s = new Synth({ 'dedupe-window': 100 });
  const hs = Buffer.concat([Buffer.from('\x13BitTorrent protocol', 'latin1'), Buffer.alloc(48)]);
  // p2p.bittorrent reports once per window of 300 s per source: three windows.
  for (const t of [0, 301, 602]) s.session(CLIENT, EXTERNAL, 49300 + t, 6881, T0 + t, [{ c: true, data: hs }]);
  const a = s.finish().filter((x) => meta(x, 'harrier_detector') === 'p2p.bittorrent');
  assert.equal(a.length, 3, 'windows 100 s apart → three incidents');
  const s2 = new Synth({ 'dedupe-window': 1000 });
  for (const t of [0, 301, 602]) s2.session(CLIENT, EXTERNAL, 49300 + t, 6881, T0 + t, [{ c: true, data: hs }]);
  const b = s2.finish().filter((x) => meta(x, 'harrier_detector') === 'p2p.bittorrent');
  assert.equal(b.length, 2, 'one incident: alert + update');
  assert.equal(meta(b[1]!, 'harrier_count'), '3');
  assert.equal(meta(b[1]!, 'harrier_update'), 'true');
});

test('mutes and overrides from config: by subject, by detector glob, and a raised threshold', () => {
  const scan = (s: Synth): void => {
    for (let p = 0; p < 30; p++) s.closedPort(CLIENT, SERVER, 40000 + p, 1000 + p, T0 + p * 0.01);
  };
  const muted = new Synth({ mutes: [{ subject: CLIENT, detector: 'scan.*' }] });
  scan(muted);
  assert.equal(muted.finish().length, 0);
  assert.equal(muted.behaviour.counters!()['harrier.behaviour.muted'], 1);
  const other = new Synth({ mutes: [{ subject: '10.9.9.9' }] });
  scan(other);
  assert.equal(count(other.finish(), 'scan.vertical'), 1);
  const raised = new Synth({ overrides: [{ subject: CLIENT, detector: 'scan.vertical', 'min-observed': 50 }] });
  scan(raised);
  assert.equal(count(raised.finish(), 'scan.vertical'), 0, '30 < 50');
  const disabled = new Synth({ detectors: { 'scan.vertical': { enabled: false } } });
  scan(disabled);
  assert.equal(count(disabled.finish(), 'scan.vertical'), 0);
});

test('with Kubernetes identity the subject is the workload; a namespace mute silences it', () => {
  const index = new IdentityIndex();
  const iso = (t: number): string => new Date(t * 1000).toISOString();
  index.upsert({ kind: 'Deployment', apiVersion: 'apps/v1', metadata: { name: 'cart', namespace: 'shop', uid: 'd1' } }, T0 - 100);
  index.upsert(
    { kind: 'ReplicaSet', apiVersion: 'apps/v1', metadata: { name: 'cart-5d8c7', namespace: 'shop', uid: 'r1', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'cart', uid: 'd1', controller: true }] } },
    T0 - 100,
  );
  index.upsert(
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'cart-5d8c7-x2x9q', namespace: 'shop', uid: 'p1', creationTimestamp: iso(T0 - 100), ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'cart-5d8c7', uid: 'r1', controller: true }] },
      spec: { nodeName: 'node-1', containers: [{ name: 'c' }] },
      status: { phase: 'Running', podIP: CLIENT, podIPs: [{ ip: CLIENT }] },
    },
    T0 - 100,
  );
  const k8s = new K8sEnricher(index, { cluster: 'test' });
  const scan = (s: Synth): Record<string, unknown>[] => {
    for (let p = 0; p < 25; p++) s.closedPort(CLIENT, SERVER, 40000 + p, 1000 + p, T0 + p * 0.01);
    return s.finish();
  };
  const a = scan(new Synth({}, k8s));
  assert.equal(count(a, 'scan.vertical'), 1);
  assert.equal(meta(a[0]!, 'harrier_subject'), 'shop/cart');
  assert.equal(meta(a[0]!, 'harrier_namespace'), 'shop');
  assert.equal(meta(a[0]!, 'harrier_workload'), 'cart');
  assert.equal(((a[0]!.k8s as { src: { pod: string } }).src).pod, 'cart-5d8c7-x2x9q');
  assert.equal(count(scan(new Synth({ mutes: [{ namespace: 'shop' }] }, k8s)), 'scan.vertical'), 0);
  assert.equal(count(scan(new Synth({ mutes: [{ namespace: 'shop', workload: 'web' }] }, k8s)), 'scan.vertical'), 1);
});

test('every alert of these synthetic runs validates against the EVE schema', { skip: skipWithoutShared(EVE_SCHEMA) }, () => {
  const s = new Synth();
  for (let p = 0; p < 25; p++) s.closedPort(CLIENT, SERVER, 40000 + p, 1000 + p, T0 + p * 0.01);
  for (let i = 0; i < 12; i++) httpExchange(s, i, '/login', 401, T0 + 1 + i);
  for (let i = 0; i < 12; i++) s.dnsQuery(CLIENT, SERVER, 30000 + i, i, `${randomBytes(20).toString('hex')}.evil-tunnel.com`, 16, T0 + i);
  for (let i = 0; i < 12; i++) s.icmpEcho(CLIENT, EXTERNAL, 7, i, randomBytes(120), T0 + i);
  [0x00, 0x01, 0x29].forEach((f, i) => s.tcpPkt(CLIENT, SERVER, 43000 + i, 80 + i, f, T0 + i));
  const a = s.finish();
  assert.ok(a.length >= 5, `${a.length} alerts`);
  for (const r of a) assert.deepEqual(eveSchemaErrors(r), [], JSON.stringify(r).slice(0, 300));
});

test('scan: UDP replies from a Service ClusterIP (kube-proxy reverse NAT) are not probes; the same datagrams from a pod are', () => {
  const SVC_IP = '10.96.0.10';
  const index = new IdentityIndex();
  index.upsert({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'kube-dns', namespace: 'kube-system', uid: 's1' }, spec: { clusterIP: SVC_IP, clusterIPs: [SVC_IP], ports: [{ port: 53, protocol: 'UDP' }] } }, T0 - 100);
  const k8s = new K8sEnricher(index, { cluster: 'test' });
  const replies = (s: Synth, from: string): Record<string, unknown>[] => {
    // DNS answers to 60 ephemeral ports of one client, their queries seen toward the backend pod elsewhere
    for (let p = 0; p < 60; p++) s.udpPkt(from, CLIENT, 53, 33000 + p * 7, Buffer.alloc(40), T0 + p * 0.05);
    return s.finish();
  };
  assert.equal(count(replies(new Synth({}, k8s), SVC_IP), 'scan.vertical'), 0, 'from the Service VIP');
  assert.ok(count(replies(new Synth({}, k8s), SERVER), 'scan.vertical') >= 1, 'from an address that is no Service');
});
