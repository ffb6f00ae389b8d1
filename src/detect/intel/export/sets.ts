/**
 * What an export blocks, read back from compiled stores: the malicious IPv4
 * and IPv6 networks as minimal CIDRs, and the malicious domains (a domain
 * whose parent is also listed is dropped where the output format blocks
 * subdomains anyway). An optional category filter keeps entries that have at
 * least one matching category. Export time only: allocations are fine.
 */
import { MARKER } from '../string-table.js';
import type { IntelStore } from '../store.js';
import { mergeRanges4, mergeRanges6, rangeToCidrs4, rangeToCidrs6, wordsToBig } from './cidr.js';

export interface ExportFilter {
  /** Keep only entries with one of these categories (null: all). */
  categories?: readonly string[] | null;
}

export interface BlockSets {
  /** Minimal CIDRs, IPv4 first then IPv6, each sorted by address. */
  v4: string[];
  v6: string[];
  /** Sorted domains, every listed name (for exact-name formats such as a hosts file). */
  domains: string[];
  /** Sorted domains without those whose parent is listed (for formats that block subdomains). */
  domainRoots: string[];
}

function setFilter(store: IntelStore, f: ExportFilter): (set: number) => boolean {
  const cats = f.categories ? new Set(f.categories) : null;
  if (cats === null) return () => true;
  const memo = new Map<number, boolean>();
  return (set) => {
    let v = memo.get(set);
    if (v === undefined) {
      v = store.describe(set).some((m) => cats.has(m.category));
      memo.set(set, v);
    }
    return v;
  };
}

export function blockSets(stores: readonly IntelStore[], f: ExportFilter = {}): BlockSets {
  const s4: number[] = [];
  const e4: number[] = [];
  const r6: Array<[bigint, bigint]> = [];
  const names = new Set<string>();
  for (const store of stores) {
    const keep = setFilter(store, f);
    const { v4, v6, domains } = store.p;
    const r4 = v4.ranges;
    for (let i = 0; i < r4.length; i += 3) {
      if (!keep(r4[i + 2])) continue;
      s4.push(r4[i]);
      e4.push(r4[i + 1]);
    }
    for (let i = 0; i < v6.set.length; i++) if (keep(v6.set[i])) r6.push([wordsToBig(v6.start, i), wordsToBig(v6.end, i)]);
    for (const e of domains.handles()) {
      const set = domains.entrySet(e);
      if (set !== MARKER && keep(set)) names.add(domains.entryString(e));
    }
  }
  const v4: string[] = [];
  for (const [s, e] of mergeRanges4(s4, e4)) rangeToCidrs4(s, e, v4);
  const v6: string[] = [];
  for (const [s, e] of mergeRanges6(r6)) rangeToCidrs6(s, e, v6);
  const domains = [...names].sort();
  const domainRoots = domains.filter((d) => {
    for (let dot = d.indexOf('.'); dot >= 0; dot = d.indexOf('.', dot + 1)) if (names.has(d.slice(dot + 1))) return false;
    return true;
  });
  return { v4, v6, domains, domainRoots };
}
