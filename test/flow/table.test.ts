import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowTable } from '../../src/flow/table.js';
import type { Flow, FlowEndReason } from '../../src/flow/flow.js';
import { A, B, C, F, mkPacket } from './packets.js';

function recorder(): { ended: [Flow, FlowEndReason][]; onFlowEnd(f: Flow, r: FlowEndReason): void } {
  const ended: [Flow, FlowEndReason][] = [];
  return { ended, onFlowEnd: (f, r) => ended.push([f, r]) };
}

test('both directions of a 5-tuple map to one flow with per-direction counters', () => {
  const t = new FlowTable();
  const f1 = t.handle(mkPacket({ proto: 17, src: A, dst: B, sport: 5000, dport: 53, payload: 'abc' }));
  assert.ok(f1);
  assert.equal(t.lastDirection, 0);
  const f2 = t.handle(mkPacket({ proto: 17, src: B, dst: A, sport: 53, dport: 5000, payload: 'defgh' }));
  assert.equal(f2, f1);
  assert.equal(t.lastDirection, 1);
  const f3 = t.handle(mkPacket({ proto: 17, src: A, dst: B, sport: 5000, dport: 53 }));
  assert.equal(f3, f1);
  assert.equal(t.lastDirection, 0);
  assert.equal(f1.client4, A);
  assert.equal(f1.server4, B);
  assert.equal(f1.clientPort, 5000);
  assert.equal(f1.serverPort, 53);
  assert.equal(f1.pktsToServer, 2);
  assert.equal(f1.pktsToClient, 1);
  assert.equal(f1.bytesToServer, 54 + 3 + 54);
  assert.equal(f1.bytesToClient, 54 + 5);
  assert.equal(f1.stateName, 'established');
  // a different port pair is another flow, also with addresses swapped
  const g = t.handle(mkPacket({ proto: 17, src: B, dst: A, sport: 5000, dport: 53 }));
  assert.notEqual(g, f1);
  assert.equal(t.stats()['flow.total'], 2);
  assert.equal(t.stats()['flow.udp'], 2);
});

test('VLAN ids and tunnel ids separate otherwise identical flows', () => {
  const t = new FlowTable();
  const base = { proto: 17, src: A, dst: B, sport: 1, dport: 2 };
  const plain = t.handle(mkPacket(base));
  const v10 = t.handle(mkPacket({ ...base, vlan0: 10 }));
  const v11 = t.handle(mkPacket({ ...base, vlan0: 11 }));
  const qinq = t.handle(mkPacket({ ...base, vlan0: 10, vlan1: 20 }));
  const vni1 = t.handle(mkPacket({ ...base, tunnel: 1, tunnelId: 100 }));
  const vni2 = t.handle(mkPacket({ ...base, tunnel: 1, tunnelId: 200 }));
  const all = new Set([plain, v10, v11, qinq, vni1, vni2]);
  assert.equal(all.size, 6);
  // replies land in the right ones
  assert.equal(t.handle(mkPacket({ ...base, src: B, dst: A, sport: 2, dport: 1, tunnel: 1, tunnelId: 200 })), vni2);
  assert.equal(t.lastDirection, 1);
  assert.equal(t.handle(mkPacket({ ...base, src: B, dst: A, sport: 2, dport: 1, vlan0: 10, vlan1: 20 })), qinq);
  assert.equal(t.stats()['flow.total'], 6);
});

test('IPv6 flows normalise both directions', () => {
  const t = new FlowTable();
  const a = [0x20010db8, 0, 0, 1];
  const b = [0x20010db8, 0, 0, 2];
  const f = t.handle(mkPacket({ v6: true, src6: a, dst6: b, flags: F.SYN, sport: 999, dport: 443 }));
  assert.ok(f);
  assert.equal(f.ipVersion, 6);
  assert.deepEqual([...f.client6], a);
  assert.equal(t.handle(mkPacket({ v6: true, src6: b, dst6: a, flags: F.SYN | F.ACK, sport: 443, dport: 999 })), f);
  assert.equal(t.lastDirection, 1);
  assert.equal(f.tcpStateName, 'syn_recv');
});

test('a TCP flow first seen at its SYN/ACK belongs to the receiver of the SYN/ACK', () => {
  const t = new FlowTable();
  const f = t.handle(mkPacket({ src: B, dst: A, sport: 80, dport: 40000, flags: F.SYN | F.ACK, seq: 500, ack: 101 }));
  assert.ok(f);
  assert.equal(t.lastDirection, 1);
  assert.equal(f.client4, A);
  assert.equal(f.clientPort, 40000);
  assert.equal(f.server4, B);
  assert.equal(f.pktsToClient, 1);
  t.handle(mkPacket({ src: A, dst: B, sport: 40000, dport: 80, flags: F.ACK, seq: 101, ack: 501 }));
  assert.equal(t.lastDirection, 0);
  assert.equal(f.tcpStateName, 'established');
  assert.equal(f.tcpFlagsToClient, F.SYN | F.ACK);
  assert.equal(f.tcpFlagsToServer, F.ACK);
});

test('TCP handshake and client-first teardown walk the states', () => {
  const t = new FlowTable();
  const c = { src: A, dst: B, sport: 40000, dport: 80 };
  const s = { src: B, dst: A, sport: 80, dport: 40000 };
  const f = t.handle(mkPacket({ ...c, flags: F.SYN, seq: 100 }))!;
  assert.equal(f.tcpStateName, 'syn_sent');
  assert.equal(f.stateName, 'new');
  t.handle(mkPacket({ ...s, flags: F.SYN | F.ACK, seq: 500, ack: 101 }));
  assert.equal(f.tcpStateName, 'syn_recv');
  t.handle(mkPacket({ ...c, flags: F.ACK, seq: 101, ack: 501 }));
  assert.equal(f.tcpStateName, 'established');
  assert.equal(f.stateName, 'established');
  t.handle(mkPacket({ ...c, flags: F.FIN | F.ACK, seq: 101, ack: 501 }));
  assert.equal(f.tcpStateName, 'close_wait');
  assert.equal(f.stateName, 'established');
  t.handle(mkPacket({ ...s, flags: F.FIN | F.ACK, seq: 501, ack: 102 }));
  assert.equal(f.tcpStateName, 'last_ack');
  assert.equal(f.stateName, 'closed');
  t.handle(mkPacket({ ...c, flags: F.ACK, seq: 102, ack: 502 }));
  assert.equal(f.tcpStateName, 'closed');
});

test('server-first teardown, RST and mid-stream pick-up', () => {
  const t = new FlowTable();
  const c = { src: A, dst: B, sport: 40001, dport: 80 };
  const s = { src: B, dst: A, sport: 80, dport: 40001 };
  // first packet is a data ACK: mid-stream pick-up
  const f = t.handle(mkPacket({ ...c, flags: F.ACK | F.PSH, seq: 1000, ack: 2000, payload: 'x' }))!;
  assert.equal(f.tcpStateName, 'established');
  t.handle(mkPacket({ ...s, flags: F.FIN | F.ACK, seq: 2000, ack: 1001 }));
  assert.equal(f.tcpStateName, 'fin_wait1');
  t.handle(mkPacket({ ...c, flags: F.ACK, seq: 1001, ack: 2001 }));
  assert.equal(f.tcpStateName, 'fin_wait2');
  t.handle(mkPacket({ ...c, flags: F.FIN | F.ACK, seq: 1001, ack: 2001 }));
  assert.equal(f.tcpStateName, 'time_wait');
  t.handle(mkPacket({ ...s, flags: F.ACK, seq: 2001, ack: 1002 }));
  assert.equal(f.tcpStateName, 'closed');

  const g = t.handle(mkPacket({ src: A, dst: C, sport: 1, dport: 2, flags: F.SYN, seq: 5 }))!;
  t.handle(mkPacket({ src: C, dst: A, sport: 2, dport: 1, flags: F.RST | F.ACK, seq: 0, ack: 6 }));
  assert.equal(g.tcpStateName, 'closed');
  assert.equal(g.stateName, 'closed');
});

test('a new SYN with another ISN on a closed flow starts a new flow (port reuse)', () => {
  const rec = recorder();
  const t = new FlowTable({}, rec);
  const c = { src: A, dst: B, sport: 40000, dport: 80 };
  const f = t.handle(mkPacket({ ...c, flags: F.SYN, seq: 100 }))!;
  t.handle(mkPacket({ src: B, dst: A, sport: 80, dport: 40000, flags: F.RST | F.ACK, ack: 101 }));
  // the same SYN again (retransmission) stays in the old flow
  assert.equal(t.handle(mkPacket({ ...c, flags: F.SYN, seq: 100 })), f);
  const g = t.handle(mkPacket({ ...c, flags: F.SYN, seq: 9999 }))!;
  assert.notEqual(g, f);
  assert.equal(g.tcpStateName, 'syn_sent');
  assert.deepEqual(rec.ended.map(([x, r]) => [x.flowId, r]), [[f.flowId, 'forced']]);
  assert.equal(t.stats()['flow.tcp_reuse'], 1);
  assert.notEqual(g.flowId, f.flowId);
});

test('ICMP echo pairs by identifier; errors go to the flow of the embedded packet', () => {
  const t = new FlowTable();
  const req = t.handle(mkPacket({ proto: 1, src: A, dst: B, icmpType: 8, icmpId: 77 }))!;
  const rep = t.handle(mkPacket({ proto: 1, src: B, dst: A, icmpType: 0, icmpId: 77 }));
  assert.equal(rep, req);
  assert.equal(t.lastDirection, 1);
  assert.equal(req.clientPort, 77);
  assert.equal(req.stateName, 'established');
  const other = t.handle(mkPacket({ proto: 1, src: A, dst: B, icmpType: 8, icmpId: 78 }));
  assert.notEqual(other, req);

  const udp = t.handle(mkPacket({ proto: 17, src: A, dst: B, sport: 3333, dport: 161 }))!;
  // B answers with port unreachable quoting A:3333 -> B:161
  const err = t.handle(
    mkPacket({ proto: 1, src: B, dst: A, icmpType: 3, inner: { src: A, dst: B, proto: 17, sport: 3333, dport: 161 } }),
  );
  assert.equal(err, udp);
  assert.equal(t.lastDirection, 1);
  assert.equal(udp.pktsToClient, 1);
  // an ICMP error does not make the UDP flow established
  assert.equal(udp.stateName, 'new');
  // an error for an unknown flow gets its own flow
  const lone = t.handle(
    mkPacket({ proto: 1, src: C, dst: A, icmpType: 11, inner: { src: A, dst: B, proto: 17, sport: 1, dport: 2 } }),
  );
  assert.ok(lone && lone !== udp && lone.proto === 1);
  const st = t.stats();
  assert.equal(st['flow.icmp_error_attributed'], 1);
  assert.equal(st['flow.icmpv4'], 3);
});

test('expire() ends idle flows by per-state, per-protocol timeouts', () => {
  const rec = recorder();
  const t = new FlowTable(
    { timeouts: { new: 30, established: 300, closed: 0, tcpNew: 60, tcpEstablished: 600, tcpClosed: 10 } },
    rec,
  );
  const u = t.handle(mkPacket({ proto: 17, sport: 1, dport: 2, ts: 100 }))!; // udp new: 30
  const ue = t.handle(mkPacket({ proto: 17, sport: 3, dport: 4, ts: 100 }))!;
  t.handle(mkPacket({ proto: 17, src: B, dst: A, sport: 4, dport: 3, ts: 101 })); // ue established: 300
  const syn = t.handle(mkPacket({ flags: F.SYN, sport: 5, dport: 6, ts: 100 }))!; // tcp new: 60
  const rst = t.handle(mkPacket({ flags: F.SYN, sport: 7, dport: 8, ts: 100 }))!;
  t.handle(mkPacket({ flags: F.RST, src: B, dst: A, sport: 8, dport: 7, ts: 100 })); // tcp closed: 10

  t.expire(109.9);
  assert.equal(rec.ended.length, 0);
  t.expire(110);
  assert.deepEqual(rec.ended.map(([f]) => f), [rst]);
  t.expire(129.99);
  assert.equal(rec.ended.length, 1);
  t.expire(130);
  assert.deepEqual(rec.ended.map(([f]) => f), [rst, u]);
  t.expire(160);
  assert.deepEqual(rec.ended.map(([f]) => f), [rst, u, syn]);
  t.expire(400);
  assert.equal(rec.ended.length, 3);
  t.expire(401);
  assert.deepEqual(rec.ended.map(([f]) => f), [rst, u, syn, ue]);
  assert.ok(rec.ended.every(([f, r]) => r === 'timeout' && f.endReason === 'timeout'));
  assert.equal(t.activeFlows, 0);
  assert.equal(t.stats()['flow.end.timeout'], 4);
  // activity keeps a flow alive: touch then expire
  const k = t.handle(mkPacket({ proto: 17, sport: 9, dport: 9, ts: 500 }))!;
  t.handle(mkPacket({ proto: 17, sport: 9, dport: 9, ts: 520 }));
  t.expire(540);
  assert.equal(k.slot >= 0, true);
  t.expire(550);
  assert.equal(k.slot, -1);
});

test('flushAll ends every flow with reason shutdown', () => {
  const rec = recorder();
  const t = new FlowTable({}, rec);
  for (let i = 0; i < 50; i++) t.handle(mkPacket({ proto: i % 2 ? 17 : 6, sport: 1000 + i, dport: 80, ts: 10 + i }));
  t.flushAll();
  assert.equal(rec.ended.length, 50);
  assert.ok(rec.ended.every(([, r]) => r === 'shutdown'));
  assert.equal(new Set(rec.ended.map(([f]) => f.flowId)).size, 50);
  assert.equal(t.activeFlows, 0);
  assert.equal(t.stats()['flow.end.shutdown'], 50);
});

test('flow ids are positive, below 2^51 and unique', () => {
  const t = new FlowTable();
  const ids = new Set<number>();
  for (let i = 0; i < 5000; i++) {
    const f = t.handle(mkPacket({ proto: 17, src: A + i, dst: B, sport: i & 0xffff, dport: 53 }))!;
    assert.ok(Number.isSafeInteger(f.flowId) && f.flowId > 0 && f.flowId < 2 ** 51);
    ids.add(f.flowId);
  }
  assert.equal(ids.size, 5000);
});

test('maxFlows reached: emergency mode, LRU eviction reported as memcap, recovery', () => {
  const rec = recorder();
  const t = new FlowTable({ maxFlows: 100, emergencyRecovery: 30 }, rec);
  for (let i = 0; i < 100; i++) t.handle(mkPacket({ flags: F.SYN, sport: 1000 + i, ts: 1 + i * 0.001 }));
  assert.equal(t.inEmergency, false);
  // touch the first flow so it is not the least recently active
  const first = t.handle(mkPacket({ flags: F.SYN, sport: 1000, ts: 2 }))!;
  t.handle(mkPacket({ flags: F.SYN, sport: 5000, ts: 2.1 }));
  assert.equal(t.inEmergency, true);
  assert.equal(rec.ended.length, 1);
  assert.equal(rec.ended[0][1], 'memcap');
  assert.equal(rec.ended[0][0].clientPort, 1001);
  assert.ok(first.slot >= 0);
  let st = t.stats();
  assert.equal(st['flow.memcap'], 1);
  assert.equal(st['flow.emerg_mode_entered'], 1);
  assert.equal(st['flow.end.memcap'], 1);
  assert.equal(st['flow.active'], 100);
  // emergency timeouts (tcp new: 5 s) expire the idle flows; below 70 % emergency ends
  t.expire(6.5);
  assert.equal(t.inEmergency, false);
  st = t.stats();
  assert.equal(st['flow.emerg_mode_over'], 1);
  assert.equal(st['flow.active'], 2);
});
