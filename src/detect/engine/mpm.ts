/**
 * Multi-pattern byte matcher: the prefilter of the signature engine.
 *
 * One matcher holds the fast patterns of one buffer group (tens to
 * thousands of patterns). `scan` reports which pattern ids occur anywhere in
 * a buffer; the engine then fully inspects only the rules behind those ids.
 *
 * Layout (all typed arrays, built once by `build()`):
 *  - stage 0, at every position i: the RAW bytes i, i+1 (rolled, no case
 *    folding) index `first`, a 65,536-bit (8 KB, L1-resident) bitmap of the
 *    first two bytes of every long pattern's keyed window and every short
 *    pattern, with all case variants set for nocase patterns and only the
 *    exact bytes for case-sensitive ones. On ET Open groups over real
 *    payloads 4–11 % of positions pass; only those go on.
 *  - at a stage-0 hit, the folded 4-byte window v = bytes i..i+3.
 *  - long patterns (4+ bytes), stage 1: v is hashed (multiplicative) to
 *    `bloomBits` bits (~32 per pattern, 2^12..2^21); one bit test in
 *    `bloom` rejects most positions. Stage 2: the top bits of the same hash
 *    index a bucket table (`longHead`, CSR layout); each item's own folded
 *    window (`pGram`) is compared with v before any byte is verified, so
 *    hash collisions cost one integer compare.
 *  - each long pattern is keyed on the 4-byte window that the fewest
 *    patterns of the set share (ties: rarest bytes), not on its prefix, and
 *    verified at i - that window's offset.
 *  - 2–3 byte patterns: `filter[v >>> 16]` (a 64 KB byte table of their
 *    folded first two bytes), then a bucket table on that 2-byte key.
 *  - 1-byte patterns: one pass of a 256-entry table (raw byte → patterns,
 *    nocase letters listed under both cases), stopping once all are found.
 *    (Was `Buffer.indexOf` per pattern, which has no end bound: on a packet
 *    inside a large capture buffer a miss searched to the buffer's end.)
 *  - verification compares the pattern bytes (kept folded for nocase
 *    patterns) against the buffer; a pattern whose id is already in the
 *    MatchSet is not verified again, so a common pattern costs one
 *    verification per scan, not one per occurrence.
 *
 * Case: the filter and buckets are keyed on ASCII-folded bytes for every
 * pattern, so nocase and case-sensitive patterns share one pass; a
 * case-sensitive candidate is verified byte-exact.
 *
 * Measured (bench/mpm.bench.ts: all 80.5k TCP/UDP payloads of
 * public-mix.pcap, 32.9 MB; each ET Open 2024-04 rule's longest content as
 * its fast pattern; MB/s per CPU-second, 2-vCPU EPYC, Node 20).
 * Step 1, quiet machine (load ≈ 1):
 *
 *   | set            | patterns | 2-byte filter, key = first 4 bytes | key = chosen window |
 *   | 1k sample      |    1,000 |               132                  |        190          |
 *   | 10k sample     |   10,000 |                42                  |         75          |
 *   | all (global)   |   23,609 |                22                  |         42          |
 *
 * Step 2, A/B in one process on a loaded machine (load ≈ 24, so lower
 * absolute figures): chosen window + 2-byte filter → + hashed bloom and
 * gram compare (this code): 1k 121 → 130, 10k 41 → 45, all 26 → 30 MB/s.
 * In the 10k set the remaining cost is candidates whose window is really
 * there (0.5 % of positions) — mostly `|00 00 00 00|`-like windows that
 * many patterns share — and 2–3 byte patterns (2.7 % of positions).
 *
 * Step 3 (stage 0 added; A/B in one process, machine loaded, so ±30 %):
 * ET Open groups as the engine builds them, over the 45k TCP payloads of
 * public-mix.pcap (24 MB), MB/s per CPU-second, before → after:
 *
 *   | group (patterns)                     | before | after   |
 *   | tcp toServer any, pkt_data (390)     |  128   | 240–340 |
 *   | tcp toClient any, pkt_data (482)     |  130   | 230–320 |
 *   | tcp toServer any, stream (975)       |  115   | 180–310 |
 *   | http file.data (1,870)               |  124   | 160–300 |
 *   | http.uri (3,311; not its real input) |  114   | 110–210 |
 *
 * A second bitmap for the window's bytes 2–3, checked before folding,
 * measured no better (stage-0 hits are already cheap) and was dropped.
 *
 * So a per-buffer group of a few thousand patterns scans at 100–200 MB/s;
 * one global group of everything is the 23–45 MB/s case DESIGN.md warns of.
 * Not built: a byte-wise Aho-Corasick DFA in an Int32Array (256 columns)
 * needs ~states × 1 KB — about 100 MB for 10k patterns of ET lengths per
 * group — which rules it out for hundreds of groups (estimate, not measured).
 */

/** ASCII lower-casing table (bytes ≥ 0x80 unchanged): the nocase fold of Suricata's content matching. */
export const FOLD: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) t[i] = i >= 0x41 && i <= 0x5a ? i + 0x20 : i;
  return t;
})();

/**
 * How common a (folded) byte is in network payloads, 0 (rare) … 15: NUL and
 * 0xff padding, space, CR/LF, lower-case letters, digits and URL/header
 * punctuation are common. A rough static prior, only used to pick among a
 * pattern's 4-byte windows.
 */
const BYTE_COMMON: Uint8Array = (() => {
  const t = new Uint8Array(256).fill(2);
  t[0x00] = 15;
  t[0xff] = 10;
  t[0x20] = 14;
  t[0x0d] = 12;
  t[0x0a] = 12;
  for (const c of 'etaoinsrhl') t[c.charCodeAt(0)] = 12;
  for (const c of 'cdumfpgwybvkxjqz') t[c.charCodeAt(0)] = 9;
  for (let c = 0x30; c <= 0x39; c++) t[c] = 10;
  for (const c of '/.:=&-_,;?%"\'') t[c.charCodeAt(0)] = 9;
  for (const c of '<>()[]{}+*!#@$') t[c.charCodeAt(0)] = 5;
  for (let c = 1; c < 0x20; c++) if (t[c] === 2) t[c] = 6;
  return t;
})();

const F_SHORT = 1;

/**
 * The ids found by one or more scans. Each id is added once: a generation
 * stamp per id says whether it is already present, so `reset()` is O(1)
 * (no clearing of per-id memory between scans).
 */
export class MatchSet {
  /** ids[0..count) are the ids found since the last reset, in order of discovery. */
  readonly ids: Int32Array;
  count = 0;
  private readonly stamp: Uint32Array;
  private gen = 1;

  /** `maxId`: the largest id that will be added (ids are 0..maxId). */
  constructor(maxId: number) {
    const n = Math.max(0, Math.floor(maxId)) + 1;
    this.ids = new Int32Array(n);
    this.stamp = new Uint32Array(n);
  }

  /** Number of distinct ids this set can hold (maxId + 1). */
  get capacity(): number {
    return this.stamp.length;
  }

  /** Forget all ids (O(1)). */
  reset(): void {
    this.count = 0;
    this.gen++;
    if (this.gen === 0xffffffff) {
      // Wrapped after 4 billion resets: clear once so old stamps cannot alias.
      this.stamp.fill(0);
      this.gen = 1;
    }
  }

  has(id: number): boolean {
    return this.stamp[id] === this.gen;
  }

  /** Add an id (no-op when present). Ids outside 0..maxId are ignored. */
  add(id: number): void {
    if (id < 0 || id >= this.stamp.length || this.stamp[id] === this.gen) return;
    this.stamp[id] = this.gen;
    this.ids[this.count++] = id;
  }
}

interface PendingPattern {
  bytes: Uint8Array;
  nocase: boolean;
  id: number;
}

export class MultiPatternMatcher {
  private pending: PendingPattern[] = [];
  private built = false;
  private maxId = -1;

  // Pattern store (index = pattern number, not id).
  private pool = new Uint8Array(0);
  private pStart = new Int32Array(0);
  private pLen = new Int32Array(0);
  private pNocase = new Uint8Array(0);
  private pId = new Int32Array(0);
  /** Long patterns: offset of the 4-byte window (within the pattern) that keys it in the tables. */
  private pShift = new Int32Array(0);

  // Stage 0: bit k of `first` (65,536 bits, 8 KB: stays in L1) is set when
  // some pattern's keyed window (long) or prefix (short) starts with the RAW
  // bytes k = b[i] << 8 | b[i+1]; every case variant is set for nocase
  // patterns, only the exact bytes for case-sensitive ones. One load and
  // bit test per position with no case folding: most positions stop here.
  private first = new Int32Array(0);
  // Stage 1 (short patterns): folded 2-byte key → F_SHORT.
  private filter = new Uint8Array(0);
  // Long patterns: h = hash of the folded 4-byte window to `bloomBits` bits;
  // bit h of `bloom` says some pattern's window hashes there (stage 1), and
  // h >>> bucketDrop indexes the bucket table (CSR) of those patterns.
  private bloomShift = 32;
  private bloom = new Int32Array(0);
  private bucketDrop = 0;
  private longHead = new Int32Array(0);
  private longItems = new Int32Array(0);
  /** Long patterns: their folded window as an int32, compared before verifying (rejects hash collisions). */
  private pGram = new Int32Array(0);
  // Short patterns (2–3 bytes): hash of folded first 2 bytes → bucket (CSR).
  private shortShift = 32;
  private shortHead = new Int32Array(0);
  private shortItems = new Int32Array(0);
  // 1-byte patterns: pattern numbers by raw byte value (CSR over 256; a
  // nocase letter is listed under both cases), found in one pass of one
  // table load per byte.
  private singles = new Int32Array(0);
  private singleHead = new Int32Array(257);
  private singleItems = new Int32Array(0);
  private hasShort = false;
  private hasLong = false;

  /** Number of patterns added (each add counts once, duplicates included). */
  get patternCount(): number {
    return this.built ? this.pLen.length : this.pending.length;
  }

  /**
   * Add a pattern. Several patterns may share an id ("any of"). Empty
   * patterns are ignored (they would match every buffer; the engine never
   * asks for them). Must be called before build().
   */
  add(pattern: Uint8Array, nocase: boolean, id: number): void {
    if (this.built) throw new Error('MultiPatternMatcher.add after build()');
    if (!Number.isInteger(id) || id < 0) throw new RangeError(`pattern id must be a non-negative integer, got ${id}`);
    if (pattern.length === 0) return;
    const bytes = new Uint8Array(pattern.length);
    for (let i = 0; i < pattern.length; i++) bytes[i] = nocase ? FOLD[pattern[i]] : pattern[i];
    this.pending.push({ bytes, nocase, id });
    if (id > this.maxId) this.maxId = id;
  }

  /** The largest id added (-1 when none); a MatchSet for this matcher needs `new MatchSet(maxPatternId)`. */
  get maxPatternId(): number {
    return this.maxId;
  }

  build(): void {
    if (this.built) return;
    this.built = true;
    const pats = this.pending;
    this.pending = [];
    const n = pats.length;
    let total = 0;
    for (const p of pats) total += p.bytes.length;
    this.pool = new Uint8Array(total);
    this.pStart = new Int32Array(n);
    this.pLen = new Int32Array(n);
    this.pNocase = new Uint8Array(n);
    this.pId = new Int32Array(n);
    this.pShift = new Int32Array(n);
    let o = 0;
    let nLong = 0;
    let nShort = 0;
    let nSingle = 0;
    for (let i = 0; i < n; i++) {
      const p = pats[i];
      this.pool.set(p.bytes, o);
      this.pStart[i] = o;
      this.pLen[i] = p.bytes.length;
      this.pNocase[i] = p.nocase ? 1 : 0;
      this.pId[i] = p.id;
      o += p.bytes.length;
      if (p.bytes.length >= 4) nLong++;
      else if (p.bytes.length >= 2) nShort++;
      else nSingle++;
    }
    this.chooseWindows();
    this.hasLong = nLong > 0;
    this.hasShort = nShort > 0;
    this.filter = new Uint8Array(65536);
    this.first = new Int32Array(2048);
    this.singles = new Int32Array(nSingle);

    const longBits = tableBits(nLong);
    const bloomBits = Math.max(longBits, Math.min(21, Math.max(12, Math.ceil(Math.log2(Math.max(1, nLong) * 32)))));
    this.bloomShift = 32 - bloomBits;
    this.bucketDrop = bloomBits - longBits;
    this.bloom = new Int32Array(1 << Math.max(0, bloomBits - 5));
    this.pGram = new Int32Array(n);
    const shortBits = tableBits(nShort);
    this.shortShift = 32 - shortBits;
    const longCount = new Int32Array((1 << longBits) + 1);
    const shortCount = new Int32Array((1 << shortBits) + 1);
    const pool = this.pool;
    let s = 0;
    for (let i = 0; i < n; i++) {
      const st = this.pStart[i];
      const len = this.pLen[i];
      if (len === 1) {
        this.singles[s++] = i;
        continue;
      }
      this.markPair(this.first, i, len >= 4 ? st + this.pShift[i] : st);
      if (len >= 4) {
        const w = st + this.pShift[i];
        const g = gram4(pool, w);
        this.pGram[i] = g;
        const hb = Math.imul(g, HASH_K) >>> this.bloomShift;
        this.bloom[hb >>> 5] |= 1 << (hb & 31);
        longCount[(hb >>> this.bucketDrop) + 1]++;
      } else {
        const k2 = (FOLD[pool[st]] << 8) | FOLD[pool[st + 1]];
        this.filter[k2] |= F_SHORT;
        shortCount[(Math.imul(k2, 0x9e3779b1) >>> this.shortShift) + 1]++;
      }
    }
    this.buildSingles();
    for (let i = 1; i < longCount.length; i++) longCount[i] += longCount[i - 1];
    for (let i = 1; i < shortCount.length; i++) shortCount[i] += shortCount[i - 1];
    this.longHead = longCount;
    this.shortHead = shortCount;
    this.longItems = new Int32Array(nLong);
    this.shortItems = new Int32Array(nShort);
    const lFill = longCount.slice(0, longCount.length - 1);
    const sFill = shortCount.slice(0, shortCount.length - 1);
    for (let i = 0; i < n; i++) {
      const st = this.pStart[i];
      const len = this.pLen[i];
      if (len >= 4) this.longItems[lFill[(Math.imul(this.pGram[i], HASH_K) >>> this.bloomShift) >>> this.bucketDrop]++] = i;
      else if (len >= 2) {
        const k2 = (FOLD[pool[st]] << 8) | FOLD[pool[st + 1]];
        this.shortItems[sFill[Math.imul(k2, 0x9e3779b1) >>> this.shortShift]++] = i;
      }
    }
  }

  /** Set the bits of the 2 bytes at pool[at] in a stage-0 bitmap: all their raw case variants when pattern p is nocase. */
  private markPair(bits: Int32Array, p: number, at: number): void {
    const b0 = this.pool[at];
    const b1 = this.pool[at + 1];
    const nc = this.pNocase[p] !== 0;
    const v0 = nc && b0 >= 0x61 && b0 <= 0x7a ? 2 : 1;
    const v1 = nc && b1 >= 0x61 && b1 <= 0x7a ? 2 : 1;
    for (let a = 0; a < v0; a++) {
      for (let b = 0; b < v1; b++) {
        const k = ((a === 0 ? b0 : b0 - 0x20) << 8) | (b === 0 ? b1 : b1 - 0x20);
        bits[k >>> 5] |= 1 << (k & 31);
      }
    }
  }

  private buildSingles(): void {
    const count = new Int32Array(257);
    const each = (fn: (raw: number, p: number) => void): void => {
      for (let s = 0; s < this.singles.length; s++) {
        const p = this.singles[s];
        const b = this.pool[this.pStart[p]];
        fn(b, p);
        if (this.pNocase[p] !== 0 && b >= 0x61 && b <= 0x7a) fn(b - 0x20, p);
      }
    };
    each((raw) => count[raw + 1]++);
    for (let i = 1; i < 257; i++) count[i] += count[i - 1];
    const fill = count.slice(0, 256);
    this.singleItems = new Int32Array(count[256]);
    each((raw, p) => {
      this.singleItems[fill[raw]++] = p;
    });
    this.singleHead = count;
  }

  /** Bytes held by the built tables (for memory accounting). */
  memoryBytes(): number {
    return (
      this.pool.byteLength +
      this.pStart.byteLength +
      this.pLen.byteLength +
      this.pNocase.byteLength +
      this.pId.byteLength +
      this.pShift.byteLength +
      this.pGram.byteLength +
      this.bloom.byteLength +
      this.filter.byteLength +
      this.first.byteLength +
      this.singleHead.byteLength +
      this.singleItems.byteLength +
      this.longHead.byteLength +
      this.longItems.byteLength +
      this.shortHead.byteLength +
      this.shortItems.byteLength +
      this.singles.byteLength
    );
  }

  /**
   * Add to `hits` the id of every pattern occurring in buf[off, off+len).
   * Does NOT reset `hits` (call `hits.reset()` first for a fresh result; not
   * resetting lets several buffers accumulate into one set). Ids already in
   * `hits` are not searched for again. `hits` must hold maxPatternId.
   */
  scan(buf: Uint8Array, off: number, len: number, hits: MatchSet): void {
    if (!this.built) this.build();
    if (this.maxId >= hits.capacity) throw new RangeError(`MatchSet holds ids up to ${hits.capacity - 1}, matcher uses ${this.maxId}`);
    if (off < 0) {
      len += off;
      off = 0;
    }
    let end = off + len;
    if (end > buf.length) end = buf.length;
    if (end - off <= 0) return;
    if (this.singles.length > 0) this.scanSingles(buf, off, end, hits);
    if (end - off < 2 || (!this.hasLong && !this.hasShort)) return;

    const first = this.first;
    // k = raw bytes i, i+1, rolled one byte per position; a stage-0 hit
    // (4–11 % of positions on real payloads) goes to `stage1`. Measured on
    // public-mix TCP payloads against the earlier loop (fold + hash + bloom
    // test at every position): see the figures in the header comment.
    const last2 = end - 2;
    let k = buf[off];
    for (let i = off; i <= last2; i++) {
      k = ((k << 8) | buf[i + 1]) & 0xffff;
      if ((first[k >>> 5] & (1 << (k & 31))) !== 0) this.stage1(buf, i, off, end, hits);
    }
  }

  /**
   * Scan with this matcher at one position of a pass that another loop
   * drives (MatcherUnion): buf[off, end) is this matcher's window, k the raw
   * bytes i, i+1. Does nothing unless stage 0 passes.
   */
  probe(buf: Uint8Array, i: number, k: number, off: number, end: number, hits: MatchSet): void {
    if ((this.first[k >>> 5] & (1 << (k & 31))) !== 0 && i <= end - 2) this.stage1(buf, i, off, end, hits);
  }

  /** After a stage-0 hit at i (i ≤ end - 2): the long patterns' bloom and buckets, the short patterns' table. */
  private stage1(buf: Uint8Array, i: number, off: number, end: number, hits: MatchSet): void {
    const fold = FOLD;
    if (i <= end - 4) {
      // The folded 4-byte window v: hashed, one bloom bit test, then its bucket; its top 16 bits key the short patterns.
      const v = (fold[buf[i]] << 24) | (fold[buf[i + 1]] << 16) | (fold[buf[i + 2]] << 8) | fold[buf[i + 3]];
      if (this.hasLong) {
        const hb = Math.imul(v, HASH_K) >>> this.bloomShift;
        if ((this.bloom[hb >>> 5] & (1 << (hb & 31))) !== 0) {
          const h = hb >>> this.bucketDrop;
          this.checkLong(buf, i, v, this.longHead[h], this.longHead[h + 1], off, end, hits);
        }
      }
      if (this.hasShort && (this.filter[v >>> 16] & F_SHORT) !== 0) this.checkShort(buf, i, end, v >>> 16, hits);
    } else if (this.hasShort) {
      // The last 1–3 positions: only 2–3 byte patterns fit.
      const k2 = (fold[buf[i]] << 8) | fold[buf[i + 1]];
      if ((this.filter[k2] & F_SHORT) !== 0) this.checkShort(buf, i, end, k2, hits);
    }
  }

  /** Stage-0 bitmap (read-only; MatcherUnion ORs them). @internal */
  get firstBits(): Int32Array {
    if (!this.built) this.build();
    return this.first;
  }

  /** 1-byte patterns of buf[off, end) (MatcherUnion runs them per part, they are outside the position loop). @internal */
  scanSinglesIn(buf: Uint8Array, off: number, end: number, hits: MatchSet): void {
    if (this.singles.length > 0 && end > off) this.scanSingles(buf, off, end, hits);
  }

  /** Patterns of bucket items[s0, s1) whose window is at i: verify each at i - its window offset. */
  private checkLong(buf: Uint8Array, i: number, v: number, s0: number, s1: number, off: number, end: number, hits: MatchSet): void {
    const items = this.longItems;
    for (let j = s0; j < s1; j++) {
      const p = items[j];
      if (this.pGram[p] !== v) continue;
      const start = i - this.pShift[p];
      if (start >= off) this.verify(p, buf, start, end, hits);
    }
  }

  /**
   * For each long pattern, the 4-byte window that keys it: the one whose
   * folded 4-gram is shared by the fewest patterns of the set, ties broken
   * by the rarity of its bytes in typical traffic (BYTE_COMMON). Keying on
   * the first 4 bytes instead made every pattern with a common prefix
   * ("User-Agent: …", "|00 00 00|…") a candidate at every occurrence of that
   * prefix; measured with ET Open's ~10k set, choosing the window doubled
   * scan speed (see bench/mpm.bench.ts).
   */
  private chooseWindows(): void {
    const n = this.pLen.length;
    const pool = this.pool;
    const gramCount = new Map<number, number>();
    const gram = (at: number): number => ((FOLD[pool[at]] << 24) | (FOLD[pool[at + 1]] << 16) | (FOLD[pool[at + 2]] << 8) | FOLD[pool[at + 3]]) >>> 0;
    for (let p = 0; p < n; p++) {
      const len = this.pLen[p];
      if (len < 4) continue;
      const st = this.pStart[p];
      for (let k = 0; k + 4 <= len; k++) {
        const g = gram(st + k);
        gramCount.set(g, (gramCount.get(g) ?? 0) + 1);
      }
    }
    for (let p = 0; p < n; p++) {
      const len = this.pLen[p];
      if (len < 4) continue;
      const st = this.pStart[p];
      let best = 0;
      let bestScore = Infinity;
      for (let k = 0; k + 4 <= len; k++) {
        const at = st + k;
        const score = (gramCount.get(gram(at)) ?? 0) * 64 + BYTE_COMMON[FOLD[pool[at]]] + BYTE_COMMON[FOLD[pool[at + 1]]] + BYTE_COMMON[FOLD[pool[at + 2]]] + BYTE_COMMON[FOLD[pool[at + 3]]];
        if (score < bestScore) {
          bestScore = score;
          best = k;
        }
      }
      this.pShift[p] = best;
    }
  }

  private checkShort(buf: Uint8Array, i: number, end: number, k2: number, hits: MatchSet): void {
    const h = Math.imul(k2, 0x9e3779b1) >>> this.shortShift;
    const head = this.shortHead;
    const items = this.shortItems;
    for (let j = head[h], e = head[h + 1]; j < e; j++) this.verify(items[j], buf, i, end, hits);
  }

  private verify(p: number, buf: Uint8Array, i: number, end: number, hits: MatchSet): void {
    const id = this.pId[p];
    if (hits.has(id)) return;
    const m = this.pLen[p];
    if (i + m > end) return;
    const pool = this.pool;
    const st = this.pStart[p];
    if (this.pNocase[p] !== 0) {
      const fold = FOLD;
      for (let k = 0; k < m; k++) if (fold[buf[i + k]] !== pool[st + k]) return;
    } else {
      for (let k = 0; k < m; k++) if (buf[i + k] !== pool[st + k]) return;
    }
    hits.add(id);
  }

  /** 1-byte patterns: one table load per byte of buf[off, end); stops once every one is found. */
  private scanSingles(buf: Uint8Array, off: number, end: number, hits: MatchSet): void {
    const head = this.singleHead;
    const items = this.singleItems;
    const pId = this.pId;
    let left = 0;
    for (let s = 0; s < this.singles.length; s++) if (!hits.has(pId[this.singles[s]])) left++;
    for (let i = off; i < end && left > 0; i++) {
      const b = buf[i];
      const j0 = head[b];
      const j1 = head[b + 1];
      if (j0 === j1) continue;
      // Items under a raw byte match it by construction (nocase letters are listed under both cases).
      for (let j = j0; j < j1; j++) {
        const id = pId[items[j]];
        if (!hits.has(id)) {
          hits.add(id);
          left--;
        }
      }
    }
  }
}

/** Bits of a bucket table for n patterns: ~2 slots per pattern, 2^4..2^20. */
function tableBits(n: number): number {
  let bits = 4;
  while (bits < 20 && 1 << bits < n * 2) bits++;
  return bits;
}

const HASH_K = 0x9e3779b1 | 0;

/** The folded 4 bytes at b[i..i+3] as an int32 (same value as the scan's rolling window). */
function gram4(b: Uint8Array, i: number): number {
  return (FOLD[b[i]] << 24) | (FOLD[b[i + 1]] << 16) | (FOLD[b[i + 2]] << 8) | FOLD[b[i + 3]];
}

/**
 * Several matchers run over one buffer in one pass, each over its own prefix
 * of it (`limits[p]` bytes from `off`; a packet's port group and its `any`
 * group, and their anchored-pattern matchers that only look at the first
 * bytes). One stage-0 bitmap, the OR of the parts', is tested per position;
 * a hit probes each part. Measured on the benchmark corpus: a packet with a
 * port group was scanned up to four times (any, any-head, port, port-head),
 * 494 MB of scanning per 363 MB pass; in one pass it is each byte once.
 */
export class MatcherUnion {
  private readonly union = new Int32Array(2048);
  private readonly ends: Int32Array;

  constructor(readonly parts: readonly MultiPatternMatcher[]) {
    for (const m of parts) {
      const b = m.firstBits;
      for (let w = 0; w < 2048; w++) this.union[w] |= b[w];
    }
    this.ends = new Int32Array(parts.length);
  }

  /** Scan buf[off, off+len): part p over its first min(len, limits[p]) bytes, into sets[p] (not reset here). */
  scan(buf: Uint8Array, off: number, len: number, limits: Int32Array, sets: readonly MatchSet[]): void {
    if (off < 0) {
      len += off;
      off = 0;
    }
    let end = off + len;
    if (end > buf.length) end = buf.length;
    if (end - off <= 0) return;
    const parts = this.parts;
    const ends = this.ends;
    const n = parts.length;
    let maxEnd = off;
    for (let p = 0; p < n; p++) {
      const e = Math.min(end, off + Math.max(0, limits[p]));
      ends[p] = e;
      if (e > maxEnd) maxEnd = e;
      const m = parts[p];
      if (m.maxPatternId >= sets[p].capacity) throw new RangeError(`MatchSet holds ids up to ${sets[p].capacity - 1}, matcher uses ${m.maxPatternId}`);
      m.scanSinglesIn(buf, off, e, sets[p]);
    }
    const union = this.union;
    const last2 = maxEnd - 2;
    let k = buf[off];
    for (let i = off; i <= last2; i++) {
      k = ((k << 8) | buf[i + 1]) & 0xffff;
      if ((union[k >>> 5] & (1 << (k & 31))) === 0) continue;
      for (let p = 0; p < n; p++) parts[p].probe(buf, i, k, off, ends[p], sets[p]);
    }
  }
}
