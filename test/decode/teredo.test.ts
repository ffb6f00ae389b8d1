// Teredo (RFC 4380): IPv6 carried in UDP on port 3544, decoded as Suricata's
// DecodeTeredo accepts it (a whole IPv6 packet, maybe after an origin
// indication; authentication-header datagrams and hop-limit-0 packets stay
// plain UDP). Hand-built frames for each rule, a mutation run that must
// never throw, and the suricata-verify capture run end to end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Decoder } from '../../src/decode/decoder.js';
import { Packet, TunnelKind } from '../../src/decode/packet.js';
import { defaultConfig } from '../../src/sensor/config.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { EveCollector } from '../../src/output/eve-writer.js';
import { readCaptureFile } from '../../src/capture/reader.js';
import { sharedPath, skipWithoutShared } from '../support/shared.js';
import { decodeFrame, decodeInto, eth, icmp6, ip4, ip6Words, ipv4, ipv6, udp } from './build.js';

const OUT_SRC = '192.0.2.10';
const OUT_DST = '198.51.100.20';
const IN_SRC = '2001:0:4137:9e50:8000:f12a:b9c8:2815';
const IN_DST = '2001:4860:0:2001::68';

/** An ICMPv6 echo request inside IPv6, the Teredo payload. */
function innerIpv6(hlim = 64): Buffer {
  const echo = icmp6(128, 0, Buffer.from('00010001deadbeefdeadbeef', 'hex'), { src: IN_SRC, dst: IN_DST });
  return ipv6({ src: IN_SRC, dst: IN_DST, nh: 58, hlim, payload: echo });
}

/** Origin indication (RFC 4380 §5.1.1): 0x0000, obfuscated port, obfuscated address. */
const ORIGIN = Buffer.from('0000f12ab9c82815', 'hex');
/** Authentication indicator, id-len 0, au-len 0, nonce, confirmation (13 bytes). */
const AUTH = Buffer.from('00010000' + '0102030405060708' + '00', 'hex');

function teredoFrame(payload: Buffer, sport = 40000, dport = 3544): Buffer {
  return eth(0x0800, ipv4({ src: OUT_SRC, dst: OUT_DST, proto: 17, payload: udp({ src: OUT_SRC, dst: OUT_DST, sport, dport, payload }) }));
}

function teredoCount(dec: Decoder): number {
  return dec.stats()['decoder.teredo'] ?? -1;
}

test('teredo: IPv6 in UDP/3544 is decoded to the inner packet, the outer endpoints kept', () => {
  const dec = new Decoder();
  const inner = innerIpv6();
  const { pkt, ok } = decodeFrame(dec, teredoFrame(inner));
  assert.equal(ok, true);
  assert.equal(pkt.ipVersion, 6);
  assert.equal(pkt.proto, 58);
  assert.deepEqual(Array.from(pkt.src6), ip6Words(IN_SRC));
  assert.deepEqual(Array.from(pkt.dst6), ip6Words(IN_DST));
  assert.equal(pkt.icmpType, 128);
  assert.equal(pkt.tunnel, TunnelKind.TEREDO);
  assert.equal(pkt.tunnelSrc4, ip4(OUT_SRC));
  assert.equal(pkt.tunnelDst4, ip4(OUT_DST));
  // what Suricata's tunnel pseudo-packet holds: the IPv6 packet, nothing of the outer frame
  assert.equal(pkt.tunnelLen, inner.length);
  assert.equal(teredoCount(dec), 1);
});

test('teredo: the origin indication is skipped; the server side (source port 3544) is decoded too', () => {
  const dec = new Decoder();
  const inner = innerIpv6();
  const { pkt, ok } = decodeFrame(dec, teredoFrame(Buffer.concat([ORIGIN, inner]), 3544, 51000));
  assert.equal(ok, true);
  assert.equal(pkt.tunnel, TunnelKind.TEREDO);
  assert.equal(pkt.proto, 58);
  assert.deepEqual(Array.from(pkt.dst6), ip6Words(IN_DST));
  assert.equal(pkt.tunnelLen, inner.length);
  assert.equal(teredoCount(dec), 1);
});

test('teredo: what Suricata does not take for Teredo stays plain UDP', () => {
  const inner = innerIpv6();
  const cases: Array<[string, Buffer, number?, number?]> = [
    ['authentication header (qualification traffic)', Buffer.concat([AUTH, inner])],
    ['hop limit 0', innerIpv6(0)],
    ['IPv6 payload length longer than the datagram', Buffer.concat([inner.subarray(0, 4), Buffer.from([0x01, 0x00]), inner.subarray(6)])],
    ['trailing bytes after the IPv6 packet', Buffer.concat([inner, Buffer.from([0, 0, 0, 0])])],
    ['not IPv6 (version 4)', Buffer.concat([Buffer.from([0x45]), inner.subarray(1)])],
    ['shorter than an IPv6 header', inner.subarray(0, 39)],
    ['origin indication with no room for IPv6', Buffer.concat([ORIGIN, inner.subarray(0, 39)])],
    ['hop-by-hop with under 8 bytes', ipv6({ src: IN_SRC, dst: IN_DST, nh: 0, payload: Buffer.alloc(4) })],
    ['a valid packet on another port', inner, 40000, 3545],
  ];
  for (const [why, payload, sport, dport] of cases) {
    const dec = new Decoder();
    const { pkt, ok } = decodeFrame(dec, teredoFrame(payload, sport, dport));
    assert.equal(ok, true, why);
    assert.equal(pkt.tunnel, TunnelKind.NONE, why);
    assert.equal(pkt.proto, 17, why);
    assert.equal(pkt.ipVersion, 4, why);
    assert.equal(pkt.payloadLen, payload.length, why);
    assert.equal(teredoCount(dec), 0, why);
  }
});

test('teredo: the port list is configurable (teredoPorts)', () => {
  const dec = new Decoder({ teredoPorts: [5000] });
  const inner = innerIpv6();
  assert.equal(decodeFrame(dec, teredoFrame(inner, 40000, 3544)).pkt.tunnel, TunnelKind.NONE);
  assert.equal(decodeFrame(dec, teredoFrame(inner, 40000, 5000)).pkt.tunnel, TunnelKind.TEREDO);
});

test('teredo: truncated and mutated datagrams never throw', () => {
  const dec = new Decoder();
  const pkt = new Packet();
  const base = teredoFrame(Buffer.concat([ORIGIN, innerIpv6()]));
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  let decoded = 0;
  for (let i = 0; i < 20000; i++) {
    const f = Buffer.from(base.subarray(0, 42 + rnd(base.length - 41)));
    for (let k = rnd(4); k > 0; k--) f[42 + rnd(f.length - 42)] = rnd(256);
    decodeInto(dec, pkt, f);
    if (pkt.tunnel === TunnelKind.TEREDO) {
      decoded++;
      assert.ok(pkt.tunnelLen >= 40 && pkt.tunnelLen <= f.length - 42, `tunnelLen ${pkt.tunnelLen} of ${f.length}`);
    }
  }
  assert.ok(decoded > 0, 'some mutations still decode');
});

const SV = 'suricata-verify/tests/decode-teredo-01';
test('teredo: suricata-verify decode-teredo-01 end to end: the inner flow as Suricata logs it', { skip: skipWithoutShared(SV) }, () => {
  const dir = sharedPath(SV) as string;
  const eve = new EveCollector();
  const p = new Pipeline(defaultConfig(), { eve });
  readCaptureFile(join(dir, 'input.pcap'), p);
  p.finish();
  // Frames 6/7 carry an authentication header and frame 31 has hop limit 0: Suricata decodes only frame 30.
  assert.equal(p.counters()['decoder.teredo'], 1);
  // The suricata-verify check on the tunnelled flow, read from its test.yaml.
  const checks = (parseYaml(readFileSync(join(dir, 'test.yaml'), 'utf8')) as { checks: Array<{ filter?: { match?: Record<string, unknown> } }> }).checks;
  const want = checks.map((c) => c.filter?.match).find((m) => m !== undefined && m.event_type === 'flow' && String(m.src_ip).includes(':'));
  assert.ok(want !== undefined, 'the test still checks an IPv6 flow');
  const flows = eve.out.filter((r) => r.event_type === 'flow' && r.src_ip === want.src_ip && r.dest_ip === want.dest_ip);
  assert.equal(flows.length, 1);
  const got = flows[0] as Record<string, unknown>;
  for (const [k, v] of Object.entries(want)) {
    const val = k.split('.').reduce<unknown>((o, part) => (o as Record<string, unknown> | undefined)?.[part], got);
    assert.deepEqual(val, v, k);
  }
});
