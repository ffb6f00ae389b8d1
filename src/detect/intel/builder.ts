/**
 * Compiles indicators from any number of feeds into an IntelStore. It is the
 * IndicatorSink feed parsers write into. Values are normalised here (so a
 * hand-made Indicator is fine too); invalid ones are counted in `rejected`.
 *
 * Build-time memory is typed arrays, not one Map entry per indicator (the
 * v2 builder's Maps peaked at 4 GB for the 30M indicators):
 * - IPv4: (start, prefix·2^26 + meta id) appended to two growing Uint32Arrays,
 *   8 bytes per indicator; `build()` radix-sorts them (3 counting passes) and
 *   merges duplicates.
 * - IPv6: 4 words + prefix + meta per indicator, sorted by index at build.
 * - Domains: deduplicated on the fly into the final table's own form
 *   (StringTableBuilder: records in one byte blob, rehashed slots); a
 *   domain listed again with other metadata keeps the extra meta ids aside.
 * - URLs and hashes (small sets) stay in Maps keyed by string.
 *
 * Two entry points converge on the same code: `add()` (an Indicator with a
 * text value, what every feed parser and `harrier intel update` use) parses
 * and normalises the text, then calls the raw methods `addIPv4Net`,
 * `addIPv6Net` and `addDomainBytes`, which generators that already hold
 * numbers or bytes (bench/intel.bench.ts) call directly.
 */
import { HarrierError } from '../../errors.js';
import { normalizeDomain, normalizeUrl, parseIPNet } from './normalize.js';
import { sweepV4, sweepV6 } from './ranges.js';
import { IntelStore } from './store.js';
import { MAX_KEY_BYTES, StringTable, StringTableBuilder } from './string-table.js';
import { HASH_KINDS, type HashKind, type Indicator, type IndicatorSink } from './types.js';

const NO_TAG = 0xffffffff;
/** Meta ids share a word with the IPv4 prefix (6 bits). */
const MAX_META = 1 << 26;

/** Map value: one meta id, or several. */
type Metas = number | number[];

function addMeta(m: Map<string, Metas>, key: string, meta: number): void {
  const cur = m.get(key);
  if (cur === undefined) m.set(key, meta);
  else if (typeof cur === 'number') {
    if (cur !== meta) m.set(key, [cur, meta]);
  } else if (!cur.includes(meta)) cur.push(meta);
}

function growU32(a: Uint32Array<ArrayBuffer>, need: number): Uint32Array<ArrayBuffer> {
  if (need <= a.length) return a;
  const b = new Uint32Array(Math.max(need, 2 * a.length));
  b.set(a);
  return b;
}

const LOWER = new Uint8Array(256).map((_, i) => (i >= 65 && i <= 90 ? i | 0x20 : i));

/**
 * One LSD counting-sort pass of (keys, vals) by (src[i] >>> shift) & mask
 * into (k2, v2); stable, so passes from least to most significant digit sort
 * by the combined key.
 */
function radixPass(digitOf: Uint32Array, shift: number, mask: number, keys: Uint32Array, vals: Uint32Array, k2: Uint32Array, v2: Uint32Array, n: number, count: Uint32Array): void {
  count.fill(0);
  for (let i = 0; i < n; i++) count[((digitOf[i] >>> shift) & mask) + 1]++;
  for (let d = 1; d <= mask + 1; d++) count[d] += count[d - 1];
  for (let i = 0; i < n; i++) {
    const j = count[(digitOf[i] >>> shift) & mask]++;
    k2[j] = keys[i];
    v2[j] = vals[i];
  }
}

export class IntelStoreBuilder implements IndicatorSink {
  private feeds = new Map<string, number>();
  private cats = new Map<string, number>();
  private tags = new Map<string, number>();
  private metaIdx = new Map<string, number>();
  private metaRows: number[] = []; // 5 numbers per row
  private v4Start = new Uint32Array(1024);
  /** prefix · 2^26 + meta id. */
  private v4PM = new Uint32Array(1024);
  private n4 = 0;
  private v6Words = new Uint32Array(4 * 256);
  private v6Prefix = new Uint8Array(256);
  private v6Meta = new Uint32Array(256);
  private n6 = 0;
  private domains = new StringTableBuilder(true);
  /** Domain record → further meta ids (the record's set field holds the first one until build). */
  private domainExtra = new Map<number, number[]>();
  private scratch = Buffer.alloc(512);
  private urls = new Map<string, Metas>();
  private hashes = new Map<HashKind, Map<string, Metas>>(HASH_KINDS.map((k) => [k, new Map()]));
  private built = false;
  /** Indicators that failed normalisation here. */
  rejected = 0;
  added = 0;

  private intern(m: Map<string, number>, s: string): number {
    let i = m.get(s);
    if (i === undefined) m.set(s, (i = m.size));
    return i;
  }

  /** Id of one metadata row (interned: the same arguments give the same id). */
  metaId(feed: string, category: string, tag: string | null, confidence: number, port: number): number {
    const f = this.intern(this.feeds, feed);
    const c = this.intern(this.cats, category);
    const t = tag === null ? NO_TAG : this.intern(this.tags, tag);
    const conf = confidence >= 0 && confidence <= 100 ? Math.round(confidence) : -1;
    const key = `${f},${c},${t},${conf},${port}`;
    let id = this.metaIdx.get(key);
    if (id === undefined) {
      id = this.metaIdx.size;
      if (id >= MAX_META) throw new HarrierError('HARRIER_ERR_INTEL_STORE', `more than ${MAX_META} distinct (feed, category, tag, confidence, port) rows`);
      this.metaIdx.set(key, id);
      this.metaRows.push(f, c, t, conf, port);
    }
    return id;
  }

  private live(): void {
    if (this.built) throw new Error('IntelStoreBuilder used after build()');
  }

  /** Adds the IPv4 network start/prefix (host bits are masked off) with a meta id from metaId(). */
  addIPv4Net(start: number, prefix: number, meta: number): void {
    this.live();
    const n = this.n4;
    if (n === this.v4Start.length) {
      this.v4Start = growU32(this.v4Start, n + 1);
      this.v4PM = growU32(this.v4PM, n + 1);
    }
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    this.v4Start[n] = (start & mask) >>> 0;
    this.v4PM[n] = prefix * MAX_META + meta;
    this.n4 = n + 1;
    this.added++;
  }

  /** Adds the IPv6 network (4 big-endian words, host bits masked by the caller) with a meta id. */
  addIPv6Net(words: ArrayLike<number>, prefix: number, meta: number): void {
    this.live();
    const n = this.n6;
    if (n === this.v6Meta.length) {
      this.v6Words = growU32(this.v6Words, 4 * (n + 1));
      this.v6Meta = growU32(this.v6Meta, n + 1);
      const p = new Uint8Array(this.v6Meta.length);
      p.set(this.v6Prefix);
      this.v6Prefix = p;
    }
    for (let k = 0; k < 4; k++) this.v6Words[4 * n + k] = words[k] >>> 0;
    this.v6Prefix[n] = prefix;
    this.v6Meta[n] = meta;
    this.n6 = n + 1;
    this.added++;
  }

  /**
   * Adds the domain in bytes b[start..end) (ASCII or UTF-8) with a meta id;
   * normalised like normalizeDomain (lowercase, no `*.`/leading or trailing
   * dot, labels of [a-z0-9_-] or non-ASCII, ≥ 2 labels, ≤ 253 bytes, last
   * label not numeric). False (and counted in `rejected`) when invalid.
   */
  addDomainBytes(b: Uint8Array, start: number, end: number, meta: number): boolean {
    this.live();
    while (start < end && (b[start] === 32 || b[start] === 9)) start++;
    while (end > start && (b[end - 1] === 32 || b[end - 1] === 9 || b[end - 1] === 13)) end--;
    if (end - start >= 2 && b[start] === 42 && b[start + 1] === 46) start += 2;
    else if (start < end && b[start] === 46) start++;
    if (end > start && b[end - 1] === 46) end--;
    const len = end - start;
    if (len === 0 || len > 253) return this.reject();
    const out = this.scratch;
    let label = 0;
    let dots = 0;
    let digitsOnly = true;
    for (let i = 0; i < len; i++) {
      const c = LOWER[b[start + i]];
      out[i] = c;
      if (c === 46) {
        if (label === 0) return this.reject();
        label = 0;
        dots++;
        digitsOnly = true;
        continue;
      }
      const digit = c >= 48 && c <= 57;
      if (!digit) digitsOnly = false;
      const ok = (c >= 97 && c <= 122) || digit || c === 45 || c === 95 || c > 127;
      if (!ok || ++label > 63) return this.reject();
    }
    if (label === 0 || dots === 0 || digitsOnly) return this.reject();
    this.internDomain(out, len, meta);
    this.added++;
    return true;
  }

  private reject(): false {
    this.rejected++;
    return false;
  }

  /** out[0..len) is a normalised domain. */
  private internDomain(out: Uint8Array, len: number, meta: number): void {
    const d = this.domains;
    const r = d.intern(out, 0, len);
    if (d.added) d.setSet(r, meta);
    else if (d.entrySet(r) !== meta) {
      const extra = this.domainExtra.get(r);
      if (extra === undefined) this.domainExtra.set(r, [meta]);
      else if (!extra.includes(meta)) extra.push(meta);
    }
  }

  add(feed: string, category: string, ind: Indicator): void {
    this.live();
    const meta = (): number => this.metaId(feed, ind.category ?? category, ind.tag, ind.confidence, ind.port | 0);
    switch (ind.kind) {
      case 'ipv4':
      case 'ipv6': {
        const net = parseIPNet(ind.value);
        if (!net || net.v6 !== (ind.kind === 'ipv6')) break;
        if (net.v6) this.addIPv6Net(net.words, net.prefix, meta());
        else this.addIPv4Net(net.words[0], net.prefix, meta());
        return;
      }
      case 'domain': {
        const d = normalizeDomain(ind.value);
        if (!d) break;
        if (d.length * 3 > this.scratch.length) this.scratch = Buffer.alloc(d.length * 3);
        const n = this.scratch.write(d, 0, 'utf8');
        if (n > MAX_KEY_BYTES) break;
        this.internDomain(this.scratch, n, meta());
        this.added++;
        return;
      }
      case 'url': {
        const u = normalizeUrl(ind.value);
        if (!u || Buffer.byteLength(u, 'utf8') > MAX_KEY_BYTES) break;
        addMeta(this.urls, u, meta());
        this.added++;
        return;
      }
      default: {
        const v = ind.value.trim().toLowerCase();
        if (v === '' || v.length > 200) break;
        addMeta(this.hashes.get(ind.kind)!, v, meta());
        this.added++;
        return;
      }
    }
    this.rejected++;
  }

  /** Compiles everything added into a store; the builder is spent afterwards. */
  build(): IntelStore {
    this.live();
    this.built = true;
    const nMeta = this.metaRows.length / 5;
    // Match sets: interned sorted lists of meta ids. One-member sets (nearly all) via a table.
    const single = new Int32Array(nMeta).fill(-1);
    const multi = new Map<string, number>();
    const setOff: number[] = [0];
    const members: number[] = [];
    const newSet = (list: readonly number[]): number => {
      const s = setOff.length - 1;
      for (const m of list) members.push(m);
      setOff.push(members.length);
      return s;
    };
    const setOfOne = (m: number): number => {
      let s = single[m];
      if (s < 0) single[m] = s = newSet([m]);
      return s;
    };
    const setOfList = (list: number[]): number => {
      if (list.length > 1) {
        list.sort((a, b) => a - b);
        let w = 1;
        for (let i = 1; i < list.length; i++) if (list[i] !== list[w - 1]) list[w++] = list[i];
        list.length = w;
      }
      if (list.length === 1) return setOfOne(list[0]);
      const key = list.join(',');
      let s = multi.get(key);
      if (s === undefined) multi.set(key, (s = newSet(list)));
      return s;
    };
    const setOf = (m: Metas): number => (typeof m === 'number' ? setOfOne(m) : setOfList(m.slice()));

    const v4 = this.buildV4(setOfOne, setOfList);
    const v6 = this.buildV6(setOfOne, setOfList);

    // Domains: final set ids into the records, then parent markers.
    const dom = this.domains;
    const extra = this.domainExtra;
    dom.forEachRecord((r) => {
      const first = dom.entrySet(r);
      const more = extra.get(r);
      dom.setSet(r, more === undefined ? setOfOne(first) : setOfList([first, ...more]));
    });
    this.domainExtra = new Map();
    dom.addParentMarkers();
    const domains = dom.finish();

    const table = (m: Map<string, Metas>, fold: boolean): StringTable => {
      const ks: string[] = [];
      const ss = new Uint32Array(m.size);
      let i = 0;
      for (const [k, v] of m) {
        ks.push(k);
        ss[i++] = setOf(v);
      }
      return StringTable.build(ks, ss, fold);
    };
    const urls = table(this.urls, false);
    const hashes = {} as Record<HashKind, StringTable>;
    for (const k of HASH_KINDS) hashes[k] = table(this.hashes.get(k)!, true);

    const rows = this.metaRows;
    const meta = {
      feed: new Uint32Array(nMeta),
      category: new Uint32Array(nMeta),
      tag: new Uint32Array(nMeta),
      confidence: new Int32Array(nMeta),
      port: new Uint32Array(nMeta),
    };
    for (let i = 0; i < nMeta; i++) {
      meta.feed[i] = rows[5 * i];
      meta.category[i] = rows[5 * i + 1];
      meta.tag[i] = rows[5 * i + 2];
      meta.confidence[i] = rows[5 * i + 3];
      meta.port[i] = rows[5 * i + 4];
    }
    return new IntelStore({
      feeds: [...this.feeds.keys()],
      categories: [...this.cats.keys()],
      tags: [...this.tags.keys()],
      meta,
      setOff: Uint32Array.from(setOff),
      setMembers: Uint32Array.from(members),
      v4,
      v6,
      domains,
      urls,
      hashes,
    });
  }

  /** Sort by (start, prefix) — outer network before inner at one start — merge duplicates, sweep. */
  private buildV4(setOfOne: (m: number) => number, setOfList: (l: number[]) => number): ReturnType<typeof sweepV4> {
    const n = this.n4;
    let s1 = this.v4Start.subarray(0, n);
    let p1 = this.v4PM.subarray(0, n);
    let s2 = new Uint32Array(n);
    let p2 = new Uint32Array(n);
    const count = new Uint32Array(65537);
    // Least significant first: prefix (6 bits above the meta id), start's low 16 bits, high 16 bits.
    radixPass(p1, 26, 63, s1, p1, s2, p2, n, count);
    [s1, s2, p1, p2] = [s2, s1, p2, p1];
    radixPass(s1, 0, 0xffff, s1, p1, s2, p2, n, count);
    [s1, s2, p1, p2] = [s2, s1, p2, p1];
    radixPass(s1, 16, 0xffff, s1, p1, s2, p2, n, count);
    [s1, s2, p1, p2] = [s2, s1, p2, p1];
    s2 = p2 = new Uint32Array(0);
    this.v4Start = this.v4PM = new Uint32Array(0);
    // Merge runs of one network in place: starts into s1, set ids into p1 (write index ≤ read index).
    const prefixes = new Uint8Array(n);
    const list: number[] = [];
    let w = 0;
    for (let i = 0; i < n; ) {
      const s = s1[i];
      const pre = p1[i] >>> 26;
      let j = i + 1;
      while (j < n && s1[j] === s && p1[j] >>> 26 === pre) j++;
      let set: number;
      if (j === i + 1) set = setOfOne(p1[i] & (MAX_META - 1));
      else {
        list.length = 0;
        for (let k = i; k < j; k++) list.push(p1[k] & (MAX_META - 1));
        set = setOfList(list);
      }
      s1[w] = s;
      prefixes[w] = pre;
      p1[w] = set;
      w++;
      i = j;
    }
    return sweepV4(s1, prefixes, p1, w);
  }

  private buildV6(setOfOne: (m: number) => number, setOfList: (l: number[]) => number): ReturnType<typeof sweepV6> {
    const n = this.n6;
    const W = this.v6Words;
    const P = this.v6Prefix;
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => {
      for (let k = 0; k < 4; k++) if (W[4 * a + k] !== W[4 * b + k]) return W[4 * a + k] - W[4 * b + k];
      return P[a] - P[b];
    });
    const same = (a: number, b: number): boolean => W[4 * a] === W[4 * b] && W[4 * a + 1] === W[4 * b + 1] && W[4 * a + 2] === W[4 * b + 2] && W[4 * a + 3] === W[4 * b + 3] && P[a] === P[b];
    const sets = new Uint32Array(n);
    const uniq: number[] = [];
    const list: number[] = [];
    for (let i = 0; i < n; ) {
      let j = i + 1;
      while (j < n && same(order[i], order[j])) j++;
      if (j === i + 1) sets[order[i]] = setOfOne(this.v6Meta[order[i]]);
      else {
        list.length = 0;
        for (let k = i; k < j; k++) list.push(this.v6Meta[order[k]]);
        sets[order[i]] = setOfList(list);
      }
      uniq.push(order[i]);
      i = j;
    }
    return sweepV6(W, P, sets, uniq);
  }
}
