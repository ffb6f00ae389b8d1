/**
 * Compiles indicators from any number of feeds into an IntelStore. It is the
 * IndicatorSink feed parsers write into. Values are normalised here (so a
 * hand-made Indicator is fine too); invalid ones are counted in `rejected`.
 *
 * Memory at build time: one Map entry per distinct indicator (domain/URL/hash
 * keyed by string, IPv4 by a number), which is what bounds build size; the
 * compiled store itself is only typed arrays.
 */
import { normalizeDomain, normalizeUrl, parseIPNet } from './normalize.js';
import { sweepV4, sweepV6 } from './ranges.js';
import { IntelStore } from './store.js';
import { MARKER, StringTable } from './string-table.js';
import { HASH_KINDS, type HashKind, type Indicator, type IndicatorSink } from './types.js';

const NO_TAG = 0xffffffff;

/** Map value: one meta id, or several. */
type Metas = number | number[];

function addMeta(m: Map<string | number, Metas>, key: string | number, meta: number): void {
  const cur = m.get(key);
  if (cur === undefined) m.set(key, meta);
  else if (typeof cur === 'number') {
    if (cur !== meta) m.set(key, [cur, meta]);
  } else if (!cur.includes(meta)) cur.push(meta);
}

export class IntelStoreBuilder implements IndicatorSink {
  private feeds = new Map<string, number>();
  private cats = new Map<string, number>();
  private tags = new Map<string, number>();
  private metaIdx = new Map<string, number>();
  private metaRows: number[] = []; // 5 numbers per row
  /**
   * IPv4 key = start * 64 + prefix (fits in 38 bits: exact in a double),
   * sharded by the address's top 4 bits: one V8 Map holds at most 2^24
   * entries, and the scale has 20M IPv4 indicators.
   */
  private v4: Array<Map<string | number, Metas>> = Array.from({ length: 16 }, () => new Map());
  private v6 = new Map<string | number, Metas>();
  private domains = new Map<string | number, Metas>();
  private urls = new Map<string | number, Metas>();
  private hashes = new Map<HashKind, Map<string | number, Metas>>(HASH_KINDS.map((k) => [k, new Map()]));
  /** Indicators that failed normalisation here. */
  rejected = 0;
  added = 0;

  private intern(m: Map<string, number>, s: string): number {
    let i = m.get(s);
    if (i === undefined) m.set(s, (i = m.size));
    return i;
  }

  private metaId(feed: string, category: string, tag: string | null, confidence: number, port: number): number {
    const f = this.intern(this.feeds, feed);
    const c = this.intern(this.cats, category);
    const t = tag === null ? NO_TAG : this.intern(this.tags, tag);
    const conf = confidence >= 0 && confidence <= 100 ? Math.round(confidence) : -1;
    const key = `${f},${c},${t},${conf},${port}`;
    let id = this.metaIdx.get(key);
    if (id === undefined) {
      id = this.metaIdx.size;
      this.metaIdx.set(key, id);
      this.metaRows.push(f, c, t, conf, port);
    }
    return id;
  }

  add(feed: string, category: string, ind: Indicator): void {
    const meta = (): number => this.metaId(feed, ind.category ?? category, ind.tag, ind.confidence, ind.port | 0);
    switch (ind.kind) {
      case 'ipv4':
      case 'ipv6': {
        const net = parseIPNet(ind.value);
        if (!net || net.v6 !== (ind.kind === 'ipv6')) break;
        if (net.v6) {
          const w = net.words;
          addMeta(this.v6, `${w[0]},${w[1]},${w[2]},${w[3]},${net.prefix}`, meta());
        } else addMeta(this.v4[net.words[0] >>> 28], net.words[0] * 64 + net.prefix, meta());
        this.added++;
        return;
      }
      case 'domain': {
        const d = normalizeDomain(ind.value);
        if (!d) break;
        addMeta(this.domains, d, meta());
        this.added++;
        return;
      }
      case 'url': {
        const u = normalizeUrl(ind.value);
        if (!u) break;
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

  build(): IntelStore {
    // Match sets: interned sorted lists of meta ids.
    const setIdx = new Map<string | number, number>();
    const setOff: number[] = [0];
    const members: number[] = [];
    const setOf = (m: Metas): number => {
      let key: string | number;
      let list: number[];
      if (typeof m === 'number') {
        key = m;
        list = [m];
      } else {
        list = m.slice().sort((a, b) => a - b);
        key = list.join(',');
      }
      let s = setIdx.get(key);
      if (s === undefined) {
        s = setIdx.size;
        setIdx.set(key, s);
        members.push(...list);
        setOff.push(members.length);
      }
      return s;
    };

    // IPv4: keys sort numerically as (start asc, prefix asc) = outer before inner.
    let n4 = 0;
    for (const m of this.v4) n4 += m.size;
    const keys = new Float64Array(n4);
    let k4 = 0;
    for (const m of this.v4) for (const k of m.keys()) keys[k4++] = k as number;
    keys.sort();
    const starts = new Float64Array(keys.length);
    const prefixes = new Uint8Array(keys.length);
    const sets4 = new Uint32Array(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      prefixes[i] = k % 64;
      starts[i] = (k - prefixes[i]) / 64;
      sets4[i] = setOf(this.v4[starts[i] >>> 28].get(k)!);
    }
    const v4 = sweepV4(starts, prefixes, sets4);

    const items6: Array<{ words: Uint32Array; prefix: number; set: number }> = [];
    for (const [k, m] of this.v6) {
      const p = String(k).split(',').map(Number);
      items6.push({ words: Uint32Array.from(p.slice(0, 4)), prefix: p[4], set: setOf(m) });
    }
    items6.sort((a, b) => {
      for (let i = 0; i < 4; i++) if (a.words[i] !== b.words[i]) return a.words[i] - b.words[i];
      return a.prefix - b.prefix;
    });
    const v6 = sweepV6(items6);

    const table = (m: Map<string | number, Metas>, fold: boolean): StringTable => {
      const ks: string[] = [];
      const ss = new Uint32Array(m.size);
      let i = 0;
      for (const [k, v] of m) {
        ks.push(String(k));
        ss[i++] = setOf(v);
      }
      return StringTable.build(ks, ss, fold);
    };
    const domains = domainTable(this.domains, setOf);
    const urls = table(this.urls, false);
    const hashes = {} as Record<HashKind, StringTable>;
    for (const k of HASH_KINDS) hashes[k] = table(this.hashes.get(k)!, true);

    const rows = this.metaRows;
    const n = rows.length / 5;
    const meta = {
      feed: new Uint32Array(n),
      category: new Uint32Array(n),
      tag: new Uint32Array(n),
      confidence: new Int32Array(n),
      port: new Uint32Array(n),
    };
    for (let i = 0; i < n; i++) {
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
}

/**
 * The domain table: listed names plus a MARKER entry for every parent suffix
 * (≥ 2 labels) that is not listed itself, so lookups stop at the first
 * suffix that is neither (see string-table.ts).
 */
function domainTable(m: Map<string | number, Metas>, setOf: (v: Metas) => number): StringTable {
  const ks: string[] = [];
  const ss: number[] = [];
  const markers = new Set<string>();
  for (const [k, v] of m) {
    const d = String(k);
    ks.push(d);
    ss.push(setOf(v));
    for (let dot = d.indexOf('.'); dot >= 0; dot = d.indexOf('.', dot + 1)) {
      const parent = d.slice(dot + 1);
      if (parent.indexOf('.') < 0) break; // a bare TLD is never probed
      if (!m.has(parent)) markers.add(parent);
    }
  }
  for (const p of markers) {
    ks.push(p);
    ss.push(MARKER);
  }
  return StringTable.build(ks, ss, true);
}
