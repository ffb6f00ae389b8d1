/**
 * Threat-intelligence matching: the Detector that checks what a flow shows
 * against a compiled IntelStore and raises one EVE alert per indicator per
 * flow through the shared AlertPath.
 *
 * Match points and the `harrier_field` each reports:
 *   - addresses: each flow's client and server address, once at the flow's
 *     first packet and once at the other direction's first packet (never per
 *     packet) — `dest_ip` for the server, `src_ip` for the client. An entry
 *     limited to a port (`1.2.3.4:4444`) matches only the server address with
 *     that server port (the client's port is ephemeral).
 *   - DNS (DnsTx): question names `dns.query`; answer owner names, CNAME/
 *     NS/PTR targets and A/AAAA addresses `dns.answer` (a CNAME chain
 *     `benign.example → evil.test` is caught on its target).
 *   - TLS (TlsTx): `tls.sni`, `ja3`, `ja3s`, `ja4`, `tls.cert_sha1` (the
 *     server certificate's SHA-1); QUIC: `quic.sni`, `ja3`.
 *   - HTTP/1 (HttpTx) and HTTP/2 (Http2Tx): `http.host` (parent domains
 *     too) and `http.url` (scheme+host+uri, normalised as the store's URL
 *     keys; host-less path entries such as maltrail's `/gate.php` as well).
 *
 * Alerts: gid HARRIER_GID.INTEL, sid by field (INTEL_SIDS, stable), the
 * signature `HARRIER INTEL <category> <feed>: <indicator>` (first feed of the
 * match set; every feed, category, tag and confidence are in
 * `alert.metadata`: harrier_feed, harrier_category, harrier_indicator,
 * harrier_field, harrier_confidence, harrier_tag, harrier_observed). Alerts are
 * oriented from the side that made the contact — client → server
 * (`to_server`), and for DNS the side that asked — so `src_ip` and `k8s.src`
 * are the pod; a DNS answer alert carries the answer's `dns` object.
 *
 * Dedupe: one alert per indicator per flow; the flow's set lives in
 * flow.ext[FlowExt.INTEL] (a number of direction bits until the first match,
 * then an IntelFlowState), bounded by `maxPerFlow` — further matches on that
 * flow are counted, not alerted.
 *
 * Allow-lists (AllowPolicy): a match is silenced (counted) when the global
 * list, or a list scoped to the local pod's namespace/workload, holds the
 * remote address or the matched name. The local pod is the other endpoint
 * (the client for everything but a listed client address), looked up in the
 * k8s identity index at the packet's time.
 *
 * Cost: per packet one slot read and a bit test; per flow two lookups per
 * direction's first packet (and `flow.ext` if no other stage made it); per
 * transaction a handful of lookups (a URL key string per HTTP request when
 * URL entries exist). Alert building allocates, but only on a match.
 */
import { DnsTx } from '../../applayer/dns/parser.js';
import { HttpTx } from '../../applayer/http/tx.js';
import { Http2Tx } from '../../applayer/http2/tx.js';
import type { AppTx, Direction } from '../../applayer/parser.js';
import { QuicTx } from '../../applayer/quic/index.js';
import { md5Hex } from '../../applayer/tls/fingerprint.js';
import { TlsTx } from '../../applayer/tls/tx.js';
import type { Packet } from '../../decode/packet.js';
import type { Counters } from '../../events/stats.js';
import { ipv4ToString, ipv6ToString } from '../../events/format.js';
import { FlowExt, type Flow } from '../../flow/flow.js';
import { HARRIER_GID, type AlertPath } from '../alert.js';
import type { Detector } from '../detector.js';
import { AllowPolicy, type AllowQuery, type ScopeIdentity } from './allowlist.js';
import { normalizeUrl, parseIPv4, parseIPv6 } from './normalize.js';
import type { IntelMatch, IntelStore } from './store.js';
import type { HashKind } from './types.js';

/** What matched, as `alert.metadata.harrier_field` says it. */
export type IntelField =
  | 'src_ip'
  | 'dest_ip'
  | 'dns.query'
  | 'dns.answer'
  | 'tls.sni'
  | 'quic.sni'
  | 'ja3'
  | 'ja3s'
  | 'ja4'
  | 'tls.cert_sha1'
  | 'http.host'
  | 'http.url';

/** Stable signature ids of intel alerts, one per field (documented in docs/reference/intel.md). */
export const INTEL_SIDS: Readonly<Record<IntelField, number>> = {
  dest_ip: 1,
  src_ip: 2,
  'dns.query': 3,
  'dns.answer': 4,
  'tls.sni': 5,
  'quic.sni': 6,
  ja3: 7,
  ja3s: 8,
  ja4: 9,
  'tls.cert_sha1': 10,
  'http.host': 11,
  'http.url': 12,
};

/** Identity lookup the matcher needs (K8sEnricher.index fits). */
export interface IntelIdentitySource {
  lookup(ip: string, port: number, tsSec: number): ScopeIdentity;
}

export interface IntelMatcherOptions {
  /** Silences matches (global and per namespace/workload). */
  allow?: AllowPolicy;
  /** Pod identity of the local endpoint, for scoped allow-lists. */
  identity?: IntelIdentitySource | null;
  /** Distinct indicators remembered (and alerted) per flow; default 32. */
  maxPerFlow?: number;
}

/** Per-flow state once something matched. */
interface IntelFlowState {
  /** Direction bits whose first packet was checked. */
  dirs: number;
  seen: string[];
}

/** Severity by category: contact with a controller/pool/malware host is high. */
const HIGH = new Set(['c2', 'malware', 'mining', 'ransomware', 'exfiltration', 'botnet']);

/** Words of an IPv4 query for AllowQuery without IPv6. */
const NO_V6 = null;

export class IntelMatcher implements Detector {
  readonly name = 'intel';
  private readonly allow: AllowPolicy | null;
  private readonly identity: IntelIdentitySource | null;
  private readonly maxPerFlow: number;
  private readonly hasHashes: Record<HashKind, boolean>;
  private readonly hasUrls: boolean;
  private readonly hasDomains: boolean;
  // Counters.
  private flowsChecked = 0;
  private matches = 0;
  private raised = 0;
  private deduped = 0;
  private allowlisted = 0;
  private overflow = 0;
  private readonly byField = new Map<string, number>();

  constructor(
    readonly store: IntelStore,
    private readonly alerts: AlertPath,
    opts: IntelMatcherOptions = {},
  ) {
    this.allow = opts.allow ?? null;
    this.identity = opts.identity ?? null;
    this.maxPerFlow = Math.max(1, opts.maxPerFlow ?? 32);
    const c = store.counts();
    this.hasHashes = { ja3: c.ja3 > 0, ja4: c.ja4 > 0, sha1: c.sha1 > 0, md5: c.md5 > 0, sha256: c.sha256 > 0 };
    this.hasUrls = c.urls > 0;
    this.hasDomains = c.domains > 0;
  }

  // ---- addresses: first packet of each direction -------------------------

  packet(pkt: Packet, flow: Flow | null, dir: Direction): void {
    if (flow === null) return;
    let ext = flow.ext;
    const st = ext === null ? undefined : ext[FlowExt.INTEL];
    const bit = dir === 0 ? 1 : 2;
    let dirs: number;
    if (st === undefined) dirs = 0;
    else if (typeof st === 'number') dirs = st;
    else dirs = (st as IntelFlowState).dirs;
    if ((dirs & bit) !== 0) return;
    if (dirs === 0) this.flowsChecked++;
    dirs |= bit;
    if (ext === null) ext = flow.ext = [];
    if (typeof st === 'object' && st !== null) (st as IntelFlowState).dirs = dirs;
    else ext[FlowExt.INTEL] = dirs;

    const s = this.store;
    if (flow.ipVersion === 4) {
      const setS = s.lookupIPv4(flow.server4);
      if (setS >= 0) this.ipMatch(flow, setS, true, pkt);
      const setC = s.lookupIPv4(flow.client4);
      if (setC >= 0) this.ipMatch(flow, setC, false, pkt);
    } else if (flow.ipVersion === 6) {
      const setS = s.lookupIPv6Words(flow.server6);
      if (setS >= 0) this.ipMatch(flow, setS, true, pkt);
      const setC = s.lookupIPv6Words(flow.client6);
      if (setC >= 0) this.ipMatch(flow, setC, false, pkt);
    }
  }

  private ipMatch(flow: Flow, set: number, server: boolean, pkt: Packet): void {
    // A port-limited entry names a service: only the server side with that port.
    const port = server ? flow.serverPort : -1;
    if (!this.store.portMatches(set, port)) return;
    const v6 = flow.ipVersion === 6;
    const words = v6 ? (server ? flow.server6 : flow.client6) : null;
    const v4 = v6 ? -1 : server ? flow.server4 : flow.client4;
    const text = v6 ? ipv6ToString(words!) : ipv4ToString(v4);
    this.report(flow, set, server ? 'dest_ip' : 'src_ip', text, { v4, v6: words, name: null }, 0, pkt.tsSec, pkt.tsNsec, null, port);
  }

  // ---- transactions -------------------------------------------------------

  tx(flow: Flow, tx: AppTx): void {
    if (tx instanceof DnsTx) this.dns(flow, tx);
    else if (tx instanceof TlsTx) this.tls(flow, tx);
    else if (tx instanceof HttpTx) this.http(flow, tx);
    else if (tx instanceof Http2Tx) this.http2(flow, tx);
    else if (tx instanceof QuicTx) this.quic(flow, tx);
  }

  private dns(flow: Flow, tx: DnsTx): void {
    const m = tx.message;
    // Oriented from the side that asked: a query's sender, an answer's receiver.
    const dir: Direction = m.qr ? (tx.direction === 0 ? 1 : 0) : tx.direction;
    if (this.hasDomains) {
      for (const q of m.questions) this.domain(flow, q.name, 'dns.query', dir, tx);
    }
    if (!m.qr) return;
    for (const rr of m.answers) {
      if (this.hasDomains && rr.name !== '') this.domain(flow, rr.name, 'dns.answer', dir, tx);
      const d = rr.data;
      if (d.kind === 'name') {
        if (this.hasDomains) this.domain(flow, d.name, 'dns.answer', dir, tx);
      } else if (d.kind === 'a') {
        const v = parseIPv4(d.address);
        const set = v >= 0 ? this.store.lookupIPv4(v) : -1;
        if (set >= 0 && this.store.portMatches(set, 0)) this.report(flow, set, 'dns.answer', d.address, { v4: v, v6: NO_V6, name: null }, dir, flow.lastSec, flow.lastNsec, tx, 0);
      } else if (d.kind === 'aaaa') {
        const w = parseIPv6(d.address);
        const set = w !== null ? this.store.lookupIPv6Words(w) : -1;
        if (set >= 0 && this.store.portMatches(set, 0)) this.report(flow, set, 'dns.answer', d.address, { v4: -1, v6: w, name: null }, dir, flow.lastSec, flow.lastNsec, tx, 0);
      }
    }
  }

  private tls(flow: Flow, tx: TlsTx): void {
    const d = tx.data;
    if (d.sni !== null && this.hasDomains) this.domain(flow, d.sni, 'tls.sni', 0, tx);
    // Hashes are computed lazily by TlsTx: only ask for them when some feed lists them.
    if (this.hasHashes.ja3) {
      const h = tx.ja3Hash;
      if (h !== null) this.hash(flow, 'ja3', h, 'ja3', tx);
      const hs = tx.ja3sHash;
      if (hs !== null) this.hash(flow, 'ja3', hs, 'ja3s', tx);
    }
    if (this.hasHashes.ja4) {
      const j = tx.ja4;
      if (j !== null) this.hash(flow, 'ja4', j, 'ja4', tx);
    }
    if (this.hasHashes.sha1 && d.serverCert !== null) {
      this.hash(flow, 'sha1', d.serverCert.fingerprint.replace(/:/g, ''), 'tls.cert_sha1', tx);
    }
  }

  private quic(flow: Flow, tx: QuicTx): void {
    if (tx.sni !== null && this.hasDomains) this.domain(flow, tx.sni, 'quic.sni', 0, tx);
    if (tx.ja3 !== null && this.hasHashes.ja3) this.hash(flow, 'ja3', md5Hex(tx.ja3), 'ja3', tx);
  }

  private http(flow: Flow, tx: HttpTx): void {
    if (!tx.hasRequest) return;
    const host = tx.host;
    if (host !== null && host.length > 0 && this.hasDomains) {
      const e = this.store.lookupDomainEntryBytes(host, 0, host.length);
      if (e >= 0) this.domainHit(flow, e, host.toString('latin1'), 'http.host', 0, tx);
    }
    if (this.hasUrls) {
      const raw = tx.uriRaw.toString('latin1');
      const hostText = tx.hostRaw === null ? '' : tx.hostRaw.toString('latin1');
      const url = tx.uriHasHost ? raw : `http://${hostText}${raw.startsWith('/') ? raw : '/' + raw}`;
      this.url(flow, url, tx);
    }
  }

  private http2(flow: Flow, tx: Http2Tx): void {
    const auth = tx.authority;
    if (auth !== null && auth.length > 0 && this.hasDomains) {
      // :authority may carry a port.
      let end = auth.length;
      const colon = auth.lastIndexOf(0x3a);
      if (colon > 0 && auth.indexOf(0x5d) < 0) end = colon;
      const e = this.store.lookupDomainEntryBytes(auth, 0, end);
      if (e >= 0) this.domainHit(flow, e, auth.toString('latin1', 0, end).toLowerCase(), 'http.host', 0, tx);
    }
    const path = tx.path;
    if (this.hasUrls && path !== null) {
      const scheme = tx.scheme?.toString('latin1') ?? 'http';
      this.url(flow, `${scheme}://${auth === null ? '' : auth.toString('latin1')}${path.toString('latin1')}`, tx);
    }
  }

  private url(flow: Flow, url: string, tx: AppTx): void {
    const key = normalizeUrl(url);
    if (key === null) return;
    let set = this.store.lookupUrl(key);
    let indicator = key;
    if (set < 0) {
      // Host-less entries (a path on any host): with the query, then without.
      const slash = key.indexOf('/');
      if (slash >= 0) {
        const path = key.slice(slash);
        set = this.store.lookupUrl(path);
        indicator = path;
        const q = path.indexOf('?');
        if (set < 0 && q > 0) {
          indicator = path.slice(0, q);
          set = this.store.lookupUrl(indicator);
        }
      }
    }
    if (set < 0) return;
    const slash = key.indexOf('/');
    const host = slash > 0 ? key.slice(0, slash).replace(/:\d+$/, '') : null;
    this.report(flow, set, 'http.url', indicator, { v4: -1, v6: NO_V6, name: host }, 0, flow.lastSec, flow.lastNsec, tx, 0);
  }

  private domain(flow: Flow, name: string, field: IntelField, dir: Direction, tx: AppTx): void {
    const e = this.store.lookupDomainEntry(name);
    if (e >= 0) this.domainHit(flow, e, name, field, dir, tx);
  }

  private domainHit(flow: Flow, entry: number, observed: string, field: IntelField, dir: Direction, tx: AppTx): void {
    const set = this.store.domainEntrySet(entry);
    const listed = this.store.domainEntryName(entry);
    let name = observed.toLowerCase();
    if (name.endsWith('.')) name = name.slice(0, -1);
    this.report(flow, set, field, listed, { v4: -1, v6: NO_V6, name }, dir, flow.lastSec, flow.lastNsec, tx, 0, name !== listed ? name : null);
  }

  private hash(flow: Flow, kind: HashKind, value: string, field: IntelField, tx: AppTx): void {
    const set = this.store.lookupHash(kind, value);
    if (set < 0) return;
    // Allow-listing a fingerprint goes by the destination: the server address and the SNI.
    const sni = tx instanceof TlsTx ? tx.data.sni : null;
    const v6 = flow.ipVersion === 6 ? flow.server6 : NO_V6;
    this.report(flow, set, field, value.toLowerCase(), { v4: flow.ipVersion === 4 ? flow.server4 : -1, v6, name: sni }, 0, flow.lastSec, flow.lastNsec, tx, 0);
  }

  // ---- the one place a match becomes an alert (or not) -----------------------

  private report(
    flow: Flow,
    set: number,
    field: IntelField,
    indicator: string,
    q: AllowQuery,
    dir: Direction,
    tsSec: number,
    tsNsec: number,
    tx: AppTx | null,
    port: number,
    observed: string | null = null,
  ): void {
    this.matches++;
    // Dedupe first: it is the cheapest answer and the common one (every DNS answer repeats the query's name).
    const key = indicator;
    let ext = flow.ext;
    if (ext === null) ext = flow.ext = [];
    let st = ext[FlowExt.INTEL];
    if (typeof st !== 'object' || st === null) {
      st = { dirs: typeof st === 'number' ? st : 0, seen: [] } satisfies IntelFlowState;
      ext[FlowExt.INTEL] = st;
    }
    const fs = st as IntelFlowState;
    if (fs.seen.includes(key)) {
      this.deduped++;
      return;
    }
    if (fs.seen.length >= this.maxPerFlow) {
      this.overflow++;
      return;
    }
    fs.seen.push(key);

    // The local side is the record's source, except when the source address itself is what is listed.
    const localIsServer = field === 'src_ip' ? true : dir === 1;
    if (this.allow !== null && this.allowed(flow, q, localIsServer, tsSec)) {
      this.allowlisted++;
      return;
    }

    const metas = this.relevant(set, port);
    if (metas.length === 0) return;
    metas.sort((a, b) => b.confidence - a.confidence);
    const top = metas[0];
    const uniq = (xs: string[]): string[] => [...new Set(xs)];
    const md: Record<string, string[]> = {
      harrier_feed: uniq(metas.map((m) => m.feed)),
      harrier_category: uniq(metas.map((m) => m.category)),
      harrier_indicator: [indicator],
      harrier_field: [field],
    };
    const conf = metas.filter((m) => m.confidence >= 0).map((m) => String(m.confidence));
    if (conf.length > 0) md.harrier_confidence = uniq(conf);
    const tags = metas.map((m) => m.tag).filter((t): t is string => t !== null);
    if (tags.length > 0) md.harrier_tag = uniq(tags);
    if (observed !== null) md.harrier_observed = [observed];
    const severity = metas.some((m) => HIGH.has(m.category)) ? 1 : 2;
    this.raised++;
    this.byField.set(field, (this.byField.get(field) ?? 0) + 1);
    this.alerts.raise(
      {
        gid: HARRIER_GID.INTEL,
        sid: INTEL_SIDS[field],
        rev: 1,
        signature: `HARRIER INTEL ${top.category} ${top.feed}: ${indicator}`,
        category: `Threat intelligence: ${top.category}`,
        severity,
        metadata: md,
      },
      { flow, dir, tsSec, tsNsec, tx },
    );
  }

  /** Metadata rows of a set that apply to this server port (-1: only port-less entries). */
  private relevant(set: number, port: number): IntelMatch[] {
    const all = this.store.describe(set);
    return all.filter((m) => m.port === 0 || m.port === port);
  }

  private allowed(flow: Flow, q: AllowQuery, localIsServer: boolean, tsSec: number): boolean {
    const allow = this.allow!;
    let id: ScopeIdentity | null = null;
    if (allow.hasScopes && this.identity !== null) {
      const v6 = flow.ipVersion === 6;
      const ip = localIsServer ? (v6 ? ipv6ToString(flow.server6) : ipv4ToString(flow.server4)) : v6 ? ipv6ToString(flow.client6) : ipv4ToString(flow.client4);
      try {
        id = this.identity.lookup(ip, localIsServer ? flow.serverPort : -1, tsSec);
      } catch {
        id = null;
      }
    }
    if (allow.allows(q, id)) return true;
    // A match on a name or fingerprint is also silenced when the flow's remote address is allowed.
    if (q.name !== null || (q.v4 < 0 && q.v6 === null)) {
      const v6 = flow.ipVersion === 6;
      const remote: AllowQuery = localIsServer
        ? { v4: v6 ? -1 : flow.client4, v6: v6 ? flow.client6 : null, name: null }
        : { v4: v6 ? -1 : flow.server4, v6: v6 ? flow.server6 : null, name: null };
      return allow.allows(remote, id);
    }
    return false;
  }

  counters(): Counters {
    const c: Counters = {
      'harrier.intel.flows_checked': this.flowsChecked,
      'harrier.intel.matches': this.matches,
      'harrier.intel.alerts': this.raised,
      'harrier.intel.deduplicated': this.deduped,
      'harrier.intel.allowlisted': this.allowlisted,
      'harrier.intel.per_flow_limit': this.overflow,
    };
    for (const [f, n] of this.byField) c[`harrier.intel.alerts.${f}`] = n;
    return c;
  }
}
