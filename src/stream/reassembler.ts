/**
 * TCP reassembly: turns the TCP segments of a flow into two ordered byte
 * streams (toServer, toClient) and hands them to a sink, each byte once.
 *
 * Per direction (see direction.ts):
 *  - The ISN comes from the SYN (SYN/ACK for the server side); with
 *    `midstream` on, a direction first seen without SYN starts at its first
 *    sequence number (as `tshark -z follow` does).
 *  - In-order data is delivered straight from the packet buffer (no copy).
 *    Out-of-order data is copied and held, bounded per stream
 *    (`maxSegmentBytesPerStream`, `maxSegmentsPerStream`) and globally
 *    (`memcapBytes`), and delivered when the hole before it fills.
 *  - Data entirely before `nextSeq` is a retransmission: dropped, counted
 *    (a 1-byte segment at nextSeq-1 is a keep-alive: counted apart). Partly
 *    old data is trimmed to its new part. Overlaps among held data follow the
 *    overlap policy (policy.ts) and are counted, with a
 *    `stream.reassembly_overlap_different_data` event when the bytes differ.
 *  - Sequence arithmetic is 32-bit with wrap-around: positions are compared
 *    as `(a - b) | 0`.
 *  - Gaps: when the other direction ACKs into held data (the receiver got
 *    bytes the capture missed) or when the held data would exceed its
 *    bounds, the hole is reported with `sink.gap(len)` (counted as
 *    tcp.reassembly_gap) and delivery continues after it. At flow end or RST,
 *    data still held behind a hole nobody ACKed is dropped and counted
 *    (`flushHeldAtEnd` delivers it after a gap instead). This is what
 *    `tshark -z follow,tcp,raw` shows: it prints "[N bytes missing in capture
 *    file]" for an ACKed hole and leaves out data behind an unACKed one.
 *  - FIN: data at or beyond the FIN's sequence is not accepted; when every
 *    byte before it was delivered, `sink.end` is called. RST ends both
 *    directions (held data treated as at flow end); data carried on the
 *    RST or sent after it is ignored and counted (Suricata also stops
 *    reassembling a reset session).
 *  - SYN with data: the data starts at ISN+1 and is delivered.
 *  - A segment the capture's snap length cut short (decoder trunc_pkt and
 *    origLen > capLen) delivers its captured bytes, then a gap for the rest
 *    (`tshark -z follow` just concatenates the captured parts).
 *  - A SYN with a new ISN on a direction that has delivered nothing yet
 *    restarts it; port reuse on a closed flow is the flow table's business
 *    (it starts a new Flow, see flow/table.ts).
 *
 * The pipeline calls `handle(flow, dir, pkt)` for each TCP packet after the
 * flow table, and `flowEnded(flow)` from the table's onFlowEnd hook.
 */
import type { Packet } from '../decode/packet.js';
import type { Flow } from '../flow/flow.js';
import { decoderEventId } from '../decode/events.js';
import { StreamDirection } from './direction.js';
import { newDataWins, policyGroup, type OverlapPolicy, type PolicyGroup } from './policy.js';

export type { OverlapPolicy } from './policy.js';
export { OVERLAP_POLICIES } from './policy.js';

export type StreamEventName =
  | 'stream.reassembly_overlap_different_data'
  | 'stream.reassembly_seq_gap'
  | 'stream.reassembly_segment_memcap_drop'
  | 'stream.pkt_retransmission'
  | 'stream.data_after_fin'
  | 'stream.data_after_rst';

export interface StreamSink {
  /** In-order bytes `buf[off, off+len)` of direction `dir`; valid only during the call. */
  data(flow: Flow, dir: 0 | 1, buf: Buffer, off: number, len: number): void;
  /** `len` bytes of direction `dir` were lost; data continues after them. */
  gap(flow: Flow, dir: 0 | 1, len: number): void;
  /** Direction `dir` is finished (FIN reached, RST, or flow end); called once. */
  end?(flow: Flow, dir: 0 | 1): void;
  /** A stream anomaly on this flow (names as Suricata's stream events). */
  event?(flow: Flow, dir: 0 | 1, name: StreamEventName): void;
}

export interface StreamConfig {
  overlapPolicy: OverlapPolicy;
  /** Most out-of-order bytes held per direction before declaring a gap. */
  maxSegmentBytesPerStream: number;
  /** Most out-of-order segments held per direction before declaring a gap. */
  maxSegmentsPerStream: number;
  /** Global bound on held out-of-order bytes (plus per-segment overhead); beyond it segments are dropped. */
  memcapBytes: number;
  /** Pick up sessions whose handshake was not seen. */
  midstream: boolean;
  /**
   * At flow end or RST, deliver held data that sits after a hole nobody
   * ACKed (reporting the hole as a gap). Off by default: such data was never
   * shown to be received, and `tshark -z follow` leaves it out as well.
   */
  flushHeldAtEnd: boolean;
}

export const DEFAULT_STREAM_CONFIG: Readonly<StreamConfig> = {
  overlapPolicy: 'bsd',
  maxSegmentBytesPerStream: 1 << 20,
  maxSegmentsPerStream: 4096,
  memcapBytes: 64 << 20,
  midstream: true,
  flushHeldAtEnd: false,
};

/** Accounted overhead of one held segment (array slots + Buffer object). */
export const SEGMENT_OVERHEAD = 96;
/** Accounted cost of a direction's state object (measured order of magnitude). */
export const STREAM_DIRECTION_COST = 160;

/** A RST further than this from the expected sequence number is ignored (16 MiB, a generous scaled window). */
const RST_WINDOW = 1 << 24;

/** Segments further ahead than this are not plausible for any window (2^30). */
const MAX_AHEAD = 0x40000000;

const EV_IP4_TRUNC = decoderEventId('decoder.ipv4.trunc_pkt');
const EV_IP6_TRUNC = decoderEventId('decoder.ipv6.trunc_pkt');

/**
 * Payload bytes cut off by the capture's snap length: the decoder clipped
 * the datagram (trunc_pkt) and the frame was longer on the wire.
 */
function snappedBytes(pkt: Packet): number {
  if (pkt.eventCount === 0 || pkt.origLen <= pkt.capLen) return 0;
  for (let i = 0; i < pkt.eventCount && i < pkt.events.length; i++) {
    const e = pkt.events[i];
    if (e === EV_IP4_TRUNC || e === EV_IP6_TRUNC) return pkt.origLen - pkt.capLen;
  }
  return 0;
}

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;

export class TcpReassembler {
  private readonly cfg: StreamConfig;
  private readonly policy: PolicyGroup;
  private readonly sink: StreamSink;

  private segMem = 0;
  private dirCount = 0;

  // counters
  private cSessions = 0;
  private cMidstream = 0;
  private cMidstreamIgnored = 0;
  private cSegments = 0;
  private cBytes = 0;
  private cOoo = 0;
  private cRetrans = 0;
  private cKeepalive = 0;
  private cOverlap = 0;
  private cOverlapDiff = 0;
  private cGaps = 0;
  private cGapBytes = 0;
  private cMemcapDrop = 0;
  private cOverflow = 0;
  private cAfterFin = 0;
  private cAfterRst = 0;
  private cRst = 0;
  private cOutOfWindow = 0;
  private cIsnChange = 0;
  private cEndDropped = 0;
  private cRstInvalid = 0;
  private cSnapped = 0;
  private cEndDroppedBytes = 0;

  constructor(cfg: Partial<StreamConfig> = {}, sink: StreamSink) {
    this.cfg = { ...DEFAULT_STREAM_CONFIG, ...cfg };
    this.policy = policyGroup(this.cfg.overlapPolicy);
    this.sink = sink;
  }

  /** Memory in use: direction states and held segments (for FlowTable.addMemorySource). */
  get memuse(): number {
    return this.segMem + this.dirCount * STREAM_DIRECTION_COST;
  }

  /** Held segment bytes plus overhead, the figure `memcapBytes` bounds. */
  get segmentMemuse(): number {
    return this.segMem;
  }

  /**
   * One packet of a TCP flow, in direction `dir` as the flow table reported
   * it. Packets that are not TCP (an ICMP error the table attributed to this
   * flow) are ignored.
   */
  handle(flow: Flow, dir: 0 | 1, pkt: Packet): void {
    if (pkt.proto !== 6) return;
    const flags = pkt.tcpFlags;
    let st = (dir === 0 ? flow.toServerStream : flow.toClientStream) as StreamDirection | null;
    const other = (dir === 0 ? flow.toClientStream : flow.toServerStream) as StreamDirection | null;
    if (st === null) {
      st = new StreamDirection();
      if (dir === 0) flow.toServerStream = st;
      else flow.toClientStream = st;
      this.dirCount++;
      if (other === null) this.cSessions++;
    }

    // The receiver acknowledged bytes beyond a hole in the other direction:
    // the capture missed them, so stop waiting.
    if (flags & ACK && other !== null && other.init && other.holdSeq.length > 0 && !other.closed) {
      this.ackGap(flow, dir === 0 ? 1 : 0, other, pkt.tcpAck);
    }

    let len = pkt.payloadLen;
    if (st.closed) {
      if (len > 0) {
        if (st.finSeen) this.cAfterFin++;
        else this.cAfterRst++;
      }
      return;
    }
    const seq = pkt.tcpSeq >>> 0;
    let dataSeq = seq;
    if (flags & SYN) {
      dataSeq = (seq + 1) >>> 0;
      if (!st.init) {
        st.init = true;
        st.isn = seq;
        st.nextSeq = dataSeq;
      } else if (seq !== st.isn && st.delivered === 0 && st.holdSeq.length === 0) {
        this.cIsnChange++;
        st.isn = seq;
        st.nextSeq = dataSeq;
      }
    } else if (!st.init) {
      if (!this.cfg.midstream) {
        this.cMidstreamIgnored++;
        return;
      }
      st.init = true;
      st.isn = (seq - 1) >>> 0;
      st.nextSeq = seq;
      this.cMidstream++;
    }

    if (flags & RST) {
      // A RST far outside the sender's sequence space cannot be accepted by
      // the receiver; ignoring it keeps a blind spoofed RST from ending
      // inspection (hosts check RSTs against the window: RFC 793, RFC 5961).
      const d = (seq - st.nextSeq) | 0;
      if (d > RST_WINDOW || d < -RST_WINDOW) {
        this.cRstInvalid++;
        return;
      }
      this.cRst++;
      if (len > 0) {
        this.cAfterRst++;
        this.event(flow, dir, 'stream.data_after_rst');
      }
      this.finish(flow, dir, st);
      if (other !== null) this.finish(flow, dir === 0 ? 1 : 0, other);
      return;
    }

    // A segment cut short by the snap length still occupies its full
    // sequence space; the bytes not captured become a gap right after it.
    const snapped = snappedBytes(pkt);
    if (flags & FIN && !st.finSeen) {
      st.finSeen = true;
      st.finSeq = (dataSeq + len + snapped) >>> 0;
    }
    if (st.finSeen && len > 0) {
      const room = (st.finSeq - dataSeq) | 0;
      if (room < len) {
        this.cAfterFin++;
        this.event(flow, dir, 'stream.data_after_fin');
        len = room > 0 ? room : 0;
      }
    }
    if (len > 0) this.insert(flow, dir, st, pkt.data, pkt.payloadOff, dataSeq, len);
    if (snapped > 0 && st.nextSeq === ((dataSeq + len) >>> 0)) {
      this.cSnapped++;
      this.gapTo(flow, dir, st, (dataSeq + len + snapped) >>> 0);
      this.drain(flow, dir, st);
    }
    if (st.finSeen && st.nextSeq === st.finSeq && st.holdSeq.length === 0) this.close(flow, dir, st);
  }

  /** The flow ended: settle held data (see flushHeldAtEnd), end both directions, free memory. */
  flowEnded(flow: Flow): void {
    const a = flow.toServerStream as StreamDirection | null;
    const b = flow.toClientStream as StreamDirection | null;
    if (a !== null) {
      this.finish(flow, 0, a);
      flow.toServerStream = null;
      this.dirCount--;
    }
    if (b !== null) {
      this.finish(flow, 1, b);
      flow.toClientStream = null;
      this.dirCount--;
    }
  }

  stats(): Record<string, number> {
    return {
      'tcp.sessions': this.cSessions,
      'tcp.midstream_pickups': this.cMidstream,
      'tcp.midstream_ignored': this.cMidstreamIgnored,
      'tcp.segments': this.cSegments,
      'tcp.reassembled_bytes': this.cBytes,
      'tcp.ooo_segments': this.cOoo,
      'tcp.retransmission': this.cRetrans,
      'tcp.keepalive': this.cKeepalive,
      'tcp.overlap': this.cOverlap,
      'tcp.overlap_diff_data': this.cOverlapDiff,
      'tcp.reassembly_gap': this.cGaps,
      'tcp.reassembly_gap_bytes': this.cGapBytes,
      'tcp.segment_memcap_drop': this.cMemcapDrop,
      'tcp.stream_depth_reached': this.cOverflow,
      'tcp.data_after_fin': this.cAfterFin,
      'tcp.data_after_rst': this.cAfterRst,
      'tcp.rst': this.cRst,
      'tcp.rst_invalid': this.cRstInvalid,
      'tcp.snapped_segments': this.cSnapped,
      'tcp.seq_out_of_window': this.cOutOfWindow,
      'tcp.isn_change': this.cIsnChange,
      'tcp.end_unacked_segments_dropped': this.cEndDropped,
      'tcp.end_unacked_bytes_dropped': this.cEndDroppedBytes,
      'tcp.reassembly_memuse': this.segMem,
    };
  }

  // ---- data path ------------------------------------------------------------

  private insert(flow: Flow, dir: 0 | 1, st: StreamDirection, buf: Buffer, off: number, seq: number, len: number): void {
    this.cSegments++;
    let rel = (seq - st.nextSeq) | 0;
    if (rel + len <= 0) {
      if (rel === -1 && len === 1) this.cKeepalive++;
      else {
        this.cRetrans++;
        this.event(flow, dir, 'stream.pkt_retransmission');
      }
      return;
    }
    if (rel < 0) {
      // Partly old: the old part was delivered already; keep the first copy.
      this.cOverlap++;
      off -= rel;
      len += rel;
      seq = st.nextSeq;
      rel = 0;
    }
    if (rel > MAX_AHEAD) {
      this.cOutOfWindow++;
      return;
    }
    const held = st.holdSeq.length;
    if (held === 0) {
      if (rel === 0) {
        this.deliver(flow, dir, st, buf, off, len);
        return;
      }
      this.hold(flow, dir, st, buf, off, seq, len, 0);
      return;
    }
    // Fast paths with held data: new data entirely before the first held
    // segment (fills the hole from the front) or entirely after the last.
    const firstRel = (st.holdSeq[0] - st.nextSeq) | 0;
    if (rel + len <= firstRel) {
      if (rel === 0) {
        this.deliver(flow, dir, st, buf, off, len);
        this.drain(flow, dir, st);
      } else {
        this.hold(flow, dir, st, buf, off, seq, len, 0);
      }
      return;
    }
    const lastSeq = st.holdSeq[held - 1];
    const lastEndRel = ((lastSeq - st.nextSeq) | 0) + st.holdBuf[held - 1].length;
    if (rel >= lastEndRel) {
      this.hold(flow, dir, st, buf, off, seq, len, held);
      return;
    }
    this.insertOverlapping(flow, dir, st, buf, off, rel, len);
  }

  /** New data overlapping held segments: apply the policy, deliver what became contiguous, hold the rest. */
  private insertOverlapping(flow: Flow, dir: 0 | 1, st: StreamDirection, buf: Buffer, off: number, rel: number, len: number): void {
    const base = st.nextSeq;
    const ne = rel + len;
    const hs = st.holdSeq;
    const hb = st.holdBuf;
    // surviving pieces of the new segment, as [start, end) relative to base
    const pieces: number[] = [];
    let c = rel;
    const keepSeq: number[] = [];
    const keepBuf: Buffer[] = [];
    let changed = false;
    let overlapped = false;
    for (let i = 0; i < hs.length; i++) {
      const os = (hs[i] - base) | 0;
      const oe = os + hb[i].length;
      if (oe <= rel || os >= ne) {
        keepSeq.push(hs[i]);
        keepBuf.push(hb[i]);
        continue;
      }
      overlapped = true;
      const ovS = os > rel ? os : rel;
      const ovE = oe < ne ? oe : ne;
      const different = buf.compare(hb[i], ovS - os, ovE - os, off + ovS - rel, off + ovE - rel) !== 0;
      if (different) {
        this.cOverlapDiff++;
        this.event(flow, dir, 'stream.reassembly_overlap_different_data');
      }
      if (different && newDataWins(this.policy, rel, ne, os, oe)) {
        // The held copy loses its overlapped part; keep what lies outside.
        changed = true;
        this.segMem -= hb[i].length + SEGMENT_OVERHEAD;
        st.bufferedBytes -= hb[i].length;
        if (os < ovS) this.keepCopy(st, keepSeq, keepBuf, hs[i], hb[i], 0, ovS - os);
        if (ovE < oe) this.keepCopy(st, keepSeq, keepBuf, (hs[i] + (ovE - os)) >>> 0, hb[i], ovE - os, oe - ovE);
      } else {
        keepSeq.push(hs[i]);
        keepBuf.push(hb[i]);
        if (ovS > c) pieces.push(c, ovS);
        if (ovE > c) c = ovE;
      }
    }
    if (c < ne) pieces.push(c, ne);
    if (overlapped) this.cOverlap++;
    if (changed) {
      hs.length = 0;
      hb.length = 0;
      for (let i = 0; i < keepSeq.length; i++) {
        hs.push(keepSeq[i]);
        hb.push(keepBuf[i]);
      }
    }
    // Deliver pieces of the packet that are now next in line (no copy), hold the others.
    let pi = 0;
    while (pi < pieces.length && pieces[pi] === ((st.nextSeq - base) | 0)) {
      this.deliver(flow, dir, st, buf, off + pieces[pi] - rel, pieces[pi + 1] - pieces[pi]);
      pi += 2;
      // held data may now be contiguous, and the next piece may follow it
      this.drain(flow, dir, st);
    }
    for (; pi < pieces.length; pi += 2) {
      const s = pieces[pi];
      const seq = (base + s) >>> 0;
      const at = this.holdIndex(st, seq);
      this.hold(flow, dir, st, buf, off + s - rel, seq, pieces[pi + 1] - s, at);
    }
  }

  private keepCopy(st: StreamDirection, seqs: number[], bufs: Buffer[], seq: number, src: Buffer, from: number, n: number): void {
    const b = Buffer.allocUnsafe(n);
    src.copy(b, 0, from, from + n);
    seqs.push(seq);
    bufs.push(b);
    st.bufferedBytes += n;
    this.segMem += n + SEGMENT_OVERHEAD;
  }

  /** Index where a segment starting at `seq` goes in the (sorted, disjoint) hold list. */
  private holdIndex(st: StreamDirection, seq: number): number {
    const hs = st.holdSeq;
    let i = hs.length;
    while (i > 0 && ((hs[i - 1] - seq) | 0) > 0) i--;
    return i;
  }

  /** Copy `len` bytes at `seq` into the hold list at index `at`, within the bounds. */
  private hold(flow: Flow, dir: 0 | 1, st: StreamDirection, buf: Buffer, off: number, seq: number, len: number, at: number): void {
    this.cOoo++;
    // Per-stream bound: give up on the oldest hole(s) until the data fits.
    while (st.bufferedBytes + len > this.cfg.maxSegmentBytesPerStream || st.holdSeq.length >= this.cfg.maxSegmentsPerStream) {
      this.cOverflow++;
      if (st.holdSeq.length === 0 || ((seq - st.holdSeq[0]) | 0) < 0) {
        // The new data comes before everything held: the hole before it is
        // lost, and it is itself next in line.
        this.gapTo(flow, dir, st, seq);
        this.deliver(flow, dir, st, buf, off, len);
        this.drain(flow, dir, st);
        return;
      }
      this.gapTo(flow, dir, st, st.holdSeq[0]);
      this.drain(flow, dir, st);
      if (seq === st.nextSeq) {
        this.deliver(flow, dir, st, buf, off, len);
        this.drain(flow, dir, st);
        return;
      }
      at = this.holdIndex(st, seq);
    }
    if (this.segMem + len + SEGMENT_OVERHEAD > this.cfg.memcapBytes) {
      this.cMemcapDrop++;
      this.event(flow, dir, 'stream.reassembly_segment_memcap_drop');
      return;
    }
    const b = Buffer.allocUnsafe(len);
    buf.copy(b, 0, off, off + len);
    st.holdSeq.splice(at, 0, seq);
    st.holdBuf.splice(at, 0, b);
    st.bufferedBytes += len;
    this.segMem += len + SEGMENT_OVERHEAD;
  }

  private deliver(flow: Flow, dir: 0 | 1, st: StreamDirection, buf: Buffer, off: number, len: number): void {
    st.nextSeq = (st.nextSeq + len) >>> 0;
    st.delivered += len;
    this.cBytes += len;
    this.sink.data(flow, dir, buf, off, len);
  }

  /** Deliver held segments that start at nextSeq (trimming any that start before it). */
  private drain(flow: Flow, dir: 0 | 1, st: StreamDirection): void {
    const hs = st.holdSeq;
    const hb = st.holdBuf;
    let n = 0;
    while (n < hs.length) {
      const rel = (hs[n] - st.nextSeq) | 0;
      if (rel > 0) break;
      const b = hb[n];
      st.bufferedBytes -= b.length;
      this.segMem -= b.length + SEGMENT_OVERHEAD;
      if (rel + b.length > 0) this.deliver(flow, dir, st, b, -rel, b.length + rel);
      n++;
    }
    if (n > 0) {
      hs.splice(0, n);
      hb.splice(0, n);
    }
  }

  /** Report the hole before the first held segment as a gap and deliver from there. */
  private skipHole(flow: Flow, dir: 0 | 1, st: StreamDirection): void {
    this.gapTo(flow, dir, st, st.holdSeq[0]);
    this.drain(flow, dir, st);
  }

  /** Declare the bytes from nextSeq up to `seq` lost. */
  private gapTo(flow: Flow, dir: 0 | 1, st: StreamDirection, seq: number): void {
    const gap = (seq - st.nextSeq) | 0;
    if (gap <= 0) return;
    this.cGaps++;
    this.cGapBytes += gap;
    st.nextSeq = seq >>> 0;
    this.event(flow, dir, 'stream.reassembly_seq_gap');
    this.sink.gap(flow, dir, gap);
  }

  private ackGap(flow: Flow, dir: 0 | 1, st: StreamDirection, ack: number): void {
    // The ACK must reach into held data: the hole before it was received.
    while (st.holdSeq.length > 0 && ((ack - st.holdSeq[0]) | 0) > 0) this.skipHole(flow, dir, st);
    if (st.finSeen && st.nextSeq === st.finSeq && st.holdSeq.length === 0) this.close(flow, dir, st);
  }

  /** End a direction: flush or drop held data (see flushHeldAtEnd), then report end. */
  private finish(flow: Flow, dir: 0 | 1, st: StreamDirection): void {
    if (st.closed) return;
    if (this.cfg.flushHeldAtEnd) {
      while (st.holdSeq.length > 0) this.skipHole(flow, dir, st);
    } else if (st.holdSeq.length > 0) {
      for (let i = 0; i < st.holdBuf.length; i++) {
        const n = st.holdBuf[i].length;
        this.cEndDroppedBytes += n;
        this.segMem -= n + SEGMENT_OVERHEAD;
      }
      this.cEndDropped += st.holdSeq.length;
      st.holdSeq.length = 0;
      st.holdBuf.length = 0;
      st.bufferedBytes = 0;
    }
    this.close(flow, dir, st);
  }

  private close(flow: Flow, dir: 0 | 1, st: StreamDirection): void {
    if (st.closed) return;
    st.closed = true;
    if (this.sink.end !== undefined) this.sink.end(flow, dir);
  }

  private event(flow: Flow, dir: 0 | 1, name: StreamEventName): void {
    if (this.sink.event !== undefined) this.sink.event(flow, dir, name);
  }
}
