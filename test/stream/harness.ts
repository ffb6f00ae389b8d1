/**
 * Test harness for the reassembler: a sink that records what each direction
 * received, and helpers to send segments of a flow by sequence number.
 */
import { Flow } from '../../src/flow/flow.js';
import { TcpReassembler, type StreamConfig, type StreamEventName, type StreamSink } from '../../src/stream/reassembler.js';
import { A, B, F, mkPacket } from '../flow/packets.js';
import type { Packet } from '../../src/decode/packet.js';

export class RecordingSink implements StreamSink {
  readonly chunks: [Buffer[], Buffer[]] = [[], []];
  readonly gaps: [number[], number[]] = [[], []];
  readonly ends: [number, number] = [0, 0];
  readonly events: string[] = [];
  /** Buffers passed to data(), to check the no-copy path. */
  readonly rawBufs: Buffer[] = [];
  /** Order of data/gap calls per direction, e.g. 'd5 g10 d3'. */
  readonly log: [string[], string[]] = [[], []];

  data(_f: Flow, dir: 0 | 1, buf: Buffer, off: number, len: number): void {
    this.rawBufs.push(buf);
    this.chunks[dir].push(Buffer.from(buf.subarray(off, off + len)));
    this.log[dir].push(`d${len}`);
  }
  gap(_f: Flow, dir: 0 | 1, len: number): void {
    this.gaps[dir].push(len);
    this.log[dir].push(`g${len}`);
  }
  end(_f: Flow, dir: 0 | 1): void {
    this.ends[dir]++;
  }
  event(_f: Flow, _dir: 0 | 1, name: StreamEventName): void {
    this.events.push(name);
  }
  text(dir: 0 | 1): string {
    return Buffer.concat(this.chunks[dir]).toString('latin1');
  }
  bytes(dir: 0 | 1): Buffer {
    return Buffer.concat(this.chunks[dir]);
  }
}

/** One TCP connection A:40000 -> B:80 driven segment by segment. */
export class Conn {
  readonly sink = new RecordingSink();
  readonly r: TcpReassembler;
  readonly flow = new Flow(4);
  isnC: number;
  isnS: number;
  last: Packet | null = null;

  constructor(cfg: Partial<StreamConfig> = {}, isnC = 1000, isnS = 5000) {
    this.r = new TcpReassembler(cfg, this.sink);
    this.isnC = isnC >>> 0;
    this.isnS = isnS >>> 0;
  }

  /** Three-way handshake. */
  open(): this {
    this.pkt(0, F.SYN, this.isnC, 0);
    this.pkt(1, F.SYN | F.ACK, this.isnS, this.isnC + 1);
    this.pkt(0, F.ACK, this.isnC + 1, this.isnS + 1);
    return this;
  }

  /** Send a raw packet in direction `dir` with absolute seq/ack. */
  pkt(dir: 0 | 1, flags: number, seq: number, ack: number, payload: string | Buffer = ''): this {
    const p =
      dir === 0
        ? mkPacket({ src: A, dst: B, sport: 40000, dport: 80, flags, seq, ack, payload })
        : mkPacket({ src: B, dst: A, sport: 80, dport: 40000, flags, seq, ack, payload });
    this.last = p;
    this.r.handle(this.flow, dir, p);
    return this;
  }

  /** Data at offset `rel` (0 = first byte after the ISN) of direction `dir`. */
  data(dir: 0 | 1, rel: number, payload: string | Buffer, flags = F.ACK | F.PSH): this {
    const isn = dir === 0 ? this.isnC : this.isnS;
    const peer = dir === 0 ? this.isnS : this.isnC;
    return this.pkt(dir, flags, (isn + 1 + rel) >>> 0, (peer + 1) >>> 0, payload);
  }

  /** A pure ACK from `dir` acknowledging offset `rel` of the other direction. */
  ackTo(dir: 0 | 1, rel: number): this {
    const isn = dir === 0 ? this.isnC : this.isnS;
    const peer = dir === 0 ? this.isnS : this.isnC;
    return this.pkt(dir, F.ACK, (isn + 1) >>> 0, (peer + 1 + rel) >>> 0);
  }

  end(): this {
    this.r.flowEnded(this.flow);
    return this;
  }
}
