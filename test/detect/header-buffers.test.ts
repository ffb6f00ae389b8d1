/**
 * Packet header sticky buffers (ipv4.hdr, ipv6.hdr, tcp.hdr, udp.hdr,
 * icmpv4.hdr, icmpv6.hdr), icmpv6.mtu, the `ipv4`/`ipv6` rule protocols and
 * the ICMP type/code of alerts, through the whole pipeline: rules from the
 * real parser, frames decoded, alerts read back from EVE.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { defaultConfig } from '../../src/sensor/config.js';
import { EveCollector } from '../../src/output/eve-writer.js';
import { parseRule } from '../../src/detect/rules/index.js';
import { SignatureEngine } from '../../src/detect/engine/engine.js';
import { HEADER_SPAN, packetHeader } from '../../src/detect/engine/buffers.js';
import { Decoder } from '../../src/decode/decoder.js';
import { decodeFrame, eth, icmp4, icmp6, ipv4, ipv6, tcp, udp } from '../decode/build.js';

function run(ruleTexts: string[], frames: Buffer[]) {
  const eve = new EveCollector();
  const p = new Pipeline(defaultConfig(), { eve });
  const rs = ruleTexts.map((t, i) => parseRule(t, { vars: { addressGroups: {}, portGroups: {} }, file: 't.rules', line: i + 1 }));
  const engine = new SignatureEngine({ rules: rs }, p.alerts);
  assert.deepEqual(engine.errors, []);
  p.addDetector(engine);
  let t = 0;
  for (const f of frames) p.frame(f, 0, f.length, f.length, 1_700_000_000 + t++, 0, 1, 0);
  p.finish();
  const alerts = eve.out.filter((r) => r.event_type === 'alert');
  return { alerts, sids: alerts.map((a) => (a.alert as { signature_id: number }).signature_id).sort((a, b) => a - b) };
}

const MSS = (v: number) => Buffer.from([2, 4, v >> 8, v & 255]);

function syn(mss: number, sport: number): Buffer {
  const seg = tcp({ sport, dport: 80, flags: 0x02, options: MSS(mss) });
  return eth(0x0800, ipv4({ proto: 6, payload: seg }));
}

test('tcp.hdr: the TCP header with options; byte_test relative to a content in it', () => {
  const rule = 'alert tcp any any -> any any (tcp.hdr; content:"|02 04|"; offset:20; byte_test:2,<,536,0,big,relative; sid:1234;)';
  const { sids } = run([rule], [syn(500, 40000), syn(1460, 40001)]);
  assert.deepEqual(sids, [1234], 'only the SYN with MSS 500 < 536');
  // Port bytes sit at the start of the header; the payload is not part of it.
  const data = eth(0x0800, ipv4({ proto: 6, payload: tcp({ sport: 40002, dport: 80, flags: 0x18, payload: Buffer.from('|00 50|') }) }));
  const r2 = run(['alert tcp any any -> any any (tcp.hdr; content:"|00 50|"; offset:2; depth:2; sid:2;)', 'alert tcp any any -> any any (tcp.hdr; content:"|02 04|"; sid:3;)'], [data]);
  assert.deepEqual(r2.sids, [2]);
});

test('udp.hdr, ipv4.hdr: length field and TTL at their offsets', () => {
  const f = eth(0x0800, ipv4({ proto: 17, ttl: 7, payload: udp({ payload: Buffer.alloc(0) }) }));
  const { sids } = run(
    [
      'alert udp any any -> any any (udp.hdr; content:"|00 08|"; offset:4; depth:2; sid:1;)',
      'alert ip any any -> any any (ipv4.hdr; content:"|07 11|"; offset:8; depth:2; sid:2;)',
      'alert ip any any -> any any (ipv6.hdr; content:"|11|"; sid:3;)',
    ],
    [f],
  );
  assert.deepEqual(sids, [1, 2]);
});

test('ipv6.hdr: the fixed header and its extension headers; alert ipv6 vs ipv4', () => {
  const dstopts = Buffer.from([17, 0, 1, 4, 0, 0, 0, 0]);
  const f = eth(0x86dd, ipv6({ nh: 60, hlim: 64, payload: Buffer.concat([dstopts, udp({ v: 6, payload: Buffer.from('x') })]) }));
  const f4 = eth(0x0800, ipv4({ proto: 17, payload: udp({ payload: Buffer.from('x') }) }));
  const { sids } = run(
    [
      'alert ip any any -> any any (ipv6.hdr; content:"|40|"; offset:7; depth:1; sid:1;)',
      'alert ip any any -> any any (ipv6.hdr; content:"|11 00 01 04 00 00 00 00|"; offset:40; endswith; sid:2;)',
      'alert ipv6 any any -> any any (msg:"v6 only"; sid:3;)',
      'alert ipv4 any any -> any any (msg:"v4 only"; sid:4;)',
    ],
    [f, f4],
  );
  assert.deepEqual(sids, [1, 2, 3, 4]);
});

test('icmpv4.hdr covers a router advertisement\'s addresses; alerts carry icmp_type and icmp_code', () => {
  // Router advertisement: 1 address, entry size 2 words, lifetime 10, then address + preference.
  const ra = icmp4(9, 0, Buffer.from([1, 2, 0, 10, 0x0e, 0x50, 0x54, 0x42, 0, 0, 0, 0]));
  const redirect = icmp4(5, 1, Buffer.concat([Buffer.from([0x0a, 0x7b, 0, 3]), Buffer.alloc(28)]));
  const frames = [eth(0x0800, ipv4({ proto: 1, payload: ra })), eth(0x0800, ipv4({ proto: 1, payload: redirect }))];
  const { alerts, sids } = run(
    [
      'alert icmp any any -> any any (icmpv4.hdr; content:"|0a 0e 50 54 42|"; sid:1;)',
      'alert icmp any any -> any any (icmpv4.hdr; content:"|0a 7b 00 03|"; sid:2;)',
      'alert icmp any any -> any any (icmpv4.hdr; content:"|00 00 00 00 00 00|"; sid:3;)',
    ],
    frames,
  );
  assert.deepEqual(sids, [1, 2], 'the redirect\'s embedded datagram is not part of its header');
  const a1 = alerts.find((a) => (a.alert as { signature_id: number }).signature_id === 1)!;
  assert.equal(a1.icmp_type, 9);
  assert.equal(a1.icmp_code, 0);
  const a2 = alerts.find((a) => (a.alert as { signature_id: number }).signature_id === 2)!;
  assert.equal(a2.icmp_type, 5);
  assert.equal(a2.icmp_code, 1);
});

test('icmpv6.hdr (8 bytes) and icmpv6.mtu on Packet Too Big', () => {
  // Router advertisement with router lifetime 0 (bytes 6-7).
  const ra = icmp6(134, 0, Buffer.from([64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  const tooBig = (mtu: number) => icmp6(2, 0, Buffer.concat([Buffer.from([mtu >>> 24, (mtu >>> 16) & 255, (mtu >>> 8) & 255, mtu & 255]), Buffer.alloc(48)]));
  const frames = [ra, tooBig(1200), tooBig(1500)].map((m) => eth(0x86dd, ipv6({ nh: 58, payload: m })));
  const { sids } = run(
    [
      'alert icmpv6 any any -> any any (itype:134; icmpv6.hdr; content:"|00 00|"; offset:6; depth:2; sid:1;)',
      'alert ipv6 any any -> any any (icmpv6.mtu:<1280; sid:2;)',
      'alert icmpv6 any any -> any any (icmpv6.mtu:1500; sid:3;)',
      'alert icmpv6 any any -> any any (icmpv6.hdr; content:"|00 00 00 00 00 00 00 00 00|"; sid:4;)',
    ],
    frames,
  );
  assert.deepEqual(sids, [1, 2, 3]);
});

test('header getters: the span of each header in the decoded frame, none for other protocols', () => {
  const d = new Decoder();
  const seg = tcp({ options: MSS(1400) });
  const { pkt } = decodeFrame(d, eth(0x0800, ipv4({ proto: 6, payload: seg })));
  assert.equal(packetHeader('tcp.hdr')!(pkt), true);
  assert.deepEqual([HEADER_SPAN.off, HEADER_SPAN.len], [34, 24]);
  assert.equal(packetHeader('ipv4.hdr')!(pkt), true);
  assert.deepEqual([HEADER_SPAN.off, HEADER_SPAN.len], [14, 20]);
  assert.equal(packetHeader('udp.hdr')!(pkt), false);
  assert.equal(packetHeader('ipv6.hdr')!(pkt), false);
  assert.equal(packetHeader('icmpv4.hdr')!(pkt), false);
  assert.equal(packetHeader('http.uri'), null);
  // A TCP header cut short has no tcp.hdr.
  const cut = decodeFrame(d, eth(0x0800, ipv4({ proto: 6, payload: seg.subarray(0, 10) }))).pkt;
  assert.equal(packetHeader('tcp.hdr')!(cut), false);
});
