/**
 * A read-only hash set of byte strings in typed arrays (open addressing,
 * linear probing, ≤ 2/3 load), each string mapped to a match-set id. Strings
 * live once in a byte blob of *records*; a probe compares a 32-bit hash first
 * and then the bytes, so there are no false positives.
 *
 * Record (at a byte offset r of the blob; r is the entry's handle):
 *   r+0  u16 LE  bit 15 HAS_CHILD, bits 0..14 key length in bytes
 *   r+2  u32 LE  match-set id (MARKER for a marker, below)
 *   r+6  …       key bytes (lowercase for folding tables)
 * Keeping length and set next to the bytes means a hit costs two cache misses
 * (slot, record) instead of four (slot, offset table, blob, set table) — the
 * v2 layout. At the 9M domains every one of those is a miss: the slot
 * array is 128 MB and the blob ~200 MB.
 *
 * The hash is FNV-1a taken over the characters from the LAST to the first.
 * That makes parent-domain matching a single right-to-left pass: the running
 * hash at each label boundary is the hash of that suffix, so `a.b.evil.com`
 * probes `evil.com`, `b.evil.com`, `a.b.evil.com` with no substring and no
 * allocation, and the longest (most specific) hit wins.
 *
 * Strings are compared as bytes: lookups from JS strings only match ASCII
 * (non-ASCII names, i.e. IDNs not in punycode, match through the *Bytes
 * variants with UTF-8 input).
 *
 * Suffix tables (domains) also hold *markers*: every proper parent suffix
 * (≥ 2 labels) of a listed name that is not listed itself is stored with the
 * set id MARKER; and every record that is a proper suffix of another record
 * has HAS_CHILD set. The right-to-left walk stops at the first suffix that is
 * absent (nothing longer can be listed) or present without HAS_CHILD (nothing
 * longer is). So a miss costs one probe, and a hit on a name with nothing
 * listed below it — nearly every hit on real feeds — two misses in all.
 * Measured on 1M domains: every-label walk 1.06–1.14 M/s per CPU-second,
 * marker walk 1.61–1.76 M/s; records + HAS_CHILD: see bench/RESULTS.md.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** Set id of a marker record (a parent suffix kept only to let the walk go on). */
export const MARKER = 0xffffffff;
/** Longest key a record holds (15-bit length). */
export const MAX_KEY_BYTES = 0x7fff;
const HAS_CHILD = 0x8000;
const REC_HDR = 6;

export interface StringTableArrays {
  /**
   * Per slot two words: [2s] = 32-bit hash, [2s+1] = record offset + 1 (0 =
   * empty). Interleaved so that a probe touches one cache line, not two.
   * Slot count is a power of two.
   */
  slots: Uint32Array;
  /** Records, back to back from offset 0 (see the file comment). */
  blob: Uint8Array;
  /** [0] records (markers included), [1] listed records (markers excluded). */
  info: Uint32Array;
}

/** Slot of a hash: murmur3's finaliser spreads FNV's weak low bits (similar names clustered otherwise). */
function slotOf(h: number, mask: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) & mask;
}

/** ASCII lowercase with one unsigned compare (any other code unit unchanged). */
function lower(c: number): number {
  return (c - 65) >>> 0 < 26 ? c | 0x20 : c;
}

function readSet(blob: Uint8Array, r: number): number {
  return (blob[r + 2] | (blob[r + 3] << 8) | (blob[r + 4] << 16) | (blob[r + 5] << 24)) >>> 0;
}

function writeSet(blob: Uint8Array, r: number, set: number): void {
  blob[r + 2] = set & 0xff;
  blob[r + 3] = (set >>> 8) & 0xff;
  blob[r + 4] = (set >>> 16) & 0xff;
  blob[r + 5] = set >>> 24;
}

/** Names per stage in the batch lookups. */
const SUFFIX_BATCH = 32;

/** Hash of the last two labels of b[start..end) (ignoring one trailing dot): the suffix walk's first probe. */
function firstSuffixHashBytes(b: Uint8Array, start: number, end: number): number {
  if (end > start && b[end - 1] === 46) end--;
  let h = FNV_OFFSET;
  let dotSeen = false;
  for (let i = end - 1; i >= start; i--) {
    const c = b[i];
    if (c === 46) {
      if (dotSeen) break;
      dotSeen = true;
    }
    h = Math.imul(h ^ lower(c), FNV_PRIME);
  }
  return h >>> 0;
}

function firstSuffixHashStr(s: string): number {
  let end = s.length;
  if (end > 0 && s.charCodeAt(end - 1) === 46) end--;
  let h = FNV_OFFSET;
  let dotSeen = false;
  for (let i = end - 1; i >= 0; i--) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (dotSeen) break;
      dotSeen = true;
    }
    h = Math.imul(h ^ lower(c), FNV_PRIME);
  }
  return h >>> 0;
}

function slotCapacity(n: number): number {
  let cap = 16;
  while (cap * 2 < n * 3) cap *= 2;
  return cap;
}

export class StringTable {
  readonly mask: number;
  private readonly scratch = new Uint32Array(SUFFIX_BATCH);
  /** Sink of the batch lookups' early reads (keeps them from being optimised away). */
  private touched = 0;
  constructor(
    readonly a: StringTableArrays,
    /** Fold ASCII case in lookups (domains, hex hashes) or not (URLs: paths are case-sensitive). */
    readonly fold: boolean,
  ) {
    this.mask = a.slots.length / 2 - 1;
  }

  /** Records, markers included. */
  get size(): number {
    return this.a.info[0];
  }

  /** Records that are real entries (not markers). */
  get listed(): number {
    return this.a.info[1];
  }

  /** Handles of all records in blob order (export and diagnostics; allocates). */
  handles(): number[] {
    const out: number[] = [];
    const b = this.a.blob;
    for (let r = 0; r + REC_HDR <= b.length; r += REC_HDR + ((b[r] | (b[r + 1] << 8)) & MAX_KEY_BYTES)) out.push(r);
    return out;
  }

  /** Entry's string (allocates; for alerts, export and diagnostics). */
  entryString(r: number): string {
    const b = this.a.blob;
    const len = (b[r] | (b[r + 1] << 8)) & MAX_KEY_BYTES;
    return Buffer.from(b.buffer, b.byteOffset + r + REC_HDR, len).toString('utf8');
  }

  /** Set id of entry r (MARKER for a marker). */
  entrySet(r: number): number {
    return readSet(this.a.blob, r);
  }

  private probeStr(h: number, s: string, from: number, to: number): number {
    const { slots, blob } = this.a;
    const len = to - from;
    const mask = this.mask;
    let slot = slotOf(h, mask);
    for (;;) {
      const r1 = slots[2 * slot + 1];
      if (r1 === 0) return -1;
      if (slots[2 * slot] === h) {
        const r = r1 - 1;
        if (((blob[r] | (blob[r + 1] << 8)) & MAX_KEY_BYTES) === len) {
          const o = r + REC_HDR - from;
          let i = from;
          if (this.fold) while (i < to && blob[o + i] === lower(s.charCodeAt(i))) i++;
          else while (i < to && blob[o + i] === s.charCodeAt(i)) i++;
          if (i === to) return r;
        }
      }
      slot = (slot + 1) & mask;
    }
  }

  private probeBytes(h: number, b: Uint8Array, from: number, to: number): number {
    const { slots, blob } = this.a;
    const len = to - from;
    const mask = this.mask;
    let slot = slotOf(h, mask);
    for (;;) {
      const r1 = slots[2 * slot + 1];
      if (r1 === 0) return -1;
      if (slots[2 * slot] === h) {
        const r = r1 - 1;
        if (((blob[r] | (blob[r + 1] << 8)) & MAX_KEY_BYTES) === len) {
          const o = r + REC_HDR - from;
          let i = from;
          if (this.fold) while (i < to && blob[o + i] === lower(b[i])) i++;
          else while (i < to && blob[o + i] === b[i]) i++;
          if (i === to) return r;
        }
      }
      slot = (slot + 1) & mask;
    }
  }

  /** Exact match of s (whole string): set id or -1. */
  exact(s: string): number {
    let h = FNV_OFFSET;
    if (this.fold) for (let i = s.length - 1; i >= 0; i--) h = Math.imul(h ^ lower(s.charCodeAt(i)), FNV_PRIME);
    else for (let i = s.length - 1; i >= 0; i--) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
    const r = this.probeStr(h >>> 0, s, 0, s.length);
    if (r < 0) return -1;
    const set = readSet(this.a.blob, r);
    return set === MARKER ? -1 : set;
  }

  /** exact() over bytes. */
  exactBytes(b: Uint8Array, start: number, end: number): number {
    let h = FNV_OFFSET;
    if (this.fold) for (let i = end - 1; i >= start; i--) h = Math.imul(h ^ lower(b[i]), FNV_PRIME);
    else for (let i = end - 1; i >= start; i--) h = Math.imul(h ^ b[i], FNV_PRIME);
    const r = this.probeBytes(h >>> 0, b, start, end);
    if (r < 0) return -1;
    const set = readSet(this.a.blob, r);
    return set === MARKER ? -1 : set;
  }

  /**
   * Longest suffix of `s` (ending at `end`, ignoring one trailing dot) that
   * starts at a label boundary and is in the table: set id or -1.
   */
  suffix(s: string, end = s.length): number {
    const r = this.suffixEntry(s, end);
    return r < 0 ? -1 : readSet(this.a.blob, r);
  }

  /** suffix() over bytes b[start..end) (DNS names, SNI straight from a packet). */
  suffixBytes(b: Uint8Array, start: number, end: number): number {
    const r = this.suffixEntryBytes(b, start, end);
    return r < 0 ? -1 : readSet(this.a.blob, r);
  }

  /** Like suffix() but the entry handle (for entryString(): which listed name matched), or -1. */
  suffixEntry(s: string, end = s.length): number {
    if (end > 0 && s.charCodeAt(end - 1) === 46) end--;
    const blob = this.a.blob;
    let h = FNV_OFFSET;
    let best = -1;
    // Entries have ≥ 2 labels (normalizeDomain), so the bare TLD is never probed.
    let dotSeen = false;
    for (let i = end - 1; i >= 0; i--) {
      const c = s.charCodeAt(i);
      if (c === 46) dotSeen = true;
      h = Math.imul(h ^ lower(c), FNV_PRIME);
      if (dotSeen && (i === 0 || s.charCodeAt(i - 1) === 46)) {
        const r = this.probeStr(h >>> 0, s, i, end);
        if (r < 0) break; // neither listed nor a parent of a listed name: nothing longer can be
        if (readSet(blob, r) !== MARKER) best = r;
        if ((blob[r + 1] & 0x80) === 0) break; // nothing listed below this name
      }
    }
    return best;
  }

  suffixEntryBytes(b: Uint8Array, start: number, end: number): number {
    if (end > start && b[end - 1] === 46) end--;
    const blob = this.a.blob;
    let h = FNV_OFFSET;
    let best = -1;
    let dotSeen = false;
    for (let i = end - 1; i >= start; i--) {
      const c = b[i];
      if (c === 46) dotSeen = true;
      h = Math.imul(h ^ lower(c), FNV_PRIME);
      if (dotSeen && (i === start || b[i - 1] === 46)) {
        const r = this.probeBytes(h >>> 0, b, i, end);
        if (r < 0) break;
        if (readSet(blob, r) !== MARKER) best = r;
        if ((blob[r + 1] & 0x80) === 0) break;
      }
    }
    return best;
  }

  /**
   * out[i] = suffixBytes(b, offs[i], offs[i + 1]) for i < n, staged like
   * lookupV4Batch (ranges.ts): for a chunk of SUFFIX_BATCH names, first the
   * slot of each name's two-label suffix (the walk's first probe), then the
   * record it points at, then the walks themselves on cached lines. The
   * hash of the first suffix is computed twice; the misses it saves cost far
   * more. Measured in one process at 6M domains (50 % hits, huge pages, load
   * average ~11 on the 2-core VM): one at a time 1.5–1.8 M per CPU-second,
   * batched 3.1–3.8 M (with the table in cache both run at ~10 M).
   * Allocation-free.
   */
  suffixBytesBatch(b: Uint8Array, offs: ArrayLike<number>, n: number, out: Int32Array): void {
    const { slots, blob } = this.a;
    const sc = this.scratch;
    let touch = 0;
    for (let base = 0; base < n; base += SUFFIX_BATCH) {
      const m = Math.min(SUFFIX_BATCH, n - base);
      // Hashes first, then the slot reads in a loop of a few instructions each, so that many are in flight at once.
      for (let j = 0; j < m; j++) sc[j] = 2 * slotOf(firstSuffixHashBytes(b, offs[base + j], offs[base + j + 1]), this.mask) + 1;
      for (let j = 0; j < m; j++) sc[j] = slots[sc[j]];
      for (let j = 0; j < m; j++) if (sc[j] !== 0) touch ^= blob[sc[j] - 1];
      for (let j = 0; j < m; j++) out[base + j] = this.suffixBytes(b, offs[base + j], offs[base + j + 1]);
    }
    this.touched ^= touch;
  }

  /** suffix() of names[i] into out[i] for i < n, staged like suffixBytesBatch. */
  suffixBatch(names: readonly string[], n: number, out: Int32Array): void {
    const { slots, blob } = this.a;
    const sc = this.scratch;
    let touch = 0;
    for (let base = 0; base < n; base += SUFFIX_BATCH) {
      const m = Math.min(SUFFIX_BATCH, n - base);
      for (let j = 0; j < m; j++) sc[j] = 2 * slotOf(firstSuffixHashStr(names[base + j]), this.mask) + 1;
      for (let j = 0; j < m; j++) sc[j] = slots[sc[j]];
      for (let j = 0; j < m; j++) if (sc[j] !== 0) touch ^= blob[sc[j] - 1];
      for (let j = 0; j < m; j++) out[base + j] = this.suffix(names[base + j]);
    }
    this.touched ^= touch;
  }

  /** Builds a table from (already normalised) keys and their set ids (small tables: URLs, hashes). */
  static build(keys: string[], sets: ArrayLike<number>, fold: boolean): StringTable {
    const b = new StringTableBuilder(fold, keys.length);
    let scratch = Buffer.allocUnsafe(256);
    for (let i = 0; i < keys.length; i++) {
      const k = fold ? keys[i].toLowerCase() : keys[i];
      const n = Buffer.byteLength(k, 'utf8');
      if (n > MAX_KEY_BYTES) continue; // normalizeUrl and the builder refuse such keys before this
      if (n > scratch.length) scratch = Buffer.allocUnsafe(2 * n);
      scratch.write(k, 0, n, 'utf8');
      const r = b.intern(scratch, 0, n);
      b.setSet(r, sets[i]);
    }
    return b.finish();
  }
}

/**
 * Builds a StringTable incrementally from key bytes: the build-time and the
 * final form are the same (records in a growing blob, slots rehashed when
 * 2/3 full), so 9M domains never exist as 9M JS strings or Map entries.
 * Keys must be normalised already (lowercase where the table folds).
 */
export class StringTableBuilder {
  private blob: Uint8Array;
  private used = 0;
  private slots: Uint32Array;
  private mask: number;
  private count = 0;
  private markers = 0;
  private done = false;
  /** True when the last intern() added a new record. */
  added = false;

  constructor(
    readonly fold: boolean,
    expected = 0,
  ) {
    const cap = slotCapacity(Math.max(expected, 8));
    this.slots = new Uint32Array(2 * cap);
    this.mask = cap - 1;
    this.blob = new Uint8Array(Math.max(1024, expected * 24));
  }

  get size(): number {
    return this.count;
  }

  private hashOf(b: Uint8Array, start: number, end: number): number {
    let h = FNV_OFFSET;
    for (let i = end - 1; i >= start; i--) h = Math.imul(h ^ b[i], FNV_PRIME);
    return h >>> 0;
  }

  private find(h: number, b: Uint8Array, start: number, end: number): number {
    const { slots, blob, mask } = this;
    const len = end - start;
    let slot = slotOf(h, mask);
    for (;;) {
      const r1 = slots[2 * slot + 1];
      if (r1 === 0) return -1 - slot;
      if (slots[2 * slot] === h) {
        const r = r1 - 1;
        if (((blob[r] | (blob[r + 1] << 8)) & MAX_KEY_BYTES) === len) {
          const o = r + REC_HDR - start;
          let i = start;
          while (i < end && blob[o + i] === b[i]) i++;
          if (i === end) return r;
        }
      }
      slot = (slot + 1) & mask;
    }
  }

  private grow(): void {
    const old = this.slots;
    const cap = old.length; // doubles: 2 words per slot
    const slots = new Uint32Array(2 * cap);
    const mask = cap - 1;
    for (let s = 0; s < old.length; s += 2) {
      if (old[s + 1] === 0) continue;
      let slot = slotOf(old[s], mask);
      while (slots[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
      slots[2 * slot] = old[s];
      slots[2 * slot + 1] = old[s + 1];
    }
    this.slots = slots;
    this.mask = mask;
  }

  private insertAt(slot: number, h: number, b: Uint8Array, start: number, end: number, set: number): number {
    const len = end - start;
    if (this.used + REC_HDR + len > this.blob.length) {
      const nb = new Uint8Array(Math.max(2 * this.blob.length, this.used + REC_HDR + len));
      nb.set(this.blob.subarray(0, this.used));
      this.blob = nb;
    }
    const r = this.used;
    const blob = this.blob;
    blob[r] = len & 0xff;
    blob[r + 1] = len >>> 8;
    writeSet(blob, r, set);
    blob.set(b.subarray(start, end), r + REC_HDR);
    this.used += REC_HDR + len;
    this.slots[2 * slot] = h;
    this.slots[2 * slot + 1] = r + 1;
    this.count++;
    if (this.count * 3 > (this.mask + 1) * 2) this.grow();
    return r;
  }

  /**
   * The record of key b[start..end), added (set 0) if new; `added` says which.
   * Throws a RangeError for keys over MAX_KEY_BYTES (callers check first).
   */
  intern(b: Uint8Array, start: number, end: number): number {
    if (this.done) throw new Error('StringTableBuilder used after finish()');
    if (end - start > MAX_KEY_BYTES) throw new RangeError(`key of ${end - start} bytes`);
    const h = this.hashOf(b, start, end);
    const f = this.find(h, b, start, end);
    this.added = f < 0;
    return f >= 0 ? f : this.insertAt(-1 - f, h, b, start, end, 0);
  }

  entrySet(r: number): number {
    return readSet(this.blob, r);
  }

  setSet(r: number, set: number): void {
    writeSet(this.blob, r, set);
  }

  /** Handles of the records added so far (blob order). */
  forEachRecord(fn: (r: number, blob: Uint8Array, keyStart: number, keyEnd: number) => void): void {
    const end = this.used;
    for (let r = 0; r < end; ) {
      const len = (this.blob[r] | (this.blob[r + 1] << 8)) & MAX_KEY_BYTES;
      fn(r, this.blob, r + REC_HDR, r + REC_HDR + len);
      r += REC_HDR + len;
    }
  }

  /**
   * Domain tables: for every record present now, each proper parent suffix
   * of ≥ 2 labels gets HAS_CHILD, and is added as a MARKER if absent. One
   * right-to-left pass per name (suffix hashes are its running hash).
   */
  addParentMarkers(): void {
    const end = this.used;
    let r = 0;
    while (r < end) {
      const len = (this.blob[r] | (this.blob[r + 1] << 8)) & MAX_KEY_BYTES;
      const ks = r + REC_HDR;
      const ke = ks + len;
      let h = FNV_OFFSET;
      let dotSeen = false;
      // i > ks: proper suffixes only. `blob` is re-read: inserting may move it.
      for (let i = ke - 1; i > ks; i--) {
        const c = this.blob[i];
        if (c === 46) dotSeen = true;
        h = Math.imul(h ^ c, FNV_PRIME);
        if (dotSeen && this.blob[i - 1] === 46) {
          const hh = h >>> 0;
          let p = this.find(hh, this.blob, i, ke);
          if (p < 0) {
            // Copy the suffix out first: insertAt may reallocate the blob it lives in.
            const key = this.blob.slice(i, ke);
            p = this.insertAt(-1 - p, hh, key, 0, key.length, MARKER);
            this.markers++;
          }
          this.blob[p + 1] |= HAS_CHILD >>> 8;
        }
      }
      r = ke;
    }
  }

  /** The finished table (the builder is spent). */
  finish(): StringTable {
    this.done = true;
    // Trim the blob when its slack is large (it is written to disk and kept in memory as is).
    const blob = this.blob.length - this.used > this.used / 4 ? this.blob.slice(0, this.used) : this.blob.subarray(0, this.used);
    const info = Uint32Array.of(this.count, this.count - this.markers);
    return new StringTable({ slots: this.slots, blob, info }, this.fold);
  }
}
