/**
 * DNS tunnelling (iodine, dnscat2, dns2tcp, DNSExfiltrator, sods, …): data
 * carried in the names a client asks about under one parent domain the
 * tunnel's server is authoritative for.
 *
 * Per (client, parent domain) in a tumbling window of `window` seconds:
 * queries, distinct names (exact to 64, then a 1,024-bit bitmap), *suspicious* queries (the
 * sub-domain part — the name minus the parent — has at least
 * `long-subdomain` characters and a Shannon entropy of at least
 * `min-entropy` bits per character: encoded data, not words), and queries
 * for the record types tunnels carry data in (TXT, NULL, CNAME, MX, KEY,
 * SRV, PRIVATE). Reported when the client made at least `min-queries`
 * queries, at least `unique-ratio` of them for distinct names, and
 *  (a) at least `suspicious-ratio` were suspicious, or
 *  (b) at least `record-ratio` asked for tunnel record types and sub-domains
 *      averaged 12+ characters, or
 *  (c) the volume alone reached `volume` distinct-name queries.
 *
 * The parent domain is the registrable domain, approximated without a
 * public-suffix list: the last two labels, or three when the second-last is
 * a generic second level under a country code (`co.uk`, `com.au`, …).
 * Reverse lookups (`.arpa`) and mDNS (`.local`) are skipped. Work is per DNS
 * query, not per packet; one split of the name per query.
 *
 * One question is counted once. An answer counts only when its query was
 * not seen — and "not seen" must hold across flows, not just within one:
 * behind a Service VIP (kube-dns 10.96.0.10) the node sees the query after
 * DNAT (pod → CoreDNS pod IP) but the answer after the reverse NAT
 * (ClusterIP → pod), so query and answer land in two different flows and
 * the answer looks unsolicited. Counting both doubled every client's query
 * count and halved its distinct-name ratio (every tunnel through kube-dns
 * sat at 0.5, under `unique-ratio`). So each (client, parent) entry
 * remembers the last ASKED_RING (DNS id, name) pairs it counted as queries,
 * and an unpaired answer matching one of them is the same question, not a
 * new one. The DNS id survives NAT (only addresses and ports are
 * rewritten); 64 matches the parser's MAX_PENDING outstanding queries per
 * flow, enough for a tunnel's lazy-mode backlog.
 */
import { DnsTx } from '../../../applayer/dns/index.js';
import type { DetectorSettings } from '../config.js';
import { BoundedTable, DistinctCounter, Every, clientKey, finding, flowClientIp, flowServerIp, flowSite, fmt, hashString, pairKey, serverKey, stringEntropy, th, type BehaviourContext, type SubDetector } from './shared.js';

interface Entry {
  start: number;
  parent: string;
  queries: number;
  names: DistinctCounter;
  suspicious: number;
  records: number;
  subChars: number;
  reported: boolean;
  /** Ring of (DNS id, name hash) keys of the last ASKED_RING queries counted; allocated on the first query. */
  asked: Uint32Array | null;
  askedN: number;
}

/** How many recent queries per (client, parent) an unpaired answer is matched against (see the header). */
const ASKED_RING = 64;

/** Key of one question: its DNS id mixed into the name's hash (ids repeat across names; names repeat across ids). */
function askKey(id: number, nameHash: number): number {
  return (nameHash ^ Math.imul(id + 1, 0x9e3779b1)) >>> 0;
}

/** Whether `key` is among the entry's recent queries. */
function wasAsked(e: Entry, key: number): boolean {
  const r = e.asked;
  if (r === null) return false;
  const n = Math.min(e.askedN, ASKED_RING);
  for (let i = 0; i < n; i++) if (r[i] === key) return true;
  return false;
}

const SECOND_LEVEL = new Set(['co', 'com', 'net', 'org', 'gov', 'edu', 'ac', 'or', 'ne', 'go', 'mil', 'gob', 'nic']);
/** TXT, NULL, CNAME, MX, KEY, SRV, PRIVATE (65399), ANY: types tunnels use to carry data down. */
const TUNNEL_TYPES = new Set([16, 10, 5, 15, 25, 33, 65399, 255]);

/**
 * A name's parent domain (lower case) and sub-domain part (its labels
 * before the parent, dots removed); null when it has no sub-domain part.
 */
export function splitName(name: string): { parent: string; sub: string } | null {
  const end = name.endsWith('.') ? name.length - 1 : name.length;
  const last = name.lastIndexOf('.', end - 1);
  if (last <= 0) return null;
  const tld = name.slice(last + 1, end);
  // No real TLD has digits or is this long: the name is data from its first
  // label on (dnscat2's direct mode `dnscat.<hex>.<hex>`); group by that label.
  if (tld.length > 18 || /[0-9]/.test(tld)) {
    const first = name.indexOf('.');
    return { parent: `${name.slice(0, first).toLowerCase()}.*`, sub: letters(name.slice(first + 1, end)) };
  }
  let p = name.lastIndexOf('.', last - 1);
  if (p < 0) return null;
  const sld = name.slice(p + 1, last);
  if (tld.length === 2 && SECOND_LEVEL.has(sld.toLowerCase())) {
    p = name.lastIndexOf('.', p - 1);
    if (p < 0) return null;
  }
  if (p === 0) return null;
  return { parent: name.slice(p + 1, end).toLowerCase(), sub: letters(name.slice(0, p)) };
}

/** Characters of a sub-domain part without its dots. */
function letters(sub: string): string {
  return sub.replace(/\./g, '');
}

export function createDnsTunnel(ctx: BehaviourContext, s: DetectorSettings): SubDetector {
  const win = th(s, 'window');
  const minQ = th(s, 'min-queries');
  const uniqueRatio = th(s, 'unique-ratio');
  const suspRatio = th(s, 'suspicious-ratio');
  const recordRatio = th(s, 'record-ratio');
  const longSub = th(s, 'long-subdomain');
  const minEntropy = th(s, 'min-entropy');
  const volume = th(s, 'volume');
  const t = new BoundedTable<Entry>(ctx.maxTracked);
  const sweep = new Every(60);
  let queries = 0;
  let natAnswers = 0;

  return {
    name: 'dns.tunnel',
    tx(flow, tx) {
      if (!(tx instanceof DnsTx)) return;
      // Queries; an answer counts only when its query was not seen (one-way capture; across flows: see wasAsked).
      if (tx.isResponse && tx.request !== undefined) return;
      const q = tx.message.questions[0];
      if (q === undefined) return;
      const name = q.name;
      const lower = name.length > 5 ? name.slice(-6).toLowerCase() : name.toLowerCase();
      if (lower.endsWith('.arpa') || lower.endsWith('.local') || lower.endsWith('arpa.') || lower.endsWith('local.')) return;
      const split = splitName(name);
      if (split === null) return;
      const { parent, sub } = split;
      // The asking client is the flow's client for a query, the other side for an unmatched answer.
      const asker0 = !(tx.isResponse && tx.direction === 0);
      const client = asker0 ? clientKey(flow) : serverKey(flow);
      const k = pairKey(client, hashString(parent));
      const ts = tx.tsSec;
      let e = t.get(k);
      if (e === undefined || ts - e.start >= win) {
        e = { start: ts, parent, queries: 0, names: new DistinctCounter(), suspicious: 0, records: 0, subChars: 0, reported: false, asked: null, askedN: 0 };
        t.set(k, e);
      }
      // The exact name (case kept: an answer echoes its question byte for byte) keys the query ↔ answer match.
      const ask = askKey(tx.message.id, hashString(name));
      if (tx.isResponse) {
        if (wasAsked(e, ask)) {
          natAnswers++;
          return;
        }
      } else {
        if (e.asked === null) e.asked = new Uint32Array(ASKED_RING);
        e.asked[e.askedN++ % ASKED_RING] = ask;
      }
      queries++;
      e.queries++;
      e.names.add(hashString(name.toLowerCase()));
      e.subChars += sub.length;
      if (sub.length >= longSub && stringEntropy(sub) >= minEntropy) e.suspicious++;
      if (TUNNEL_TYPES.has(q.type)) e.records++;
      if (e.reported || e.queries < minQ) return;
      const unique = Math.min(e.names.estimate(), e.queries);
      const uRatio = unique / e.queries;
      if (uRatio < uniqueRatio) return;
      const sRatio = e.suspicious / e.queries;
      const rRatio = e.records / e.queries;
      const avgSub = e.subChars / e.queries;
      let why: string | null = null;
      if (sRatio >= suspRatio) why = `${Math.round(sRatio * 100)}% of names carry long high-entropy sub-domains`;
      else if (rRatio >= recordRatio && avgSub >= 12) why = `${Math.round(rRatio * 100)}% ask for TXT/NULL/CNAME-like records with ${fmt(avgSub)}-character sub-domains`;
      else if (unique >= volume) why = `${unique} distinct names`;
      if (why === null) return;
      e.reported = true;
      const src = asker0 ? flowClientIp(flow) : flowServerIp(flow);
      const who = ctx.identify(src, -1, ts);
      ctx.report(
        finding('dns.tunnel', who, { ...flowSite(flow, asker0 ? 0 : 1, ts, 0), tx }, {
          explanation: `${who.subject} → ${parent}: ${e.queries} queries, ${unique} distinct names, ${why} (average sub-domain ${fmt(avgSub)} characters)`,
          observed: unique,
          baseline: minQ,
          unit: 'distinct names under one parent domain',
          score: Math.max(sRatio / suspRatio, rRatio / recordRatio, unique / volume),
          extra: { parent_domain: parent, suspicious_ratio: sRatio.toFixed(2), record_ratio: rRatio.toFixed(2), avg_subdomain: avgSub.toFixed(1) },
        }),
      );
    },
    tick(tsSec) {
      if (sweep.due(tsSec)) t.sweep((e) => tsSec - e.start > 2 * win);
    },
    counters() {
      return { 'harrier.behaviour.dns_tunnel.queries': queries, 'harrier.behaviour.dns_tunnel.answers_of_seen_queries': natAnswers, 'harrier.behaviour.dns_tunnel.tracked': t.size, 'harrier.behaviour.dns_tunnel.evicted': t.evicted };
    },
  };
}
