/**
 * DNS codec: round trips of hand-built messages through encode/decode, every
 * decoded rdata type, name compression, EDNS, and each named decode error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type DnsMessage,
  type DnsMessageInit,
  DnsDecodeError,
  decodeDnsMessage,
  encodeDnsMessage,
  isDnsDecodeError,
} from '../../src/applayer/dns/codec.js';
import { canonicalIp, formatIpv6, ipv6Full, parseIpv6 } from '../../src/applayer/dns/address.js';

function decodeOk(b: Buffer): DnsMessage {
  const m = decodeDnsMessage(b, 0, b.length);
  if (isDnsDecodeError(m)) assert.fail(m.message);
  return m;
}

function decodeErr(b: Buffer): DnsDecodeError {
  const m = decodeDnsMessage(b, 0, b.length);
  assert.ok(isDnsDecodeError(m), 'expected a decode error');
  return m;
}

const RICH: DnsMessageInit = {
  id: 0xbeef,
  qr: true,
  aa: true,
  rd: true,
  ra: true,
  ad: true,
  rcode: 0,
  questions: [{ name: 'www.example.com', type: 1, class: 1 }],
  answers: [
    { name: 'www.example.com', type: 5, ttl: 300, data: { kind: 'name', name: 'web.example.net' } },
    { name: 'web.example.net', type: 1, ttl: 60, data: { kind: 'a', address: '192.0.2.7' } },
    { name: 'web.example.net', type: 28, ttl: 60, data: { kind: 'aaaa', address: '2001:db8::7' } },
    { name: 'example.com', type: 15, ttl: 3600, data: { kind: 'mx', preference: 10, exchange: 'mail.example.com' } },
    { name: 'example.com', type: 16, ttl: 30, data: { kind: 'txt', strings: ['v=spf1 -all', '', 'second'] } },
    { name: '_sip._udp.example.com', type: 33, ttl: 10, data: { kind: 'srv', priority: 20, weight: 1, port: 5060, target: 'sip.example.com' } },
    { name: '7.2.0.192.in-addr.arpa', type: 12, ttl: 5, data: { kind: 'name', name: 'host.example.com' } },
    { name: 'null.example.com', type: 10, ttl: 1, data: { kind: 'raw', data: Buffer.from([0, 1, 0xc5, 0xff]) } },
    { name: 'unk.example.com', type: 99, ttl: 1, data: { kind: 'raw', data: Buffer.from('spf-ish') } },
    {
      name: 'example.com', type: 65, ttl: 300,
      data: {
        kind: 'svcb', priority: 1, target: '', mandatory: [1, 3], alpn: ['h2', 'h3'], noDefaultAlpn: true, port: 8443,
        ipv4hint: ['192.0.2.1', '192.0.2.2'], ech: Buffer.from([1, 2, 3]), ipv6hint: ['2001:db8::1'],
        other: [{ key: 65001, value: Buffer.from('x') }],
      },
    },
    { name: 'svc.example.com', type: 64, ttl: 300, data: { kind: 'svcb', priority: 0, target: 'alias.example.com' } },
  ],
  authorities: [
    { name: 'example.com', type: 2, ttl: 86400, data: { kind: 'name', name: 'ns1.example.com' } },
    {
      name: 'example.com', type: 6, ttl: 899,
      data: { kind: 'soa', mname: 'ns1.example.com', rname: 'hostmaster.example.com', serial: 2024010101, refresh: 7200, retry: 900, expire: 1209600, minimum: 86400 },
    },
  ],
  additionals: [
    { name: 'ns1.example.com', type: 1, ttl: 86400, data: { kind: 'a', address: '192.0.2.53' } },
    {
      name: '', type: 41,
      data: { kind: 'opt', udpSize: 1232, extRcode: 0, version: 0, dnssecOk: true, z: 0, options: [{ code: 10, data: Buffer.from('0123456789abcdef', 'hex') }] },
    },
  ],
};

test('rich message round-trips: every field and rdata type survives encode → decode', () => {
  for (const compress of [true, false]) {
    const wire = encodeDnsMessage(RICH, { compress });
    const m = decodeOk(wire);
    assert.equal(m.id, 0xbeef);
    assert.deepEqual(
      [m.qr, m.aa, m.tc, m.rd, m.ra, m.z, m.ad, m.cd, m.opcode, m.rcode],
      [true, true, false, true, true, false, true, false, 0, 0],
    );
    assert.equal(m.flags, 0x85a0);
    assert.deepEqual(m.questions, RICH.questions);
    const strip = (rrs: readonly { name: string; type: number; ttl?: number; data: unknown }[]) =>
      rrs.map((r) => ({ name: r.name, type: r.type, ttl: r.ttl, data: r.data }));
    assert.deepEqual(strip(m.answers), strip(RICH.answers ?? []));
    assert.deepEqual(strip(m.authorities), strip(RICH.authorities ?? []));
    assert.deepEqual(m.additionals[0].data, { kind: 'a', address: '192.0.2.53' });
    assert.equal(m.edns?.udpSize, 1232);
    assert.equal(m.edns?.dnssecOk, true);
    assert.equal(m.additionals[1].class, 1232);
    assert.equal(m.partial, undefined);
    assert.equal(m.trailing, 0);
    // Re-encoding the decoded message gives the same bytes.
    assert.deepEqual(encodeDnsMessage(m, { compress }), wire);
  }
  assert.ok(encodeDnsMessage(RICH).length < encodeDnsMessage(RICH, { compress: false }).length, 'compression shrinks');
});

test('opcode, z, cd, tc and rcode bits decode from the header', () => {
  const m = decodeOk(encodeDnsMessage({ id: 1, opcode: 5, z: true, cd: true, tc: true, rcode: 3, questions: [{ name: 'a', type: 6, class: 1 }] }));
  assert.equal(m.opcode, 5);
  assert.equal(m.z, true);
  assert.equal(m.cd, true);
  assert.equal(m.tc, true);
  assert.equal(m.rcode, 3);
  assert.equal(m.qr, false);
});

test('extended rcode: OPT extRcode bits are the upper 8 of the 12-bit rcode', () => {
  const m = decodeOk(
    encodeDnsMessage({
      id: 2, qr: true, rcode: 16 & 0xf,
      questions: [{ name: 'x.test', type: 1, class: 1 }],
      additionals: [{ name: '', type: 41, data: { kind: 'opt', udpSize: 4096, extRcode: 1, version: 1, dnssecOk: false, z: 0, options: [] } }],
    }),
  );
  assert.equal(m.rcode, 16); // BADVERS
  assert.equal(m.edns?.version, 1);
});

test('compression pointers: names built from suffixes decode to full names', () => {
  // Hand-built: question www.suricata-ids.org, answer CNAME -> suffix via pointer, A with pointer.
  const hex =
    '1234818000010002000000000377777708737572696361746103696473036f72670000010001' +
    'c00c0005000100000e0f0002c010' + // CNAME -> pointer to "suricata.ids.org"
    'c010000100010000012b0004c0004e18';
  const m = decodeOk(Buffer.from(hex, 'hex'));
  assert.equal(m.questions[0].name, 'www.suricata.ids.org');
  assert.deepEqual(m.answers[0].data, { kind: 'name', name: 'suricata.ids.org' });
  assert.equal(m.answers[1].name, 'suricata.ids.org');
  assert.deepEqual(m.answers[1].data, { kind: 'a', address: '192.0.78.24' });
});

test('forward pointers are followed (legal and seen in the wild)', () => {
  // Question name = pointer to offset 17, where "abc\0" sits after the qtype/qclass.
  const msg = Buffer.concat([
    Buffer.from('000101000001000000000000', 'hex'),
    Buffer.from([0xc0, 18]),
    Buffer.from('00010001', 'hex'),
    Buffer.from('0361626300', 'hex'),
  ]);
  const m = decodeOk(msg);
  assert.equal(m.questions[0].name, 'abc');
  assert.equal(m.trailing, 5);
});

test('named errors: pointer loop, bad pointer, label type, long name, truncation', () => {
  const hdr = Buffer.from('000101000001000000000000', 'hex');
  // Pointer to itself.
  assert.equal(decodeErr(Buffer.concat([hdr, Buffer.from([0xc0, 12, 0, 1, 0, 1])])).code, 'pointer_loop');
  // Two pointers pointing at each other via a label.
  const loop2 = Buffer.concat([hdr, Buffer.from([1, 0x61, 0xc0, 12, 0, 1, 0, 1])]);
  assert.equal(decodeErr(loop2).code, 'pointer_loop');
  // Pointer beyond the message.
  assert.equal(decodeErr(Buffer.concat([hdr, Buffer.from([0xc1, 0, 0, 1, 0, 1])])).code, 'bad_pointer');
  // Reserved label types 0x40 and 0x80.
  assert.equal(decodeErr(Buffer.concat([hdr, Buffer.from([0x41, 0x61, 0, 0, 1, 0, 1])])).code, 'bad_label_type');
  assert.equal(decodeErr(Buffer.concat([hdr, Buffer.from([0x81, 0x61, 0, 0, 1, 0, 1])])).code, 'bad_label_type');
  // 5 labels of 63 = 5*64+1 = 321 octets > 255.
  const long = Buffer.concat([hdr, ...Array.from({ length: 5 }, () => Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)])), Buffer.from([0, 0, 1, 0, 1])]);
  const e = decodeErr(long);
  assert.equal(e.code, 'name_too_long');
  assert.equal(e.section, 'question');
  // A name of exactly 255 octets is accepted: 3*64 + 62 + 1 = 255.
  const max = Buffer.concat([
    hdr,
    ...Array.from({ length: 3 }, () => Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x62)])),
    Buffer.from([61]), Buffer.alloc(61, 0x63), Buffer.from([0, 0, 1, 0, 1]),
  ]);
  assert.equal(decodeOk(max).questions[0].name.length, 3 * 64 + 61);
  // Header too short.
  const h = decodeErr(Buffer.alloc(11));
  assert.deepEqual([h.code, h.section, h.offset], ['truncated', 'header', 0]);
});

test('every truncation of a valid message is a named error or a shorter valid parse, never a throw', () => {
  const wire = encodeDnsMessage(RICH);
  for (let n = 0; n < wire.length; n++) {
    const r = decodeDnsMessage(wire, 0, n);
    if (isDnsDecodeError(r)) {
      assert.ok(['truncated', 'rdata_length', 'bad_pointer', 'bad_rdata'].includes(r.code), `${n}: ${r.code}`);
      assert.ok(r.offset >= 0 && r.offset <= n, `${n}: offset ${r.offset}`);
    } else {
      // Cut inside authority/additional: the answers are all there.
      assert.ok(r.partial !== undefined || n >= wire.length, `cut at ${n} decoded without partial`);
      assert.equal(r.answers.length, RICH.answers?.length);
    }
  }
});

test('malformed authority/additional sections keep the answers (partial)', () => {
  const wire = encodeDnsMessage({ ...RICH, authorities: [] });
  // Claim one more additional record than present.
  const b = Buffer.from(wire);
  b.writeUInt16BE(b.readUInt16BE(10) + 1, 10);
  const m = decodeOk(b);
  assert.equal(m.partial?.section, 'additional');
  assert.equal(m.partial?.code, 'truncated');
  assert.equal(m.answers.length, RICH.answers?.length);
});

test('rdata overruns are rdata_length / bad_rdata errors in the answer section', () => {
  // CNAME whose name runs past rdlength.
  const base = encodeDnsMessage({ id: 3, qr: true, questions: [{ name: 'a.b', type: 5, class: 1 }], answers: [{ name: 'a.b', type: 5, ttl: 1, data: { kind: 'name', name: 'ccc.ddd' } }] }, { compress: false });
  const bad = Buffer.from(base);
  // rdlength is the 2 bytes before the rdata (9 bytes: 3ccc3ddd0).
  const rdlenAt = bad.length - 9 - 2;
  assert.equal(bad.readUInt16BE(rdlenAt), 9);
  bad.writeUInt16BE(4, rdlenAt);
  const e = decodeErr(bad.subarray(0, bad.length));
  assert.equal(e.section, 'answer');
  assert.ok(e.code === 'rdata_length' || e.code === 'truncated', e.code);
  // SVCB parameter overrunning its rdata.
  const svcb = encodeDnsMessage({ id: 4, qr: true, answers: [{ name: 'x', type: 65, ttl: 1, data: { kind: 'svcb', priority: 1, target: '', port: 443 } }] });
  const s2 = Buffer.from(svcb);
  s2.writeUInt16BE(9, s2.length - 4); // port param length 2 → 9
  assert.equal(decodeErr(s2).code, 'bad_rdata');
  // A record with the wrong size is kept as raw bytes (Suricata logs rdata "").
  const a = encodeDnsMessage({ id: 5, qr: true, answers: [{ name: 'x', type: 1, ttl: 1, data: { kind: 'raw', data: Buffer.alloc(0) } }] });
  assert.deepEqual(decodeOk(a).answers[0].data, { kind: 'raw', data: Buffer.alloc(0) });
});

test('names: non-ASCII bytes are \\xhh unless valid UTF-8; root is the empty string', () => {
  const hdr = Buffer.from('000101000002000000000000', 'hex');
  const q1 = Buffer.from([2, 0xc5, 0xe9, 1, 0x61, 0, 0, 1, 0, 1]);
  const q2 = Buffer.concat([Buffer.from([3]), Buffer.from('ßx', 'utf8'), Buffer.from([0, 0, 1, 0, 1])]);
  const m = decodeOk(Buffer.concat([hdr, q1, q2]));
  assert.equal(m.questions[0].name, '\\xc5\\xe9.a');
  assert.equal(m.questions[1].name, 'ßx');
  const root = decodeOk(encodeDnsMessage({ id: 9, questions: [{ name: '', type: 2, class: 1 }] }));
  assert.equal(root.questions[0].name, '');
});

test('IPv6 text: RFC 5952 output, Suricata full form, parsing', () => {
  const cases: [string, string][] = [
    ['2001:db8::1', '2001:0db8:0000:0000:0000:0000:0000:0001'],
    ['::', '0000:0000:0000:0000:0000:0000:0000:0000'],
    ['::ffff:192.0.2.1', '0000:0000:0000:0000:0000:ffff:c000:0201'],
    ['2001:db8:0:1:1:1:1:1', '2001:0db8:0000:0001:0001:0001:0001:0001'],
    ['2001:0:0:1::1', '2001:0000:0000:0001:0000:0000:0000:0001'],
  ];
  for (const [text, full] of cases) assert.equal(ipv6Full(text), full, text);
  assert.equal(canonicalIp('2001:0DB8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
  assert.equal(canonicalIp('2001:db8:0:1:0:0:0:1'), '2001:db8:0:1::1');
  assert.equal(canonicalIp('2001:0:0:1:0:0:0:1'), '2001:0:0:1::1'); // first of equal runs
  assert.equal(formatIpv6(new Uint8Array(16), 0), '::');
  assert.equal(parseIpv6('1::2::3'), null);
  assert.equal(parseIpv6('12345::'), null);
  assert.equal(canonicalIp('10.0.0.1'), '10.0.0.1');
});

test('decode speed (reported): typical response', () => {
  const wire = encodeDnsMessage({
    id: 7, qr: true, rd: true, ra: true,
    questions: [{ name: 'api.service.example.com', type: 1, class: 1 }],
    answers: [
      { name: 'api.service.example.com', type: 5, ttl: 60, data: { kind: 'name', name: 'lb.example.net' } },
      { name: 'lb.example.net', type: 1, ttl: 20, data: { kind: 'a', address: '198.51.100.10' } },
      { name: 'lb.example.net', type: 1, ttl: 20, data: { kind: 'a', address: '198.51.100.11' } },
    ],
    additionals: [{ name: '', type: 41, data: { kind: 'opt', udpSize: 1232, extRcode: 0, version: 0, dnssecOk: false, z: 0, options: [] } }],
  });
  const query = encodeDnsMessage({ id: 7, rd: true, questions: [{ name: 'api.service.example.com', type: 1, class: 1 }] });
  const N = 100_000;
  for (let i = 0; i < 20_000; i++) decodeDnsMessage(wire, 0, wire.length);
  // CPU time, not wall time: the test machine is shared.
  const cpuNs = (c: NodeJS.CpuUsage): number => (c.user + c.system) * 1000;
  let t = process.cpuUsage();
  for (let i = 0; i < N; i++) decodeDnsMessage(wire, 0, wire.length);
  const resp = cpuNs(process.cpuUsage(t)) / N;
  t = process.cpuUsage();
  for (let i = 0; i < N; i++) decodeDnsMessage(query, 0, query.length);
  const q = cpuNs(process.cpuUsage(t)) / N;
  console.log(`# dns decode: response (${wire.length} B, 3 answers + OPT) ${resp.toFixed(0)} ns/msg; query (${query.length} B) ${q.toFixed(0)} ns/msg (CPU)`);
  assert.ok(resp < 50_000, 'a response decodes in well under 50 µs');
});
