import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Conn } from './harness.js';
import { F } from '../flow/packets.js';
import type { OverlapPolicy } from '../../src/stream/reassembler.js';
import { decoderEventId } from '../../src/decode/events.js';
import { A, B, mkPacket } from '../flow/packets.js';

test('in-order data is delivered once, straight from the packet buffer', () => {
  const c = new Conn().open();
  c.data(0, 0, 'GET / HTTP/1.1\r\n');
  assert.equal(c.sink.rawBufs[0], c.last!.data, 'no copy on the in-order path');
  c.data(0, 16, 'Host: x\r\n\r\n');
  c.data(1, 0, 'HTTP/1.1 200 OK\r\n\r\n');
  assert.equal(c.sink.text(0), 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(c.sink.text(1), 'HTTP/1.1 200 OK\r\n\r\n');
  const st = c.r.stats();
  assert.equal(st['tcp.reassembled_bytes'], 27 + 19);
  assert.equal(st['tcp.ooo_segments'], 0);
  assert.equal(st['tcp.sessions'], 1);
});

test('out-of-order segments are held and delivered when the hole fills', () => {
  const c = new Conn().open();
  c.data(0, 10, 'KLMNO');
  c.data(0, 5, 'FGHIJ');
  assert.equal(c.sink.text(0), '');
  assert.equal(c.r.memuse > 0, true);
  c.data(0, 0, 'ABCDE');
  assert.equal(c.sink.text(0), 'ABCDEFGHIJKLMNO');
  c.data(0, 15, 'P');
  assert.equal(c.sink.text(0), 'ABCDEFGHIJKLMNOP');
  assert.equal(c.r.stats()['tcp.ooo_segments'], 2);
  assert.equal(c.r.stats()['tcp.reassembly_memuse'], 0, 'held memory released');
});

test('retransmissions are dropped and counted; keep-alives are ignored', () => {
  const c = new Conn().open();
  c.data(0, 0, 'hello ');
  c.data(0, 0, 'hello ');
  c.data(0, 6, 'world');
  c.data(0, 3, 'lo wor'); // partly old: nothing new
  c.data(0, 8, 'rld!!'); // partly old, 2 new bytes
  c.data(0, 12, 'X'); // keep-alive: 1 byte at nextSeq-1
  assert.equal(c.sink.text(0), 'hello world!!');
  const st = c.r.stats();
  assert.equal(st['tcp.retransmission'], 2);
  assert.equal(st['tcp.keepalive'], 1);
  assert.equal(st['tcp.overlap'], 1);
});

// Held segment O = bytes [10, 20) of 'o'; new segment N of 'n'; then the
// holes are filled with '.'; the expected stream shows which copy won.
const SCENARIOS: { name: string; ns: number; ne: number; expect: Record<string, string> }[] = [
  { name: 'N starts before O, ends inside', ns: 5, ne: 15, expect: { first: 'o', last: 'n', bsd: 'n', windows: 'n', linux: 'n', 'old-linux': 'n', solaris: 'o', vista: 'o' } },
  { name: 'N starts with O, ends beyond', ns: 10, ne: 25, expect: { first: 'o', last: 'n', bsd: 'o', windows: 'o', linux: 'n', 'old-linux': 'n', solaris: 'n', vista: 'o' } },
  { name: 'N equals O', ns: 10, ne: 20, expect: { first: 'o', last: 'n', bsd: 'o', windows: 'o', linux: 'o', 'old-linux': 'n', solaris: 'n', vista: 'o' } },
  { name: 'N starts after O, ends beyond', ns: 15, ne: 25, expect: { first: 'o', last: 'n', bsd: 'o', windows: 'o', linux: 'o', 'old-linux': 'o', solaris: 'n', vista: 'o' } },
  { name: 'N inside O', ns: 12, ne: 18, expect: { first: 'o', last: 'n', bsd: 'o', windows: 'o', linux: 'o', 'old-linux': 'o', solaris: 'o', vista: 'o' } },
  { name: 'N covers O', ns: 5, ne: 25, expect: { first: 'o', last: 'n', bsd: 'n', windows: 'n', linux: 'n', 'old-linux': 'n', solaris: 'n', vista: 'o' } },
];

for (const sc of SCENARIOS) {
  for (const [policy, winner] of Object.entries(sc.expect)) {
    test(`overlap policy ${policy}: ${sc.name} -> ${winner === 'n' ? 'new' : 'old'} data`, () => {
      const c = new Conn({ overlapPolicy: policy as OverlapPolicy }).open();
      c.data(0, 10, 'o'.repeat(10));
      c.data(0, sc.ns, 'n'.repeat(sc.ne - sc.ns));
      c.data(0, 0, '.'.repeat(30)); // fills every hole; its overlapping bytes are old by now
      const out = c.sink.text(0);
      assert.equal(out.length, 30);
      // expected: positions of O's overlap with N take the winner, rest as sent
      let exp = '';
      for (let i = 0; i < 30; i++) {
        const inO = i >= 10 && i < 20;
        const inN = i >= sc.ns && i < sc.ne;
        if (inO && inN) exp += winner;
        else if (inO) exp += 'o';
        else if (inN) exp += 'n';
        else exp += '.';
      }
      // The fill segment arrives last and starts before the held data, so
      // under policies where a segment starting earlier wins, it overwrites.
      const fillWins = policy === 'last' || policy === 'bsd' || policy === 'windows' || policy === 'linux' || policy === 'old-linux' || policy === 'solaris';
      if (fillWins) {
        assert.equal(out, '.'.repeat(30));
      } else {
        assert.equal(out, exp);
      }
      assert.ok(c.r.stats()['tcp.overlap_diff_data'] >= 1);
      assert.ok(c.sink.events.includes('stream.reassembly_overlap_different_data'));
    });
  }
}

test('overlap policies decide between held copies without a later overwrite', () => {
  // Fill only the true hole so the winner between O and N is what is delivered.
  for (const sc of SCENARIOS) {
    for (const [policy, winner] of Object.entries(sc.expect)) {
      const c = new Conn({ overlapPolicy: policy as OverlapPolicy }).open();
      c.data(0, 10, 'o'.repeat(10));
      c.data(0, sc.ns, 'n'.repeat(sc.ne - sc.ns));
      const lo = Math.min(10, sc.ns);
      const hi = Math.max(20, sc.ne);
      c.data(0, 0, '.'.repeat(lo));
      c.data(0, hi, '.'.repeat(30 - hi));
      let exp = '';
      for (let i = 0; i < 30; i++) {
        const inO = i >= 10 && i < 20;
        const inN = i >= sc.ns && i < sc.ne;
        exp += inO && inN ? winner : inO ? 'o' : inN ? 'n' : '.';
      }
      assert.equal(c.sink.text(0), exp, `${policy}: ${sc.name}`);
    }
  }
});

test('identical overlapping data is not reported as different', () => {
  const c = new Conn({ overlapPolicy: 'last' }).open();
  const s = 'abcdefghijklmnopqrstuvwxyz';
  c.data(0, 10, s.slice(10, 20));
  c.data(0, 5, s.slice(5, 15));
  c.data(0, 0, s.slice(0, 26));
  assert.equal(c.sink.text(0), s);
  assert.equal(c.r.stats()['tcp.overlap_diff_data'], 0);
});

test('sequence numbers wrap around 2^32', () => {
  const c = new Conn({}, 0xfffffff0, 0xffffffff).open();
  const msg = Buffer.alloc(100);
  for (let i = 0; i < 100; i++) msg[i] = i;
  // out of order across the wrap
  c.data(0, 40, msg.subarray(40, 100));
  c.data(0, 0, msg.subarray(0, 20));
  c.data(0, 20, msg.subarray(20, 40));
  c.data(1, 0, 'server data');
  c.data(1, 11, ' more');
  assert.deepEqual(c.sink.bytes(0), msg);
  assert.equal(c.sink.text(1), 'server data more');
});

test('a hole the receiver ACKs past is reported as a gap and delivery continues', () => {
  const c = new Conn().open();
  c.data(0, 0, 'AAAA');
  c.data(0, 10, 'KKKK'); // bytes 4..9 never captured
  c.ackTo(1, 8); // server ACKs into the hole only: keep waiting
  assert.deepEqual(c.sink.gaps[0], []);
  c.ackTo(1, 12); // ACK reaches into the held data: the hole was received
  assert.deepEqual(c.sink.gaps[0], [6]);
  assert.deepEqual(c.sink.log[0], ['d4', 'g6', 'd4']);
  c.data(0, 14, 'OO');
  assert.equal(c.sink.text(0), 'AAAAKKKKOO');
  c.data(0, 5, 'zz'); // the lost bytes arrive late: old, dropped
  assert.equal(c.sink.text(0), 'AAAAKKKKOO');
  assert.equal(c.r.stats()['tcp.reassembly_gap'], 1);
  assert.equal(c.r.stats()['tcp.reassembly_gap_bytes'], 6);
});

test('flow end drops data held behind an unACKed hole, ends both directions once', () => {
  const c = new Conn().open();
  c.data(0, 0, 'ab');
  c.data(0, 5, 'fg');
  c.data(1, 3, 'xyz');
  c.end();
  assert.deepEqual(c.sink.log[0], ['d2']);
  assert.deepEqual(c.sink.log[1], []);
  assert.deepEqual(c.sink.ends, [1, 1]);
  assert.equal(c.r.memuse, 0);
  assert.equal(c.r.stats()['tcp.end_unacked_segments_dropped'], 2);
  assert.equal(c.r.stats()['tcp.end_unacked_bytes_dropped'], 5);
  assert.equal(c.r.stats()['tcp.reassembly_memuse'], 0);
});

test('flushHeldAtEnd: flow end delivers held data with gaps and ends both directions once', () => {
  const c = new Conn({ flushHeldAtEnd: true }).open();
  c.data(0, 0, 'ab');
  c.data(0, 5, 'fg');
  c.data(0, 10, 'kl');
  c.data(1, 3, 'xyz');
  c.end();
  assert.deepEqual(c.sink.log[0], ['d2', 'g3', 'd2', 'g3', 'd2']);
  assert.deepEqual(c.sink.log[1], ['g3', 'd3']);
  assert.deepEqual(c.sink.ends, [1, 1]);
  assert.equal(c.r.memuse, 0);
  c.end();
  assert.deepEqual(c.sink.ends, [1, 1]);
});

test('SYN with data delivers it from ISN+1', () => {
  const c = new Conn();
  c.pkt(0, F.SYN, c.isnC, 0, 'early');
  c.pkt(1, F.SYN | F.ACK, c.isnS, c.isnC + 6);
  c.data(0, 5, ' data');
  assert.equal(c.sink.text(0), 'early data');
});

test('FIN: data beyond the FIN is ignored and end is reported once everything arrived', () => {
  const c = new Conn().open();
  c.data(0, 5, 'world', F.ACK | F.FIN); // FIN arrives before the first segment
  assert.equal(c.sink.ends[0], 0);
  c.data(0, 0, 'hello');
  assert.equal(c.sink.text(0), 'helloworld');
  assert.equal(c.sink.ends[0], 1);
  c.data(0, 10, 'after');
  assert.equal(c.sink.text(0), 'helloworld');
  assert.equal(c.r.stats()['tcp.data_after_fin'], 1);
  // data crossing the FIN of the other side is cut at the FIN
  c.data(1, 0, 'abc', F.ACK | F.FIN);
  c.data(1, 0, 'abcdef');
  assert.equal(c.sink.text(1), 'abc');
});

test('RST ends both directions; data on or after it is ignored', () => {
  const c = new Conn().open();
  c.data(0, 0, 'req');
  c.data(1, 4, 'held'); // server bytes 0..3 missing
  c.pkt(1, F.RST | F.ACK, c.isnS + 1, c.isnC + 4, 'rstdata');
  assert.deepEqual(c.sink.ends, [1, 1]);
  assert.deepEqual(c.sink.log[1], []); // held behind an unACKed hole: dropped
  c.data(0, 3, 'more');
  assert.equal(c.sink.text(0), 'req');
  const st = c.r.stats();
  assert.equal(st['tcp.rst'], 1);
  assert.equal(st['tcp.data_after_rst'], 2);
});

test('a RST far outside the sequence space is ignored', () => {
  const c = new Conn().open();
  c.data(0, 0, 'abc');
  c.pkt(1, F.RST, c.isnS + 1 + 0x40000000, 0);
  c.data(0, 3, 'def');
  assert.equal(c.sink.text(0), 'abcdef');
  assert.deepEqual(c.sink.ends, [0, 0]);
  assert.equal(c.r.stats()['tcp.rst_invalid'], 1);
  c.pkt(1, F.RST, c.isnS + 1, 0);
  assert.deepEqual(c.sink.ends, [1, 1]);
});

test('a segment cut by the snap length delivers its captured bytes, then a gap for the rest', () => {
  const c = new Conn().open();
  c.data(0, 0, 'head');
  const p = mkPacket({ src: A, dst: B, sport: 40000, dport: 80, flags: F.ACK, seq: c.isnC + 5, payload: 'capt' });
  p.origLen = p.capLen + 6; // 6 payload bytes beyond the snap length
  p.events[0] = decoderEventId('decoder.ipv4.trunc_pkt');
  p.eventCount = 1;
  c.r.handle(c.flow, 0, p);
  c.data(0, 14, 'next');
  assert.deepEqual(c.sink.log[0], ['d4', 'd4', 'g6', 'd4']);
  assert.equal(c.sink.text(0), 'headcaptnext');
  assert.equal(c.r.stats()['tcp.snapped_segments'], 1);
});

test('mid-stream pick-up starts at the first sequence seen; midstream off ignores it', () => {
  const c = new Conn();
  c.pkt(0, F.ACK | F.PSH, 777, 888, 'middle');
  c.pkt(0, F.ACK | F.PSH, 783, 888, ' part');
  assert.equal(c.sink.text(0), 'middle part');
  assert.equal(c.r.stats()['tcp.midstream_pickups'], 1);
  const d = new Conn({ midstream: false });
  d.pkt(0, F.ACK | F.PSH, 777, 888, 'middle');
  assert.equal(d.sink.text(0), '');
  assert.equal(d.r.stats()['tcp.midstream_ignored'], 1);
});

test('a new SYN with another ISN before any data restarts the direction', () => {
  const c = new Conn();
  c.pkt(0, F.SYN, 100, 0);
  c.pkt(0, F.SYN, 9000, 0);
  c.pkt(0, F.ACK | F.PSH, 9001, 0, 'new isn');
  assert.equal(c.sink.text(0), 'new isn');
  assert.equal(c.r.stats()['tcp.isn_change'], 1);
});

test('per-stream bound: overflowing held data gives up the oldest hole as a gap', () => {
  const c = new Conn({ maxSegmentBytesPerStream: 20, flushHeldAtEnd: true }).open();
  c.data(0, 10, 'x'.repeat(10)); // hole 0..9
  c.data(0, 30, 'y'.repeat(10)); // hole 20..29; held 20 bytes
  c.data(0, 50, 'z'.repeat(5)); // does not fit: give up the first hole
  assert.deepEqual(c.sink.log[0], ['g10', 'd10']);
  assert.equal(c.r.stats()['tcp.stream_depth_reached'], 1);
  c.data(0, 20, 'w'.repeat(10));
  assert.equal(c.sink.text(0), 'x'.repeat(10) + 'w'.repeat(10) + 'y'.repeat(10));
  c.end();
  assert.equal(c.sink.text(0), 'x'.repeat(10) + 'w'.repeat(10) + 'y'.repeat(10) + 'z'.repeat(5));
  assert.deepEqual(c.sink.gaps[0], [10, 10]);
  // a segment before all held data that overflows: the hole before it is skipped
  const d = new Conn({ maxSegmentsPerStream: 2 }).open();
  d.data(0, 20, 'b');
  d.data(0, 30, 'c');
  d.data(0, 10, 'a');
  assert.deepEqual(d.sink.log[0], ['g10', 'd1']);
});

test('global memcap: held segments beyond it are dropped and counted', () => {
  const c = new Conn({ memcapBytes: 1000 }).open();
  c.data(0, 100, 'x'.repeat(500));
  c.data(0, 700, 'y'.repeat(500)); // would exceed 1000 with overheads
  const st = c.r.stats();
  assert.equal(st['tcp.segment_memcap_drop'], 1);
  assert.ok(st['tcp.reassembly_memuse'] <= 1000);
  c.data(0, 0, '.'.repeat(100));
  assert.equal(c.sink.text(0), '.'.repeat(100) + 'x'.repeat(500));
  c.end();
  assert.deepEqual(c.sink.gaps[0], []);
});

/** xorshift32: deterministic pseudo-random numbers for the shuffle test. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

test('randomised: split, shuffle, duplicate and overlap segments; the stream comes out intact', () => {
  for (let seed = 1; seed <= 60; seed++) {
    const rand = rng(seed * 7919);
    const size = 200 + Math.floor(rand() * 5000);
    const msg = Buffer.alloc(size);
    for (let i = 0; i < size; i++) msg[i] = Math.floor(rand() * 256);
    // segments: a cover of the stream plus overlapping/duplicated extras
    const segs: [number, number][] = [];
    for (let o = 0; o < size; ) {
      const l = 1 + Math.floor(rand() * 300);
      segs.push([o, Math.min(size, o + l)]);
      o += l;
    }
    const extras = Math.floor(rand() * segs.length);
    for (let i = 0; i < extras; i++) {
      const s = Math.floor(rand() * size);
      segs.push([s, Math.min(size, s + 1 + Math.floor(rand() * 400))]);
    }
    for (let i = segs.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [segs[i], segs[j]] = [segs[j], segs[i]];
    }
    const policies: OverlapPolicy[] = ['first', 'last', 'bsd', 'linux', 'solaris'];
    const isn = Math.floor(rand() * 4294967296); // wrap-around happens for some seeds
    const c = new Conn({ overlapPolicy: policies[seed % policies.length] }, isn).open();
    for (const [s, e] of segs) c.data(0, s, msg.subarray(s, e));
    c.end();
    assert.deepEqual(c.sink.gaps[0], [], `seed ${seed}`);
    assert.ok(c.sink.bytes(0).equals(msg), `seed ${seed}: stream differs`);
    assert.equal(c.r.stats()['tcp.overlap_diff_data'], 0);
    assert.equal(c.r.memuse, 0);
  }
});
