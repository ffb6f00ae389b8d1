/**
 * Test-only capture reader: pcap/pcapng → TCP streams, reassembled per
 * direction in capture order (holes become gaps). Running tshark costs
 * about a second per capture on the shared CI machine, so tests that only
 * need the bytes read the file here; tshark stays the oracle for fields.
 * Handles Ethernet (+VLAN), Linux SLL/SLL2, raw IP and BSD loopback;
 * IPv4 (unfragmented) and IPv6 (common extension headers).
 */
import { readFileSync } from 'node:fs';
import type { Direction } from '../../src/applayer/parser.js';
import type { Chunk, TcpStream } from './tls-support.js';

interface Seg { rel: number; data: Buffer }
interface DirAsm { base: number; started: boolean; next: number; pending: Seg[] }
interface Asm { s: TcpStream; d: [DirAsm, DirAsm] }

function* packets(file: Buffer): Generator<[number, Buffer]> {
  const magic = file.readUInt32LE(0);
  if (magic === 0x0a0d0d0a) {
    // pcapng: blocks of type, total length, body; interface link types from IDBs.
    const links: number[] = [];
    let p = 0;
    let le = true;
    while (p + 12 <= file.length) {
      const type = le ? file.readUInt32LE(p) : file.readUInt32BE(p);
      if (type === 0x0a0d0d0a) le = file.readUInt32LE(p + 8) === 0x1a2b3c4d;
      const len = le ? file.readUInt32LE(p + 4) : file.readUInt32BE(p + 4);
      if (len < 12 || p + len > file.length) return;
      const r16 = (o: number): number => (le ? file.readUInt16LE(o) : file.readUInt16BE(o));
      const r32 = (o: number): number => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
      if (type === 1) links.push(r16(p + 8));
      else if (type === 6) {
        const ifc = r32(p + 8);
        const cap = r32(p + 20);
        yield [links[ifc] ?? 1, file.subarray(p + 28, p + 28 + cap)];
      } else if (type === 3) {
        yield [links[0] ?? 1, file.subarray(p + 12, p + len - 4)];
      }
      p += len;
    }
    return;
  }
  let le: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = true;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = false;
  else throw new Error('not a pcap or pcapng file');
  const link = (le ? file.readUInt32LE(20) : file.readUInt32BE(20)) & 0xffff;
  let p = 24;
  while (p + 16 <= file.length) {
    const cap = le ? file.readUInt32LE(p + 8) : file.readUInt32BE(p + 8);
    if (p + 16 + cap > file.length) return;
    yield [link, file.subarray(p + 16, p + 16 + cap)];
    p += 16 + cap;
  }
}

/** Offset of the IP header and its version (4/6), or null. */
function ipStart(link: number, f: Buffer): [number, number] | null {
  let p: number;
  let et: number;
  switch (link) {
    case 1: // Ethernet
      if (f.length < 14) return null;
      et = f.readUInt16BE(12);
      p = 14;
      while ((et === 0x8100 || et === 0x88a8) && p + 4 <= f.length) {
        et = f.readUInt16BE(p + 2);
        p += 4;
      }
      break;
    case 113: // Linux cooked
      if (f.length < 16) return null;
      et = f.readUInt16BE(14);
      p = 16;
      break;
    case 276: // Linux cooked v2
      if (f.length < 20) return null;
      et = f.readUInt16BE(0);
      p = 20;
      break;
    case 0: case 108: // BSD loopback: 4-byte family
      p = 4;
      et = 0;
      break;
    case 101: case 12: case 14: case 228: case 229:
      p = 0;
      et = 0;
      break;
    default:
      return null;
  }
  if (p >= f.length) return null;
  if (et === 0x0800) return [p, 4];
  if (et === 0x86dd) return [p, 6];
  if (et === 0) {
    const v = f[p]! >> 4;
    return v === 4 || v === 6 ? [p, v] : null;
  }
  return null;
}

interface Tcp { src: string; dst: string; seq: number; syn: boolean; ack: boolean; payload: Buffer }

function decodeTcp(link: number, f: Buffer): Tcp | null {
  const ip = ipStart(link, f);
  if (ip === null) return null;
  let [p] = ip;
  let src: string;
  let dst: string;
  let end: number;
  if (ip[1] === 4) {
    if (p + 20 > f.length) return null;
    const ihl = (f[p]! & 15) * 4;
    if (f[p + 9] !== 6) return null;
    if ((f.readUInt16BE(p + 6) & 0x3fff) !== 0) return null; // fragment
    end = Math.min(f.length, p + f.readUInt16BE(p + 2));
    src = `${f[p + 12]}.${f[p + 13]}.${f[p + 14]}.${f[p + 15]}`;
    dst = `${f[p + 16]}.${f[p + 17]}.${f[p + 18]}.${f[p + 19]}`;
    p += ihl;
  } else {
    if (p + 40 > f.length) return null;
    const a = (o: number): string => {
      const parts: string[] = [];
      for (let i = 0; i < 16; i += 2) parts.push(f.readUInt16BE(o + i).toString(16));
      return '[' + parts.join(':') + ']';
    };
    src = a(p + 8);
    dst = a(p + 24);
    end = Math.min(f.length, p + 40 + f.readUInt16BE(p + 4));
    let nh = f[p + 6]!;
    p += 40;
    while (nh === 0 || nh === 43 || nh === 60) {
      if (p + 8 > end) return null;
      nh = f[p]!;
      p += (f[p + 1]! + 1) * 8;
    }
    if (nh !== 6) return null;
  }
  if (p + 20 > end) return null;
  const sport = f.readUInt16BE(p);
  const dport = f.readUInt16BE(p + 2);
  const seq = f.readUInt32BE(p + 4);
  const off = (f[p + 12]! >> 4) * 4;
  const flags = f[p + 13]!;
  if (off < 20 || p + off > end) return null;
  return { src: `${src}:${sport}`, dst: `${dst}:${dport}`, seq, syn: (flags & 2) !== 0, ack: (flags & 16) !== 0, payload: f.subarray(p + off, end) };
}

function flush(s: TcpStream, dir: Direction, a: DirAsm, final: boolean): void {
  for (;;) {
    if (a.pending.length === 0) return;
    a.pending.sort((x, y) => x.rel - y.rel);
    const seg = a.pending[0]!;
    const segEnd = seg.rel + seg.data.length;
    if (segEnd <= a.next) { a.pending.shift(); continue; }
    if (seg.rel > a.next) {
      if (!final) return;
      s.chunks.push({ dir, data: null, gap: seg.rel - a.next } satisfies Chunk);
      a.next = seg.rel;
    }
    a.pending.shift();
    s.chunks.push({ dir, data: Buffer.from(seg.data.subarray(a.next - seg.rel)), gap: 0 });
    a.next = segEnd;
  }
}

/** TCP streams of a capture, in the order they started; ids count from 0 like tshark's tcp.stream. */
export function readCaptureStreams(path: string): TcpStream[] {
  const file = readFileSync(path);
  const live = new Map<string, Asm>();
  const all: Asm[] = [];
  const newStream = (key: string, t: Tcp): Asm => {
    const s: TcpStream = { id: all.length, client: t.src, server: t.dst, chunks: [], ja3: [], ja3Full: [], ja3s: [], ja3sFull: [], sni: [], certs: [] };
    const asm: Asm = { s, d: [{ base: 0, started: false, next: 0, pending: [] }, { base: 0, started: false, next: 0, pending: [] }] };
    live.set(key, asm);
    all.push(asm);
    return asm;
  };
  for (const [link, frame] of packets(file)) {
    const t = decodeTcp(link, frame);
    if (t === null) continue;
    const key = t.src < t.dst ? `${t.src}|${t.dst}` : `${t.dst}|${t.src}`;
    let asm = live.get(key);
    if (t.syn && !t.ack && asm !== undefined && asm.s.chunks.length > 0) asm = undefined; // port reuse
    asm ??= newStream(key, t);
    if (t.syn && !t.ack && asm.s.chunks.length === 0) {
      asm.s.client = t.src;
      asm.s.server = t.dst;
    }
    const dir: Direction = t.src === asm.s.client ? 0 : 1;
    const a = asm.d[dir];
    if (t.syn) {
      // Before any data the latest SYN's sequence number is the one the data follows.
      if (a.pending.length === 0 && a.next === 0) { a.started = true; a.base = (t.seq + 1) >>> 0; }
      continue;
    }
    if (t.payload.length === 0) continue;
    if (!a.started) { a.started = true; a.base = t.seq; }
    const rel = (t.seq - a.base) >>> 0;
    if (rel > 0x7fffffff) continue; // before the start we know of
    a.pending.push({ rel, data: t.payload });
    flush(asm.s, dir, a, false);
  }
  const out: TcpStream[] = [];
  for (const asm of all) {
    flush(asm.s, 0, asm.d[0], true);
    flush(asm.s, 1, asm.d[1], true);
    if (asm.s.chunks.length > 0) out.push(asm.s);
  }
  return out;
}
