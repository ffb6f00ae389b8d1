/**
 * dns.tunnel through a Kubernetes DNS Service: the node sees a pod's query
 * after DNAT (pod → CoreDNS pod IP) and its answer after the reverse NAT
 * (ClusterIP → pod), so query and answer are two flows and the answer looks
 * unsolicited. The detector must count that question once (it used to count
 * it twice, halving the distinct-name ratio of every tunnel through kube-dns
 * and staying silent), while still counting answers whose query was really
 * never seen (one-way capture), and staying quiet on ordinary service lookups
 * answered the same way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Synth, T0, detectorsOf, meta } from './synth.js';
import { encodeDnsMessage } from '../../src/applayer/dns/index.js';

const POD = '10.244.2.4';
const COREDNS = '10.244.1.2';
const VIP = '10.96.0.10';
const SPORT = 41234;
const NULL_T = 10;
const A_T = 1;

/** A base32-ish encoded label of `n` characters, as iodine / dns2tcp write data. */
function encoded(n: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz012345';
  const b = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[b[i]! & 31];
  return s;
}

function answer(s: Synth, from: string, to: string, dport: number, id: number, name: string, type: number, t: number): void {
  const data = type === A_T ? ({ kind: 'a', address: '10.96.12.34' } as const) : ({ kind: 'raw', data: randomBytes(100) } as const);
  const m = encodeDnsMessage({ id, qr: true, rd: true, ra: true, questions: [{ name, type, class: 1 }], answers: [{ name, type, ttl: 0, data }] });
  s.udpPkt(from, to, 53, dport, m, t);
}

/** One question through the ClusterIP: query to the CoreDNS pod, answer from the VIP (two flows). */
function viaService(s: Synth, id: number, name: string, type: number, t: number): void {
  s.dnsQuery(POD, COREDNS, SPORT, id, name, type, t);
  answer(s, VIP, POD, SPORT, id, name, type, t + 0.002);
}

function tunnelAlerts(a: Record<string, unknown>[]): Record<string, unknown>[] {
  return a.filter((x) => meta(x, 'harrier_detector') === 'dns.tunnel');
}

test('dns.tunnel: a NULL-record tunnel through the kube-dns ClusterIP (answers in another flow) raises, each question counted once', () => {
  for (const [n, want] of [[9, 0], [10, 1]] as const) {
    const s = new Synth();
    for (let i = 0; i < n; i++) viaService(s, 0x1000 + i, `${encoded(40)}.t.tun.evil-lab.net`, NULL_T, T0 + i * 0.1);
    const a = tunnelAlerts(s.finish());
    assert.equal(a.length, want, `${n} questions`);
    const c = s.behaviour.counters!();
    assert.equal(c['harrier.behaviour.dns_tunnel.queries'], n, 'answers of seen queries are not counted again');
    assert.equal(c['harrier.behaviour.dns_tunnel.answers_of_seen_queries'], n);
    if (want) {
      assert.equal(meta(a[0]!, 'harrier_parent_domain'), 'evil-lab.net');
      assert.equal(meta(a[0]!, 'harrier_observed'), '10');
      assert.match(meta(a[0]!, 'harrier_explanation') ?? '', /: 10 queries, 10 distinct names/);
      assert.match(meta(a[0]!, 'harrier_subject') ?? '', new RegExp(POD.replace(/\./g, '\\.')));
    }
  }
});

test('dns.tunnel: iodine-like mix (short pings, long data queries) through the ClusterIP raises once', () => {
  const s = new Synth();
  let t = T0;
  for (let i = 0; i < 30; i++) {
    // iodine alternates data-carrying queries with short keep-alive pings, all NULL.
    const name = i % 3 === 0 ? `${encoded(6)}.t.tun.evil-lab.net` : `${encoded(63)}.${encoded(63)}.${encoded(40)}.t.tun.evil-lab.net`;
    viaService(s, (0x2000 + i * 7) & 0xffff, name, NULL_T, (t += 0.05));
  }
  assert.deepEqual(detectorsOf(s.finish()).filter((d) => d === 'dns.tunnel'), ['dns.tunnel']);
});

test('dns.tunnel: answers whose query was never seen (one-way capture) still count', () => {
  const s = new Synth();
  for (let i = 0; i < 12; i++) answer(s, VIP, POD, SPORT, 0x3000 + i, `${encoded(40)}.t.tun.evil-lab.net`, NULL_T, T0 + i * 0.1);
  const a = tunnelAlerts(s.finish());
  assert.equal(a.length, 1);
  assert.equal(s.behaviour.counters!()['harrier.behaviour.dns_tunnel.answers_of_seen_queries'], 0);
});

test('dns.tunnel: query and answer in the same flow are still one question', () => {
  const s = new Synth();
  for (let i = 0; i < 10; i++) {
    const name = `${encoded(40)}.t.tun.evil-lab.net`;
    s.dnsQuery(POD, COREDNS, SPORT, 0x4000 + i, name, NULL_T, T0 + i * 0.1);
    answer(s, COREDNS, POD, SPORT, 0x4000 + i, name, NULL_T, T0 + i * 0.1 + 0.002);
  }
  const a = tunnelAlerts(s.finish());
  assert.equal(a.length, 1);
  assert.equal(s.behaviour.counters!()['harrier.behaviour.dns_tunnel.queries'], 10);
});

test('dns.tunnel: benign look-alikes through the ClusterIP stay quiet', () => {
  const s = new Synth();
  // A workload resolving its Service dependencies over and over (search-path
  // expansions are long and look random enough to pass the entropy test).
  const svc = ['cart.shop.svc.cluster.local.shop.svc.cluster.local', 'redis.shop.svc.cluster.local', 'postgres.shop.svc.cluster.local'];
  for (let i = 0; i < 60; i++) viaService(s, (0x5000 + i) & 0xffff, svc[i % 3]!, A_T, T0 + i * 0.5);
  // A poller asking for the same TXT-like record repeatedly (service discovery, feature flags).
  for (let i = 0; i < 40; i++) viaService(s, (0x6000 + i) & 0xffff, 'flags.config.example-corp.com', 16, T0 + i);
  // A client resolving many ordinary, distinct host names of one domain (A records, short words).
  for (let i = 0; i < 40; i++) viaService(s, (0x7000 + i) & 0xffff, `host${i}.example.org`, A_T, T0 + i * 0.2);
  assert.deepEqual(tunnelAlerts(s.finish()), []);
});
