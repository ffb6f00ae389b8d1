import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowTable } from '../../src/flow/table.js';
import type { Flow } from '../../src/flow/flow.js';
import { TcpReassembler } from '../../src/stream/reassembler.js';
import { A, B, F, mkPacket, type PktSpec } from '../flow/packets.js';

/** The flow table and the reassembler wired as the pipeline wires them. */
function wire(flowCfg = {}, streamCfg = {}) {
  const out = new Map<Flow, [string, string]>();
  const ends: string[] = [];
  const reasm = new TcpReassembler(streamCfg, {
    data(f, dir, buf, off, len) {
      const e = out.get(f) ?? ['', ''];
      e[dir] += buf.toString('latin1', off, off + len);
      out.set(f, e);
    },
    gap() {},
  });
  const table = new FlowTable(flowCfg, {
    onFlowEnd(f, r) {
      ends.push(`${f.clientPort}:${r}`);
      reasm.flowEnded(f);
    },
  });
  table.addMemorySource(() => reasm.memuse);
  const send = (s: PktSpec): Flow | null => {
    const p = mkPacket(s);
    const f = table.handle(p);
    if (f !== null) reasm.handle(f, table.lastDirection as 0 | 1, p);
    return f;
  };
  return { out, ends, reasm, table, send };
}

test('a connection picked up at its SYN/ACK reassembles both directions the right way round', () => {
  const w = wire();
  const c = { src: A, dst: B, sport: 40000, dport: 80 };
  const s = { src: B, dst: A, sport: 80, dport: 40000 };
  const f = w.send({ ...s, flags: F.SYN | F.ACK, seq: 700, ack: 101 })!;
  w.send({ ...c, flags: F.ACK, seq: 101, ack: 701 });
  w.send({ ...c, flags: F.ACK | F.PSH, seq: 101, ack: 701, payload: 'ping' });
  w.send({ ...s, flags: F.ACK | F.PSH, seq: 701, ack: 105, payload: 'pong' });
  assert.deepEqual(w.out.get(f), ['ping', 'pong']);
  assert.equal(f.clientPort, 40000);
});

test('port reuse after close: the old flow and its streams end, the new one starts clean', () => {
  const w = wire();
  const c = { src: A, dst: B, sport: 40000, dport: 80 };
  const s = { src: B, dst: A, sport: 80, dport: 40000 };
  const f1 = w.send({ ...c, flags: F.SYN, seq: 100 })!;
  w.send({ ...s, flags: F.SYN | F.ACK, seq: 500, ack: 101 });
  w.send({ ...c, flags: F.ACK | F.PSH, seq: 101, ack: 501, payload: 'first' });
  w.send({ ...c, flags: F.RST, seq: 106, ack: 501 });
  const f2 = w.send({ ...c, flags: F.SYN, seq: 90000 })!;
  assert.notEqual(f1, f2);
  assert.deepEqual(w.ends, ['40000:forced']);
  assert.equal(f1.toServerStream, null, 'stream state released');
  w.send({ ...s, flags: F.SYN | F.ACK, seq: 7000, ack: 90001 });
  w.send({ ...c, flags: F.ACK | F.PSH, seq: 90001, ack: 7001, payload: 'second' });
  assert.deepEqual(w.out.get(f1), ['first', '']);
  assert.deepEqual(w.out.get(f2), ['second', '']);
});

test('held stream memory counts against the flow memcap and eviction frees it', () => {
  const w = wire({ memcapBytes: 64 * 1024 }, { memcapBytes: 1 << 20 });
  // each connection holds 8 KiB out of order
  let i = 0;
  for (; i < 40; i++) {
    const c = { src: A, dst: B, sport: 1000 + i, dport: 80, ts: 10 + i };
    w.send({ ...c, flags: F.SYN, seq: 0 });
    // admission of a new flow brings the total (flows + held segments) under the cap
    assert.ok(w.table.memuse() <= 64 * 1024, `memuse ${w.table.memuse()} after ${i + 1} flows`);
    w.send({ ...c, flags: F.ACK | F.PSH, seq: 1001, payload: Buffer.alloc(8192, 0x41) });
  }
  const st = w.table.stats();
  assert.ok(st['flow.end.memcap'] > 0);
  // at most the last flow's segment arrived after the last admission check
  assert.ok(w.table.memuse() <= 64 * 1024 + 8192 + 96);
  assert.equal(w.ends.length, st['flow.end.memcap']);
  assert.equal(st['flow.active'] + w.ends.length, 40);
  // evicted flows' held data was released, not leaked
  const held = w.reasm.stats()['tcp.reassembly_memuse'];
  assert.equal(held, st['flow.active'] * (8192 + 96));
  // an existing flow holding more: expire() settles the cap without a new flow
  const before = w.ends.length;
  w.send({ src: A, dst: B, sport: 1039, dport: 80, flags: F.ACK | F.PSH, seq: 20000, payload: Buffer.alloc(30000, 0x42), ts: 60 });
  assert.ok(w.table.memuse() > 64 * 1024);
  w.table.expire(60);
  assert.ok(w.table.memuse() <= 64 * 1024);
  assert.ok(w.ends.length > before);
});

test('timeouts end flows through the hook and the reassembler closes their streams', () => {
  const w = wire();
  const c = { src: A, dst: B, sport: 1234, dport: 80 };
  const f = w.send({ ...c, flags: F.SYN, seq: 0, ts: 100 })!;
  w.send({ ...c, flags: F.ACK | F.PSH, seq: 1, payload: 'abc', ts: 101 });
  assert.equal(f.stateName, 'established'); // the client's ACK moved it on
  w.table.expire(700);
  assert.deepEqual(w.ends, []);
  w.table.expire(701); // tcp established: 600 s after the last packet
  assert.deepEqual(w.ends, ['1234:timeout']);
  assert.equal(f.toServerStream, null);
  assert.deepEqual(w.out.get(f), ['abc', '']);
});
