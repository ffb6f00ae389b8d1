/**
 * A pcap per alerted flow: the responder gets the packets that led to the
 * alert and those that followed it.
 *
 * Every flow keeps its first packets (its "head") in fixed-size slabs taken
 * from one pool; the pool has a byte cap, so memory is bounded however many
 * flows are open. When a detector alerts on a flow, the head goes to a pcap
 * file and every later packet of the flow is appended to it until the flow
 * ends or the per-file limit is reached. Flows that never alert cost a copy
 * of their first packets and nothing else; their slabs return to the pool
 * when they end.
 *
 * Why slabs and not a Buffer per packet: the head of each flow is copied
 * into a 16 KiB slab as pcap records (16-byte record header + bytes), so
 * recording allocates nothing per packet and writing the file is one copy
 * per slab. What could not be kept (pool exhausted, frame too large for a
 * slab, a second link type) is counted, never silent.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Flow } from '../flow/flow.js';
import { FlowExt } from '../flow/flow.js';
import type { Packet } from '../decode/packet.js';
import { PcapWriter } from '../capture/pcap-writer.js';
import type { Counters } from '../events/stats.js';

export interface FlowPcapOptions {
  /** Folder for the files (created on first use). */
  dir: string;
  /** Bytes of each flow's head kept in memory (rounded up to whole slabs). Default 32 KiB. */
  headBytes?: number;
  /** Cap of all heads together. Default 128 MiB. */
  poolBytes?: number;
  /** Packets written per file after the alert, at most. Default 10,000. */
  afterAlertPackets?: number;
  /** Bytes per file, at most. Default 16 MiB. */
  maxFileBytes?: number;
  /** Files written in one run, at most (a storm of alerts must not fill the disk). Default 10,000. */
  maxFiles?: number;
}

const SLAB = 16 * 1024;
const REC_HDR = 16;

/** Per-flow recording state, kept in `flow.ext[FlowExt.PCAP]`. */
class FlowRecording {
  slabs: Buffer[] = [];
  /** Bytes used in each full slab (all but the last). */
  ends: number[] = [];
  /** Bytes used in the last slab. */
  used = 0;
  linkType = -1;
  writer: PcapWriter | null = null;
  path = '';
  written = 0;
  /** No more packets for this flow's file (limits reached). */
  full = false;
  /** Head no longer grows (budget spent or pool empty). */
  headDone = false;
}

export class FlowPcapRecorder {
  private readonly dir: string;
  private readonly maxSlabsPerFlow: number;
  private readonly maxPoolSlabs: number;
  private readonly afterAlertPackets: number;
  private readonly maxFileBytes: number;
  private readonly maxFiles: number;
  private readonly free: Buffer[] = [];
  private slabsInUse = 0;
  private dirMade = false;
  private c = {
    packetsKept: 0,
    headTruncated: 0,
    poolExhausted: 0,
    linkTypeSkipped: 0,
    reassembledSkipped: 0,
    files: 0,
    filesRefused: 0,
    fileErrors: 0,
    packetsWritten: 0,
    fileLimit: 0,
  };

  constructor(opts: FlowPcapOptions) {
    this.dir = opts.dir;
    this.maxSlabsPerFlow = Math.max(1, Math.ceil((opts.headBytes ?? 32 * 1024) / SLAB));
    this.maxPoolSlabs = Math.max(1, Math.floor((opts.poolBytes ?? 128 * 1024 * 1024) / SLAB));
    this.afterAlertPackets = opts.afterAlertPackets ?? 10_000;
    this.maxFileBytes = opts.maxFileBytes ?? 16 * 1024 * 1024;
    this.maxFiles = opts.maxFiles ?? 10_000;
  }

  private state(flow: Flow): FlowRecording {
    let ext = flow.ext;
    if (ext === null) ext = flow.ext = [];
    let r = ext[FlowExt.PCAP] as FlowRecording | undefined;
    if (r === undefined) {
      r = new FlowRecording();
      ext[FlowExt.PCAP] = r;
    }
    return r;
  }

  /** Every packet of a flow, in order: kept in the head, or appended to the flow's open file. */
  record(flow: Flow, pkt: Packet): void {
    // A defragmented datagram is not a frame (data is the rebuilt IP packet, frameOff/capLen no longer describe it).
    if (pkt.reassembled) {
      this.c.reassembledSkipped++;
      return;
    }
    const r = this.state(flow);
    if (r.linkType < 0) r.linkType = pkt.linkType;
    else if (r.linkType !== pkt.linkType) {
      this.c.linkTypeSkipped++;
      return;
    }
    if (r.writer !== null) {
      if (r.full) return;
      this.append(r, pkt);
      return;
    }
    if (r.headDone) return;
    const need = REC_HDR + Math.min(pkt.capLen, SLAB - REC_HDR);
    if (r.slabs.length === 0 || r.used + need > SLAB) {
      if (r.slabs.length >= this.maxSlabsPerFlow) {
        r.headDone = true;
        this.c.headTruncated++;
        return;
      }
      const slab = this.takeSlab();
      if (slab === null) {
        r.headDone = true;
        this.c.poolExhausted++;
        return;
      }
      if (r.slabs.length > 0) r.ends.push(r.used);
      r.slabs.push(slab);
      r.used = 0;
    }
    const slab = r.slabs[r.slabs.length - 1];
    const cap = need - REC_HDR;
    const p = r.used;
    slab.writeUInt32LE(pkt.tsSec >>> 0, p);
    slab.writeUInt32LE(Math.floor(pkt.tsNsec / 1000), p + 4);
    slab.writeUInt32LE(cap, p + 8);
    slab.writeUInt32LE(pkt.origLen >>> 0, p + 12);
    pkt.data.copy(slab, p + REC_HDR, pkt.frameOff, pkt.frameOff + cap);
    r.used = p + need;
    this.c.packetsKept++;
  }

  private append(r: FlowRecording, pkt: Packet): void {
    const w = r.writer!;
    if (r.written >= this.afterAlertPackets || w.bytes + 16 + pkt.capLen > this.maxFileBytes) {
      r.full = true;
      this.c.fileLimit++;
      this.closeWriter(r);
      return;
    }
    try {
      w.write(pkt.tsSec, pkt.tsNsec, pkt.data, pkt.frameOff, pkt.capLen, pkt.origLen);
      r.written++;
      this.c.packetsWritten++;
    } catch {
      this.c.fileErrors++;
      r.full = true;
    }
  }

  /**
   * A detector alerted on this flow: returns the path of its pcap (the same
   * path for every alert of the flow), writing the head now if this is the
   * first alert; null when no file can be written (limit, I/O error).
   */
  alerted(flow: Flow): string | null {
    const r = this.state(flow);
    if (r.writer !== null || r.path !== '') return r.path === '' ? null : r.path;
    if (this.c.files >= this.maxFiles) {
      this.c.filesRefused++;
      return null;
    }
    try {
      if (!this.dirMade) {
        mkdirSync(this.dir, { recursive: true });
        this.dirMade = true;
      }
      const path = join(this.dir, `flow-${flow.startSec}-${flow.flowId}.pcap`);
      const w = PcapWriter.open(path, r.linkType < 0 ? 1 : r.linkType, { bufferSize: 64 * 1024 });
      for (let i = 0; i < r.slabs.length; i++) {
        this.copyRecords(w, r.slabs[i], i === r.slabs.length - 1 ? r.used : r.ends[i]);
      }
      this.releaseSlabs(r);
      r.writer = w;
      r.path = path;
      this.c.files++;
      return path;
    } catch {
      this.c.fileErrors++;
      return null;
    }
  }

  private copyRecords(w: PcapWriter, slab: Buffer, end: number): void {
    let p = 0;
    while (p + REC_HDR <= end) {
      const sec = slab.readUInt32LE(p);
      const usec = slab.readUInt32LE(p + 4);
      const cap = slab.readUInt32LE(p + 8);
      const orig = slab.readUInt32LE(p + 12);
      if (p + REC_HDR + cap > end) break;
      w.write(sec, usec * 1000, slab, p + REC_HDR, cap, orig);
      p += REC_HDR + cap;
    }
  }

  /** The flow ended: close its file, give its slabs back. */
  flowEnd(flow: Flow): void {
    const r = flow.ext?.[FlowExt.PCAP] as FlowRecording | undefined;
    if (r === undefined) return;
    this.closeWriter(r);
    this.releaseSlabs(r);
    flow.ext![FlowExt.PCAP] = undefined;
  }

  private closeWriter(r: FlowRecording): void {
    if (r.writer === null) return;
    try {
      r.writer.close();
    } catch {
      this.c.fileErrors++;
    }
    r.writer = null;
    r.full = true;
  }

  private takeSlab(): Buffer | null {
    if (this.free.length > 0) {
      this.slabsInUse++;
      return this.free.pop()!;
    }
    if (this.slabsInUse >= this.maxPoolSlabs) return null;
    this.slabsInUse++;
    return Buffer.allocUnsafe(SLAB);
  }

  private releaseSlabs(r: FlowRecording): void {
    for (const s of r.slabs) {
      this.free.push(s);
      this.slabsInUse--;
    }
    r.slabs = [];
    r.ends = [];
    r.used = 0;
  }

  counters(): Counters {
    const c = this.c;
    return {
      'harrier.alert_pcap.packets_kept': c.packetsKept,
      'harrier.alert_pcap.head_truncated': c.headTruncated,
      'harrier.alert_pcap.pool_exhausted': c.poolExhausted,
      'harrier.alert_pcap.linktype_skipped': c.linkTypeSkipped,
      'harrier.alert_pcap.reassembled_skipped': c.reassembledSkipped,
      'harrier.alert_pcap.files': c.files,
      'harrier.alert_pcap.files_refused': c.filesRefused,
      'harrier.alert_pcap.file_errors': c.fileErrors,
      'harrier.alert_pcap.packets_written': c.packetsWritten,
      'harrier.alert_pcap.file_limit': c.fileLimit,
      'harrier.alert_pcap.pool_bytes': this.slabsInUse * SLAB,
    };
  }
}
