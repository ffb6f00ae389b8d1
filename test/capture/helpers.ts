/**
 * Test helpers for capture: hand-assembled pcap/pcapng bytes (independent of
 * the writer under test) and a sink that records what the parser delivered.
 */
import type { FrameSink } from '../../src/capture/frame.js';
import { CaptureParser, type CaptureSummary } from '../../src/capture/reader.js';

export interface Rec {
  data: string; // hex of the captured bytes
  capLen: number;
  origLen: number;
  tsSec: number;
  tsNsec: number;
  linkType: number;
  ifIndex: number;
}

/** A sink keeping a copy of everything delivered (tests only: it allocates). */
export class CollectSink implements FrameSink {
  readonly recs: Rec[] = [];
  frame(data: Buffer, off: number, capLen: number, origLen: number, tsSec: number, tsNsec: number, linkType: number, ifIndex: number): void {
    this.recs.push({ data: data.toString('hex', off, off + capLen), capLen, origLen, tsSec, tsNsec, linkType, ifIndex });
  }
}

/** Parses `input` fed in chunks of the given sizes (cycled), returning records and summary. */
export function parseChunked(input: Buffer, sizes: number[] = [input.length || 1]): { recs: Rec[]; summary: CaptureSummary } {
  const sink = new CollectSink();
  const p = new CaptureParser(sink, { source: 'test' });
  let off = 0;
  let i = 0;
  while (off < input.length) {
    const n = Math.max(1, sizes[i++ % sizes.length]);
    // A fresh copy per chunk, then scribbled over after push: proves the parser keeps no reference.
    const chunk = Buffer.from(input.subarray(off, off + n));
    p.push(chunk);
    chunk.fill(0xee);
    off += n;
  }
  return { recs: sink.recs, summary: p.end() };
}

export function parseSplitAt(input: Buffer, at: number): { recs: Rec[]; summary: CaptureSummary } {
  const sink = new CollectSink();
  const p = new CaptureParser(sink, { source: 'test' });
  const a = Buffer.from(input.subarray(0, at));
  const b = Buffer.from(input.subarray(at));
  p.push(a);
  a.fill(0xee);
  p.push(b);
  return { recs: sink.recs, summary: p.end() };
}

/* ---- classic pcap, by hand ---- */

export function u32(v: number, le: boolean): Buffer {
  const b = Buffer.alloc(4);
  if (le) b.writeUInt32LE(v >>> 0);
  else b.writeUInt32BE(v >>> 0);
  return b;
}

export function u16(v: number, le: boolean): Buffer {
  const b = Buffer.alloc(2);
  if (le) b.writeUInt16LE(v);
  else b.writeUInt16BE(v);
  return b;
}

export function pcapHeader(le: boolean, magic: number, snaplen: number, linkType: number): Buffer {
  return Buffer.concat([u32(magic, le), u16(2, le), u16(4, le), u32(0, le), u32(0, le), u32(snaplen, le), u32(linkType, le)]);
}

export function pcapRecord(le: boolean, sec: number, frac: number, data: Buffer, origLen = data.length): Buffer {
  return Buffer.concat([u32(sec, le), u32(frac, le), u32(data.length, le), u32(origLen, le), data]);
}

/* ---- pcapng, by hand ---- */

function pad4(b: Buffer): Buffer {
  const p = (4 - (b.length % 4)) % 4;
  return p ? Buffer.concat([b, Buffer.alloc(p)]) : b;
}

export function ngBlock(type: number, body: Buffer, le: boolean): Buffer {
  const b = pad4(body);
  const len = 12 + b.length;
  return Buffer.concat([u32(type, le), u32(len, le), b, u32(len, le)]);
}

export function ngOption(code: number, value: Buffer, le: boolean): Buffer {
  return Buffer.concat([u16(code, le), u16(value.length, le), pad4(value)]);
}

export const ngEndOpt = (le: boolean): Buffer => Buffer.concat([u16(0, le), u16(0, le)]);

export function shb(le: boolean, options: Buffer[] = []): Buffer {
  const body = Buffer.concat([
    u32(0x1a2b3c4d, le), u16(1, le), u16(0, le),
    Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // section length unknown
    ...options,
    ...(options.length ? [ngEndOpt(le)] : []),
  ]);
  return ngBlock(0x0a0d0d0a, body, le);
}

export function idb(le: boolean, linkType: number, snaplen: number, opts: { tsresol?: number; tsoffset?: bigint; name?: string } = {}): Buffer {
  const options: Buffer[] = [];
  if (opts.name !== undefined) options.push(ngOption(2, Buffer.from(opts.name), le));
  if (opts.tsresol !== undefined) options.push(ngOption(9, Buffer.from([opts.tsresol]), le));
  if (opts.tsoffset !== undefined) {
    const b = Buffer.alloc(8);
    if (le) b.writeBigInt64LE(opts.tsoffset);
    else b.writeBigInt64BE(opts.tsoffset);
    options.push(ngOption(14, b, le));
  }
  if (options.length) options.push(ngEndOpt(le));
  return ngBlock(1, Buffer.concat([u16(linkType, le), u16(0, le), u32(snaplen, le), ...options]), le);
}

/** EPB with a 64-bit timestamp given as a bigint count of the interface's units. */
export function epb(le: boolean, ifId: number, ts: bigint, data: Buffer, origLen = data.length, withOptions = false): Buffer {
  const hi = Number(ts >> 32n);
  const lo = Number(ts & 0xffffffffn);
  const parts = [u32(ifId, le), u32(hi, le), u32(lo, le), u32(data.length, le), u32(origLen, le), pad4(data)];
  if (withOptions) parts.push(ngOption(2, u32(1, le), le), ngEndOpt(le)); // epb_flags
  return ngBlock(6, Buffer.concat(parts), le);
}

export function opb(le: boolean, ifId: number, ts: bigint, data: Buffer, origLen = data.length): Buffer {
  const hi = Number(ts >> 32n);
  const lo = Number(ts & 0xffffffffn);
  return ngBlock(2, Buffer.concat([u16(ifId, le), u16(0, le), u32(hi, le), u32(lo, le), u32(data.length, le), u32(origLen, le), pad4(data)]), le);
}

export function spb(le: boolean, data: Buffer, origLen = data.length): Buffer {
  return ngBlock(3, Buffer.concat([u32(origLen, le), pad4(data)]), le);
}

/** Deterministic pseudo-random bytes (tests must be reproducible). */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

export function bytes(n: number, rnd: () => number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rnd() & 0xff;
  return b;
}
