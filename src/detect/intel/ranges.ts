/**
 * IP networks compiled to sorted, non-overlapping, merged ranges with binary
 * search. Every input is a CIDR (an exact address is a /32 or /128), so any two
 * inputs are either disjoint or nested. Overlaps resolve to the MOST SPECIFIC
 * network: inside 10.1.2.0/24 ⊂ 10.0.0.0/8, addresses of the /24 carry only the
 * /24's match set and the rest of the /8 carries the /8's. (Identical networks
 * from several feeds share one set holding all their metadata.) Adjacent
 * ranges with the same set are merged.
 *
 * IPv4: start[], end[], set[] as Uint32Array. IPv6: 4 big-endian words per
 * start and end in Uint32Array (word-wise compare, no BigInt at lookup time).
 */

/** Input network (sorted by the builder): start address and prefix length, with its set. */
export interface V4Ranges {
  start: Uint32Array;
  end: Uint32Array;
  set: Uint32Array;
  /**
   * Optional: block[k] = index of the first range whose start is ≥ k <<
   * blockShift (2^(32−blockShift) + 1 entries). Narrows the binary search to
   * one bucket. A /16 index measured 3.1 M → 4.8–7.4 M lookups/s on 2.2M
   * ranges (bench/intel.bench.ts; the spread is the shared machine's load);
   * at the 20M ranges a /16 bucket still holds ~300 ranges (9 probes
   * into an 80 MB array), so the bucket width now follows the range count:
   * about one range per bucket, between /16 (256 KB of index) and /24 (64 MB,
   * for ≥ 8M ranges). Derived at load, never stored on disk.
   */
  block?: Uint32Array;
  blockShift?: number;
}

/** Computes V4Ranges.block (O(ranges + buckets): tens of ms for millions). */
export function indexV4(r: V4Ranges): void {
  const st = r.start;
  let bits = 16;
  while (bits < 24 && 2 ** bits < st.length) bits++;
  const shift = 32 - bits;
  const buckets = 2 ** bits;
  const block = new Uint32Array(buckets + 1);
  let i = 0;
  for (let k = 0; k < buckets; k++) {
    const lim = k * 2 ** shift;
    while (i < st.length && st[i] < lim) i++;
    block[k] = i;
  }
  block[buckets] = st.length;
  r.block = block;
  r.blockShift = shift;
}

/**
 * Sweep of nested CIDRs sorted by (start asc, prefix asc) — i.e. outer before
 * inner at the same start — into most-specific ranges.
 */
export function sweepV4(starts: Float64Array, prefixes: Uint8Array, sets: Uint32Array): V4Ranges {
  const n = starts.length;
  const oS: number[] = [];
  const oE: number[] = [];
  const oSet: number[] = [];
  const emit = (s: number, e: number, set: number): void => {
    if (s > e) return;
    const k = oS.length - 1;
    if (k >= 0 && oSet[k] === set && oE[k] + 1 === s) oE[k] = e;
    else {
      oS.push(s);
      oE.push(e);
      oSet.push(set);
    }
  };
  const stE: number[] = [];
  const stSet: number[] = [];
  let cur = 0;
  for (let i = 0; i < n; i++) {
    const s = starts[i];
    const e = s + 2 ** (32 - prefixes[i]) - 1;
    while (stE.length > 0 && stE[stE.length - 1] < s) {
      emit(cur, stE[stE.length - 1], stSet[stSet.length - 1]);
      cur = stE[stE.length - 1] + 1;
      stE.pop();
      stSet.pop();
    }
    if (stE.length > 0) emit(cur, s - 1, stSet[stSet.length - 1]);
    cur = s;
    stE.push(e);
    stSet.push(sets[i]);
  }
  while (stE.length > 0) {
    emit(cur, stE[stE.length - 1], stSet[stSet.length - 1]);
    cur = stE[stE.length - 1] + 1;
    stE.pop();
    stSet.pop();
  }
  return { start: Uint32Array.from(oS), end: Uint32Array.from(oE), set: Uint32Array.from(oSet) };
}

/** Set id of the range holding ip (unsigned 32-bit), or -1. */
export function lookupV4(r: V4Ranges, ip: number): number {
  const st = r.start;
  let lo = 0;
  let hi = st.length - 1;
  if (hi < 0 || ip < st[0]) return -1;
  const block = r.block;
  if (block !== undefined) {
    // Candidates: ranges starting inside ip's bucket, or the last one before it.
    const top = ip >>> r.blockShift!;
    lo = block[top] > 0 ? block[top] - 1 : 0;
    hi = block[top + 1] - 1;
  }
  // Largest index with start <= ip.
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (st[mid] <= ip) lo = mid;
    else hi = mid - 1;
  }
  return ip <= r.end[lo] ? r.set[lo] : -1;
}

export interface V6Ranges {
  /** 4 words per range. */
  start: Uint32Array;
  end: Uint32Array;
  set: Uint32Array;
}

function toBig(w: ArrayLike<number>): bigint {
  return (BigInt(w[0]) << 96n) | (BigInt(w[1]) << 64n) | (BigInt(w[2]) << 32n) | BigInt(w[3]);
}

function putBig(out: Uint32Array, i: number, v: bigint): void {
  out[4 * i] = Number((v >> 96n) & 0xffffffffn);
  out[4 * i + 1] = Number((v >> 64n) & 0xffffffffn);
  out[4 * i + 2] = Number((v >> 32n) & 0xffffffffn);
  out[4 * i + 3] = Number(v & 0xffffffffn);
}

/** Same sweep for IPv6 (BigInt at build time only; inputs sorted by (start, prefix)). */
export function sweepV6(items: Array<{ words: Uint32Array; prefix: number; set: number }>): V6Ranges {
  const oS: bigint[] = [];
  const oE: bigint[] = [];
  const oSet: number[] = [];
  const emit = (s: bigint, e: bigint, set: number): void => {
    if (s > e) return;
    const k = oS.length - 1;
    if (k >= 0 && oSet[k] === set && oE[k] + 1n === s) oE[k] = e;
    else {
      oS.push(s);
      oE.push(e);
      oSet.push(set);
    }
  };
  const stE: bigint[] = [];
  const stSet: number[] = [];
  let cur = 0n;
  for (const it of items) {
    const s = toBig(it.words);
    const e = s + (1n << BigInt(128 - it.prefix)) - 1n;
    while (stE.length > 0 && stE[stE.length - 1] < s) {
      emit(cur, stE[stE.length - 1], stSet[stSet.length - 1]);
      cur = stE[stE.length - 1] + 1n;
      stE.pop();
      stSet.pop();
    }
    if (stE.length > 0) emit(cur, s - 1n, stSet[stSet.length - 1]);
    cur = s;
    stE.push(e);
    stSet.push(it.set);
  }
  while (stE.length > 0) {
    emit(cur, stE[stE.length - 1], stSet[stSet.length - 1]);
    cur = stE[stE.length - 1] + 1n;
    stE.pop();
    stSet.pop();
  }
  const n = oS.length;
  const start = new Uint32Array(4 * n);
  const end = new Uint32Array(4 * n);
  for (let i = 0; i < n; i++) {
    putBig(start, i, oS[i]);
    putBig(end, i, oE[i]);
  }
  return { start, end, set: Uint32Array.from(oSet) };
}

/** Compare range word block a[4i..] with the 16 address bytes at b[off..]: <0, 0, >0. */
function cmp6(a: Uint32Array, i: number, b: Uint8Array, off: number): number {
  for (let k = 0; k < 4; k++) {
    const o = off + 4 * k;
    const w = ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
    const x = a[4 * i + k];
    if (x !== w) return x < w ? -1 : 1;
  }
  return 0;
}

/** Set id of the range holding the IPv6 address in b[off..off+16), or -1. */
export function lookupV6(r: V6Ranges, b: Uint8Array, off: number): number {
  const n = r.set.length;
  if (n === 0 || cmp6(r.start, 0, b, off) > 0) return -1;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (cmp6(r.start, mid, b, off) <= 0) lo = mid;
    else hi = mid - 1;
  }
  return cmp6(r.end, lo, b, off) >= 0 ? r.set[lo] : -1;
}

/** lookupV6 for an address held as four big-endian words (Packet.src6, Flow.client6). */
export function lookupV6Words(r: V6Ranges, w: Uint32Array): number {
  const n = r.set.length;
  if (n === 0) return -1;
  const st = r.start;
  // Largest index with start <= w (word-wise compare, most significant first).
  let lo = 0;
  let hi = n - 1;
  if (cmpW(st, 0, w) > 0) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (cmpW(st, mid, w) <= 0) lo = mid;
    else hi = mid - 1;
  }
  return cmpW(r.end, lo, w) >= 0 ? r.set[lo] : -1;
}

function cmpW(a: Uint32Array, i: number, w: Uint32Array): number {
  for (let k = 0; k < 4; k++) {
    const x = a[4 * i + k];
    const y = w[k];
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
