/**
 * Global allow-list: IPs, CIDRs and domains that must never raise an intel
 * match (known-good destinations: the cluster's own registries, cloud metadata
 * ranges, CDNs). It is a small IntelStore compiled from the entries, so the
 * same allocation-free lookups apply; a domain entry also allows its
 * subdomains. `AllowPolicy` layers per-namespace and per-workload lists
 * (keyed by the local pod's identity) on top of the global one.
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

  allowsIPv6Words(w: Uint32Array): boolean {
    return this.store.lookupIPv6Words(w) >= 0;
  }

  allowsDomain(name: string): boolean {
    return this.store.lookupDomain(name) >= 0;
  }

  allowsDomainBytes(b: Uint8Array, start: number, end: number): boolean {
    return this.store.lookupDomainBytes(b, start, end) >= 0;
  }
}

/** One scoped allow-list as configured: applies to pods of a namespace, of a workload, or both. */
export interface AllowScopeSpec {
  /** Namespace the pod must be in (absent: any). */
  namespace?: string;
  /** Workload name (`cart`) or `Kind/name` (`Deployment/cart`) of the pod's top controller (absent: any). */
  workload?: string;
  entries: readonly string[];
}

/** The part of a pod identity a scope is matched on (src/k8s PodIdentity fits). */
export interface ScopeIdentity {
  readonly kind: string;
  readonly namespace?: string;
  readonly workload?: { readonly kind: string; readonly name: string };
}

/** Something that may be allow-listed: an address (v4 number or v6 words) and/or a name. */
export interface AllowQuery {
  v4: number;
  v6: Uint32Array | null;
  name: string | null;
}

/**
 * Global plus scoped allow-lists. `allows(q, id)` is true when the global
 * list, or a scope the identity falls in, holds the address or the name (a
 * listed domain covers its subdomains). Called only after an intel match, so
 * it may allocate.
 */
export class AllowPolicy {
  readonly scoped: ReadonlyArray<{ namespace?: string; workloadKind?: string; workloadName?: string; list: Allowlist }>;
  constructor(
    readonly global: Allowlist,
    scopes: readonly AllowScopeSpec[] = [],
  ) {
    this.scoped = scopes.map((sc) => {
      let workloadKind: string | undefined;
      let workloadName: string | undefined;
      if (sc.workload !== undefined) {
        const slash = sc.workload.indexOf('/');
        if (slash > 0) {
          workloadKind = sc.workload.slice(0, slash);
          workloadName = sc.workload.slice(slash + 1);
        } else workloadName = sc.workload;
      }
      return { namespace: sc.namespace, workloadKind, workloadName, list: Allowlist.fromEntries(sc.entries) };
    });
  }

  static fromSpec(global: readonly string[], scopes: readonly AllowScopeSpec[] = []): AllowPolicy {
    return new AllowPolicy(Allowlist.fromEntries(global), scopes);
  }

  get hasScopes(): boolean {
    return this.scoped.length > 0;
  }

  /** Invalid entries of every list, for one warning line. */
  invalid(): string[] {
    return [...this.global.report.invalid, ...this.scoped.flatMap((s) => s.list.report.invalid)];
  }

  allows(q: AllowQuery, id: ScopeIdentity | null): boolean {
    if (listAllows(this.global, q)) return true;
    if (id === null || id.kind !== 'pod') return false;
    for (const s of this.scoped) {
      if (s.namespace !== undefined && s.namespace !== id.namespace) continue;
      if (s.workloadName !== undefined) {
        const w = id.workload;
        if (!w || w.name !== s.workloadName || (s.workloadKind !== undefined && s.workloadKind !== w.kind)) continue;
      }
      if (listAllows(s.list, q)) return true;
    }
    return false;
  }
}

function listAllows(l: Allowlist, q: AllowQuery): boolean {
  if (q.v6 !== null ? l.allowsIPv6Words(q.v6) : q.v4 >= 0 && l.allowsIPv4(q.v4)) return true;
  return q.name !== null && l.allowsDomain(q.name);
}
