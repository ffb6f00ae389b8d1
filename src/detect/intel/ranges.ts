/**
 * IP networks compiled to sorted, non-overlapping, merged ranges with binary
 * search. Every input is a CIDR (an exact address is a /32 or /128), so any two
 * inputs are either disjoint or nested. Overlaps resolve to the MOST SPECIFIC
 * network: inside 10.1.2.0/24 ⊂ 10.0.0.0/8, addresses of the /24 carry only the
 * /24's match set and the rest of the /8 carries the /8's. (Identical networks
 * from several feeds share one set holding all their metadata.) Adjacent
 * ranges with the same set are merged.
 *
 * IPv4: interleaved [start, end, set] triplets in one Uint32Array. IPv6: 4
 * big-endian words per start and end in Uint32Array (word-wise compare, no
 * BigInt at lookup time).
 */

/**
 * IPv4 ranges, interleaved: range i is ranges[3i] start, [3i+1] end (both
 * inclusive), [3i+2] match-set id, sorted by start. Interleaved because a
 * lookup reads all three of one range: at the 30.5M ranges three
 * separate 122 MB arrays cost three cache (and TLB) misses per lookup, one
 * 12-byte triplet one (the v2 layout measured 3.56 M lookups per CPU-second
 * at that scale; see bench/RESULTS.md for this one).
 */
export interface V4Ranges {
  ranges: Uint32Array;
  /**
   * Derived at load, never stored on disk: block[k] = index of the first
   * range whose start is ≥ k << blockShift (2^(32−blockShift) + 1 entries),
   * so a lookup searches only the ranges of its bucket plus the one before.
   * The bucket width follows the range count: about one range per bucket,
   * between /16 (256 KB of index) and /24 (64 MB, for ≥ 8M ranges; a /16
   * bucket there would hold ~450 ranges, 9 dependent probes).
   */
  block?: Uint32Array;
  blockShift?: number;
}

export function v4Count(r: V4Ranges): number {
  return r.ranges.length / 3;
}

/** Computes V4Ranges.block (O(ranges + buckets): tens of ms for millions). */
export function indexV4(r: V4Ranges): void {
  const a = r.ranges;
  const n = a.length / 3;
  let bits = 16;
  while (bits < 24 && 2 ** bits < n) bits++;
  const shift = 32 - bits;
  const buckets = 2 ** bits;
  const block = new Uint32Array(buckets + 1);
  let i = 0;
  for (let k = 0; k < buckets; k++) {
    const lim = k * 2 ** shift;
    while (i < n && a[3 * i] < lim) i++;
    block[k] = i;
  }
  block[buckets] = n;
  r.block = block;
  r.blockShift = shift;
}

/**
 * Sweep of nested CIDRs sorted by (start asc, prefix asc) — i.e. outer before
 * inner at the same start — into most-specific ranges; adjacent ranges with
 * the same set merge. Typed arrays throughout (30M inputs at the issue's
 * scale): each input closes at most one gap and opens one range, so the
 * output has at most 2n ranges.
 */
export function sweepV4(starts: Uint32Array, prefixes: Uint8Array, sets: Uint32Array, n = starts.length): V4Ranges {
  let out = new Uint32Array(3 * Math.min(2 * n + 1, 1 << 20));
  let m = 0;
  const emit = (s: number, e: number, set: number): void => {
    if (s > e) return;
    if (m > 0 && out[3 * m - 1] === set && out[3 * m - 2] + 1 === s) {
      out[3 * m - 2] = e;
      return;
    }
    if (3 * m + 3 > out.length) {
      const nb = new Uint32Array(Math.min(2 * out.length, 3 * (2 * n + 1)));
      nb.set(out);
      out = nb;
    }
    out[3 * m] = s;
    out[3 * m + 1] = e;
    out[3 * m + 2] = set;
    m++;
  };
  // Open networks, outermost first (≤ 33 deep: each is strictly inside the previous).
  const stE = new Float64Array(34);
  const stSet = new Uint32Array(34);
  let depth = 0;
  let cur = 0;
  for (let i = 0; i < n; i++) {
    const s = starts[i];
    const e = s + 2 ** (32 - prefixes[i]) - 1;
    while (depth > 0 && stE[depth - 1] < s) {
      emit(cur, stE[depth - 1], stSet[depth - 1]);
      cur = stE[depth - 1] + 1;
      depth--;
    }
    if (depth > 0) emit(cur, s - 1, stSet[depth - 1]);
    cur = s;
    stE[depth] = e;
    stSet[depth] = sets[i];
    depth++;
  }
  while (depth > 0) {
    emit(cur, stE[depth - 1], stSet[depth - 1]);
    cur = stE[depth - 1] + 1;
    depth--;
  }
  return { ranges: out.length === 3 * m ? out : out.slice(0, 3 * m) };
}

/**
 * Set id of the range holding ip (unsigned 32-bit), or -1. The bucket holds
 * about one range on average, so the search is one or two probes into one
 * or two adjacent cache lines after the index read.
 */
export function lookupV4(r: V4Ranges, ip: number): number {
  const a = r.ranges;
  const block = r.block!;
  const top = ip >>> r.blockShift!;
  // Candidates: the ranges starting inside ip's bucket, and the last one before it.
  let lo = block[top] - 1;
  let hi = block[top + 1] - 1;
  if (hi < 0) return -1;
  if (lo < 0) {
    if (a[0] > ip) return -1;
    lo = 0;
  }
  // Largest index with start <= ip.
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (a[3 * mid] <= ip) lo = mid;
    else hi = mid - 1;
  }
  return ip <= a[3 * lo + 1] ? a[3 * lo + 2] : -1;
}

/** Lookups per stage in lookupV4Batch (scratch holds 2 words per lookup). */
export const V4_BATCH = 32;

/**
 * out[i] = lookupV4(r, ips[i]) for i < n, in stages over chunks of
 * V4_BATCH: all index reads of a chunk, then one read of each lookup's last
 * candidate range, then the searches (now on cached lines). Within a stage
 * the reads are independent, so the CPU overlaps their cache misses; one
 * lookup at a time is two dependent misses, and a mispredicted search branch
 * stops the CPU from starting the next lookup's misses early. Measured at
 * 30.5M ranges on the loaded 2-core VM, where one dependent random read
 * over 384 MB costs ~460 ns of CPU time: single lookups 2.6–3.4 M per
 * CPU-second, batched 5.4–6.4 M. `scratch` is an Int32Array(2 · V4_BATCH)
 * the caller keeps (no allocation per call).
 */
export function lookupV4Batch(r: V4Ranges, ips: ArrayLike<number>, n: number, out: Int32Array, scratch: Int32Array): number {
  const a = r.ranges;
  const block = r.block!;
  const shift = r.blockShift!;
  let touch = 0;
  for (let base = 0; base < n; base += V4_BATCH) {
    const m = Math.min(V4_BATCH, n - base);
    for (let j = 0; j < m; j++) {
      const top = ips[base + j] >>> shift;
      scratch[2 * j] = block[top] - 1;
      scratch[2 * j + 1] = block[top + 1] - 1;
    }
    for (let j = 0; j < m; j++) {
      const hi = scratch[2 * j + 1];
      if (hi >= 0) touch ^= a[3 * hi];
    }
    for (let j = 0; j < m; j++) {
      const ip = ips[base + j] >>> 0;
      let lo = scratch[2 * j];
      let hi = scratch[2 * j + 1];
      if (hi < 0 || (lo < 0 && a[0] > ip)) {
        out[base + j] = -1;
        continue;
      }
      if (lo < 0) lo = 0;
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if (a[3 * mid] <= ip) lo = mid;
        else hi = mid - 1;
      }
      out[base + j] = ip <= a[3 * lo + 1] ? a[3 * lo + 2] : -1;
    }
  }
  // Returned so that the touching reads are not dead code.
  return touch;
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

/**
 * Same sweep for IPv6 (BigInt at build time only): network k is words
 * [4k..4k+4), prefixes[k], sets[k]; `order` lists the networks sorted by
 * (start, prefix).
 */
export function sweepV6(words: Uint32Array, prefixes: Uint8Array, sets: Uint32Array, order: ArrayLike<number>): V6Ranges {
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
  for (let j = 0; j < order.length; j++) {
    const k = order[j];
    const s = toBig(words.subarray(4 * k, 4 * k + 4));
    const e = s + (1n << BigInt(128 - prefixes[k])) - 1n;
    while (stE.length > 0 && stE[stE.length - 1] < s) {
      emit(cur, stE[stE.length - 1], stSet[stSet.length - 1]);
      cur = stE[stE.length - 1] + 1n;
      stE.pop();
      stSet.pop();
    }
    if (stE.length > 0) emit(cur, s - 1n, stSet[stSet.length - 1]);
    cur = s;
    stE.push(e);
    stSet.push(sets[k]);
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
