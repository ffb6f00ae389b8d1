/**
 * CIDR aggregation: a set of address ranges (possibly overlapping or
 * adjacent) becomes the minimal list of CIDR blocks covering exactly the same
 * addresses. Ranges are sorted and merged first; each merged range is then
 * cut greedily into the largest aligned blocks (the classic range-to-prefix
 * decomposition: at most 2·(bits−1) blocks per range).
 */

/** Merged, sorted [start, end] pairs (inclusive) from unsorted IPv4 ranges. */
export function mergeRanges4(starts: ArrayLike<number>, ends: ArrayLike<number>): Array<[number, number]> {
  const idx = Array.from({ length: starts.length }, (_, i) => i).sort((a, b) => starts[a] - starts[b] || ends[a] - ends[b]);
  const out: Array<[number, number]> = [];
  for (const i of idx) {
    const s = starts[i];
    const e = ends[i];
    const last = out[out.length - 1];
    if (last !== undefined && s <= last[1] + 1) {
      if (e > last[1]) last[1] = e;
    } else out.push([s, e]);
  }
  return out;
}

/** Minimal CIDRs (`a.b.c.d/n`) covering the inclusive IPv4 range [start, end]. */
export function rangeToCidrs4(start: number, end: number, out: string[] = []): string[] {
  let s = start;
  while (s <= end) {
    // Largest block aligned at s: the lowest set bit of s (a /0 at 0).
    let size = s === 0 ? 2 ** 32 : 2 ** countTrailingZeros32(s);
    while (s + size - 1 > end) size /= 2;
    const prefix = 32 - Math.log2(size);
    out.push(`${s >>> 24}.${(s >>> 16) & 255}.${(s >>> 8) & 255}.${s & 255}/${prefix}`);
    s += size;
  }
  return out;
}

function countTrailingZeros32(v: number): number {
  let n = 0;
  while (n < 32 && (v & 1) === 0) {
    v = Math.floor(v / 2);
    n++;
  }
  return n;
}

/** Merged, sorted IPv6 ranges (BigInt; export time only). */
export function mergeRanges6(ranges: Array<[bigint, bigint]>): Array<[bigint, bigint]> {
  const sorted = ranges.slice().sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  const out: Array<[bigint, bigint]> = [];
  for (const [s, e] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && s <= last[1] + 1n) {
      if (e > last[1]) last[1] = e;
    } else out.push([s, e]);
  }
  return out;
}

export function rangeToCidrs6(start: bigint, end: bigint, out: string[] = []): string[] {
  let s = start;
  while (s <= end) {
    let bits = 0;
    if (s === 0n) bits = 128;
    else while (bits < 128 && ((s >> BigInt(bits)) & 1n) === 0n) bits++;
    while (bits > 0 && s + (1n << BigInt(bits)) - 1n > end) bits--;
    out.push(`${formatV6(s)}/${128 - bits}`);
    s += 1n << BigInt(bits);
  }
  return out;
}

/** RFC 5952 text of a 128-bit address (longest zero run compressed). */
export function formatV6(v: bigint): string {
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(16 * i)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** Words (4 × u32 big-endian) to BigInt. */
export function wordsToBig(w: ArrayLike<number>, i = 0): bigint {
  return (BigInt(w[4 * i] >>> 0) << 96n) | (BigInt(w[4 * i + 1] >>> 0) << 64n) | (BigInt(w[4 * i + 2] >>> 0) << 32n) | BigInt(w[4 * i + 3] >>> 0);
}
