/**
 * IP defragmentation (IPv4 RFC 791/815, IPv6 RFC 8200 §4.5).
 *
 * Trackers are keyed by (version, src, dst, id, proto for IPv4, VLAN ids,
 * tunnel kind and id), so fragments of different tenants' overlays never mix.
 * Fragments are rare next to whole packets, so this module is the decoder's
 * one place that allocates per packet: a string key per fragment, a copy of
 * each fragment's data, and a fresh Buffer for each reassembled datagram.
 *
 * Bounded by three limits, each counted when it drops a fragment:
 *   memcap       bytes held (fragment data + a fixed overhead per fragment/tracker);
 *   maxTrackers  datagrams in progress;
 *   maxFragments fragments per datagram (keeps the sorted insert and the
 *                completeness walk cheap against floods of tiny fragments).
 * A tracker lives `timeout` seconds (packet time) after its last fragment.
 *
 * Overlaps are resolved per target-based policy (Novak, "Target-Based
 * Fragmentation Reassembly", 2005; Suricata's defrag.c uses the same models):
 *   first    the data that arrived first wins;
 *   last     the data that arrived last wins;
 *   bsd      the fragment starting at the lower offset wins; equal offsets:
 *            the earlier one wins  (Suricata's default, and ours);
 *   linux    as bsd, but at equal offsets the later one wins;
 *   windows  the earlier data wins, unless a later fragment starts before
 *            and ends after it (then the later one replaces it whole).
 * Any overlap is flagged (the decoder raises decoder.ipvN.frag_overlap).
 */
import type { Packet } from './packet.js';
import { ipv4HeaderChecksum } from './checksum.js';

export type DefragPolicy = 'first' | 'last' | 'bsd' | 'linux' | 'windows';

export const DEFRAG_POLICIES: readonly DefragPolicy[] = ['first', 'last', 'bsd', 'linux', 'windows'];

export interface DefragOptions {
  /** When false, fragments are passed on undecoded beyond IP (no reassembly). */
  enabled: boolean;
  /** Seconds of packet time a datagram waits for its next fragment. */
  timeout: number;
  /** Bytes all trackers may hold together. */
  memcap: number;
  maxTrackers: number;
  maxFragments: number;
  policy: DefragPolicy;
}

export const DEFAULT_DEFRAG_OPTIONS: Readonly<DefragOptions> = {
  enabled: true,
  timeout: 60,
  memcap: 32 * 1024 * 1024,
  maxTrackers: 65535,
  // 64-byte fragments of a maximum-size datagram (seen in Suricata's regression suite) still fit.
  maxFragments: 1024,
  policy: 'bsd',
};

/** Bits in `Defragmenter.flags` describing what the last add call saw. */
export const enum DefragFlag {
  OVERLAP = 1,
  TOO_LARGE = 2,
  MEMCAP = 4,
  MAX_TRACKERS = 8,
  TOO_MANY_FRAGMENTS = 16,
}

/** Accounting overheads (bytes), a rough figure for the objects around the data. */
const FRAG_OVERHEAD = 96;
const TRACKER_OVERHEAD = 256;

interface Frag {
  off: number;
  end: number;
  seq: number;
  data: Buffer;
}

interface Tracker {
  key: string;
  deadline: number;
  frags: Frag[]; // sorted by off
  seq: number;
  /** Length of the fragmentable part (from the fragment without MF), -1 until seen. */
  total: number;
  /** IPv4: the header of the offset-0 fragment; IPv6: the unfragmentable part. */
  hdr: Buffer | null;
  /** IPv6: position in hdr of the next-header byte that named the fragment header. */
  nhPos: number;
  /** IPv6: the next header that follows the fragment header (from offset 0). */
  nextHdr: number;
  mem: number;
}

const enum Policy {
  FIRST,
  LAST,
  BSD,
  LINUX,
  WINDOWS,
}

function policyId(p: DefragPolicy): Policy {
  switch (p) {
    case 'first': return Policy.FIRST;
    case 'last': return Policy.LAST;
    case 'linux': return Policy.LINUX;
    case 'windows': return Policy.WINDOWS;
    default: return Policy.BSD;
  }
}

export class Defragmenter {
  readonly opts: Readonly<DefragOptions>;
  private readonly policy: Policy;
  private readonly trackers = new Map<string, Tracker>();
  /** What the last addIPv4/addIPv6 call saw (DefragFlag bits). */
  flags = 0;
  memuse = 0;
  timeouts = 0;
  memcapDrops = 0;
  maxTrackersReached = 0;

  constructor(opts: Partial<DefragOptions> = {}) {
    this.opts = { ...DEFAULT_DEFRAG_OPTIONS, ...opts };
    this.policy = policyId(this.opts.policy);
  }

  get trackerCount(): number {
    return this.trackers.size;
  }

  /**
   * Add an IPv4 fragment: the datagram at b[ipOff, ipOff+ipLen) with header
   * length hlen. Returns the reassembled datagram (header + data) when this
   * fragment completed it, otherwise null (held or dropped; see `flags`).
   */
  addIPv4(pkt: Packet, b: Buffer, ipOff: number, hlen: number, ipLen: number, now: number): Buffer | null {
    this.flags = 0;
    const fw = (b[ipOff + 6] << 8) | b[ipOff + 7];
    const off = (fw & 0x1fff) << 3;
    const more = (fw & 0x2000) !== 0;
    const dataLen = ipLen - hlen;
    const end = off + dataLen;
    if (hlen + end > 65535) {
      this.flags |= DefragFlag.TOO_LARGE;
      return null;
    }
    const key = `4|${pkt.src4}|${pkt.dst4}|${pkt.ipId}|${pkt.proto}|${pkt.vlan0}|${pkt.vlan1}|${pkt.tunnel}|${pkt.tunnelId}`;
    const t = this.tracker(key, now);
    if (t === null) return null;
    if (!this.insert(t, b, ipOff + hlen, off, end, more, now, off === 0 ? hlen : 0)) return null;
    if (off === 0 && (t.hdr === null || this.policy === Policy.LAST || this.policy === Policy.LINUX)) {
      const hdr = Buffer.allocUnsafe(hlen);
      b.copy(hdr, 0, ipOff, ipOff + hlen);
      this.account(t, hdr.length - (t.hdr?.length ?? 0));
      t.hdr = hdr;
    }
    if (!complete(t)) return null;
    const h = t.hdr as Buffer;
    const out = Buffer.alloc(h.length + t.total);
    h.copy(out, 0);
    const totalLen = h.length + t.total;
    out[2] = totalLen >> 8;
    out[3] = totalLen & 0xff;
    out[6] &= 0x40; // keep DF, clear MF and the offset
    out[7] = 0;
    const cs = ipv4HeaderChecksum(out, 0, h.length);
    out[10] = cs >> 8;
    out[11] = cs & 0xff;
    this.layDown(t, out, h.length);
    this.drop(t);
    return out;
  }

  /**
   * Add an IPv6 fragment. `fragHdr` is the offset of the fragment header in b,
   * `nhPos` the offset of the byte that named it (6 within the IPv6 header, or
   * the first byte of the preceding extension header), `ipEnd` the end of the
   * datagram's bytes in b.
   */
  addIPv6(pkt: Packet, b: Buffer, ipOff: number, fragHdr: number, nhPos: number, ipEnd: number, now: number): Buffer | null {
    this.flags = 0;
    const fw = (b[fragHdr + 2] << 8) | b[fragHdr + 3];
    const off = fw & 0xfff8;
    const more = (fw & 1) !== 0;
    const id = ((b[fragHdr + 4] << 24) | (b[fragHdr + 5] << 16) | (b[fragHdr + 6] << 8) | b[fragHdr + 7]) >>> 0;
    const dataOff = fragHdr + 8;
    const end = off + (ipEnd - dataOff);
    const unfrag = fragHdr - ipOff;
    if (unfrag - 40 + end > 65535) {
      this.flags |= DefragFlag.TOO_LARGE;
      return null;
    }
    const s = pkt.src6;
    const d = pkt.dst6;
    const key = `6|${s[0]}|${s[1]}|${s[2]}|${s[3]}|${d[0]}|${d[1]}|${d[2]}|${d[3]}|${id}|${pkt.vlan0}|${pkt.vlan1}|${pkt.tunnel}|${pkt.tunnelId}`;
    const t = this.tracker(key, now);
    if (t === null) return null;
    if (!this.insert(t, b, dataOff, off, end, more, now, off === 0 ? unfrag : 0)) return null;
    if (off === 0 && (t.hdr === null || this.policy === Policy.LAST || this.policy === Policy.LINUX)) {
      const hdr = Buffer.allocUnsafe(unfrag);
      b.copy(hdr, 0, ipOff, fragHdr);
      this.account(t, hdr.length - (t.hdr?.length ?? 0));
      t.hdr = hdr;
      t.nhPos = nhPos - ipOff;
      t.nextHdr = b[fragHdr];
    }
    if (!complete(t)) return null;
    const h = t.hdr as Buffer;
    const out = Buffer.alloc(h.length + t.total);
    h.copy(out, 0);
    out[t.nhPos] = t.nextHdr;
    const plen = h.length - 40 + t.total;
    out[4] = plen >> 8;
    out[5] = plen & 0xff;
    this.layDown(t, out, h.length);
    this.drop(t);
    return out;
  }

  /** Drop trackers whose deadline is before `now` (seconds, packet time). */
  expire(now: number): void {
    for (const t of this.trackers.values()) {
      if (t.deadline < now) {
        this.timeouts++;
        this.drop(t);
      }
    }
  }

  private tracker(key: string, now: number): Tracker | null {
    let t = this.trackers.get(key);
    if (t !== undefined && t.deadline < now) {
      this.timeouts++;
      this.drop(t);
      t = undefined;
    }
    if (t === undefined) {
      if (this.trackers.size >= this.opts.maxTrackers) {
        this.flags |= DefragFlag.MAX_TRACKERS;
        this.maxTrackersReached++;
        return null;
      }
      if (this.memuse + TRACKER_OVERHEAD > this.opts.memcap) {
        this.flags |= DefragFlag.MEMCAP;
        this.memcapDrops++;
        return null;
      }
      t = { key, deadline: now + this.opts.timeout, frags: [], seq: 0, total: -1, hdr: null, nhPos: 6, nextHdr: 0, mem: 0 };
      this.trackers.set(key, t);
      this.account(t, TRACKER_OVERHEAD);
    }
    return t;
  }

  /**
   * Store one fragment's data in t (sorted by offset); false when it was dropped.
   * `hdrBytes` is the header the caller will keep with it (offset 0 only), so
   * the memcap check covers everything this fragment adds.
   */
  private insert(t: Tracker, b: Buffer, dataOff: number, off: number, end: number, more: boolean, now: number, hdrBytes: number): boolean {
    const frags = t.frags;
    if (frags.length >= this.opts.maxFragments) {
      this.flags |= DefragFlag.TOO_MANY_FRAGMENTS;
      return false;
    }
    const cost = end - off + FRAG_OVERHEAD;
    if (this.memuse + cost + hdrBytes > this.opts.memcap) {
      this.flags |= DefragFlag.MEMCAP;
      this.memcapDrops++;
      if (frags.length === 0) this.drop(t);
      return false;
    }
    t.deadline = now + this.opts.timeout;
    if (!more && t.total < 0) t.total = end;
    let i = frags.length;
    while (i > 0 && frags[i - 1].off > off) i--;
    // Overlap with a neighbour in offset order (any overlap touches one of them or one before).
    for (let j = 0; j < frags.length; j++) {
      const f = frags[j];
      if (f.off < end && off < f.end) {
        this.flags |= DefragFlag.OVERLAP;
        break;
      }
    }
    const data = Buffer.allocUnsafe(end - off);
    b.copy(data, 0, dataOff, dataOff + (end - off));
    frags.splice(i, 0, { off, end, seq: t.seq++, data });
    this.account(t, cost);
    return true;
  }

  private account(t: Tracker, bytes: number): void {
    t.mem += bytes;
    this.memuse += bytes;
  }

  private drop(t: Tracker): void {
    this.trackers.delete(t.key);
    this.memuse -= t.mem;
    t.mem = 0;
  }

  /** Copy the fragments' data into out at base, in the order that makes the policy's winner write last. */
  private layDown(t: Tracker, out: Buffer, base: number): void {
    const frags = t.frags.slice();
    const p = this.policy;
    if (p === Policy.WINDOWS) {
      // Drop fragments a later one strictly encloses, then the earliest data wins.
      for (let i = frags.length - 1; i >= 0; i--) {
        const f = frags[i];
        if (frags.some((g) => g.seq > f.seq && g.off < f.off && g.end > f.end)) frags.splice(i, 1);
      }
    }
    frags.sort((a, b) => {
      switch (p) {
        case Policy.FIRST:
        case Policy.WINDOWS:
          return b.seq - a.seq; // newest first, so the oldest is written last
        case Policy.LAST:
          return a.seq - b.seq;
        case Policy.LINUX:
          return b.off - a.off || a.seq - b.seq; // lowest offset last; ties: newest last
        default:
          return b.off - a.off || b.seq - a.seq; // BSD: lowest offset last; ties: oldest last
      }
    });
    const limit = t.total;
    for (const f of frags) {
      if (f.off >= limit) continue;
      const n = Math.min(f.end, limit) - f.off;
      f.data.copy(out, base + f.off, 0, n);
    }
  }
}

/** True when the fragments cover [0, total) and the first header is known. */
function complete(t: Tracker): boolean {
  if (t.total < 0 || t.hdr === null) return false;
  let covered = 0;
  for (const f of t.frags) {
    if (f.off > covered) return false;
    if (f.end > covered) covered = f.end;
    if (covered >= t.total) return true;
  }
  return covered >= t.total;
}
