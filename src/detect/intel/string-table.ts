/**
 * A read-only hash set of strings in typed arrays (open addressing, linear
 * probing, ≤ 2/3 load), each string mapped to a match-set id. Strings live
 * once in a byte blob; a probe compares a 32-bit hash first and then the
 * bytes, so there are no false positives.
 *
 * The hash is FNV-1a taken over the characters from the LAST to the first.
 * That makes parent-domain matching a single right-to-left pass: the running
 * hash at each label boundary is the hash of that suffix, so `a.b.evil.com`
 * probes `com`, `evil.com`, `b.evil.com`, `a.b.evil.com` with no substring
 * and no allocation, and the longest (most specific) hit wins.
 *
 * Strings are compared as bytes: lookups from JS strings only match ASCII
 * (non-ASCII names, i.e. IDNs not in punycode, match through the *Bytes
 * variants with UTF-8 input).
 *
 * Suffix tables (domains) also hold *markers*: every proper parent suffix
 * (≥ 2 labels) of a listed name that is not listed itself is stored with the
 * set id MARKER. The right-to-left walk can then stop at the first suffix
 * that is neither an entry nor a marker — no longer suffix can be listed —
 * so a miss costs one probe instead of one per label, and a hit one more
 * than its depth. Measured (bench/intel.bench.ts, 1M domains, queries
 * `www.api.<listed>` and `www.n….example.com`): 1.3–1.44 M → see
 * docs/reference/intel.md for the figures after this change. Markers cost a
 * few percent of entries on real feeds (most listed names are 2–3 labels).
 */

const FNV_OFFSET = 0x811c9dc5;
/** entSet value of a marker entry (a parent suffix kept only to let the walk go on). */
export const MARKER = 0xffffffff;
const FNV_PRIME = 0x01000193;

export interface StringTableArrays {
  /**
   * Per slot two words: [2s] = 32-bit hash, [2s+1] = entry index + 1 (0 =
   * empty). Interleaved so that a probe touches one cache line, not two
   * (measured: no change at 1M domains, 1.3 M lookups/s either way — the
   * cost there is the per-character loop, not the probes). Slot count is a
   * power of two.
   */
  slots: Uint32Array;
  /** Entry i's bytes are blob[entOff[i] .. entOff[i+1]). */
  entOff: Uint32Array;
  entSet: Uint32Array;
  blob: Uint8Array;
}

/** Slot of a hash: murmur3's finaliser spreads FNV's weak low bits (similar names clustered otherwise). */
function slotOf(h: number, mask: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) & mask;
}

function lower(c: number): number {
  return c >= 65 && c <= 90 ? c | 0x20 : c;
}

export class StringTable {
  readonly mask: number;
  constructor(
    readonly a: StringTableArrays,
    /** Fold ASCII case in lookups (domains, hex hashes) or not (URLs: paths are case-sensitive). */
    readonly fold: boolean,
  ) {
    this.mask = a.slots.length / 2 - 1;
  }

  get size(): number {
    return this.a.entSet.length;
  }

  /** Entry's string (allocates; for export and diagnostics). */
  entryString(i: number): string {
    return Buffer.from(this.a.blob.buffer, this.a.blob.byteOffset + this.a.entOff[i], this.a.entOff[i + 1] - this.a.entOff[i]).toString('utf8');
  }

  private probeStr(h: number, s: string, from: number, to: number): number {
    const { slots, entOff, blob } = this.a;
    const len = to - from;
    let slot = slotOf(h, this.mask);
    for (;;) {
      const e = slots[2 * slot + 1];
      if (e === 0) return -1;
      if (slots[2 * slot] === h) {
        const o = entOff[e - 1];
        if (entOff[e] - o === len) {
          let i = 0;
          if (this.fold) while (i < len && blob[o + i] === lower(s.charCodeAt(from + i))) i++;
          else while (i < len && blob[o + i] === s.charCodeAt(from + i)) i++;
          if (i === len) return e - 1;
        }
      }
      slot = (slot + 1) & this.mask;
    }
  }

  private probeBytes(h: number, b: Uint8Array, from: number, to: number): number {
    const { slots, entOff, blob } = this.a;
    const len = to - from;
    let slot = slotOf(h, this.mask);
    for (;;) {
      const e = slots[2 * slot + 1];
      if (e === 0) return -1;
      if (slots[2 * slot] === h) {
        const o = entOff[e - 1];
        if (entOff[e] - o === len) {
          let i = 0;
          if (this.fold) while (i < len && blob[o + i] === lower(b[from + i])) i++;
          else while (i < len && blob[o + i] === b[from + i]) i++;
          if (i === len) return e - 1;
        }
      }
      slot = (slot + 1) & this.mask;
    }
  }

  /** Exact match of s (whole string): set id or -1. */
  exact(s: string): number {
    let h = FNV_OFFSET;
    if (this.fold) for (let i = s.length - 1; i >= 0; i--) h = Math.imul(h ^ lower(s.charCodeAt(i)), FNV_PRIME);
    else for (let i = s.length - 1; i >= 0; i--) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
    const e = this.probeStr(h >>> 0, s, 0, s.length);
    return e < 0 || this.a.entSet[e] === MARKER ? -1 : this.a.entSet[e];
  }

  /**
   * Longest suffix of `s` (ending at `end`, ignoring one trailing dot) that
   * starts at a label boundary and is in the table: set id or -1.
   */
  suffix(s: string, end = s.length): number {
    const e = this.suffixEntry(s, end);
    return e < 0 ? -1 : this.a.entSet[e];
  }

  /** suffix() over bytes b[start..end) (DNS names, SNI straight from a packet). */
  suffixBytes(b: Uint8Array, start: number, end: number): number {
    const e = this.suffixEntryBytes(b, start, end);
    return e < 0 ? -1 : this.a.entSet[e];
  }

  /** Like suffix() but the entry index (for entryString(): which listed name matched), or -1. */
  suffixEntry(s: string, end = s.length): number {
    if (end > 0 && s.charCodeAt(end - 1) === 46) end--;
    const entSet = this.a.entSet;
    let h = FNV_OFFSET;
    let best = -1;
    // Entries have ≥ 2 labels (normalizeDomain), so the bare TLD is never probed.
    let dotSeen = false;
    for (let i = end - 1; i >= 0; i--) {
      const c = s.charCodeAt(i);
      if (c === 46) dotSeen = true;
      h = Math.imul(h ^ lower(c), FNV_PRIME);
      if (dotSeen && (i === 0 || s.charCodeAt(i - 1) === 46)) {
        const e = this.probeStr(h >>> 0, s, i, end);
        if (e < 0) break; // neither listed nor a parent of a listed name: nothing longer can be
        if (entSet[e] !== MARKER) best = e;
      }
    }
    return best;
  }

  suffixEntryBytes(b: Uint8Array, start: number, end: number): number {
    if (end > start && b[end - 1] === 46) end--;
    const entSet = this.a.entSet;
    let h = FNV_OFFSET;
    let best = -1;
    let dotSeen = false;
    for (let i = end - 1; i >= start; i--) {
      const c = b[i];
      if (c === 46) dotSeen = true;
      h = Math.imul(h ^ lower(c), FNV_PRIME);
      if (dotSeen && (i === start || b[i - 1] === 46)) {
        const e = this.probeBytes(h >>> 0, b, i, end);
        if (e < 0) break;
        if (entSet[e] !== MARKER) best = e;
      }
    }
    return best;
  }

  /** Set id of entry e (MARKER for a marker). */
  entrySet(e: number): number {
    return this.a.entSet[e];
  }

  /** Entries that are real (not markers). */
  get listed(): number {
    const es = this.a.entSet;
    let n = 0;
    for (let i = 0; i < es.length; i++) if (es[i] !== MARKER) n++;
    return n;
  }

  /** exact() over bytes. */
  exactBytes(b: Uint8Array, start: number, end: number): number {
    let h = FNV_OFFSET;
    if (this.fold) for (let i = end - 1; i >= start; i--) h = Math.imul(h ^ lower(b[i]), FNV_PRIME);
    else for (let i = end - 1; i >= start; i--) h = Math.imul(h ^ b[i], FNV_PRIME);
    const e = this.probeBytes(h >>> 0, b, start, end);
    return e < 0 || this.a.entSet[e] === MARKER ? -1 : this.a.entSet[e];
  }

  /**
   * Builds a table from (already normalised) keys and their set ids. Keys are
   * written straight into one blob (two passes: byte lengths, then bytes) —
   * no Buffer per key, which at 9M domains was ~1 GB of short-lived objects.
   */
  static build(keys: string[], sets: ArrayLike<number>, fold: boolean): StringTable {
    const n = keys.length;
    let cap = 16;
    while (cap < n * 1.5) cap *= 2;
    const entOff = new Uint32Array(n + 1);
    let total = 0;
    for (let i = 0; i < n; i++) {
      if (fold) keys[i] = keys[i].toLowerCase();
      entOff[i] = total;
      total += Buffer.byteLength(keys[i], 'utf8');
    }
    entOff[n] = total;
    const blobBuf = Buffer.allocUnsafeSlow(total);
    const entSet = new Uint32Array(n);
    const slots = new Uint32Array(2 * cap);
    const mask = cap - 1;
    for (let i = 0; i < n; i++) {
      const off = entOff[i];
      blobBuf.write(keys[i], off, entOff[i + 1] - off, 'utf8');
      entSet[i] = sets[i];
      let h = FNV_OFFSET;
      for (let j = entOff[i + 1] - 1; j >= off; j--) h = Math.imul(h ^ blobBuf[j], FNV_PRIME);
      h >>>= 0;
      let slot = slotOf(h, mask);
      while (slots[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
      slots[2 * slot] = h;
      slots[2 * slot + 1] = i + 1;
    }
    const blob = new Uint8Array(blobBuf.buffer, blobBuf.byteOffset, total);
    return new StringTable({ slots, entOff, entSet, blob }, fold);
  }
}
