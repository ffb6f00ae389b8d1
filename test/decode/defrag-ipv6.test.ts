/**
 * IPv6 extension headers, fragments and decoder events as Suricata 7 raises
 * them (decode-ipv6.c semantics), unit by unit on the decoder, then end to
 * end: frames through the pipeline with Suricata's decode-event rules, so
 * that the events reach the signature engine on packets that have no flow
 * (held fragments, packets whose transport header failed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decoder } from '../../src/decode/decoder.js';
import { Packet } from '../../src/decode/packet.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { defaultConfig } from '../../src/sensor/config.js';
import { EveCollector } from '../../src/output/eve-writer.js';
import { parseRule } from '../../src/detect/rules/index.js';
import { SignatureEngine } from '../../src/detect/engine/engine.js';
import { decodeFrame, decodeInto, eth, events, icmp6, ipv4, ipv6, tcp, udp } from './build.js';

function fragHdr(nh: number, off: number, more: boolean, id: number, reserved = 0): Buffer {
  const h = Buffer.alloc(8);
  h[0] = nh;
  h[1] = reserved;
  h.writeUInt16BE(off | (more ? 1 : 0), 2);
  h.writeUInt32BE(id, 4);
  return h;
}

/** A hop-by-hop or destination options header: next header, then TLVs padded to a multiple of 8 bytes. */
function optsHdr(nh: number, tlvs: number[]): Buffer {
  const body = [nh, 0, ...tlvs];
  while (body.length % 8 !== 0) body.push(0); // Pad1
  const b = Buffer.from(body);
  b[1] = b.length / 8 - 1;
  return b;
}

const PADN4 = [1, 4, 0, 0, 0, 0];

function v6(nh: number, payload: Buffer, payloadLen?: number): Buffer {
  return eth(0x86dd, ipv6(payloadLen === undefined ? { nh, payload } : { nh, payload, payloadLen }));
}

test('an atomic fragment header is useless; a header after it with under two bytes left is a truncated extension header', () => {
  const d = new Decoder();
  // Fragment header (offset 0, M=0) naming TCP, and nothing after it.
  const { pkt } = decodeFrame(d, v6(44, fragHdr(6, 0, false, 0xfacef0e1)));
  assert.deepEqual(events(pkt), ['decoder.ipv6.exthdr_useless_fh', 'decoder.ipv6.trunc_exthdr']);
  assert.equal(pkt.isFragment, false);
  // The same atomic fragment with a whole UDP datagram after it decodes to UDP.
  const dgram = udp({ v: 6, sport: 1000, dport: 53, payload: Buffer.from('abcd') });
  const r = decodeFrame(d, v6(44, Buffer.concat([fragHdr(17, 0, false, 9), dgram])));
  assert.equal(r.ok, true);
  assert.deepEqual(events(r.pkt), ['decoder.ipv6.exthdr_useless_fh']);
  assert.equal(r.pkt.proto, 17);
  assert.equal(r.pkt.dport, 53);
  assert.equal(r.pkt.l3HdrLen, 48);
});

test('repeated extension headers: a second hop-by-hop, routing or fragment header and a third destination options header', () => {
  const d = new Decoder();
  const dgram = udp({ v: 6, payload: Buffer.from('x') });
  // HH, HH, UDP
  let r = decodeFrame(d, v6(0, Buffer.concat([optsHdr(0, PADN4), optsHdr(17, PADN4), dgram])));
  assert.ok(events(r.pkt).includes('decoder.ipv6.exthdr_dupl_hh'));
  assert.equal(r.pkt.proto, 17);
  // DH, DH, UDP: two destination options headers are legal (before and after a routing header).
  const ra = [5, 2, 0, 0];
  r = decodeFrame(d, v6(60, Buffer.concat([optsHdr(60, ra), optsHdr(17, ra), dgram])));
  assert.deepEqual(events(r.pkt), []);
  // DH ×3: the third is a duplicate.
  r = decodeFrame(d, v6(60, Buffer.concat([optsHdr(60, ra), optsHdr(60, ra), optsHdr(17, ra), dgram])));
  assert.deepEqual(events(r.pkt), ['decoder.ipv6.exthdr_dupl_dh']);
  // Atomic FH, then a second FH: duplicate, skipped; the walk reaches UDP.
  r = decodeFrame(d, v6(44, Buffer.concat([fragHdr(44, 0, false, 1), fragHdr(17, 0, false, 2), dgram])));
  assert.deepEqual(events(r.pkt), ['decoder.ipv6.exthdr_useless_fh', 'decoder.ipv6.exthdr_dupl_fh']);
  assert.equal(r.pkt.proto, 17);
  // A non-zero reserved byte in the fragment header.
  r = decodeFrame(d, v6(44, Buffer.concat([fragHdr(17, 0, false, 3, 0x11), dgram])));
  assert.ok(events(r.pkt).includes('decoder.ipv6.fh_non_zero_reserved_field'));
});

test('options: short router alert is an invalid option length; tunnel encapsulation limit is unknown to Suricata; padding only', () => {
  const d = new Decoder();
  const dgram = udp({ v: 6, payload: Buffer.from('x') });
  let r = decodeFrame(d, v6(0, Buffer.concat([optsHdr(17, [5, 1, 0]), dgram])));
  assert.ok(events(r.pkt).includes('decoder.ipv6.exthdr_invalid_optlen'));
  assert.equal(r.pkt.proto, 17, 'the walk goes on after a bad option');
  r = decodeFrame(d, v6(60, Buffer.concat([optsHdr(17, [4, 1, 4]), dgram])));
  assert.deepEqual(events(r.pkt), ['decoder.ipv6.dstopts_unknown_opt']);
  r = decodeFrame(d, v6(60, Buffer.concat([optsHdr(17, PADN4), dgram])));
  assert.deepEqual(events(r.pkt), ['decoder.ipv6.dstopts_only_padding']);
  r = decodeFrame(d, v6(0, Buffer.concat([optsHdr(17, [1, 0]), dgram])));
  assert.deepEqual(events(r.pkt), ['decoder.ipv6.zero_len_padn', 'decoder.ipv6.hopopts_only_padding']);
});

test('an unknown upper layer raises unknown_next_header; known ones and ESP do not', () => {
  const d = new Decoder();
  let r = decodeFrame(d, v6(99, Buffer.alloc(16)));
  assert.deepEqual(events(r.pkt), ['decoder.ipv6.unknown_next_header']);
  assert.equal(r.pkt.proto, 99);
  r = decodeFrame(d, v6(0, Buffer.concat([optsHdr(253, [5, 2, 0, 0]), Buffer.alloc(8)])));
  assert.deepEqual(events(r.pkt), ['decoder.ipv6.unknown_next_header']);
  r = decodeFrame(d, v6(50, Buffer.alloc(16)));
  assert.deepEqual(events(r.pkt), []);
});

test('overlapping fragments: frag_overlap on the fragment that overlaps; the datagram still completes', () => {
  const d = new Decoder();
  const body = icmp6(128, 0, Buffer.concat([Buffer.from([0xfa, 0xce, 0, 1]), Buffer.alloc(28, 0x41)]));
  const id = 0x1234;
  const f1 = v6(44, Buffer.concat([fragHdr(58, 0, true, id), body.subarray(0, 16)]));
  const f2 = v6(44, Buffer.concat([fragHdr(58, 8, true, id), body.subarray(8, 24)])); // overlaps [8,16)
  const f3 = v6(44, Buffer.concat([fragHdr(58, 24, false, id), body.subarray(24)]));
  const pkt = new Packet();
  assert.equal(decodeInto(d, pkt, f1), false);
  assert.equal(pkt.isFragment, true);
  assert.deepEqual(events(pkt), []);
  assert.equal(decodeInto(d, pkt, f2), false);
  assert.deepEqual(events(pkt), ['decoder.ipv6.frag_overlap']);
  assert.equal(decodeInto(d, pkt, f3), true);
  assert.equal(pkt.reassembled, true);
  assert.equal(pkt.icmpType, 128);
  assert.equal(pkt.payloadLen, body.length - 8);
  assert.equal(d.stats()['decoder.event.ipv6.frag_overlap'], 1);
});

test('a fragment whose data is not a multiple of 8 bytes (more to come) is frag_invalid_length and not reassembled', () => {
  const d = new Decoder();
  const { pkt, ok } = decodeFrame(d, v6(44, Buffer.concat([fragHdr(17, 0, true, 7), Buffer.alloc(13)])));
  assert.equal(ok, false);
  assert.deepEqual(events(pkt), ['decoder.ipv6.frag_invalid_length']);
  assert.equal(d.defrag.trackerCount, 0);
});

test('link layers Suricata decodes: VN-Tag, Cisco FabricPath (DCE), NSH; unknown EtherTypes are counted', () => {
  const d = new Decoder();
  const inner = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, payload: udp({ sport: 52377, dport: 52464, payload: Buffer.from('data\n\n') }) });
  // VN-Tag: 4-byte tag, then 802.1Q VLAN 11, then IPv4.
  const vlan = Buffer.concat([Buffer.from([0x00, 0x0b, 0x08, 0x00]), inner]);
  let r = decodeFrame(d, eth(0x8926, Buffer.concat([Buffer.from([0, 0, 0, 0, 0x81, 0x00]), vlan])));
  assert.equal(r.ok, true);
  assert.equal(r.pkt.vlan0, 11);
  assert.equal(r.pkt.dport, 52464);
  // FabricPath: 2 bytes, then a whole Ethernet frame.
  r = decodeFrame(d, eth(0x8903, Buffer.concat([Buffer.from([0, 0x20]), eth(0x0800, inner)])));
  assert.equal(r.ok, true);
  assert.equal(r.pkt.sport, 52377);
  r = decodeFrame(d, eth(0x8903, Buffer.alloc(10)));
  assert.deepEqual(events(r.pkt), ['decoder.dce.pkt_too_small']);
  // NSH MD type 1 (24-byte header), next protocol IPv4.
  const nsh = Buffer.alloc(24);
  nsh.set([0x00, 0x06, 0x01, 0x01, 0, 0, 1, 2]);
  r = decodeFrame(d, eth(0x894f, Buffer.concat([nsh, inner])));
  assert.equal(r.ok, true);
  assert.equal(r.pkt.dport, 52464);
  const badLen = Buffer.from(nsh);
  badLen[1] = 5;
  r = decodeFrame(d, eth(0x894f, Buffer.concat([badLen, inner])));
  assert.deepEqual(events(r.pkt), ['decoder.nsh.bad_header_length']);
  const unknownNext = Buffer.from(nsh);
  unknownNext[3] = 0x77;
  r = decodeFrame(d, eth(0x894f, Buffer.concat([unknownNext, inner])));
  assert.deepEqual(events(r.pkt), ['decoder.nsh.unknown_payload']);
  // An EtherType nobody decodes; 802.3 length fields and ARP are not "unknown".
  decodeFrame(d, eth(0xfbb7, Buffer.alloc(0)));
  decodeFrame(d, eth(0x0026, Buffer.alloc(38)));
  decodeFrame(d, eth(0x0806, Buffer.alloc(28)));
  const s = d.stats();
  assert.equal(s['decoder.vntag'], 1);
  assert.equal(s['decoder.nsh'], 3);
  assert.equal(s['decoder.unknown_ethertype'], 1);
});

// ---- end to end: Suricata's decoder-event rules on the pipeline ----------------

function run(ruleTexts: string[], frames: Buffer[]) {
  const eve = new EveCollector();
  const p = new Pipeline(defaultConfig(), { eve });
  const rs = ruleTexts.map((t, i) => parseRule(t, { vars: { addressGroups: {}, portGroups: {} }, file: 't.rules', line: i + 1 }));
  const engine = new SignatureEngine({ rules: rs }, p.alerts);
  p.addDetector(engine);
  let t = 0;
  for (const f of frames) p.frame(f, 0, f.length, f.length, 1_700_000_000 + t++, 0, 1, 0);
  p.finish();
  const alerts = eve.out.filter((r) => r.event_type === 'alert');
  return { engine, alerts, sids: alerts.map((a) => (a.alert as { signature_id: number }).signature_id) };
}

test('decode-event rules fire on held fragments and on packets without a flow, once each', () => {
  const body = icmp6(128, 0, Buffer.concat([Buffer.from([0xfa, 0xce, 0, 1]), Buffer.alloc(28, 0x41)]));
  const id = 0x55;
  const frames = [
    v6(44, Buffer.concat([fragHdr(58, 0, true, id), body.subarray(0, 16)])),
    v6(44, Buffer.concat([fragHdr(58, 8, true, id), body.subarray(8, 24)])),
    v6(44, Buffer.concat([fragHdr(58, 24, false, id), body.subarray(24)])),
    // atomic fragment with nothing after it
    v6(44, fragHdr(6, 0, false, 0x99)),
    // TCP header cut short (IPv4): no ports, no flow
    eth(0x0800, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 6, payload: tcp({}).subarray(0, 12) })),
  ];
  const { engine, alerts, sids } = run(
    [
      'alert pkthdr any any -> any any (msg:"overlap"; decode-event:ipv6.frag_overlap; sid:2200072;)',
      'alert pkthdr any any -> any any (msg:"useless fh"; decode-event:ipv6.exthdr_useless_fh; sid:2200080;)',
      'alert pkthdr any any -> any any (msg:"trunc exthdr"; decode-event:ipv6.trunc_exthdr; sid:2200014;)',
      'alert tcp any any -> any any (msg:"tcp too small"; decode-event:tcp.pkt_too_small; sid:1;)',
      'alert pkthdr any any -> any any (msg:"never"; decode-event:ipv6.frag_invalid_length; sid:2;)',
    ],
    frames,
  );
  assert.deepEqual(engine.errors, []);
  assert.deepEqual(sids.sort((a, b) => a - b), [1, 2200014, 2200072, 2200080]);
  const tcpSmall = alerts.find((a) => (a.alert as { signature_id: number }).signature_id === 1)!;
  assert.equal(tcpSmall.src_ip, '1.1.1.1');
  assert.equal(tcpSmall.flow_id, undefined, 'a packet whose TCP header failed belongs to no flow');
});

test('decode-event with a name the decoder does not raise fails to load with the reason', () => {
  const { engine } = run(['alert pkthdr any any -> any any (decode-event:ipv6.no_such_event; sid:9;)'], []);
  assert.equal(engine.errors.length, 1);
  assert.match(engine.errors[0]!.reason, /unknown decoder event/);
});
