// Unit tests of the tshark oracle's parsers and of the flow comparison rules,
// on small hand-made inputs (no tshark, no shared data needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bytesMatch,
  canonicalIp,
  convKey,
  diffConvTable,
  endpoint,
  parseConvOutput,
  parseFollowRaw,
  parseFrameRow,
  rebuildConversations,
  type TsFrame,
} from '../support/tshark.js';
import { compareFile, WHY, type HarrierFrames, type TimeoutTable } from './flow-compare.js';
import type { HarrierFlow } from './harrier-run.js';

/** A FRAME_FIELDS row: number, len, caplen, time, protocols, ip src/dst, ipv6 src/dst, tcp sp/dp/stream, udp sp/dp/stream, tcp.flags, vlan, tcp.hdr_len. */
function row(f: Partial<Record<'n' | 'len' | 'cap' | 't' | 'protos' | 'ip4s' | 'ip4d' | 'ip6s' | 'ip6d' | 'tsp' | 'tdp' | 'tst' | 'usp' | 'udp' | 'ust' | 'fl' | 'vlan' | 'hl', string>>): string {
  return [f.n ?? '1', f.len ?? '60', f.cap ?? f.len ?? '60', f.t ?? '0', f.protos ?? '', f.ip4s ?? '', f.ip4d ?? '', f.ip6s ?? '', f.ip6d ?? '', f.tsp ?? '', f.tdp ?? '', f.tst ?? '', f.usp ?? '', f.udp ?? '', f.ust ?? '', f.fl ?? '', f.vlan ?? '', f.hl ?? ''].join('\t');
}

test('canonicalIp writes IPv6 in EVE full form and leaves IPv4 alone', () => {
  assert.equal(canonicalIp('2001:db8::1'), '2001:0db8:0000:0000:0000:0000:0000:0001');
  assert.equal(canonicalIp('::'), '0000:0000:0000:0000:0000:0000:0000:0000');
  assert.equal(canonicalIp('fe80::1:2'), 'fe80:0000:0000:0000:0000:0000:0001:0002');
  assert.equal(canonicalIp('::ffff:10.0.0.1'), '0000:0000:0000:0000:0000:ffff:0a00:0001');
  assert.equal(canonicalIp('10.1.2.3'), '10.1.2.3');
  assert.equal(endpoint('2001:db8::1', 80), '[2001:0db8:0000:0000:0000:0000:0000:0001]:80');
});

test('parseFrameRow pairs each TCP/UDP layer with the IP layer above it (VXLAN: outer UDP, inner TCP)', () => {
  const f = parseFrameRow(
    row({
      protos: 'eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:tcp:http',
      ip4s: '192.168.0.1,10.0.0.1',
      ip4d: '192.168.0.2,10.0.0.2',
      tsp: '40000',
      tdp: '80',
      tst: '3',
      usp: '5555',
      udp: '4789',
      ust: '7',
      fl: '0x0002',
      hl: '20',
    }),
  );
  assert.equal(f.layers.length, 2);
  assert.deepEqual(
    f.layers.map((l) => [l.proto, l.stream, l.src, l.dport, l.depth, l.tapped]),
    [
      [17, 7, '192.168.0.1', 4789, 0, true],
      [6, 3, '10.0.0.1', 80, 1, true],
    ],
  );
  assert.equal(f.tcpFlags, 2);
});

test('parseFrameRow: a packet quoted in an ICMP error and a bogus TCP header are not tapped; 6in4 pairs with ipv6', () => {
  const e = parseFrameRow(
    row({ protos: 'eth:ethertype:ip:icmp:ip:udp:dns', ip4s: '10.0.0.9,10.0.0.1', ip4d: '10.0.0.1,10.0.0.2', usp: '5000', udp: '53', ust: '0' }),
  );
  assert.equal(e.layers.length, 1);
  assert.equal(e.layers[0].tapped, false);
  assert.equal(e.layers[0].src, '10.0.0.1');
  const b = parseFrameRow(row({ protos: 'eth:ethertype:ip:tcp', ip4s: '1.1.1.1', ip4d: '2.2.2.2', tsp: '1', tdp: '2', tst: '0', hl: '16' }));
  assert.equal(b.layers[0].tapped, false);
  const six = parseFrameRow(row({ protos: 'eth:ethertype:ip:ipv6:tcp', ip4s: '1.1.1.1', ip4d: '2.2.2.2', ip6s: '2001:db8::1', ip6d: '2001:db8::2', tsp: '1', tdp: '2', tst: '0', hl: '20' }));
  assert.equal(six.layers[0].src, canonicalIp('2001:db8::1'));
});

test('rebuildConversations groups by stream, A = first sender, sums frame and captured lengths per direction', () => {
  const frames = [
    row({ n: '1', len: '100', cap: '60', t: '1', protos: 'eth:ip:tcp', ip4s: '1.1.1.1', ip4d: '2.2.2.2', tsp: '1000', tdp: '80', tst: '0' }),
    row({ n: '2', len: '70', t: '2', protos: 'eth:ip:tcp', ip4s: '2.2.2.2', ip4d: '1.1.1.1', tsp: '80', tdp: '1000', tst: '0' }),
    row({ n: '3', len: '80', t: '3', protos: 'eth:ip:tcp', ip4s: '1.1.1.1', ip4d: '2.2.2.2', tsp: '1000', tdp: '80', tst: '1', fl: '0x002' }),
    row({ n: '4', len: '42', t: '3', protos: 'eth:arp' }),
  ].map(parseFrameRow);
  const c = rebuildConversations(frames);
  assert.equal(c.length, 2);
  assert.equal(c[0].a, '1.1.1.1:1000');
  assert.deepEqual([c[0].framesAB, c[0].bytesAB, c[0].capAB, c[0].framesBA, c[0].bytesBA], [1, 100, 60, 1, 70]);
  assert.deepEqual(c[0].frames, [0, 1]);
  assert.deepEqual(c[1].frames, [2]);
});

const CONV_TEXT = `================================================================================
UDP Conversations
Filter:<No Filter>
                                                           |       <-      | |       ->      | |     Total     |    Relative    |   Duration   |
                                                           | Frames  Bytes | | Frames  Bytes | | Frames  Bytes |      Start     |              |
10.0.0.1:53              <-> 10.0.0.2:5000                  1 90 bytes         1 70 bytes         2 160 bytes       0.000000000         0.0010
================================================================================
================================================================================
TCP Conversations
Filter:<No Filter>
                                                           |       <-      | |       ->      | |     Total     |    Relative    |   Duration   |
                                                           | Frames  Bytes | | Frames  Bytes | | Frames  Bytes |      Start     |              |
172.16.0.122:41835         <-> 205.234.218.129:80             129 176 kB         92 9654 bytes     221 186 kB        0.346739000         1.6281
2001:db8::1:443            <-> 2001:db8::2:5555                 2 140 bytes        3 200 bytes       5 340 bytes       0.1                 0.2
================================================================================
`;

test('parseConvOutput reads both tables, "<-" as B→A, units kept', () => {
  const rows = parseConvOutput(CONV_TEXT);
  assert.equal(rows.length, 3);
  assert.deepEqual(rows[0], { proto: 17, a: '10.0.0.1:53', b: '10.0.0.2:5000', framesBA: 1, bytesBA: { value: 90, unit: 'bytes' }, framesAB: 1, bytesAB: { value: 70, unit: 'bytes' }, framesTotal: 2 });
  assert.equal(rows[1].proto, 6);
  assert.deepEqual(rows[1].bytesBA, { value: 176, unit: 'kB' });
  assert.equal(rows[2].a, '2001:db8::1:443');
  assert.ok(bytesMatch(176_400, rows[1].bytesBA));
  assert.ok(!bytesMatch(178_100, rows[1].bytesBA));
  assert.ok(bytesMatch(9654, rows[1].bytesAB));
  assert.ok(!bytesMatch(9655, rows[1].bytesAB));
});

test('diffConvTable finds a conversation whose counts differ and one missing from the table', () => {
  const frames = [
    row({ n: '1', len: '90', protos: 'eth:ip:udp', ip4s: '10.0.0.2', ip4d: '10.0.0.1', usp: '5000', udp: '53', ust: '0' }),
    row({ n: '2', len: '70', protos: 'eth:ip:udp', ip4s: '10.0.0.1', ip4d: '10.0.0.2', usp: '53', udp: '5000', ust: '0' }),
  ].map(parseFrameRow);
  const table = parseConvOutput(CONV_TEXT).slice(0, 1);
  // Table's A is 10.0.0.1:53; rebuilt A is 10.0.0.2:5000 (first sender) — a different orientation is a difference the test must see.
  assert.equal(diffConvTable(table, rebuildConversations(frames)).length, 2);
  const flipped = [frames[1], frames[0]];
  assert.deepEqual(diffConvTable(table, rebuildConversations(flipped)), []);
  const more: TsFrame[] = [...flipped, parseFrameRow(row({ n: '3', protos: 'eth:ip:udp', ip4s: '9.9.9.9', ip4d: '8.8.8.8', usp: '1', udp: '2', ust: '1' }))];
  assert.equal(diffConvTable(table, rebuildConversations(more)).length, 1);
});

test('parseFollowRaw splits the two directions (tab = node 1) and reads tshark\'s missing-bytes marker as a gap', () => {
  const text = [
    '',
    '===================================================================',
    'Follow: tcp,raw',
    'Filter: tcp.stream eq 0',
    'Node 0: 10.0.0.1:1000',
    'Node 1: 10.0.0.2:80',
    '474554',
    '\t485454',
    '\t50',
    '\t' + Buffer.from('[3038 bytes missing in capture file]\0', 'latin1').toString('hex'),
    '\t51',
    '2021',
    '===================================================================',
  ].join('\n');
  const f = parseFollowRaw(text);
  assert.equal(f.node0, '10.0.0.1:1000');
  assert.equal(f.fromNode0.toString('latin1'), 'GET !');
  assert.equal(f.fromNode1.toString('latin1'), 'HTTPQ');
  assert.deepEqual(f.gaps1, [{ at: 4, len: 3038 }]);
  assert.deepEqual(f.gaps0, []);
  assert.equal(f.chunks, 6);
  assert.throws(() => parseFollowRaw('Node 0: a\nNode 1: b\nzz\n'));
});

// ---- the comparison rules -------------------------------------------------

const T: TimeoutTable = { tcp: { new: 60, established: 600, closed: 60 }, udp: { new: 30, established: 300 } };

function udpFrame(n: number, t: number, fromA: boolean, vlan = ''): string {
  return row({
    n: String(n),
    len: '100',
    t: String(t),
    protos: 'eth:ip:udp:data',
    ip4s: fromA ? '10.0.0.1' : '10.0.0.2',
    ip4d: fromA ? '10.0.0.2' : '10.0.0.1',
    usp: fromA ? '1111' : '53',
    udp: fromA ? '53' : '1111',
    ust: '0',
    vlan,
  });
}

function hflow(id: number, pk: [number, number], first: number, last: number, extra: Partial<HarrierFlow> = {}): HarrierFlow {
  const client = '10.0.0.1:1111';
  const server = '10.0.0.2:53';
  return {
    flowId: id,
    proto: 17,
    client,
    server,
    key: convKey(17, client, server),
    pktsToServer: pk[0],
    pktsToClient: pk[1],
    bytesToServer: pk[0] * 100,
    bytesToClient: pk[1] * 100,
    state: 'established',
    vlan: '',
    tunnel: false,
    first,
    last,
    ...extra,
  };
}

function hframes(flowOf: number[], dirOf: number[], flows: HarrierFlow[], extra: Partial<HarrierFrames> = {}): HarrierFrames {
  return {
    flowOf,
    dirOf,
    protoOf: flowOf.map(() => 17),
    fragOf: flowOf.map(() => 0),
    eventsOf: new Map(),
    flows: new Map(flows.map((f) => [f.flowId, f])),
    refused: null,
    ...extra,
  };
}

test('compareFile: equal numbers agree; a wrong count is unexplained', () => {
  const frames = [udpFrame(1, 0, true), udpFrame(2, 1, false), udpFrame(3, 2, true)].map(parseFrameRow);
  const ok = compareFile('x', frames, hframes([1, 1, 1], [0, 1, 0], [hflow(1, [2, 1], 0, 2)]), T);
  assert.equal(ok.agreements, 1);
  assert.deepEqual(ok.unexplained, []);
  // Harrier reports one packet more than it counted: caught.
  const bad = compareFile('x', frames, hframes([1, 1, 1], [0, 1, 0], [hflow(1, [3, 1], 0, 2)]), T);
  assert.equal(bad.agreements, 0);
  assert.ok(bad.unexplained.length > 0);
  // Direction flipped on a frame: caught.
  const dir = compareFile('x', frames, hframes([1, 1, 1], [0, 0, 0], [hflow(1, [3, 0], 0, 2)]), T);
  assert.ok(dir.unexplained.some((u) => u.includes('direction')));
});

test('compareFile: a split is explained by the idle timeout only when the gap exceeds it', () => {
  const frames = [udpFrame(1, 0, true), udpFrame(2, 1, false), udpFrame(3, 400, true)].map(parseFrameRow);
  const flows = [hflow(1, [1, 1], 0, 1), hflow(2, [1, 0], 400, 400, { state: 'new' })];
  const r = compareFile('x', frames, hframes([1, 1, 2], [0, 1, 0], flows), T);
  assert.deepEqual(r.unexplained, []);
  assert.equal(r.explained.get(WHY.idleTimeout), 1);
  // 100 s is below the established UDP timeout (300 s): the same split is not explained.
  const early = [udpFrame(1, 0, true), udpFrame(2, 1, false), udpFrame(3, 101, true)].map(parseFrameRow);
  const r2 = compareFile('x', early, hframes([1, 1, 2], [0, 1, 0], [hflow(1, [1, 1], 0, 1), hflow(2, [1, 0], 101, 101)]), T);
  assert.equal(r2.unexplained.length, 1);
});

test('compareFile: VLAN splits, decoder events, ICMP errors and refused captures are named', () => {
  const frames = [udpFrame(1, 0, true, '10'), udpFrame(2, 1, true, '20')].map(parseFrameRow);
  const v = compareFile('x', frames, hframes([1, 2], [0, 0], [hflow(1, [1, 0], 0, 0, { vlan: '10' }), hflow(2, [1, 0], 1, 1, { vlan: '20' })]), T);
  assert.equal(v.explained.get(WHY.vlan), 1);

  const three = [udpFrame(1, 0, true), udpFrame(2, 1, false)].map(parseFrameRow);
  const ev = compareFile('x', three, hframes([1, -1], [0, 0], [hflow(1, [1, 0], 0, 0)], { eventsOf: new Map([[1, ['decoder.udp.hlen_invalid']]]) }), T);
  assert.deepEqual(ev.unexplained, []);
  assert.equal(ev.explained.get(`${WHY.decoderEvent} decoder.udp.hlen_invalid`), 1);
  // The same missing frame without an event is unexplained.
  const noev = compareFile('x', three, hframes([1, -1], [0, 0], [hflow(1, [1, 0], 0, 0)]), T);
  assert.equal(noev.unexplained.length, 1);

  const icmp = [parseFrameRow(udpFrame(1, 0, true)), parseFrameRow(row({ n: '2', len: '100', t: '1', protos: 'eth:ip:icmp:ip:udp', ip4s: '10.0.0.2,10.0.0.1', ip4d: '10.0.0.1,10.0.0.2', usp: '1111', udp: '53', ust: '0' }))];
  const ic = compareFile('x', icmp, hframes([1, 1], [0, 1], [hflow(1, [1, 1], 0, 1)], { protoOf: [17, 1] }), T);
  assert.deepEqual(ic.unexplained, []);
  assert.equal(ic.explained.get(WHY.icmpError), 1);

  const ref = compareFile('x', three, hframes([-1, -1], [0, 0], [], { refused: 'HARRIER_ERR_LINKTYPE x' }), T);
  assert.equal(ref.explained.get(WHY.refused), 1);
  assert.deepEqual(ref.unexplained, []);
});

function tcpFrame(n: number, t: number, fromA: boolean, flags: string, stream: string, protos = 'eth:ip:tcp'): TsFrame {
  return parseFrameRow(
    row({ n: String(n), len: '100', t: String(t), protos, ip4s: fromA ? '10.0.0.1' : '10.0.0.2', ip4d: fromA ? '10.0.0.2' : '10.0.0.1', tsp: fromA ? '1111' : '80', tdp: fromA ? '80' : '1111', tst: stream, fl: flags, hl: '20' }),
  );
}

function tflow(id: number, pk: [number, number], first: number, last: number, extra: Partial<HarrierFlow> = {}): HarrierFlow {
  return hflow(id, pk, first, last, { proto: 6, client: '10.0.0.1:1111', server: '10.0.0.2:80', key: convKey(6, '10.0.0.1:1111', '10.0.0.2:80'), ...extra });
}

test('compareFile: TCP port reuse is explained only when the new part starts with a SYN', () => {
  // tshark: two streams (new SYN at frame 3); Harrier: one flow.
  const frames = [tcpFrame(1, 0, true, '0x002', '0'), tcpFrame(2, 1, false, '0x012', '0'), tcpFrame(3, 2, true, '0x002', '1')];
  const r = compareFile('x', frames, hframes([1, 1, 1], [0, 1, 0], [tflow(1, [2, 1], 0, 2)], { protoOf: [6, 6, 6] }), T);
  assert.deepEqual(r.unexplained, []);
  assert.equal(r.explained.get(WHY.tsharkReuse), 1);
  const noSyn = [tcpFrame(1, 0, true, '0x002', '0'), tcpFrame(2, 1, false, '0x012', '0'), tcpFrame(3, 2, true, '0x010', '1')];
  assert.equal(compareFile('x', noSyn, hframes([1, 1, 1], [0, 1, 0], [tflow(1, [2, 1], 0, 2)], { protoOf: [6, 6, 6] }), T).unexplained.length, 1);
  // Harrier: two flows, the second starting with a SYN 2 s later (no timeout): its port-reuse rule.
  const h2 = hframes([1, 1, 2], [0, 1, 0], [tflow(1, [1, 1], 0, 1, { state: 'closed' }), tflow(2, [1, 0], 2, 2, { state: 'new' })], { protoOf: [6, 6, 6] });
  const one = [tcpFrame(1, 0, true, '0x002', '0'), tcpFrame(2, 1, false, '0x012', '0'), tcpFrame(3, 2, true, '0x002', '0')];
  assert.equal(compareFile('x', one, h2, T).explained.get(WHY.harrierReuse), 1);
});

test('compareFile: an invalid TCP header counted in a port-0 flow is flagged as a defect, not silently accepted', () => {
  const frames = [tcpFrame(1, 0, true, '0x002', '0')];
  const zero = tflow(9, [1, 0], 0, 0, { client: '10.0.0.1:0', server: '10.0.0.2:0', key: convKey(6, '10.0.0.1:0', '10.0.0.2:0') });
  const r = compareFile('x', frames, hframes([9], [0], [zero], { protoOf: [6], eventsOf: new Map([[0, ['decoder.tcp.hlen_too_small']]]) }), T);
  assert.deepEqual(r.unexplained, []);
  assert.ok([...r.explained.keys()].every((k) => k.includes(WHY.invalidL4Counted)));
});

test('compareFile: frames of an encapsulation Harrier does not decode are named only for listed encapsulations', () => {
  const pppoe = [tcpFrame(1, 0, true, '0x002', '0', 'eth:ethertype:pppoes:ppp:ip:tcp')];
  const r = compareFile('x', pppoe, hframes([-1], [0], [], { protoOf: [0] }), T);
  assert.deepEqual(r.unexplained, []);
  assert.equal(r.explained.get(`${WHY.unsupportedEncap} (pppoes)`), 1);
  const other = [tcpFrame(1, 0, true, '0x002', '0', 'eth:ethertype:mpls:ip:tcp')];
  assert.equal(compareFile('x', other, hframes([-1], [0], [], { protoOf: [0] }), T).unexplained.length, 1);
});
