/**
 * Address and port matching for rule headers.
 *
 * Rules share few distinct address sets (ET Open: $HOME_NET, $EXTERNAL_NET,
 * `any` and a few hundred literal lists), so sets are interned to small ids
 * and each (set, side) is answered at most once per inspection context
 * (`epoch`): a packet that reaches 300 candidate rules costs a handful of
 * range searches, not 600.
 */
import type { AddressSet, PortSet } from '../rules/ast.js';

/** Binary search over inclusive [lo, hi] pairs of unsigned 32-bit numbers. */
export function inV4(ranges: Uint32Array, ip: number): boolean {
  let lo = 0;
  let hi = (ranges.length >> 1) - 1;
  const v = ip >>> 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (v < ranges[mid * 2]!) hi = mid - 1;
    else if (v > ranges[mid * 2 + 1]!) lo = mid + 1;
    else return true;
  }
  return false;
}

function cmp6(r: Uint32Array, at: number, w: Uint32Array): number {
  for (let i = 0; i < 4; i++) {
    const a = r[at + i]! >>> 0;
    const b = w[i]! >>> 0;
    if (a !== b) return a < b ? -1 : 1;
  }
  return 0;
}

/** Linear scan over IPv6 [lo(4), hi(4)] ranges (lists are short). */
export function inV6(ranges: Uint32Array, w: Uint32Array): boolean {
  for (let at = 0; at + 8 <= ranges.length; at += 8) {
    if (cmp6(ranges, at, w) <= 0 && cmp6(ranges, at + 4, w) >= 0) return true;
  }
  return false;
}

export function inPorts(p: PortSet, port: number): boolean {
  if (p.any) return true;
  const r = p.ranges;
  for (let i = 0; i + 1 < r.length; i += 2) {
    if (port < r[i]!) return false;
    if (port <= r[i + 1]!) return true;
  }
  return false;
}

/** The current inspection context's endpoints, oriented as the packet/message travels. */
export interface Endpoints {
  v6: boolean;
  src4: number;
  dst4: number;
  src6: Uint32Array;
  dst6: Uint32Array;
  sport: number;
  dport: number;
}

function eqWords(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class AddressTable {
  private readonly sets: AddressSet[] = [];
  private readonly ids = new Map<string, number[]>();
  private readonly byObject = new WeakMap<AddressSet, number>();
  private cacheEpoch = new Uint32Array(0);
  private cacheVal = new Uint8Array(0);
  epoch = 1;

  /** Id of a set, equal sets sharing one id. */
  intern(s: AddressSet): number {
    const same = this.byObject.get(s);
    if (same !== undefined) return same;
    // A hash of the words, then an exact compare: joining big lists into string keys cost 0.5 s on ET Open.
    let h = 0x811c9dc5;
    for (let i = 0; i < s.v4.length; i++) h = Math.imul(h ^ s.v4[i]!, 0x01000193);
    for (let i = 0; i < s.v6.length; i++) h = Math.imul(h ^ s.v6[i]!, 0x01000193);
    const key = s.any ? 'any' : `${s.v4.length}/${s.v6.length}/${h >>> 0}`;
    let id: number | undefined;
    const bucket = this.ids.get(key);
    if (bucket !== undefined) for (const c of bucket) if (s.any || (eqWords(this.sets[c]!.v4, s.v4) && eqWords(this.sets[c]!.v6, s.v6))) id = c;
    if (id === undefined) {
      id = this.sets.length;
      this.sets.push(s);
      if (bucket !== undefined) bucket.push(id);
      else this.ids.set(key, [id]);
      const e = new Uint32Array(this.sets.length * 2);
      e.set(this.cacheEpoch);
      this.cacheEpoch = e;
      const v = new Uint8Array(this.sets.length * 2);
      v.set(this.cacheVal);
      this.cacheVal = v;
    }
    this.byObject.set(s, id);
    return id;
  }

  get size(): number {
    return this.sets.length;
  }

  /** Start a new inspection context (new endpoints). */
  next(): void {
    this.epoch = (this.epoch + 1) >>> 0 || 1;
  }

  /** Is the context's source (side 0) or destination (side 1) address in set `id`? Cached per epoch. */
  has(id: number, side: 0 | 1, ep: Endpoints): boolean {
    const s = this.sets[id]!;
    if (s.any) return true;
    const k = id * 2 + side;
    if (this.cacheEpoch[k] === this.epoch) return this.cacheVal[k] === 1;
    const r = ep.v6 ? inV6(s.v6, side === 0 ? ep.src6 : ep.dst6) : inV4(s.v4, side === 0 ? ep.src4 : ep.dst4);
    this.cacheEpoch[k] = this.epoch;
    this.cacheVal[k] = r ? 1 : 0;
    return r;
  }

  /** Uncached test with the sides swapped (bidirectional rules). */
  hasSwapped(id: number, side: 0 | 1, ep: Endpoints): boolean {
    const s = this.sets[id]!;
    if (s.any) return true;
    return ep.v6 ? inV6(s.v6, side === 0 ? ep.dst6 : ep.src6) : inV4(s.v4, side === 0 ? ep.dst4 : ep.src4);
  }
}
