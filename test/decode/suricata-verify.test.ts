/**
 * Conformance with Suricata's regression suite (../shared/data/suricata-verify):
 * decoder-level facts that each test's test.yaml checks (flows, alerts on
 * decode-event rules, stats), restated as expectations on our decoder's
 * output for the same pcap. Where Suricata's check is about something the
 * decoder does not own (outer-tunnel flows, alert fields), it is left out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decoder } from '../../src/decode/decoder.js';
import { Packet, TunnelKind } from '../../src/decode/packet.js';
import { sharedPath, skipWithoutShared } from '../support/shared.js';
import { events, ip4, ip6Words } from './build.js';
import { loadFrames } from './frames.js';

interface Row {
  ok: boolean;
  tunnel: number;
  vlan0: number;
  vlanCount: number;
  v: number;
  src4: number;
  dst4: number;
  src6: number[];
  proto: number;
  sport: number;
  dport: number;
  icmpType: number;
  reassembled: boolean;
  payloadLen: number;
  events: string[];
}

function run(rel: string): { rows: Row[]; stats: Record<string, number> } {
  const d = new Decoder();
  const pkt = new Packet();
  const rows: Row[] = [];
  for (const f of loadFrames(sharedPath(rel) as string)) {
    pkt.load(f.data, 0, f.data.length, f.data.length, f.tsSec, f.tsNsec, f.linkType);
    const ok = d.decode(pkt);
    rows.push({
      ok, tunnel: pkt.tunnel, vlan0: pkt.vlan0, vlanCount: pkt.vlanCount, v: pkt.ipVersion, src4: pkt.src4, dst4: pkt.dst4,
      src6: Array.from(pkt.src6), proto: pkt.proto, sport: pkt.sport, dport: pkt.dport, icmpType: pkt.icmpType,
      reassembled: pkt.reassembled, payloadLen: pkt.payloadLen, events: events(pkt),
    });
  }
  return { rows, stats: d.stats() };
}

const SV = 'suricata-verify/tests/';

function svTest(name: string, rel: string, fn: (r: ReturnType<typeof run>) => void): void {
  test(`suricata-verify ${name}`, { skip: skipWithoutShared(SV + rel) }, () => fn(run(SV + rel)));
}

svTest('geneve-decoder: ICMP echo inside Geneve, 4 requests and 4 replies', 'geneve-decoder/input.pcap', ({ rows }) => {
  const a = ip4('10.0.0.1');
  const b = ip4('10.0.0.2');
  const icmp = rows.filter((r) => r.ok && r.proto === 1 && r.tunnel === TunnelKind.GENEVE);
  assert.equal(icmp.filter((r) => r.src4 === a && r.dst4 === b && r.icmpType === 8).length, 4);
  assert.equal(icmp.filter((r) => r.src4 === b && r.dst4 === a && r.icmpType === 0).length, 4);
});

svTest('vxlan-decoder-01: DNS answer inside VXLAN (53 → 12345) next to a plain flow 32021 → 12345', 'vxlan-decoder-01/input.pcap', ({ rows }) => {
  assert.ok(rows.some((r) => r.tunnel === TunnelKind.VXLAN && r.sport === 53 && r.dport === 12345));
  assert.ok(rows.some((r) => r.tunnel === TunnelKind.NONE && r.sport === 32021 && r.dport === 12345));
});

svTest('vxlan-non-zero-reserved-fields: 10 VXLAN packets, inner TCP 5 + 5', 'vxlan-non-zero-reserved-fields/input.pcap', ({ rows, stats }) => {
  assert.equal(stats['decoder.vxlan'], 10);
  assert.equal(rows.filter((r) => r.proto === 6 && r.sport === 51252 && r.dport === 80).length, 5);
  assert.equal(rows.filter((r) => r.proto === 6 && r.sport === 80 && r.dport === 51252).length, 5);
});

svTest('decode-erspan-typeII-01: ICMP inside ERSPAN II with the mirrored VLAN 23', 'decode-erspan-typeII-01/input.pcap', ({ rows }) => {
  const icmp = rows.filter((r) => r.ok && r.proto === 1);
  const a = ip4('23.0.0.2');
  const b = ip4('23.0.0.3');
  assert.equal(icmp.filter((r) => r.src4 === a && r.dst4 === b && r.icmpType === 8 && r.vlan0 === 23).length, 2);
  assert.equal(icmp.filter((r) => r.src4 === b && r.dst4 === a && r.icmpType === 0 && r.vlan0 === 23).length, 2);
});

svTest('decode-sll2-01: stats decoder.ipv4 5, decoder.tcp 5, decoder.sll2 5', 'decode-sll2-01/input.pcap', ({ stats }) => {
  assert.equal(stats['decoder.ipv4'], 5);
  assert.equal(stats['decoder.tcp'], 5);
  assert.equal(stats['decoder.sll2'], 5);
});

svTest('decode-too-small: tcp.pkt_too_small, udp.hlen_too_small, gre.pkt_too_small over IPv4 and IPv6', 'decode-too-small/test.pcap', ({ rows }) => {
  const v6 = ip6Words('fd01::101:101');
  const count = (name: string, v: number) =>
    rows.filter((r) => r.events.includes(name) && (v === 4 ? r.src4 === ip4('1.1.1.1') : r.v === 6 && r.src6.join() === v6.join())).length;
  assert.equal(count('decoder.tcp.pkt_too_small', 4), 1);
  assert.equal(count('decoder.tcp.pkt_too_small', 6), 1);
  assert.equal(count('decoder.udp.hlen_too_small', 4), 2);
  assert.equal(count('decoder.udp.hlen_too_small', 6), 2);
  assert.equal(count('decoder.gre.pkt_too_small', 4), 1);
  assert.equal(count('decoder.gre.pkt_too_small', 6), 1);
});

svTest('defrag bug-6942: 1024 GRE/PPP fragments reassemble to one UDP datagram with more than 65000 bytes of data', 'defrag/bug-6942-6887-defrag-eth-ip-gre-ppp-ip-udp-data/eth-ip-gre-ppp-max-ip-packet.pcap', ({ rows }) => {
  const re = rows.filter((r) => r.reassembled);
  assert.equal(re.length, 1);
  assert.equal(re[0].proto, 17);
  assert.equal(re[0].tunnel, TunnelKind.GRE);
  assert.ok(re[0].payloadLen > 65000, `dsize ${re[0].payloadLen}`);
});

svTest('ipv4-truncated: the truncated datagram raises ipv4.trunc_pkt', 'ipv4-truncated/truncated.pcap', ({ rows }) => {
  assert.deepEqual(rows.map((r) => r.events), [['decoder.ipv4.trunc_pkt']]);
});

svTest('pppoe: discovery and PPP control traffic raise no decoder event', 'pppoe/input.pcap', ({ rows, stats }) => {
  assert.deepEqual(rows.flatMap((r) => r.events), []);
  assert.equal(stats['decoder.pppoe'], 27); // the session-stage frames (tshark: pppoes)
  assert.ok(rows.every((r) => !r.ok));
});
