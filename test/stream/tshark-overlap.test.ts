import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipWithoutProgram } from '../support/shared.js';
import { compareWithTshark } from './follow-compare.js';

/**
 * Overlapping segments whose bytes DIFFER: the default policy must give the
 * stream `tshark -z follow,tcp,raw` shows. The capture is generated here
 * (our own bytes: Ethernet/IPv4/TCP frames written as a classic pcap), one
 * TCP connection per scenario, and compared with tshark's follow output.
 */

/** [relative seq, payload] segments sent client→server after the handshake, in this order. */
const SCENARIOS: [number, string][][] = [
  // retransmission of delivered bytes with other content, extending further
  [[0, 'AAAA'], [0, 'BBBBBBBB'], [8, 'tail']],
  // held O, then N starting before it (N wins the overlap), then the fill
  [[10, 'oooooooooo'], [5, 'nnnnnnnnnn'], [0, '.....'], [20, 'end']],
  // held O, then N starting with O and longer (O wins, N adds its tail)
  [[10, 'oooooooooo'], [10, 'nnnnnnnnnnnnnnn'], [0, '..........']],
  // held O, then N starting inside O and ending beyond (O wins)
  [[10, 'oooooooooo'], [15, 'nnnnnnnnnn'], [0, '..........']],
  // held O, then an in-order segment covering O with other bytes (it wins)
  [[10, 'oooooooooo'], [0, '..............................']],
  // held O, then N inside O, then a fill reaching into O
  [[10, 'oooooooooo'], [12, 'nnnn'], [0, '............']],
];

function csum(b: Buffer): number {
  let s = 0;
  for (let i = 0; i + 1 < b.length; i += 2) s += b.readUInt16BE(i);
  if (b.length & 1) s += b[b.length - 1] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

function frame(src: number, dst: number, sp: number, dp: number, seq: number, ack: number, flags: number, data: Buffer): Buffer {
  const tcp = Buffer.alloc(20 + data.length);
  tcp.writeUInt16BE(sp, 0);
  tcp.writeUInt16BE(dp, 2);
  tcp.writeUInt32BE(seq >>> 0, 4);
  tcp.writeUInt32BE(ack >>> 0, 8);
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  tcp.writeUInt16BE(65535, 14);
  data.copy(tcp, 20);
  const pseudo = Buffer.alloc(12);
  pseudo.writeUInt32BE(src, 0);
  pseudo.writeUInt32BE(dst, 4);
  pseudo[9] = 6;
  pseudo.writeUInt16BE(tcp.length, 10);
  tcp.writeUInt16BE(csum(Buffer.concat([pseudo, tcp])), 16);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + tcp.length, 2);
  ip[8] = 64;
  ip[9] = 6;
  ip.writeUInt32BE(src, 12);
  ip.writeUInt32BE(dst, 16);
  ip.writeUInt16BE(csum(ip), 10);
  const eth = Buffer.from('0000000000021111111111110800', 'hex');
  return Buffer.concat([eth, ip, tcp]);
}

function buildPcap(): Buffer {
  const parts: Buffer[] = [];
  const hdr = Buffer.alloc(24);
  hdr.writeUInt32LE(0xa1b2c3d4, 0);
  hdr.writeUInt16LE(2, 4);
  hdr.writeUInt16LE(4, 6);
  hdr.writeUInt32LE(65535, 16);
  hdr.writeUInt32LE(1, 20);
  parts.push(hdr);
  let t = 1_700_000_000;
  const add = (f: Buffer): void => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(t++, 0);
    r.writeUInt32LE(f.length, 8);
    r.writeUInt32LE(f.length, 12);
    parts.push(r, f);
  };
  const A = 0x0a000001;
  const B = 0x0a000002;
  SCENARIOS.forEach((segs, i) => {
    const sp = 40000 + i;
    const isn = 1000 + i * 100000;
    const sisn = 7000;
    const none = Buffer.alloc(0);
    add(frame(A, B, sp, 80, isn, 0, 0x02, none));
    add(frame(B, A, 80, sp, sisn, isn + 1, 0x12, none));
    add(frame(A, B, sp, 80, isn + 1, sisn + 1, 0x10, none));
    for (const [rel, text] of segs) add(frame(A, B, sp, 80, isn + 1 + rel, sisn + 1, 0x18, Buffer.from(text, 'latin1')));
  });
  return Buffer.concat(parts);
}

test('overlaps with different bytes: default policy matches tshark follow', { skip: skipWithoutProgram('tshark') }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-overlap-'));
  try {
    const file = join(dir, 'overlaps.pcap');
    writeFileSync(file, buildPcap());
    const r = compareWithTshark(file, 100, SCENARIOS.length);
    t.diagnostic(`${r.compared} streams compared, ${r.matched} equal`);
    assert.equal(r.compared, SCENARIOS.length);
    assert.deepEqual(r.mismatches, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
