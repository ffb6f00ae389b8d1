/**
 * DNS flow parsing: UDP and TCP framing (split at every byte), transactions
 * and their pairing, anomaly events, probes, and exact EVE objects for
 * hand-built messages (validated against the Suricata 7.0.4 schema).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Probe } from '../../src/applayer/parser.js';
import { type DnsMessageInit, encodeDnsMessage } from '../../src/applayer/dns/codec.js';
import { dnsParser, dnsTcpParser } from '../../src/applayer/dns/index.js';
import type { DnsTx } from '../../src/applayer/dns/parser.js';
import { probeDnsTcp, probeDnsUdp } from '../../src/applayer/dns/probe.js';
import { skipWithoutShared } from '../support/shared.js';
import { eveSchemaErrors } from '../support/eve-schema.js';
import { Collect } from './dns-support.js';

const QUERY: DnsMessageInit = { id: 36146, rd: true, questions: [{ name: 'www.suricata-ids.org', type: 1, class: 1 }] };
const RESPONSE: DnsMessageInit = {
  id: 36146, qr: true, rd: true, ra: true,
  questions: [{ name: 'www.suricata-ids.org', type: 1, class: 1 }],
  answers: [
    { name: 'www.suricata-ids.org', type: 5, ttl: 3544, data: { kind: 'name', name: 'suricata-ids.org' } },
    { name: 'suricata-ids.org', type: 1, ttl: 244, data: { kind: 'a', address: '192.0.78.24' } },
    { name: 'suricata-ids.org', type: 1, ttl: 244, data: { kind: 'a', address: '192.0.78.25' } },
    { name: 'suricata-ids.org', type: 28, ttl: 244, data: { kind: 'aaaa', address: '2001:db8::25' } },
    { name: 'suricata-ids.org', type: 16, ttl: 60, data: { kind: 'txt', strings: ['one', 'two'] } },
    { name: '_x._tcp.suricata-ids.org', type: 33, ttl: 60, data: { kind: 'srv', priority: 1, weight: 2, port: 3, target: 't.example' } },
    { name: 'suricata-ids.org', type: 65, ttl: 60, data: { kind: 'svcb', priority: 1, target: '', alpn: ['h2'] } },
  ],
  authorities: [
    { name: 'suricata-ids.org', type: 2, ttl: 600, data: { kind: 'name', name: 'ns1.example' } },
    { name: 'suricata-ids.org', type: 6, ttl: 899, data: { kind: 'soa', mname: 'ns1.example', rname: 'h.example', serial: 1, refresh: 7200, retry: 900, expire: 1209600, minimum: 86400 } },
  ],
};

const QUERY_EVE = { type: 'query', id: 36146, rrname: 'www.suricata-ids.org', rrtype: 'A', tx_id: 0, opcode: 0 };
const ANSWER_EVE = {
  version: 2, type: 'answer', id: 36146, flags: '8180', qr: true, rd: true, ra: true, opcode: 0,
  rrname: 'www.suricata-ids.org', rrtype: 'A', rcode: 'NOERROR',
  answers: [
    { rrname: 'www.suricata-ids.org', rrtype: 'CNAME', ttl: 3544, rdata: 'suricata-ids.org' },
    { rrname: 'suricata-ids.org', rrtype: 'A', ttl: 244, rdata: '192.0.78.24' },
    { rrname: 'suricata-ids.org', rrtype: 'A', ttl: 244, rdata: '192.0.78.25' },
    { rrname: 'suricata-ids.org', rrtype: 'AAAA', ttl: 244, rdata: '2001:0db8:0000:0000:0000:0000:0000:0025' },
    { rrname: 'suricata-ids.org', rrtype: 'TXT', ttl: 60, rdata: 'one' },
    { rrname: 'suricata-ids.org', rrtype: 'TXT', ttl: 60, rdata: 'two' },
    { rrname: '_x._tcp.suricata-ids.org', rrtype: 'SRV', ttl: 60, srv: { priority: 1, weight: 2, port: 3, name: 't.example' } },
    { rrname: 'suricata-ids.org', rrtype: 'HTTPS', ttl: 60 },
  ],
  grouped: {
    CNAME: ['suricata-ids.org'],
    A: ['192.0.78.24', '192.0.78.25'],
    AAAA: ['2001:0db8:0000:0000:0000:0000:0000:0025'],
    TXT: ['one', 'two'],
    SRV: [{ priority: 1, weight: 2, port: 3, name: 't.example' }],
  },
  authorities: [
    { rrname: 'suricata-ids.org', rrtype: 'NS', ttl: 600, rdata: 'ns1.example' },
    { rrname: 'suricata-ids.org', rrtype: 'SOA', ttl: 899, soa: { mname: 'ns1.example', rname: 'h.example', serial: 1, refresh: 7200, retry: 900, expire: 1209600, minimum: 86400 } },
  ],
};

test('UDP: query and answer are separate transactions with Suricata 7 EVE objects', () => {
  const ctx = new Collect();
  const st = dnsParser.create(ctx);
  const q = encodeDnsMessage(QUERY);
  const r = encodeDnsMessage(RESPONSE);
  dnsParser.parse(st, 0, q, 0, q.length, 100);
  dnsParser.parse(st, 1, r, 0, r.length, 100.01);
  assert.equal(ctx.txs.length, 2);
  const [tq, ta] = ctx.txs as DnsTx[];
  assert.deepEqual([tq.txId, ta.txId], [0, 1]);
  assert.equal(tq.proto, 'dns');
  assert.deepEqual(tq.eve(), QUERY_EVE);
  assert.deepEqual(ta.eve(), ANSWER_EVE);
  assert.equal(ta.request, tq.message, 'response paired with its query');
  assert.equal(ta.tsSec, 100.01);
  assert.deepEqual(ctx.events, []);
});

test('EVE objects validate against the Suricata 7.0.4 schema', { skip: skipWithoutShared('eve-schema/suricata-7.0.4.schema.json') }, () => {
  for (const dns of [QUERY_EVE, ANSWER_EVE]) {
    assert.deepEqual(eveSchemaErrors({ timestamp: '2024-01-01T00:00:00.000000+0000', event_type: 'dns', dns }), []);
  }
  // SOA in answers and SRV in authorities are dropped to keep within the schema.
  const ctx = new Collect();
  const st = dnsParser.create(ctx);
  const m = encodeDnsMessage({ ...RESPONSE, answers: RESPONSE.authorities, authorities: RESPONSE.answers });
  dnsParser.parse(st, 1, m, 0, m.length, 0);
  const dns = (ctx.txs[0] as DnsTx).eve();
  assert.deepEqual(eveSchemaErrors({ timestamp: '2024-01-01T00:00:00.000000+0000', event_type: 'dns', dns }), []);
});

test('a request with several questions gives one query record each; z and opcode are logged', () => {
  const ctx = new Collect();
  const st = dnsParser.create(ctx);
  const q = encodeDnsMessage({ id: 7, z: true, opcode: 9, questions: [{ name: 'a.test', type: 28, class: 1 }, { name: 'b.test', type: 16, class: 1 }] });
  dnsParser.parse(st, 0, q, 0, q.length, 0);
  const tx = ctx.txs[0] as DnsTx;
  assert.deepEqual(tx.eveRecords(), [
    { type: 'query', id: 7, rrname: 'a.test', rrtype: 'AAAA', tx_id: 0, z: true, opcode: 9 },
    { type: 'query', id: 7, rrname: 'b.test', rrtype: 'TXT', tx_id: 0, z: true, opcode: 9 },
  ]);
  assert.deepEqual(ctx.events.sort(), ['dns.invalid_opcode', 'dns.z_flag_set']);
});

test('events: malformed data, direction mismatch, unsolicited response, flooding, partial sections', () => {
  const ctx = new Collect();
  const st = dnsParser.create(ctx);
  const junk = Buffer.from('00010000000100000000000003616263', 'hex'); // question cut short
  dnsParser.parse(st, 0, junk, 0, junk.length, 0);
  assert.deepEqual(ctx.events, ['dns.malformed_data']);
  ctx.events.length = 0;
  const resp = encodeDnsMessage({ ...RESPONSE, id: 999 });
  dnsParser.parse(st, 0, resp, 0, resp.length, 0);
  assert.deepEqual(ctx.events.sort(), ['dns.not_request', 'dns.unsolicited_response']);
  ctx.events.length = 0;
  for (let i = 0; i < 70; i++) {
    const q = encodeDnsMessage({ ...QUERY, id: i });
    dnsParser.parse(st, 0, q, 0, q.length, 0);
  }
  assert.equal(ctx.events.filter((e) => e === 'dns.flooded').length, 70 - 64);
  const q = encodeDnsMessage(QUERY);
  dnsParser.parse(st, 0, q, 0, q.length, 0);
  ctx.events.length = 0;
  const w = Buffer.from(encodeDnsMessage(RESPONSE));
  w.writeUInt16BE(w.readUInt16BE(8) + 3, 8); // claim 3 more authorities than present
  dnsParser.parse(st, 1, w, 0, w.length, 0);
  assert.deepEqual(ctx.events, ['dns.invalid_authorities']);
  assert.equal(ctx.abandoned, null);
});

test('a flow of garbage is abandoned after repeated malformed messages', () => {
  const ctx = new Collect();
  const st = dnsParser.create(ctx);
  const junk = Buffer.alloc(40, 0xff);
  for (let i = 0; i < 20; i++) dnsParser.parse(st, 0, junk, 0, junk.length, 0);
  assert.ok(ctx.abandoned !== null);
  assert.equal(ctx.events.length, 16);
});

function tcpStream(...msgs: Buffer[]): Buffer {
  return Buffer.concat(msgs.flatMap((m) => [Buffer.from([m.length >> 8, m.length & 0xff]), m]));
}

test('TCP: several messages per segment, and the stream split at every byte gives the same transactions', () => {
  const q1 = encodeDnsMessage(QUERY);
  const q2 = encodeDnsMessage({ ...QUERY, id: 2, questions: [{ name: 'two.test', type: 15, class: 1 }] });
  const r1 = encodeDnsMessage(RESPONSE);
  const toServer = tcpStream(q1, q2);
  const toClient = tcpStream(r1);
  const run = (cuts: number[][]): string[] => {
    const ctx = new Collect();
    const st = dnsTcpParser.create(ctx);
    for (const [dir, data, cut] of [[0, toServer, cuts[0]], [1, toClient, cuts[1]]] as const) {
      let prev = 0;
      for (const c of [...cut, data.length]) {
        dnsTcpParser.parse(st, dir, data, prev, c - prev, 0);
        prev = c;
      }
    }
    assert.deepEqual(ctx.events, []);
    return ctx.txs.map((t) => JSON.stringify(t.eve()));
  };
  const whole = run([[], []]);
  assert.equal(whole.length, 3);
  assert.deepEqual(JSON.parse(whole[2]), ANSWER_EVE);
  for (let i = 1; i < toServer.length; i++) assert.deepEqual(run([[i], []]), whole, `toServer split at ${i}`);
  for (let i = 1; i < toClient.length; i++) assert.deepEqual(run([[], [i]]), whole, `toClient split at ${i}`);
  // Byte by byte.
  assert.deepEqual(run([Array.from({ length: toServer.length - 1 }, (_, i) => i + 1), Array.from({ length: toClient.length - 1 }, (_, i) => i + 1)]), whole);
});

test('TCP: after a gap the parser resynchronises on a message start or abandons', () => {
  const q = encodeDnsMessage(QUERY);
  const ctx = new Collect();
  const st = dnsTcpParser.create(ctx);
  const s = tcpStream(q);
  dnsTcpParser.parse(st, 0, s, 0, 10, 0);
  dnsTcpParser.gap?.(st, 0, 100);
  dnsTcpParser.parse(st, 0, s, 0, s.length, 0);
  assert.equal(ctx.txs.length, 1);
  assert.equal(ctx.abandoned, null);
  dnsTcpParser.gap?.(st, 0, 100);
  const junk = Buffer.alloc(30, 0xee);
  dnsTcpParser.parse(st, 0, junk, 0, junk.length, 0);
  assert.ok(ctx.abandoned !== null);
});

test('probes: DNS on any port, not random bytes or other protocols', () => {
  const q = encodeDnsMessage(QUERY);
  const r = encodeDnsMessage(RESPONSE);
  assert.equal(probeDnsUdp(q, 0, q.length), Probe.YES);
  assert.equal(probeDnsUdp(r, 0, r.length), Probe.YES);
  assert.equal(dnsParser.probe(0, q, 0, q.length), Probe.YES);
  const t = tcpStream(q);
  assert.equal(probeDnsTcp(t, 0, t.length), Probe.YES);
  assert.equal(probeDnsTcp(t, 0, 1), Probe.NEED_MORE);
  assert.equal(probeDnsTcp(t, 0, 14), Probe.NEED_MORE);
  assert.equal(probeDnsUdp(q, 0, 14), Probe.NO);
  for (const text of ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'SSH-2.0-OpenSSH_9.6\r\n', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03abcdefghijklmnop']) {
    const b = Buffer.from(text, 'latin1');
    assert.equal(probeDnsUdp(b, 0, b.length), Probe.NO, text);
    assert.equal(probeDnsTcp(b, 0, b.length), Probe.NO, text);
  }
  // Uniform noise: the probe almost never says yes.
  let seed = 12345;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  let yes = 0;
  const b = Buffer.alloc(64);
  for (let i = 0; i < 20000; i++) {
    for (let j = 0; j < b.length; j++) b[j] = rnd();
    if (probeDnsUdp(b, 0, b.length) === Probe.YES) yes++;
  }
  assert.ok(yes <= 2, `${yes} of 20000 random datagrams probed as DNS`);
});

test('unsolicited mDNS announcement (response without a question): probed as DNS, logged as an answer without rrname (Suricata)', () => {
  const ann = encodeDnsMessage({
    id: 0, qr: true, aa: true, questions: [],
    answers: [
      { name: 'iphone.local', type: 1, class: 0x8001, ttl: 120, data: { kind: 'a', address: '169.254.1.2' } },
      { name: 'iphone.local', type: 28, class: 0x8001, ttl: 120, data: { kind: 'aaaa', address: 'fe80::1' } },
    ],
  } as DnsMessageInit);
  assert.equal(probeDnsUdp(ann, 0, ann.length), Probe.YES);
  // no answers, a query without questions, a first record cut short or with a bad class: not DNS
  const noAns = Buffer.from(ann);
  noAns.writeUInt16BE(0, 6);
  assert.equal(probeDnsUdp(noAns, 0, noAns.length), Probe.NO);
  const query = Buffer.from(ann);
  query.writeUInt16BE(0, 2);
  assert.equal(probeDnsUdp(query, 0, query.length), Probe.NO);
  assert.equal(probeDnsUdp(ann, 0, 12 + 14 + 4), Probe.NO);
  const badClass = Buffer.from(ann);
  badClass.writeUInt16BE(0x1234, 12 + 14 + 2);
  assert.equal(probeDnsUdp(badClass, 0, badClass.length), Probe.NO);
  const ctx = new Collect();
  const st = dnsParser.create(ctx);
  dnsParser.parse(st, 1, ann, 0, ann.length, 0);
  assert.equal(ctx.txs.length, 1);
  const eve = (ctx.txs[0] as DnsTx).eve();
  assert.equal(eve.type, 'answer');
  assert.equal(eve.rrname, undefined);
  assert.deepEqual((eve.grouped as Record<string, unknown>).A, ['169.254.1.2']);
});
