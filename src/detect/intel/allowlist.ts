/**
 * Global allow-list: IPs, CIDRs and domains that must never raise an intel
 * match (known-good destinations: the cluster's own registries, cloud metadata
 * ranges, CDNs). It is a small IntelStore compiled from the entries, so the
 * same allocation-free lookups apply; a domain entry also allows its
 * subdomains. Per-namespace/workload allow-lists will layer on top later
 * (keyed by identity), reusing this class per scope.
 */
import { IntelStoreBuilder } from './builder.js';
import { classifyToken } from './normalize.js';
import type { IntelStore } from './store.js';

export interface AllowlistReport {
  entries: number;
  /** Entries that are not an IP, CIDR or domain (with their text). */
  invalid: string[];
}

export class Allowlist {
  private constructor(
    private readonly store: IntelStore,
    readonly report: AllowlistReport,
  ) {}

  /** Entries such as `10.0.0.0/8`, `2001:db8::/32`, `registry.example.com`; `#` comments allowed. */
  static fromEntries(entries: readonly string[]): Allowlist {
    const b = new IntelStoreBuilder();
    const invalid: string[] = [];
    let n = 0;
    for (const raw of entries) {
      const s = raw.replace(/\s[#;].*$/, '').trim();
      if (s === '' || s[0] === '#') continue;
      const c = classifyToken(s);
      if (!c || (c.kind !== 'ipv4' && c.kind !== 'ipv6' && c.kind !== 'domain') || c.port !== 0) {
        invalid.push(raw);
        continue;
      }
      b.add('allowlist', 'allow', { kind: c.kind, value: c.value, port: 0, confidence: -1, category: null, tag: null });
      n++;
    }
    return new Allowlist(b.build(), { entries: n, invalid });
  }

  static empty(): Allowlist {
    return Allowlist.fromEntries([]);
  }

  allowsIPv4(ip: number): boolean {
    return this.store.lookupIPv4(ip) >= 0;
  }

  allowsIPv6(b: Uint8Array, off: number): boolean {
    return this.store.lookupIPv6(b, off) >= 0;
  }

  allowsDomain(name: string): boolean {
    return this.store.lookupDomain(name) >= 0;
  }

  allowsDomainBytes(b: Uint8Array, start: number, end: number): boolean {
    return this.store.lookupDomainBytes(b, start, end) >= 0;
  }
}
