import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Decoder } from '../../src/decode/decoder.js';
import { Packet } from '../../src/decode/packet.js';
import type { DefragPolicy } from '../../src/decode/defrag.js';
import { sharedPath, skipWithoutProgram, skipWithoutShared } from '../support/shared.js';
import { decodeInto, eth, events, ipv4, ipv6, udp } from './build.js';
import { loadFrames } from './frames.js';

/** Split an L4 message into IPv4 fragments of `size` data bytes (multiple of 8). */
function frag4(l4: Buffer, size: number, id = 77, proto = 17): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < l4.length; off += size) {
    const part = l4.subarray(off, Math.min(off + size, l4.length));
    const more = off + size < l4.length;
    out.push(eth(0x0800, ipv4({ proto, id, flags: more ? 1 : 0, fragOff: off, payload: part })));
  }
  return out;
}

/** One IPv4 fragment carrying `data` at byte offset `off`. */
function f4(off: number, data: Buffer, more: boolean, id = 5): Buffer {
  return eth(0x0800, ipv4({ proto: 17, id, flags: more ? 1 : 0, fragOff: off, payload: data }));
}

function fragHdr(nh: number, off: number, more: boolean, id: number): Buffer {
  const h = Buffer.alloc(8);
  h[0] = nh;
  h.writeUInt16BE(off | (more ? 1 : 0), 2);
  h.writeUInt32BE(id, 4);
  return h;
}

function frag6(l4: Buffer, size: number, id = 0xabcdef01, nh = 17): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < l4.length; off += size) {
    const part = l4.subarray(off, Math.min(off + size, l4.length));
    const more = off + size < l4.length;
    out.push(eth(0x86dd, ipv6({ nh: 44, payload: Buffer.concat([fragHdr(nh, off, more, id), part]) })));
  }
  return out;
}

function feed(d: Decoder, frames: Buffer[], t0 = 1000): Array<{ ok: boolean; pkt: Packet }> {
  return frames.map((f, i) => {
    const pkt = new Packet();
    const ok = decodeInto(d, pkt, f, 1, t0 + i);
    return { ok, pkt };
  });
}

const body = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7 + 3) & 255));

test('IPv4 reassembly in order and out of order; the datagram decodes to UDP with a valid checksum', () => {
  const l4 = udp({ sport: 1111, dport: 2222, payload: body });
  for (const order of [[0, 1, 2], [2, 0, 1], [1, 2, 0]]) {
    const d = new Decoder({ checksumValidation: true });
    const frames = frag4(l4, 1480);
    const res = feed(d, order.map((i) => frames[i]));
    assert.deepEqual(res.map((r) => r.ok), [false, false, true], `order ${order}`);
    const { pkt } = res[2];
    assert.equal(pkt.reassembled, true);
    assert.equal(pkt.isFragment, false);
    assert.equal(pkt.dport, 2222);
    assert.equal(pkt.payloadLen, body.length);
    assert.ok(pkt.payload().equals(body));
    assert.equal(pkt.ipCsumOk, 1, 'rebuilt header checksum is right');
    assert.equal(pkt.l4CsumOk, 1);
    assert.ok(res[0].pkt.isFragment);
    const s = d.stats();
    assert.equal(s['defrag.ipv4.fragments'], 3);
    assert.equal(s['defrag.ipv4.reassembled'], 1);
    assert.equal(s['defrag.trackers'], 0);
    assert.equal(s['defrag.memuse'], 0);
  }
});

test('IPv6 reassembly in and out of order', () => {
  const l4 = udp({ v: 6, sport: 1111, dport: 2222, payload: body });
  for (const order of [[0, 1, 2], [2, 1, 0]]) {
    const d = new Decoder({ checksumValidation: true });
    const frames = frag6(l4, 1232);
    const res = feed(d, order.map((i) => frames[i]));
    assert.deepEqual(res.map((r) => r.ok), [false, false, true]);
    const { pkt } = res[2];
    assert.equal(pkt.reassembled, true);
    assert.equal(pkt.ipVersion, 6);
    assert.equal(pkt.proto, 17);
    assert.equal(pkt.l3HdrLen, 40);
    assert.ok(pkt.payload().equals(body));
    assert.equal(pkt.l4CsumOk, 1);
    assert.equal(d.stats()['defrag.ipv6.reassembled'], 1);
  }
  // With a hop-by-hop header before the fragment header: the unfragmentable part is kept.
  const d = new Decoder({ checksumValidation: true });
  const hop = Buffer.from([44, 0, 1, 4, 0, 0, 0, 0]);
  const parts = [0, 1232, 2464].map((off) => {
    const part = l4.subarray(off, Math.min(off + 1232, l4.length));
    return eth(0x86dd, ipv6({ nh: 0, payload: Buffer.concat([hop, fragHdr(17, off, off + 1232 < l4.length, 9), part]) }));
  });
  const res = feed(d, parts);
  assert.equal(res[2].ok, true);
  assert.equal(res[2].pkt.l3HdrLen, 48);
  assert.ok(res[2].pkt.payload().equals(body));
  assert.equal(res[2].pkt.l4CsumOk, 1);
});

test('IPv6 fragment with a length that is not a multiple of 8 is refused', () => {
  const d = new Decoder();
  const f = eth(0x86dd, ipv6({ nh: 44, payload: Buffer.concat([fragHdr(17, 0, true, 1), Buffer.alloc(13)]) }));
  const r = feed(d, [f])[0];
  assert.equal(r.ok, false);
  assert.deepEqual(events(r.pkt), ['decoder.ipv6.frag_invalid_length']);
});

/**
 * The overlap test of Novak's paper in small: fragment A (offset 0, 16 bytes
 * of 'A'), then B (offset 8, 16 bytes 'B'), then C (offset 8, 8 bytes 'C'),
 * then D (offset 0, 8 bytes 'D'), and the last E (offset 24, 8 bytes 'E').
 */
function overlapResult(policy: DefragPolicy): { text: string; events: string[] } {
  const d = new Decoder({ defrag: { policy } });
  const fill = (ch: string, n: number) => Buffer.from(ch.repeat(n));
  const frames = [f4(0, fill('A', 16), true), f4(8, fill('B', 16), true), f4(8, fill('C', 8), true), f4(0, fill('D', 8), true), f4(24, fill('E', 8), false)];
  const res = feed(d, frames);
  const last = res[4];
  assert.equal(last.ok, true, policy);
  const ip = last.pkt.data.subarray(last.pkt.l3Off + 20, last.pkt.l3Off + last.pkt.l3Len);
  return { text: ip.toString(), events: res.flatMap((r) => events(r.pkt)) };
}

test('overlapping fragments follow the configured policy', () => {
  // Byte ranges: [0,8) [8,16) [16,24) [24,32).
  assert.equal(overlapResult('first').text, 'AAAAAAAAAAAAAAAABBBBBBBBEEEEEEEE');
  assert.equal(overlapResult('last').text, 'DDDDDDDDCCCCCCCCBBBBBBBBEEEEEEEE');
  // bsd: lower offset wins; equal offsets: earlier wins → A over D; A over B and C on [8,16).
  assert.equal(overlapResult('bsd').text, 'AAAAAAAAAAAAAAAABBBBBBBBEEEEEEEE');
  // linux: lower offset wins; equal offsets: later wins → D on [0,8), A on [8,16) (offset 0 beats 8).
  assert.equal(overlapResult('linux').text, 'DDDDDDDDAAAAAAAABBBBBBBBEEEEEEEE');
  const w = overlapResult('windows');
  assert.equal(w.text, 'AAAAAAAAAAAAAAAABBBBBBBBEEEEEEEE');
  assert.equal(w.events.filter((e) => e === 'decoder.ipv4.frag_overlap').length, 3);
  // windows: a later fragment strictly enclosing an earlier one replaces it.
  const d = new Decoder({ defrag: { policy: 'windows' } });
  const res = feed(d, [f4(8, Buffer.from('x'.repeat(8)), true), f4(0, Buffer.from('Y'.repeat(24)), true), f4(24, Buffer.from('z'.repeat(8)), false)]);
  const p = res[2].pkt;
  assert.equal(p.data.subarray(p.l3Off + 20, p.l3Off + p.l3Len).toString(), 'Y'.repeat(24) + 'z'.repeat(8));
});

test('timeout: an idle datagram is expired and its fragments do not complete a later one', () => {
  const d = new Decoder({ defrag: { timeout: 30 } });
  const l4 = udp({ payload: Buffer.alloc(2000, 1) });
  const [a, b] = frag4(l4, 1480);
  const pkt = new Packet();
  assert.equal(decodeInto(d, pkt, a, 1, 1000), false);
  assert.equal(d.stats()['defrag.trackers'], 1);
  d.expire(1020);
  assert.equal(d.stats()['defrag.trackers'], 1, 'not yet');
  d.expire(1031);
  assert.equal(d.stats()['defrag.trackers'], 0);
  assert.equal(d.stats()['defrag.timeouts'], 1);
  assert.equal(d.stats()['defrag.memuse'], 0);
  assert.equal(decodeInto(d, pkt, b, 1, 1032), false, 'the first part is gone');
  // A tracker found stale on arrival is replaced too (no expire call).
  assert.equal(decodeInto(d, pkt, a, 1, 2000), false);
  assert.equal(decodeInto(d, pkt, b, 1, 2001), true);
});

test('memcap and max trackers bound memory; drops are counted', () => {
  const d = new Decoder({ defrag: { memcap: 64 * 1024 } });
  const pkt = new Packet();
  for (let i = 0; i < 200; i++) decodeInto(d, pkt, f4(0, Buffer.alloc(1480), true, i), 1, 1000);
  const s = d.stats();
  assert.ok(s['defrag.memuse'] <= 64 * 1024, `memuse ${s['defrag.memuse']}`);
  assert.ok(s['defrag.memcap_drops'] > 100, `drops ${s['defrag.memcap_drops']}`);
  const d2 = new Decoder({ defrag: { maxTrackers: 10 } });
  for (let i = 0; i < 20; i++) decodeInto(d2, pkt, f4(0, Buffer.alloc(64), true, i), 1, 1000);
  assert.equal(d2.stats()['defrag.trackers'], 10);
  assert.equal(d2.stats()['defrag.max_trackers_reached'], 10);
  // Too large: offset + length beyond 65535.
  const r = feed(new Decoder(), [f4(65528, Buffer.alloc(16), false)])[0];
  assert.deepEqual(events(r.pkt), ['decoder.ipv4.frag_pkt_too_large']);
});

test('fragments of different VLANs do not mix', () => {
  const d = new Decoder();
  const l4 = udp({ payload: Buffer.alloc(2000, 1) });
  const [a, b] = frag4(l4, 1480);
  const tag = (f: Buffer, vid: number) => eth(0x0800, f.subarray(14), [[0x8100, vid]]);
  const res = feed(d, [tag(a, 10), tag(b, 20)]);
  assert.deepEqual(res.map((r) => r.ok), [false, false]);
  assert.equal(feed(d, [tag(b, 10)])[0].ok, true);
});

test('defrag disabled: fragments pass through as IP packets', () => {
  const d = new Decoder({ defrag: { enabled: false } });
  const res = feed(d, frag4(udp({ payload: Buffer.alloc(2000) }), 1480));
  assert.deepEqual(res.map((r) => r.ok), [true, true]);
  assert.equal(res[0].pkt.isFragment, true);
  assert.equal(res[0].pkt.dport, 0, 'no L4 decoding of fragments');
});

// ---- real captures, compared with tshark's reassembly when tshark is installed ----

function tsharkReassembled(path: string, field: 'ip' | 'ipv6'): Map<number, string> | null {
  if (skipWithoutProgram('tshark') !== false) return null;
  const r = spawnSync('tshark', ['-r', path, '-T', 'fields', '-e', 'frame.number', '-e', `${field}.reassembled.data`], { encoding: 'utf8', timeout: 30000 });
  if (r.status !== 0) return null;
  const m = new Map<number, string>();
  for (const line of r.stdout.split('\n')) {
    const [n, data] = line.split('\t');
    if (data) m.set(Number(n), data.trim());
  }
  return m;
}

function reassembleCapture(path: string): Map<number, { payload: string; l4CsumOk: number }> {
  const d = new Decoder({ checksumValidation: true });
  const pkt = new Packet();
  const out = new Map<number, { payload: string; l4CsumOk: number }>();
  loadFrames(path).forEach((f, i) => {
    pkt.load(f.data, 0, f.data.length, f.data.length, f.tsSec, f.tsNsec, f.linkType);
    if (d.decode(pkt) && pkt.reassembled) {
      const payload = pkt.data.subarray(pkt.l3Off + pkt.l3HdrLen, pkt.l3Off + pkt.l3Len).toString('hex');
      out.set(i + 1, { payload, l4CsumOk: pkt.l4CsumOk });
    }
  });
  return out;
}

const V4 = 'pcaps/chrissanders/ip_frag_source.pcapng';
const V6 = 'pcaps/chrissanders/ipv6_fragments.pcapng';

test('ip_frag_source.pcapng: two ICMP datagrams of 3508 bytes, as tshark reassembles them', { skip: skipWithoutShared(V4) }, () => {
  const path = sharedPath(V4) as string;
  const mine = reassembleCapture(path);
  assert.deepEqual([...mine.keys()], [3, 6]);
  for (const v of mine.values()) {
    assert.equal(v.payload.length / 2, 3508);
    assert.equal(v.l4CsumOk, 1, 'ICMP checksum over the reassembled datagram verifies');
  }
  const ts = tsharkReassembled(path, 'ip');
  if (ts !== null) {
    assert.deepEqual([...ts.keys()], [...mine.keys()]);
    for (const [n, hex] of ts) assert.equal(mine.get(n)?.payload, hex, `frame ${n}`);
  }
});

test('ipv6_fragments.pcapng: ten ICMPv6 echo datagrams, as tshark reassembles them', { skip: skipWithoutShared(V6) }, () => {
  const path = sharedPath(V6) as string;
  const mine = reassembleCapture(path);
  assert.equal(mine.size, 10);
  for (const v of mine.values()) assert.equal(v.l4CsumOk, 1);
  const ts = tsharkReassembled(path, 'ipv6');
  if (ts !== null) {
    assert.deepEqual([...ts.keys()], [...mine.keys()]);
    for (const [n, hex] of ts) assert.equal(mine.get(n)?.payload, hex, `frame ${n}`);
  }
});
