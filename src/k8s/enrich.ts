/**
 * The EVE `k8s` block: `{cluster, src, dest}` for a record's endpoints,
 * `src` being the flow's client (EVE's src_ip), as in DESIGN.md.
 *
 * Runs once per EVE record (not per packet). Records of one flow (its http,
 * dns, tls transactions and the flow record) ask the same question, so a
 * small cache keyed by the 4-tuple answers them; an entry is reused while
 * the index is unchanged and the time is within `CACHE_SPAN_SEC` of the
 * first answer (a 4-tuple reused by another pod within that span would need
 * the same IP and the same ephemeral port). The identities in a block are
 * the index's shared frozen objects; only the block and, for a domain, the
 * external identity are allocated.
 */
import { EXTERNAL, type ExternalIdentity, type Identity, type IdentityIndex } from './identity-index.js';
import type { FlowContext } from './flow-context.js';

export interface K8sBlock {
  readonly cluster: string;
  readonly src: Identity;
  readonly dest: Identity;
}

export interface K8sEnricherOptions {
  /** `k8s.cluster`. */
  readonly cluster: string;
  /** The domain behind an external server address, as the client learned it (DNS answer, SNI, Host). */
  resolveDomain?(clientIp: string, serverIp: string, tsSec: number): string | undefined;
  /** Cached 4-tuples (default 8192; the cache is cleared when full). */
  readonly cacheSize?: number;
  /** Per-flow responder context by EVE flow_id (original client IP, SNI/Host domain): see flow-context.ts. */
  flowContext?(flowId: number): FlowContext | undefined;
  /** More counters to report with the enricher's (the live watcher's). */
  extraCounters?(): Record<string, number>;
}

/** An identity with the original client behind trusted proxies (`original_ip`); only the `k8s` block holds Harrier's fields. */
export type WithOriginal = Identity & { readonly original_ip: string };

const CACHE_SPAN_SEC = 120;

interface CacheEntry {
  block: K8sBlock;
  ts: number;
  gen: number;
}

export class K8sEnricher {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly domains = new Map<string, ExternalIdentity>();
  private readonly cacheSize: number;
  hits = 0;
  misses = 0;

  constructor(
    readonly index: IdentityIndex,
    private readonly opts: K8sEnricherOptions,
  ) {
    this.cacheSize = Math.max(1, opts.cacheSize ?? 8192);
  }

  block(srcIp: string, srcPort: number, destIp: string, destPort: number, tsSec: number, flowId = -1): K8sBlock {
    const ctx = flowId >= 0 && this.opts.flowContext ? this.opts.flowContext(flowId) : undefined;
    if (ctx !== undefined) return this.withContext(this.block(srcIp, srcPort, destIp, destPort, tsSec), ctx, srcIp, destIp);
    const key = `${srcIp} ${srcPort} ${destIp} ${destPort}`;
    const c = this.cache.get(key);
    if (c && c.gen === this.index.generation && Math.abs(tsSec - c.ts) <= CACHE_SPAN_SEC) {
      this.hits++;
      return c.block;
    }
    this.misses++;
    // The client's port is ephemeral: only the server port can name a hostNetwork pod.
    let src = this.index.lookup(srcIp, -1, tsSec);
    let dest = this.index.lookup(destIp, destPort, tsSec);
    if (src.kind === 'external' && this.opts.resolveDomain) src = this.external(this.opts.resolveDomain(destIp, srcIp, tsSec));
    if (dest.kind === 'external' && this.opts.resolveDomain) dest = this.external(this.opts.resolveDomain(srcIp, destIp, tsSec));
    const block: K8sBlock = { cluster: this.opts.cluster, src, dest };
    if (this.cache.size >= this.cacheSize) this.cache.clear();
    this.cache.set(key, { block, ts: tsSec, gen: this.index.generation });
    return block;
  }

  /**
   * The block with a flow's responder context: `original_ip` on the side that
   * is the flow's client; the SNI/Host name as `domain` of an external server
   * the DNS answer table did not name (DNS first: it is what the pod resolved).
   */
  private withContext(b: K8sBlock, ctx: FlowContext, srcIp: string, destIp: string): K8sBlock {
    let src = b.src;
    let dest = b.dest;
    const clientIsSrc = ctx.peer === srcIp || ctx.peer !== destIp;
    if (ctx.originalIp !== undefined) {
      if (clientIsSrc) src = { ...src, original_ip: ctx.originalIp } as WithOriginal;
      else dest = { ...dest, original_ip: ctx.originalIp } as WithOriginal;
    }
    if (ctx.domain !== undefined) {
      if (clientIsSrc && dest.kind === 'external' && dest.domain === undefined) dest = this.external(ctx.domain);
      else if (!clientIsSrc && src.kind === 'external' && src.domain === undefined) src = this.external(ctx.domain);
    }
    return src === b.src && dest === b.dest ? b : { cluster: b.cluster, src, dest };
  }

  /** Harrier-only counters (`--stats`): index size, memory estimate, problems, cache use. */
  counters(): Record<string, number> {
    const st = this.index.stats();
    let problems = 0;
    for (const n of Object.values(st.problems)) problems += n;
    return {
      'harrier.k8s.pods': st.pods,
      'harrier.k8s.services': st.services,
      'harrier.k8s.nodes': st.nodes,
      'harrier.k8s.addresses': st.addresses,
      'harrier.k8s.evicted': st.evicted,
      'harrier.k8s.intervals_dropped': st.intervalsDropped,
      'harrier.k8s.pruned': st.pruned,
      'harrier.k8s.approx_bytes': st.approxBytes,
      'harrier.k8s.problems': problems,
      'harrier.k8s.cache_hits': this.hits,
      'harrier.k8s.cache_misses': this.misses,
      ...(this.opts.extraCounters ? this.opts.extraCounters() : {}),
    };
  }

  private external(domain: string | undefined): ExternalIdentity {
    if (domain === undefined) return EXTERNAL;
    let e = this.domains.get(domain);
    if (!e) {
      if (this.domains.size >= this.cacheSize) this.domains.clear();
      this.domains.set(domain, (e = Object.freeze({ kind: 'external', domain })));
    }
    return e;
  }
}

/**
 * Seconds since the epoch of an EVE timestamp (`2026-11-28T10:54:32.873456+0000`),
 * read digit by digit (Date.parse does not take `+0000`); NaN if malformed.
 */
export function eveTimeSec(ts: string): number {
  if (ts.length < 19) return NaN;
  const d = (i: number, n: number): number => {
    let v = 0;
    for (let k = i; k < i + n; k++) {
      const c = ts.charCodeAt(k) - 48;
      if (c < 0 || c > 9) return NaN;
      v = v * 10 + c;
    }
    return v;
  };
  const sec = Date.UTC(d(0, 4), d(5, 2) - 1, d(8, 2), d(11, 2), d(14, 2), d(17, 2)) / 1000;
  let frac = 0;
  if (ts.charCodeAt(19) === 46 /* . */) {
    let scale = 0.1;
    for (let k = 20; k < ts.length; k++) {
      const c = ts.charCodeAt(k) - 48;
      if (c < 0 || c > 9) break;
      frac += c * scale;
      scale /= 10;
    }
  }
  return sec + frac;
}

/**
 * Adds `k8s` to a record that has src_ip/dest_ip (flow, http, dns, tls, ssh,
 * anomaly, alert; not stats). The time is the flow's start for flow records
 * (their `timestamp` is the same), else the record's timestamp.
 */
export function enrichRecord(enricher: K8sEnricher, rec: Record<string, unknown>): void {
  const srcIp = rec.src_ip;
  const destIp = rec.dest_ip;
  if (typeof srcIp !== 'string' || typeof destIp !== 'string') return;
  const ts = typeof rec.timestamp === 'string' ? eveTimeSec(rec.timestamp) : NaN;
  if (!Number.isFinite(ts)) return;
  const sp = typeof rec.src_port === 'number' ? rec.src_port : -1;
  const dp = typeof rec.dest_port === 'number' ? rec.dest_port : -1;
  const flowId = typeof rec.flow_id === 'number' ? rec.flow_id : -1;
  rec.k8s = enricher.block(srcIp, sp, destIp, dp, ts, flowId);
}
