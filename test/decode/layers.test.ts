import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decoder } from '../../src/decode/decoder.js';
import { COUNTER_NAMES } from '../../src/decode/counters.js';
import { IPV4_OPT_BIT } from '../../src/decode/ipv4-options.js';
import { TunnelKind } from '../../src/decode/packet.js';
import {
  decodeFrame, eth, events, icmp4, icmp6, ip4, ip6Words, ipv4, ipv6, tcp, udp,
} from './build.js';

const IPV4 = 0x0800;
const IPV6 = 0x86dd;

function tcp4(extra: Partial<Parameters<typeof tcp>[0]> = {}): Buffer {
  return eth(IPV4, ipv4({ proto: 6, payload: tcp({ payload: Buffer.from('hello'), ...extra }) }));
}

test('counter ids and names agree', async () => {
  const d = new Decoder();
  const s = d.stats();
  for (const n of COUNTER_NAMES) assert.equal(typeof s[n], 'number', n);
});

test('Ethernet/IPv4/TCP fields', () => {
  const d = new Decoder({ checksumValidation: true });
  const opts = Buffer.from([2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]);
  const f = tcp4({ sport: 1234, dport: 443, seq: 0xfffffff0, ack: 7, flags: 0x12, win: 512, options: opts });
  const { pkt, ok } = decodeFrame(d, f);
  assert.equal(ok, true);
  assert.equal(pkt.ipVersion, 4);
  assert.equal(pkt.src4, ip4('10.0.0.1'));
  assert.equal(pkt.dst4, ip4('10.0.0.2'));
  assert.equal(pkt.proto, 6);
  assert.equal(pkt.ttl, 64);
  assert.equal(pkt.sport, 1234);
  assert.equal(pkt.dport, 443);
  assert.equal(pkt.tcpSeq, 0xfffffff0);
  assert.equal(pkt.tcpAck, 7);
  assert.equal(pkt.tcpFlags, 0x12);
  assert.equal(pkt.tcpWin, 512);
  assert.equal(pkt.tcpMss, 1460);
  assert.equal(pkt.tcpWscale, 7);
  assert.equal(pkt.tcpSackPermitted, true);
  assert.equal(pkt.tcpTsVal, 1);
  assert.equal(pkt.tcpTsEcr, 2);
  assert.equal(pkt.payload().toString(), 'hello');
  assert.equal(pkt.ipCsumOk, 1);
  assert.equal(pkt.l4CsumOk, 1);
  assert.deepEqual(events(pkt), []);
  const s = d.stats();
  assert.equal(s['decoder.pkts'], 1);
  assert.equal(s['decoder.bytes'], f.length);
  assert.equal(s['decoder.ethernet'], 1);
  assert.equal(s['decoder.ipv4'], 1);
  assert.equal(s['decoder.tcp'], 1);
});

test('checksums: bad IPv4 header, TCP, UDP, ICMP are flagged and the packet still decodes', () => {
  const d = new Decoder({ checksumValidation: true });
  let r = decodeFrame(d, eth(IPV4, ipv4({ proto: 6, badCsum: true, payload: tcp({}) })));
  assert.equal(r.ok, true);
  assert.equal(r.pkt.ipCsumOk, 0);
  assert.equal(r.pkt.dport, 80);
  assert.deepEqual(events(r.pkt), ['decoder.ipv4.csum_invalid']);
  r = decodeFrame(d, tcp4({ badCsum: true }));
  assert.equal(r.pkt.l4CsumOk, 0);
  assert.deepEqual(events(r.pkt), ['decoder.tcp.csum_invalid']);
  r = decodeFrame(d, eth(IPV4, ipv4({ proto: 17, payload: udp({ payload: Buffer.from('x'), badCsum: true }) })));
  assert.deepEqual(events(r.pkt), ['decoder.udp.csum_invalid']);
  r = decodeFrame(d, eth(IPV4, ipv4({ proto: 17, payload: udp({ payload: Buffer.from('x'), noCsum: true }) })));
  assert.equal(r.pkt.l4CsumOk, -1, 'IPv4 UDP checksum 0 means none');
  r = decodeFrame(d, eth(IPV4, ipv4({ proto: 1, payload: icmp4(8, 0, Buffer.from('0001000261', 'hex'), true) })));
  assert.deepEqual(events(r.pkt), ['decoder.icmpv4.csum_invalid']);
  // IPv6 TCP and UDP with correct and broken checksums.
  r = decodeFrame(d, eth(IPV6, ipv6({ nh: 6, payload: tcp({ v: 6, payload: Buffer.from('abc') }) })));
  assert.equal(r.pkt.l4CsumOk, 1);
  r = decodeFrame(d, eth(IPV6, ipv6({ nh: 17, payload: udp({ v: 6, payload: Buffer.from('abc'), badCsum: true }) })));
  assert.equal(r.pkt.l4CsumOk, 0);
  r = decodeFrame(d, eth(IPV6, ipv6({ nh: 17, payload: udp({ v: 6, noCsum: true }) })));
  assert.equal(r.pkt.l4CsumOk, 0, 'IPv6 UDP must carry a checksum');
  r = decodeFrame(d, eth(IPV6, ipv6({ nh: 58, payload: icmp6(128, 0, Buffer.from('00070009', 'hex')) })));
  assert.equal(r.pkt.l4CsumOk, 1);
  assert.equal(r.pkt.icmpId, 7);
  assert.equal(r.pkt.icmpSeq, 9);
  assert.equal(d.stats()['decoder.event.tcp.csum_invalid'], 1);
  // Off by default.
  const off = decodeFrame(new Decoder(), tcp4({ badCsum: true }));
  assert.equal(off.pkt.l4CsumOk, -1);
  assert.deepEqual(events(off.pkt), []);
});

test('Ethernet padding is not payload; truncation is clipped with an event', () => {
  const d = new Decoder();
  const f = Buffer.concat([eth(IPV4, ipv4({ proto: 17, payload: udp({ payload: Buffer.from('ab') }) })), Buffer.alloc(16)]);
  let r = decodeFrame(d, f);
  assert.equal(r.pkt.payloadLen, 2);
  assert.equal(r.pkt.l3Len, 20 + 8 + 2);
  const full = tcp4({ payload: Buffer.alloc(100, 1) });
  r = decodeFrame(d, full.subarray(0, full.length - 30));
  assert.equal(r.ok, true);
  assert.deepEqual(events(r.pkt), ['decoder.ipv4.trunc_pkt']);
  assert.equal(r.pkt.payloadLen, 70);
});

test('IPv4 malformed headers raise their events', () => {
  const d = new Decoder();
  const good = ipv4({ proto: 6, payload: tcp({}) });
  const cases: Array<[string, (b: Buffer) => Buffer]> = [
    ['decoder.ipv4.pkt_too_small', (b) => b.subarray(0, 19)],
    ['decoder.ipv4.wrong_ip_version', (b) => { b[0] = 0x55; return b; }],
    ['decoder.ipv4.hlen_too_small', (b) => { b[0] = 0x44; return b; }],
    ['decoder.ipv4.iplen_smaller_than_hlen', (b) => { b.writeUInt16BE(10, 2); return b; }],
  ];
  for (const [name, mut] of cases) {
    const r = decodeFrame(d, eth(IPV4, mut(Buffer.from(good))));
    assert.equal(r.ok, false, name);
    assert.ok(events(r.pkt).includes(name), `${name}: ${events(r.pkt)}`);
  }
  assert.equal(d.stats()['decoder.invalid'], 4);
  assert.equal(d.stats()['decoder.event.ipv4.wrong_ip_version'], 1);
});

test('IPv4 options: bits and malformed options', () => {
  const d = new Decoder();
  const rr = Buffer.from([7, 7, 4, 0, 0, 0, 0, 1]); // RR with one slot; NOP
  const ra = Buffer.from([0x94, 4, 0, 0]);
  let r = decodeFrame(d, eth(IPV4, ipv4({ proto: 6, options: Buffer.concat([rr.subarray(0, 7), Buffer.from([1]), ra]), payload: tcp({}) })));
  assert.equal(r.ok, true);
  assert.equal(r.pkt.ipOpts, IPV4_OPT_BIT.rr | IPV4_OPT_BIT.nop | IPV4_OPT_BIT.rtralt);
  assert.equal(r.pkt.dport, 80);
  assert.deepEqual(events(r.pkt), []);
  const bad: Array<[string, Buffer]> = [
    ['decoder.ipv4.opt_invalid_len', Buffer.from([0x94, 9, 0, 0])],
    ['decoder.ipv4.opt_invalid_len', Buffer.from([0x94, 3, 0, 1])],
    ['decoder.ipv4.opt_malformed', Buffer.from([7, 7, 1, 0, 0, 0, 0, 0])],
    ['decoder.ipv4.opt_duplicate', Buffer.from([0x94, 4, 0, 0, 0x94, 4, 0, 0])],
    ['decoder.ipv4.opt_invalid', Buffer.from([0x9e, 4, 0, 0])],
    ['decoder.ipv4.opt_pad_required', Buffer.from([0, 1, 0, 0])],
    ['decoder.ipv4.opt_eol_required', Buffer.from([1, 1, 1, 0x94])],
    ['decoder.ipv4.opt_malformed', Buffer.from([0x44, 8, 2, 0, 0, 0, 0, 0])],
  ];
  for (const [name, o] of bad) {
    r = decodeFrame(d, eth(IPV4, ipv4({ proto: 6, options: o, payload: tcp({}) })));
    assert.ok(events(r.pkt).includes(name), `${name}: got ${events(r.pkt)}`);
    assert.equal(r.pkt.dport, 80, 'decoding continues after an option event');
  }
  r = decodeFrame(d, eth(IPV4, ipv4({ proto: 6, options: Buffer.from([0x44, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0]), payload: tcp({}) })));
  assert.equal(r.pkt.ipOpts, IPV4_OPT_BIT.ts);
});

test('VLAN, QinQ, and a third tag', () => {
  const d = new Decoder();
  const inner = ipv4({ proto: 6, payload: tcp({}) });
  let r = decodeFrame(d, eth(IPV4, inner, [[0x8100, 0x2000 | 100]]));
  assert.equal(r.ok, true);
  assert.equal(r.pkt.vlanCount, 1);
  assert.equal(r.pkt.vlan0, 100);
  r = decodeFrame(d, eth(IPV4, inner, [[0x88a8, 10], [0x8100, 20]]));
  assert.equal(r.pkt.vlanCount, 2);
  assert.equal(r.pkt.vlan0, 10);
  assert.equal(r.pkt.vlan1, 20);
  assert.equal(r.pkt.dport, 80);
  r = decodeFrame(d, eth(IPV4, inner, [[0x88a8, 10], [0x8100, 20], [0x8100, 30]]));
  assert.equal(r.ok, false);
  assert.deepEqual(events(r.pkt), ['decoder.vlan.too_many_layers']);
  r = decodeFrame(d, eth(0x8100, Buffer.from([0, 1])));
  assert.deepEqual(events(r.pkt), ['decoder.vlan.header_too_small']);
  const s = d.stats();
  assert.equal(s['decoder.vlan'], 1 + 2 + 3 + 1);
  assert.equal(s['decoder.vlan_qinq'], 2);
});

test('non-IP frames are counted, not errors', () => {
  const d = new Decoder();
  const arp = eth(0x0806, Buffer.alloc(28));
  const r = decodeFrame(d, arp);
  assert.equal(r.ok, false);
  assert.deepEqual(events(r.pkt), []);
  decodeFrame(d, eth(0x88cc, Buffer.alloc(30))); // LLDP
  decodeFrame(d, eth(0x0026, Buffer.alloc(38))); // 802.3 length field (STP)
  const s = d.stats();
  assert.equal(s['decoder.arp'], 1);
  assert.equal(s['decoder.not_ip'], 3);
  assert.equal(s['decoder.invalid'], 0);
  const small = decodeFrame(d, Buffer.alloc(10));
  assert.deepEqual(events(small.pkt), ['decoder.ethernet.pkt_too_small']);
});

test('link types: SLL, SLL2, RAW, IPV4/IPV6, NULL/LOOP, PPP, PPP_HDLC', () => {
  const d = new Decoder();
  const ip = ipv4({ proto: 17, payload: udp({ dport: 53 }) });
  const ip6 = ipv6({ nh: 17, payload: udp({ v: 6, dport: 53 }) });
  const sll = Buffer.alloc(16);
  sll.writeUInt16BE(0x0800, 14);
  const sll2 = Buffer.alloc(20);
  sll2.writeUInt16BE(0x86dd, 0);
  const le = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
  const be = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
  const cases: Array<[number, Buffer, number]> = [
    [113, Buffer.concat([sll, ip]), 4],
    [276, Buffer.concat([sll2, ip6]), 6],
    [101, ip, 4],
    [101, ip6, 6],
    [12, ip, 4],
    [14, ip6, 6],
    [228, ip, 4],
    [229, ip6, 6],
    [0, Buffer.concat([le(2), ip]), 4],
    [0, Buffer.concat([le(30), ip6]), 6],
    [108, Buffer.concat([be(2), ip]), 4],
    [108, Buffer.concat([be(24), ip6]), 6],
    [0, Buffer.concat([be(28), ip6]), 6],
    [9, Buffer.concat([Buffer.from([0x00, 0x21]), ip]), 4],
    [9, Buffer.concat([Buffer.from([0xff, 0x03, 0x00, 0x57]), ip6]), 6],
    [50, Buffer.concat([Buffer.from([0xff, 0x03, 0x00, 0x21]), ip]), 4],
  ];
  for (const [lt, frame, v] of cases) {
    const r = decodeFrame(d, frame, lt);
    assert.equal(r.ok, true, `link type ${lt}`);
    assert.equal(r.pkt.ipVersion, v, `link type ${lt}`);
    assert.equal(r.pkt.dport, 53, `link type ${lt}`);
  }
  const s = d.stats();
  assert.equal(s['decoder.sll'], 1);
  assert.equal(s['decoder.sll2'], 1);
  assert.equal(s['decoder.raw'], 4);
  assert.equal(s['decoder.null'], 5);
  assert.equal(s['decoder.ppp'], 3);
  const bad: Array<[number, Buffer, string]> = [
    [113, Buffer.alloc(10), 'decoder.sll.pkt_too_small'],
    [276, Buffer.alloc(10), 'decoder.sll2.pkt_too_small'],
    [101, Buffer.from([0x55, 0, 0, 0]), 'decoder.ipraw.invalid_ip_version'],
    [0, Buffer.from([2, 0]), 'decoder.ltnull.pkt_too_small'],
    [0, Buffer.concat([le(7), ip]), 'decoder.ltnull.unsupported_type'],
    [9, Buffer.from([0]), 'decoder.ppp.pkt_too_small'],
    [9, Buffer.from([0x12, 0x34, 0, 0]), 'decoder.ppp.unsup_proto'],
    [9, Buffer.from([0x00, 0x21, 0x45, 0]), 'decoder.ppp.ip4_pkt_too_small'],
  ];
  for (const [lt, frame, name] of bad) {
    const r = decodeFrame(d, frame, lt);
    assert.equal(r.ok, false, name);
    assert.deepEqual(events(r.pkt), [name]);
  }
  const lcp = decodeFrame(d, Buffer.from([0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4]), 9);
  assert.equal(lcp.ok, false);
  assert.deepEqual(events(lcp.pkt), []);
  const unk = decodeFrame(d, ip, 127);
  assert.equal(unk.ok, false);
  assert.equal(d.stats()['decoder.unknown_linktype'], 1);
});

test('TCP and UDP malformed headers', () => {
  const d = new Decoder();
  // A header that cannot be read (no ports) stops the packet: it joins no flow,
  // as in Suricata. Lesser faults (options, lengths) raise their event and go on.
  const check = (payload: Buffer, proto: number, name: string, handedOn = true) => {
    const r = decodeFrame(d, eth(IPV4, ipv4({ proto, payload })));
    assert.equal(r.ok, handedOn, `${name}: handed on`);
    assert.ok(events(r.pkt).includes(name), `${name}: got ${events(r.pkt)}`);
  };
  check(tcp({}).subarray(0, 19), 6, 'decoder.tcp.pkt_too_small', false);
  check(tcp({ dataOffset: 4 }), 6, 'decoder.tcp.hlen_too_small', false);
  check(tcp({ dataOffset: 8 }), 6, 'decoder.tcp.hlen_too_small', false);
  check(tcp({ options: Buffer.from([2, 3, 5, 0]) }), 6, 'decoder.tcp.opt_invalid_len');
  check(tcp({ options: Buffer.from([2, 9, 5, 0]) }), 6, 'decoder.tcp.opt_invalid_len');
  check(tcp({ options: Buffer.from([3, 3, 7, 3, 3, 7, 0, 0]) }), 6, 'decoder.tcp.opt_duplicate');
  check(tcp({ options: Buffer.from([5, 6, 0, 0, 0, 0, 0, 0]) }), 6, 'decoder.tcp.opt_invalid_len');
  check(udp({}).subarray(0, 6), 17, 'decoder.udp.hlen_too_small', false);
  check(udp({ len: 4 }), 17, 'decoder.udp.len_invalid', false);
  check(udp({ len: 40 }), 17, 'decoder.udp.pkt_too_small');
  check(Buffer.concat([udp({ len: 8 }), Buffer.alloc(4)]), 17, 'decoder.udp.hlen_invalid');
  const sack = Buffer.from([1, 1, 5, 18, ...new Array(16).fill(0)]);
  const r = decodeFrame(d, tcp4({ options: sack }));
  assert.equal(r.pkt.tcpSackBlocks, 2);
});

test('ICMPv4: echo, errors with the embedded datagram, unknown type/code', () => {
  const d = new Decoder();
  let r = decodeFrame(d, eth(IPV4, ipv4({ proto: 1, payload: icmp4(8, 0, Buffer.from('abcd0102', 'hex')) })));
  assert.equal(r.pkt.icmpType, 8);
  assert.equal(r.pkt.icmpId, 0xabcd);
  assert.equal(r.pkt.icmpSeq, 0x0102);
  const orig = ipv4({ src: '10.0.0.2', dst: '192.0.2.9', proto: 17, payload: udp({ sport: 3333, dport: 4444, payload: Buffer.alloc(20) }) });
  r = decodeFrame(d, eth(IPV4, ipv4({ proto: 1, payload: icmp4(3, 3, Buffer.concat([Buffer.alloc(4), orig.subarray(0, 28)])) })));
  assert.equal(r.pkt.icmpInnerValid, true);
  assert.equal(r.pkt.icmpInnerProto, 17);
  assert.equal(r.pkt.icmpInnerSrc4, ip4('10.0.0.2'));
  assert.equal(r.pkt.icmpInnerDst4, ip4('192.0.2.9'));
  assert.equal(r.pkt.icmpInnerSport, 3333);
  assert.equal(r.pkt.icmpInnerDport, 4444);
  const bad: Array<[Buffer, string]> = [
    [icmp4(3, 1, Buffer.alloc(10)), 'decoder.icmpv4.ipv4_trunc_pkt'],
    [icmp4(11, 0, Buffer.concat([Buffer.alloc(4), Buffer.from([0x65]), Buffer.alloc(27)])), 'decoder.icmpv4.ipv4_unknown_ver'],
    [icmp4(99, 0, Buffer.alloc(4)), 'decoder.icmpv4.unknown_type'],
    [icmp4(0, 9, Buffer.alloc(4)), 'decoder.icmpv4.unknown_code'],
    [Buffer.from([8, 0, 0]), 'decoder.icmpv4.pkt_too_small'],
  ];
  for (const [m, name] of bad) {
    r = decodeFrame(d, eth(IPV4, ipv4({ proto: 1, payload: m })));
    assert.deepEqual(events(r.pkt), [name]);
  }
  r = decodeFrame(d, eth(IPV4, ipv4({ proto: 58, payload: icmp6(128, 0, Buffer.alloc(4)) })));
  assert.ok(events(r.pkt).includes('decoder.ipv4.icmpv6'));
});

test('ICMPv6: packet too big with the embedded datagram, MLD hop limit, type classes', () => {
  const d = new Decoder();
  const orig = ipv6({ src: 'fd00::2', dst: '2001:db8::9', nh: 6, payload: tcp({ v: 6, sport: 5555, dport: 443 }) });
  let r = decodeFrame(d, eth(IPV6, ipv6({ nh: 58, payload: icmp6(2, 0, Buffer.concat([Buffer.from([0, 0, 5, 0]), orig.subarray(0, 48)])) })));
  assert.equal(r.pkt.icmpType, 2);
  assert.equal(r.pkt.icmpInnerValid, true);
  assert.equal(r.pkt.icmpInnerIpVersion, 6);
  assert.deepEqual(Array.from(r.pkt.icmpInnerDst6), ip6Words('2001:db8::9'));
  assert.equal(r.pkt.icmpInnerSport, 5555);
  assert.equal(r.pkt.icmpInnerDport, 443);
  const cases: Array<[number, number, number, string]> = [
    [130, 0, 64, 'decoder.icmpv6.mld_message_with_invalid_hl'],
    [100, 0, 64, 'decoder.icmpv6.experimentation_type'],
    [50, 0, 64, 'decoder.icmpv6.unassigned_type'],
    [0, 0, 64, 'decoder.icmpv6.unknown_type'],
    [128, 3, 64, 'decoder.icmpv6.unknown_code'],
    [1, 0, 64, 'decoder.icmpv6.ipv6_trunc_pkt'],
  ];
  for (const [type, code, hlim, name] of cases) {
    r = decodeFrame(d, eth(IPV6, ipv6({ nh: 58, hlim, payload: icmp6(type, code, Buffer.alloc(20)) })));
    assert.deepEqual(events(r.pkt), [name], `type ${type}`);
  }
  r = decodeFrame(d, eth(IPV6, ipv6({ nh: 58, hlim: 1, payload: icmp6(130, 0, Buffer.alloc(20)) })));
  assert.deepEqual(events(r.pkt), []);
  r = decodeFrame(d, eth(IPV6, ipv6({ nh: 58, payload: Buffer.alloc(5) })));
  assert.deepEqual(events(r.pkt), ['decoder.icmpv6.pkt_too_small']);
  r = decodeFrame(d, eth(IPV6, ipv6({ nh: 1, payload: icmp4(8, 0, Buffer.alloc(4)) })));
  assert.ok(events(r.pkt).includes('decoder.ipv6.icmpv4'));
});

function ext(nh: number, body: Buffer): Buffer {
  // body excludes the 2-byte next/len prefix; total padded to a multiple of 8 by the caller
  const len = body.length + 2;
  assert.equal(len % 8, 0);
  return Buffer.concat([Buffer.from([nh, len / 8 - 1]), body]);
}

test('IPv6 extension headers and their events', () => {
  const d = new Decoder();
  const t = tcp({ v: 6 });
  const hop = ext(6, Buffer.from([5, 2, 0, 0, 1, 0]));
  let r = decodeFrame(d, eth(IPV6, ipv6({ nh: 0, payload: Buffer.concat([hop, t]) })));
  assert.equal(r.ok, true);
  assert.equal(r.pkt.proto, 6);
  assert.equal(r.pkt.l3HdrLen, 48);
  assert.equal(r.pkt.dport, 80);
  assert.deepEqual(events(r.pkt), ['decoder.ipv6.zero_len_padn']);
  const cases: Array<[number, Buffer, string]> = [
    [0, Buffer.concat([ext(0, Buffer.from([1, 4, 0, 0, 0, 0])), ext(6, Buffer.from([5, 2, 0, 0, 1, 0])), t]), 'decoder.ipv6.exthdr_dupl_hh'],
    [0, Buffer.concat([ext(6, Buffer.from([1, 4, 0, 0, 0, 0])), t]), 'decoder.ipv6.hopopts_only_padding'],
    [60, Buffer.concat([ext(6, Buffer.from([0x3e, 4, 0, 0, 0, 0])), t]), 'decoder.ipv6.dstopts_unknown_opt'],
    [60, Buffer.concat([ext(6, Buffer.from([5, 9, 0, 0, 0, 0])), t]), 'decoder.ipv6.exthdr_invalid_optlen'],
    [43, Buffer.concat([ext(6, Buffer.from([0, 0, 0, 0, 0, 0])), t]), 'decoder.ipv6.rh_type_0'],
    [43, Buffer.concat([ext(43, Buffer.from([4, 0, 0, 0, 0, 0])), ext(6, Buffer.from([4, 0, 0, 0, 0, 0])), t]), 'decoder.ipv6.exthdr_dupl_rh'],
    [44, Buffer.concat([Buffer.from([6, 0, 0, 0, 0, 0, 0, 1]), t]), 'decoder.ipv6.exthdr_useless_fh'],
    [44, Buffer.concat([Buffer.from([6, 1, 0, 0, 0, 0, 0, 1]), t]), 'decoder.ipv6.fh_non_zero_reserved_field'],
    [51, Buffer.concat([Buffer.from([6, 1, 0, 1, 0, 0, 0, 0]), Buffer.alloc(4), t]), 'decoder.ipv6.exthdr_ah_res_not_null'],
    [59, Buffer.alloc(8), 'decoder.ipv6.data_after_none_header'],
    [0, Buffer.from([6, 3, 0, 0, 0, 0, 0, 0]), 'decoder.ipv6.trunc_exthdr'],
  ];
  for (const [nh, payload, name] of cases) {
    r = decodeFrame(d, eth(IPV6, ipv6({ nh, payload })));
    assert.ok(events(r.pkt).includes(name), `${name}: got ${events(r.pkt)}`);
  }
  // ESP stops the chain.
  r = decodeFrame(d, eth(IPV6, ipv6({ nh: 50, payload: Buffer.alloc(24) })));
  assert.equal(r.ok, true);
  assert.equal(r.pkt.proto, 50);
  const bad: Array<[Buffer, string]> = [
    [ipv6({ nh: 6, payload: t }).subarray(0, 39), 'decoder.ipv6.pkt_too_small'],
    [Buffer.concat([Buffer.from([0x40]), ipv6({ nh: 6, payload: t }).subarray(1)]), 'decoder.ipv6.wrong_ip_version'],
  ];
  for (const [ip, name] of bad) {
    r = decodeFrame(d, eth(IPV6, ip));
    assert.equal(r.ok, false);
    assert.deepEqual(events(r.pkt), [name]);
  }
  r = decodeFrame(d, eth(IPV6, ipv6({ nh: 6, payload: t, payloadLen: 200 })));
  assert.deepEqual(events(r.pkt), ['decoder.ipv6.trunc_pkt']);
  assert.equal(r.pkt.dport, 80);
  assert.equal(r.pkt.flowLabel, 0x12345);
  assert.deepEqual(Array.from(r.pkt.src6), ip6Words('fd00::1'));
});

// ---- tunnels (hand-built; the live kernel tunnels are in tunnels.test.ts) ----

function vxlanHdr(vni: number, flags = 0x08): Buffer {
  const h = Buffer.alloc(8);
  h[0] = flags;
  h.writeUIntBE(vni, 4, 3);
  return h;
}

const innerFrame = eth(IPV4, ipv4({ src: '10.244.1.5', dst: '10.244.2.7', proto: 6, payload: tcp({ src: '10.244.1.5', dst: '10.244.2.7', sport: 33000, dport: 8080 }) }));

test('VXLAN on 4789 and 8472: inner packet, VNI, outer endpoints', () => {
  const d = new Decoder({ checksumValidation: true });
  for (const port of [4789, 8472]) {
    const outer = eth(IPV4, ipv4({ src: '192.168.0.10', dst: '192.168.0.11', proto: 17, payload: udp({ src: '192.168.0.10', dst: '192.168.0.11', sport: 51000, dport: port, payload: Buffer.concat([vxlanHdr(42), innerFrame]) }) }));
    const { pkt, ok } = decodeFrame(d, outer);
    assert.equal(ok, true);
    assert.equal(pkt.tunnel, TunnelKind.VXLAN);
    assert.equal(pkt.tunnelId, 42);
    assert.equal(pkt.tunnelIpVersion, 4);
    assert.equal(pkt.tunnelSrc4, ip4('192.168.0.10'));
    assert.equal(pkt.tunnelDst4, ip4('192.168.0.11'));
    assert.equal(pkt.src4, ip4('10.244.1.5'));
    assert.equal(pkt.dst4, ip4('10.244.2.7'));
    assert.equal(pkt.sport, 33000);
    assert.equal(pkt.dport, 8080);
    assert.equal(pkt.l4CsumOk, 1);
    assert.deepEqual(events(pkt), []);
  }
  // Not VXLAN (I flag clear): plain UDP.
  const plain = eth(IPV4, ipv4({ proto: 17, payload: udp({ dport: 4789, payload: Buffer.concat([vxlanHdr(42, 0), innerFrame]) }) }));
  const r = decodeFrame(d, plain);
  assert.equal(r.pkt.tunnel, TunnelKind.NONE);
  assert.equal(r.pkt.dport, 4789);
  assert.equal(d.stats()['decoder.vxlan'], 2);
  // Configured ports only.
  const d2 = new Decoder({ vxlanPorts: [4789] });
  const on8472 = eth(IPV4, ipv4({ proto: 17, payload: udp({ dport: 8472, payload: Buffer.concat([vxlanHdr(1), innerFrame]) }) }));
  assert.equal(decodeFrame(d2, on8472).pkt.tunnel, TunnelKind.NONE);
});

test('Geneve: options skipped, Ethernet and IP payloads, unknown payload type', () => {
  const d = new Decoder();
  const gen = (proto: number, inner: Buffer, optWords = 2, hdrBytes = 8 + optWords * 4) => {
    const h = Buffer.alloc(hdrBytes);
    h[0] = optWords;
    h.writeUInt16BE(proto, 2);
    h.writeUIntBE(7, 4, 3);
    return eth(IPV6, ipv6({ src: 'fd00:1::1', dst: 'fd00:1::2', nh: 17, payload: udp({ v: 6, src: 'fd00:1::1', dst: 'fd00:1::2', dport: 6081, payload: Buffer.concat([h, inner]) }) }));
  };
  let r = decodeFrame(d, gen(0x6558, innerFrame));
  assert.equal(r.ok, true);
  assert.equal(r.pkt.tunnel, TunnelKind.GENEVE);
  assert.equal(r.pkt.tunnelId, 7);
  assert.equal(r.pkt.tunnelIpVersion, 6);
  assert.deepEqual(Array.from(r.pkt.tunnelSrc6), ip6Words('fd00:1::1'));
  assert.equal(r.pkt.dst4, ip4('10.244.2.7'));
  assert.equal(r.pkt.dport, 8080);
  r = decodeFrame(d, gen(0x0800, innerFrame.subarray(14), 0));
  assert.equal(r.pkt.dport, 8080);
  r = decodeFrame(d, gen(0x1234, innerFrame));
  assert.deepEqual(events(r.pkt), ['decoder.geneve.unknown_payload_type']);
  assert.equal(r.pkt.dport, 6081, 'falls back to plain UDP');
  r = decodeFrame(d, gen(0x6558, Buffer.alloc(0), 10, 20));
  assert.deepEqual(events(r.pkt), ['decoder.geneve.pkt_too_small']);
});

test('IP-in-IP, 6in4, 4in6, 6in6 and nesting keeps the outermost tunnel', () => {
  const d = new Decoder();
  const in4 = ipv4({ src: '172.16.0.1', dst: '172.16.0.2', proto: 17, payload: udp({ dport: 53 }) });
  const in6 = ipv6({ src: 'fd00:9::1', dst: 'fd00:9::2', nh: 17, payload: udp({ v: 6, dport: 53 }) });
  let r = decodeFrame(d, eth(IPV4, ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto: 4, payload: in4 })));
  assert.equal(r.pkt.tunnel, TunnelKind.IPIP);
  assert.equal(r.pkt.tunnelSrc4, ip4('192.0.2.1'));
  assert.equal(r.pkt.src4, ip4('172.16.0.1'));
  assert.equal(r.pkt.dport, 53);
  r = decodeFrame(d, eth(IPV4, ipv4({ proto: 41, payload: in6 })));
  assert.equal(r.pkt.ipVersion, 6);
  assert.equal(r.pkt.tunnel, TunnelKind.IPIP);
  r = decodeFrame(d, eth(IPV6, ipv6({ nh: 4, payload: in4 })));
  assert.equal(r.pkt.ipVersion, 4);
  assert.equal(r.pkt.tunnelIpVersion, 6);
  r = decodeFrame(d, eth(IPV6, ipv6({ nh: 41, payload: in6 })));
  assert.equal(r.pkt.ipVersion, 6);
  // VXLAN inside IP-in-IP: outermost (IPIP) kept, inner packet decoded.
  const vx = ipv4({ src: '10.1.1.1', dst: '10.1.1.2', proto: 17, payload: udp({ dport: 4789, payload: Buffer.concat([vxlanHdr(99), innerFrame]) }) });
  r = decodeFrame(d, eth(IPV4, ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto: 4, payload: vx })));
  assert.equal(r.pkt.tunnel, TunnelKind.IPIP);
  assert.equal(r.pkt.tunnelSrc4, ip4('192.0.2.1'));
  assert.equal(r.pkt.dport, 8080);
  const s = d.stats();
  assert.equal(s['decoder.ipv4_in_ipv4'], 2);
  assert.equal(s['decoder.ipv6_in_ipv4'], 1);
  assert.equal(s['decoder.ipv4_in_ipv6'], 1);
  assert.equal(s['decoder.ipv6_in_ipv6'], 1);
  const bad: Array<[Buffer, string]> = [
    [eth(IPV4, ipv4({ proto: 4, payload: Buffer.alloc(10) })), 'decoder.ipip.pkt_too_small'],
    [eth(IPV4, ipv4({ proto: 41, payload: Buffer.concat([in4, Buffer.alloc(20)]) })), 'decoder.ipv4.ipv6_in_ipv4_wrong_version'],
    [eth(IPV4, ipv4({ proto: 41, payload: Buffer.alloc(20) })), 'decoder.ipv4.ipv6_in_ipv4_too_small'],
    [eth(IPV6, ipv6({ nh: 4, payload: in6 })), 'decoder.ipv6.ipv4_in_ipv6_wrong_version'],
    [eth(IPV6, ipv6({ nh: 41, payload: Buffer.alloc(30) })), 'decoder.ipv6.ipv6_in_ipv6_too_small'],
  ];
  for (const [f, name] of bad) assert.deepEqual(events(decodeFrame(d, f).pkt), [name]);
});

test('GRE v0 (key, checksum, TEB), GRE v1 PPTP, ERSPAN II, and malformed GRE', () => {
  const d = new Decoder();
  const in4 = ipv4({ src: '172.16.0.1', dst: '172.16.0.2', proto: 17, payload: udp({ dport: 53 }) });
  const gre = (flags: number, ver: number, proto: number, extra: Buffer, payload: Buffer) => {
    const h = Buffer.alloc(4);
    h[0] = flags;
    h[1] = ver;
    h.writeUInt16BE(proto, 2);
    return eth(IPV4, ipv4({ src: '198.51.100.1', dst: '198.51.100.2', proto: 47, payload: Buffer.concat([h, extra, payload]) }));
  };
  let r = decodeFrame(d, gre(0xa0, 0, 0x0800, Buffer.from([0, 0, 0, 0, 0, 0, 0x30, 0x39]), in4));
  assert.equal(r.ok, true);
  assert.equal(r.pkt.tunnel, TunnelKind.GRE);
  assert.equal(r.pkt.tunnelId, 12345);
  assert.equal(r.pkt.tunnelSrc4, ip4('198.51.100.1'));
  assert.equal(r.pkt.src4, ip4('172.16.0.1'));
  assert.equal(r.pkt.dport, 53);
  r = decodeFrame(d, gre(0x00, 0, 0x6558, Buffer.alloc(0), innerFrame));
  assert.equal(r.pkt.dport, 8080);
  // PPTP: key present (payload length + call id), sequence present.
  r = decodeFrame(d, gre(0x30, 1, 0x880b, Buffer.from([0, 0, 0, 9, 0, 0, 0, 1]), Buffer.concat([Buffer.from([0xff, 0x03, 0x00, 0x21]), in4])));
  assert.equal(r.ok, true);
  assert.equal(r.pkt.tunnelId, 9);
  assert.equal(r.pkt.dport, 53);
  // ERSPAN type II: sequence bit set, 8-byte header version 1, session id 5.
  r = decodeFrame(d, gre(0x10, 0, 0x88be, Buffer.concat([Buffer.alloc(4), Buffer.from([0x10, 0, 0, 5, 0, 0, 0, 0])]), innerFrame));
  assert.equal(r.pkt.dport, 8080);
  assert.equal(r.pkt.tunnelId, 5);
  const bad: Array<[Buffer, string]> = [
    [gre(0x01, 0, 0x0800, Buffer.alloc(0), in4), 'decoder.gre.version0_recur'],
    [gre(0x00, 0x08, 0x0800, Buffer.alloc(0), in4), 'decoder.gre.version0_flags'],
    [gre(0xb0, 0, 0x0800, Buffer.alloc(0), Buffer.alloc(4)), 'decoder.gre.version0_hdr_too_big'],
    [gre(0x40, 0, 0x0800, Buffer.from([0, 0, 0, 0, 0, 1, 0, 9]), Buffer.alloc(2)), 'decoder.gre.version0_malformed_sre_hdr'],
    [gre(0xa0, 1, 0x880b, Buffer.alloc(8), in4), 'decoder.gre.version1_chksum'],
    [gre(0x00, 1, 0x880b, Buffer.alloc(8), in4), 'decoder.gre.version1_no_key'],
    [gre(0x20, 1, 0x0800, Buffer.alloc(4), in4), 'decoder.gre.version1_wrong_protocol'],
    [gre(0x20, 1, 0x880b, Buffer.alloc(0), Buffer.alloc(2)), 'decoder.gre.version1_hdr_too_big'],
    [gre(0x00, 2, 0x0800, Buffer.alloc(0), in4), 'decoder.gre.wrong_version'],
    [eth(IPV4, ipv4({ proto: 47, payload: Buffer.alloc(2) })), 'decoder.gre.pkt_too_small'],
  ];
  for (const [f, name] of bad) {
    r = decodeFrame(d, f);
    assert.equal(r.ok, true, 'the outer IP layer stands');
    assert.deepEqual(events(r.pkt), [name]);
  }
});

test('maxLayers stops deep nesting with decoder.too_many_layers', () => {
  const d = new Decoder({ maxLayers: 5 });
  let p = ipv4({ proto: 17, payload: udp({ dport: 53 }) });
  for (let i = 0; i < 6; i++) p = ipv4({ proto: 4, payload: p });
  const r = decodeFrame(d, eth(IPV4, p));
  assert.equal(r.ok, false);
  assert.deepEqual(events(r.pkt), ['decoder.too_many_layers']);
  assert.equal(d.stats()['decoder.too_many_layers'], 1);
  assert.equal(d.stats()['decoder.event.too_many_layers'], 1);
});

test('PPPoE session and MPLS carry IP', () => {
  const d = new Decoder();
  const ip = ipv4({ proto: 17, payload: udp({ dport: 53 }) });
  const ppp = Buffer.concat([Buffer.from([0x00, 0x21]), ip]);
  const pppoeHdr = Buffer.from([0x11, 0x00, 0x12, 0x34, ppp.length >> 8, ppp.length & 0xff]);
  let r = decodeFrame(d, eth(0x8864, Buffer.concat([pppoeHdr, ppp, Buffer.alloc(6)])));
  assert.equal(r.ok, true);
  assert.equal(r.pkt.dport, 53);
  r = decodeFrame(d, eth(0x8864, Buffer.from([0x11, 0x09, 0, 0, 0, 0, 0, 0])));
  assert.deepEqual(events(r.pkt), ['decoder.pppoe.wrong_code']);
  // Two labels (100, then 200 bottom-of-stack), IPv4 payload found by its version nibble.
  const stack = Buffer.from([0x00, 0x06, 0x40, 0x40, 0x00, 0x0c, 0x81, 0x40]);
  r = decodeFrame(d, eth(0x8847, Buffer.concat([stack, ip])));
  assert.equal(r.ok, true);
  assert.equal(r.pkt.dport, 53);
  r = decodeFrame(d, eth(0x8847, Buffer.from([0x00, 0x06, 0x40])));
  assert.deepEqual(events(r.pkt), ['decoder.mpls.header_too_small']);
  r = decodeFrame(d, eth(0x8847, Buffer.concat([Buffer.from([0x00, 0x06, 0x41, 0x40]), Buffer.alloc(20)])));
  assert.deepEqual(events(r.pkt), ['decoder.mpls.unknown_payload_type']);
  const s = d.stats();
  assert.equal(s['decoder.pppoe'], 2);
  assert.equal(s['decoder.mpls'], 3);
});
