/**
 * Test support for the TLS parser: TCP streams of a capture, reassembled
 * from tshark's per-segment output, plus tshark's own TLS fields per stream
 * as an oracle; and a recording AppParserContext.
 *
 * tshark is run once per capture (~0.5 s); segments are put back in order
 * per direction by relative sequence number (retransmissions and overlaps
 * dropped, holes reported as gaps), and delivered to the parser in capture
 * order so that "handshake done" sees both directions as a sensor would.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { AppParserContext, AppParserDecl, AppTx, Direction } from '../../src/applayer/parser.js';

const run = promisify(execFile);

export interface Chunk {
  readonly dir: Direction;
  /** Bytes, or null for a gap of `gap` bytes. */
  readonly data: Buffer | null;
  readonly gap: number;
}

export interface TcpStream {
  readonly id: number;
  /** "addr:port" of the client (SYN sender, else the first sender). */
  client: string;
  server: string;
  chunks: Chunk[];
  /** tshark's fields seen in this stream, in order. */
  ja3: string[];
  ja3Full: string[];
  ja3s: string[];
  ja3sFull: string[];
  sni: string[];
  /** Hex DER of the first certificate of each Certificate message, with its direction. */
  certs: { dir: Direction; hex: string }[];
}

interface Seg { seq: number; data: Buffer }

interface DirAsm { next: number; started: boolean; pending: Seg[] }

const FIELDS = [
  'tcp.stream', 'ip.src', 'ipv6.src', 'tcp.srcport', 'ip.dst', 'ipv6.dst', 'tcp.dstport',
  'tcp.flags.syn', 'tcp.flags.ack', 'tcp.seq', 'tcp.payload',
  'tls.handshake.ja3', 'tls.handshake.ja3_full', 'tls.handshake.ja3s', 'tls.handshake.ja3s_full',
  'tls.handshake.extensions_server_name', 'tls.handshake.certificate', 'tls.handshake.type',
];

/** Run tshark over a capture and return its TCP streams (only those carrying payload). */
export async function readTcpStreams(pcap: string, extraArgs: string[] = []): Promise<Map<number, TcpStream>> {
  const args = ['-r', pcap, '-n', '-T', 'fields', '-E', 'separator=\t', '-E', 'aggregator=|', '-E', 'occurrence=a',
    ...extraArgs, '-Y', 'tcp'];
  for (const f of FIELDS) args.push('-e', f);
  const { stdout } = await run('tshark', args, { maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' });
  const streams = new Map<number, TcpStream>();
  const asm = new Map<number, [DirAsm, DirAsm]>();
  for (const line of stdout.split('\n')) {
    if (line.length === 0) continue;
    const c = line.split('\t');
    const id = Number(c[0]);
    if (!Number.isInteger(id)) continue;
    const src = `${c[1] || c[2]}:${c[3]}`;
    const dst = `${c[4] || c[5]}:${c[6]}`;
    const syn = c[7] === '1' || c[7] === 'True';
    const ack = c[8] === '1' || c[8] === 'True';
    let s = streams.get(id);
    if (s === undefined) {
      s = { id, client: src, server: dst, chunks: [], ja3: [], ja3Full: [], ja3s: [], ja3sFull: [], sni: [], certs: [] };
      streams.set(id, s);
      asm.set(id, [{ next: 0, started: false, pending: [] }, { next: 0, started: false, pending: [] }]);
    }
    if (syn && !ack && s.chunks.length === 0) {
      s.client = src;
      s.server = dst;
    }
    const dir: Direction = src === s.client ? 0 : 1;
    const seq = Number(c[9]);
    if (syn) {
      // Relative sequence numbers: data starts at 1 after a SYN, whatever order segments arrive in.
      const a = asm.get(id)![dir];
      if (!a.started) {
        a.started = true;
        a.next = seq + 1;
      }
    }
    const payload = c[10] ?? '';
    if (payload.length > 0) {
      const a = asm.get(id)![dir];
      const data = Buffer.from(payload.replace(/:/g, ''), 'hex');
      if (!a.started) {
        a.started = true;
        a.next = seq;
      }
      a.pending.push({ seq, data });
      flush(s, dir, a, false);
    }
    const add = (arr: string[], v: string | undefined): void => {
      if (v !== undefined && v.length > 0) for (const x of v.split('|')) arr.push(x);
    };
    add(s.ja3, c[11]);
    add(s.ja3Full, c[12]);
    add(s.ja3s, c[13]);
    add(s.ja3sFull, c[14]);
    add(s.sni, c[15]);
    if (c[16] !== undefined && c[16].length > 0) {
      // One packet can hold several Certificate messages only in odd cases; take the first cert.
      s.certs.push({ dir, hex: c[16].split('|')[0]!.replace(/:/g, '') });
    }
  }
  for (const [id, s] of streams) {
    const [a0, a1] = asm.get(id)!;
    flush(s, 0, a0, true);
    flush(s, 1, a1, true);
    if (s.chunks.length === 0) streams.delete(id);
  }
  return streams;
}

/** Deliver in-order bytes; at the end, skip holes (reported as gaps). */
function flush(s: TcpStream, dir: Direction, a: DirAsm, final: boolean): void {
  for (;;) {
    if (a.pending.length === 0) return;
    a.pending.sort((x, y) => x.seq - y.seq);
    const seg = a.pending[0]!;
    const segEnd = seg.seq + seg.data.length;
    if (segEnd <= a.next) {
      a.pending.shift(); // retransmission
      continue;
    }
    if (seg.seq > a.next) {
      if (!final) return;
      s.chunks.push({ dir, data: null, gap: seg.seq - a.next });
      a.next = seg.seq;
    }
    a.pending.shift();
    s.chunks.push({ dir, data: seg.data.subarray(a.next - seg.seq), gap: 0 });
    a.next = segEnd;
  }
}

/** A context that records what the parser reports. */
export class RecordingContext implements AppParserContext {
  readonly txs: AppTx[] = [];
  readonly events: string[] = [];
  abandoned: string | null = null;
  tx(tx: AppTx): void { this.txs.push(tx); }
  event(name: string): void { this.events.push(name); }
  abandon(reason: string): void { this.abandoned = reason; }
}

/** Run one parser over a stream's chunks as the pipeline would, then end the flow. */
export function runStream<S>(decl: AppParserDecl<S>, chunks: readonly Chunk[]): RecordingContext {
  const ctx = new RecordingContext();
  const st = decl.create(ctx);
  for (const c of chunks) {
    if (ctx.abandoned !== null) break;
    if (c.data === null) decl.gap?.(st, c.dir, c.gap);
    else decl.parse(st, c.dir, c.data, 0, c.data.length, 0);
  }
  if (ctx.abandoned === null) decl.end?.(st);
  return ctx;
}
