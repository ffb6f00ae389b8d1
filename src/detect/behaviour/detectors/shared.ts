/**
 * What every behaviour detector module shares: the sub-detector shape the
 * behaviour Detector hosts, the context it reports through, and the small
 * bounded structures per-source state lives in.
 *
 * State is keyed by numbers, never strings built per packet: an IPv4
 * address is its unsigned 32-bit value, an IPv6 address a 32-bit hash of its
 * four words offset by 2^32 (so the two never collide with each other; two
 * IPv6 addresses colliding merge their counts, which only ever makes a
 * detector fire earlier — accepted for the cost). Pairs are mixed into one
 * 53-bit-safe number with `pairKey`.
 */
import type { Flow } from '../../../flow/flow.js';
import type { Packet } from '../../../decode/packet.js';
import type { AppTx, Direction } from '../../../applayer/parser.js';
import type { Counters } from '../../../events/stats.js';
import type { AlertSite } from '../../alert.js';
import type { Finding } from '../report.js';
import type { DetectorSettings } from '../config.js';
import { flowClientIp, flowServerIp } from '../../../events/flow-event.js';
import { SIDS, type BehaviourDetectorName } from './sids.js';

/** A behaviour detector: the Detector hooks it needs, all optional. */
export interface SubDetector {
  readonly name: string;
  packet?(pkt: Packet, flow: Flow | null, dir: Direction): void;
  stream?(flow: Flow, dir: Direction, buf: Buffer, off: number, len: number): void;
  tx?(flow: Flow, tx: AppTx): void;
  flowEnd?(flow: Flow): void;
  tick?(tsSec: number): void;
  finish?(): void;
  counters?(): Counters;
}

/** Who an address is: the workload when Kubernetes identity is known, else the address. */
export interface SubjectInfo {
  subject: string;
  /** What Kubernetes says the address is, when identity is known. */
  kind?: 'pod' | 'service' | 'node';
  namespace?: string;
  workload?: string;
}

/** What a detector module is given. */
export interface BehaviourContext {
  /** Entries per table before the oldest is evicted (counted). */
  readonly maxTracked: number;
  /** Identity of an address at a time (port: the server port for a hostNetwork pod, -1 otherwise). */
  identify(ip: string, port: number, tsSec: number): SubjectInfo;
  /** Hand a finding to the reporter (mutes, overrides, dedupe, alert). */
  report(f: Finding): void;
  /** Address is inside the configured internal networks. */
  isInternal4(ip: number): boolean;
  isInternal6(words: Uint32Array): boolean;
  readonly beaconIgnorePorts: ReadonlySet<number>;
}

/** What a detector factory receives. */
export type SubDetectorFactory = (ctx: BehaviourContext, settings: DetectorSettings) => SubDetector;

// ---- keys --------------------------------------------------------------

/** 32-bit mix (Murmur3 finaliser) of two 32-bit values. */
export function mix32(a: number, b: number): number {
  let h = (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ b) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function hash6(w: Uint32Array): number {
  return mix32(mix32(w[0]!, w[1]!), mix32(w[2]!, w[3]!));
}

/** Numeric key of the flow's client (the side that opened it). */
export function clientKey(f: Flow): number {
  return f.ipVersion === 4 ? f.client4 : 0x100000000 + hash6(f.client6);
}

export function serverKey(f: Flow): number {
  return f.ipVersion === 4 ? f.server4 : 0x100000000 + hash6(f.server6);
}

/** Key of a pair (two address keys, or an address key and a port): hashed to 52 bits, so collisions are rare and only merge counts. */
export function pairKey(a: number, b: number): number {
  const hi = mix32(a >>> 0, Math.floor(a / 0x100000000)) & 0xfffff; // 20 bits
  return hi * 0x100000000 + mix32(b >>> 0, (Math.floor(b / 0x100000000) + a) >>> 0);
}

/** FNV-1a of a string (per transaction, not per packet). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

// ---- bounded table -------------------------------------------------------

/**
 * A Map bounded to `max` entries, kept in (re)insertion order: `set` moves a
 * key to the back, so detectors that start a new window by `set`ting a
 * fresh entry keep the table ordered by window start. Inserting beyond
 * `max` evicts the front (oldest) entry, counted in `evicted`. `sweep`
 * removes stale entries from the front and stops at the first live one —
 * O(removed), not O(size): measured on the benchmark corpus (public-mix,
 * 4,624 captures whose clocks jump), full-table sweeps every minute of packet
 * time cost 2% of the whole pipeline's CPU; front sweeps are not visible.
 * Entries are not moved on a plain read (that would cost a delete and a set
 * per packet).
 */
export class BoundedTable<V> {
  private readonly m = new Map<number, V>();
  evicted = 0;
  constructor(private readonly max: number) {}
  get(k: number): V | undefined {
    return this.m.get(k);
  }
  set(k: number, v: V): void {
    if (this.m.delete(k)) {
      this.m.set(k, v);
      return;
    }
    if (this.m.size >= this.max) {
      const first = this.m.keys().next().value as number;
      this.m.delete(first);
      this.evicted++;
    }
    this.m.set(k, v);
  }
  delete(k: number): void {
    this.m.delete(k);
  }
  get size(): number {
    return this.m.size;
  }
  /** Drop stale entries from the front (oldest first), stopping at the first live one. */
  sweep(stale: (v: V) => boolean): void {
    for (const [k, v] of this.m) {
      if (!stale(v)) return;
      this.m.delete(k);
    }
  }
  values(): IterableIterator<V> {
    return this.m.values();
  }
}

/** Periodic clean-up in packet time: `due(ts)` is true once per `period` seconds (robust to skipped seconds). */
export class Every {
  private next = -1;
  constructor(private readonly period: number) {}
  due(ts: number): boolean {
    if (this.next < 0) this.next = ts + this.period;
    if (ts < this.next) return false;
    this.next = ts + this.period;
    return true;
  }
}

// ---- approximate distinct counting ---------------------------------------

/** Values counted exactly before the counter switches to estimation. */
const EXACT_MAX = 64;
const BITS = 1024;

/**
 * Distinct values (32-bit hashes): exact up to 64 (a small array searched
 * linearly — thresholds are tens, so edges are exact), then linear counting
 * (Whang et al. 1990) over a 1,024-bit bitmap, n ≈ -m·ln(V/m) with V the
 * empty bits: within a few percent up to a few thousand and saturating near
 * m·ln(m) ≈ 7,000. At most 384 bytes per counter, whatever a scan's size —
 * an exact set of masscan's targets would grow with the scan.
 */
export class DistinctCounter {
  private exact: Uint32Array | null = new Uint32Array(8);
  private n = 0;
  private bits: Uint32Array | null = null;
  private set = 0;
  add(h: number): void {
    const v = h >>> 0;
    const ex = this.exact;
    if (ex !== null) {
      for (let i = 0; i < this.n; i++) if (ex[i] === v) return;
      if (this.n === ex.length) {
        if (this.n === EXACT_MAX) {
          // Switch: replay the exact values into the bitmap.
          this.bits = new Uint32Array(BITS / 32);
          for (let i = 0; i < this.n; i++) this.mark(ex[i]!);
          this.exact = null;
          this.mark(v);
          return;
        }
        const g = new Uint32Array(ex.length * 2);
        g.set(ex);
        this.exact = g;
      }
      this.exact![this.n++] = v;
      return;
    }
    this.mark(v);
  }
  private mark(v: number): void {
    const x = mix32(v, 0x5bd1e995) & (BITS - 1);
    const w = x >>> 5;
    const b = 1 << (x & 31);
    if ((this.bits![w]! & b) === 0) {
      this.bits![w]! |= b;
      this.set++;
    }
  }
  estimate(): number {
    if (this.exact !== null) return this.n;
    const empty = BITS - this.set;
    if (empty === 0) return Math.round(BITS * Math.log(BITS)); // saturated
    return Math.max(EXACT_MAX, Math.round(-BITS * Math.log(empty / BITS)));
  }
  reset(): void {
    this.exact = new Uint32Array(8);
    this.n = 0;
    this.bits = null;
    this.set = 0;
  }
}

// ---- entropy -------------------------------------------------------------

const counts = new Uint16Array(256);

/** Shannon entropy in bits per character of s (ASCII/Latin-1 code units). */
export function stringEntropy(s: string, from = 0, to = s.length): number {
  const n = to - from;
  if (n <= 0) return 0;
  for (let i = from; i < to; i++) counts[s.charCodeAt(i) & 255]++;
  let h = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) & 255;
    const k = counts[c]!;
    if (k === 0) continue;
    const p = k / n;
    h -= p * Math.log2(p);
    counts[c] = 0;
  }
  return h;
}

/**
 * Entropy of bytes normalised to [0, 1] by the most a buffer of that length
 * can have (log2(min(len, 256))), so 56 bytes of ping and 1,000 bytes of
 * tunnel can be compared on one scale.
 */
export function byteEntropyNorm(b: Buffer, off: number, len: number): number {
  if (len <= 1) return 0;
  for (let i = off; i < off + len; i++) counts[b[i]!]++;
  let h = 0;
  for (let i = off; i < off + len; i++) {
    const c = b[i]!;
    const k = counts[c]!;
    if (k === 0) continue;
    const p = k / len;
    h -= p * Math.log2(p);
    counts[c] = 0;
  }
  return h / Math.log2(Math.min(len, 256));
}

// ---- sites ---------------------------------------------------------------

export function flowSite(flow: Flow, dir: Direction, tsSec = flow.lastSec, tsNsec = flow.lastNsec): AlertSite {
  return { flow, dir, tsSec, tsNsec };
}

export { flowClientIp, flowServerIp };

/** Thresholds by name with a typed read (the defaults table guarantees presence). */
export function th(s: DetectorSettings, key: string): number {
  const v = s.t[key];
  if (v === undefined) throw new Error(`behaviour: no threshold ${key}`);
  return v;
}

export function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

/** What a detector says about one incident; the sid table fills in the rest. */
export interface FindingFields {
  explanation: string;
  observed: number | string;
  baseline: number | string;
  unit: string;
  score?: number;
  extra?: Record<string, string>;
}

/** A Finding for detector `name` about `who`, raised at `site`. */
export function finding(name: BehaviourDetectorName, who: SubjectInfo, site: AlertSite, f: FindingFields): Finding {
  const e = SIDS[name];
  const out: Finding = {
    detector: name,
    sid: e.sid,
    signature: e.signature,
    category: e.category,
    severity: e.severity,
    subject: who.subject,
    explanation: f.explanation,
    observed: f.observed,
    baseline: f.baseline,
    unit: f.unit,
    site,
  };
  // Optional fields set only when present (no spread of temporary objects).
  if (who.namespace !== undefined) out.namespace = who.namespace;
  if (who.workload !== undefined) out.workload = who.workload;
  if (f.score !== undefined) out.score = f.score;
  if (f.extra !== undefined) out.extra = f.extra;
  return out;
}
