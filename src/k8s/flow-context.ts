/**
 * Responder context per flow, for the `k8s` block of that flow's records:
 *
 *  - ingress: the original client behind trusted proxies — from HTTP
 *    Forwarded / X-Forwarded-For / X-Real-IP, and from a PROXY protocol
 *    v1/v2 header at the start of a TCP stream — as `original_ip` on the
 *    client's identity;
 *  - egress: the name the client used for the server — TLS SNI, else the
 *    HTTP Host — used as `domain` of an `external` server when the DNS
 *    answer table has nothing for that address.
 *
 * It is a Detector (hooks `stream`, `tx`, `flowEnd`, `tick`) so it sees what
 * the app layer saw without the pipeline knowing about it; it never raises
 * alerts. State is kept only for flows where something was found, keyed by
 * flow id (the EVE records carry it), and released once the flow's own
 * record has been written (the flow record is written right after the
 * `flowEnd` hooks, so entries of ended flows are dropped at the next
 * flowEnd/tick).
 *
 * Trust: forwarding headers and PROXY headers are claims anyone can send.
 * A claim is believed only through proxies that are trusted: the walk starts
 * at the connection's peer and moves left through the forwarded-for chain
 * while the current hop is inside `trustedProxies` or within the first
 * `trustedProxyHops` hops; the first untrusted address is the original
 * client. With nothing trusted (the default) no original IP is reported.
 *
 * PROXY headers are looked for only on the first to-server bytes of a flow
 * the app layer has not (yet) named, with a one-byte test first: the stream
 * hook runs per segment, so it costs one comparison on every other segment.
 * Limit: the app layer is not told to skip the header, so the protocol
 * inside a PROXY-wrapped stream is not parsed.
 */
import type { Detector } from '../detect/detector.js';
import type { Flow } from '../flow/flow.js';
import type { AppTx, Direction } from '../applayer/parser.js';
import { HttpTx } from '../applayer/http/index.js';
import { TlsTx } from '../applayer/tls/index.js';
import { decodeProxyHeader, mayBeProxyHeader } from '../applayer/proxy/header.js';
import { flowClientIp } from '../events/flow-event.js';
import { parseIpv4 } from './ipv4-table.js';

export interface FlowContext {
  /** The flow's client address (EVE text): the side `originalIp` belongs to. */
  readonly peer: string;
  /** Original client behind trusted proxies. */
  originalIp?: string;
  /** Where `originalIp` came from. */
  originalSource?: 'forwarded' | 'x-forwarded-for' | 'x-real-ip' | 'proxy-v1' | 'proxy-v2';
  /** Server name the client used (SNI, else Host). */
  domain?: string;
  domainSource?: 'sni' | 'host';
}

export interface FlowContextOptions {
  /** IPv4 CIDRs of trusted proxies (ingress controllers, load balancers). */
  readonly trustedProxies?: readonly string[];
  /** Nearest hops believed whatever their address. Default 0. */
  readonly trustedProxyHops?: number;
  /** Most flows with context kept at once (oldest dropped beyond). Default 65536. */
  readonly maxFlows?: number;
}

interface Range {
  base: number;
  size: number;
}

function parseCidr(text: string): Range | null {
  const [ip, lenText] = text.split('/');
  const base = parseIpv4(ip);
  const len = lenText === undefined ? 32 : Number(lenText);
  if (base < 0 || !Number.isInteger(len) || len < 0 || len > 32) return null;
  const size = 2 ** (32 - len);
  return { base: base - (base % size), size };
}

/** Forwarded `for=` node → address ('' when obfuscated/unknown or not an address). */
function forwardedNode(v: string): string {
  let t = v.trim();
  if (t.startsWith('"') && t.endsWith('"') && t.length >= 2) t = t.slice(1, -1);
  if (t.startsWith('[')) {
    const close = t.indexOf(']');
    return close > 0 ? t.slice(1, close).toLowerCase() : '';
  }
  const colon = t.indexOf(':');
  if (colon > 0 && t.indexOf(':', colon + 1) < 0) t = t.slice(0, colon); // IPv4:port
  return t.toLowerCase();
}

/** The forwarded-for chain, client first: Forwarded `for=` if present, else X-Forwarded-For, else X-Real-IP. */
export function forwardedChain(forwarded: string | null, xff: string | null, xRealIp: string | null): { chain: string[]; source: 'forwarded' | 'x-forwarded-for' | 'x-real-ip' } | null {
  if (forwarded !== null) {
    const chain: string[] = [];
    for (const elem of forwarded.split(',')) {
      for (const pair of elem.split(';')) {
        const eq = pair.indexOf('=');
        if (eq > 0 && pair.slice(0, eq).trim().toLowerCase() === 'for') chain.push(forwardedNode(pair.slice(eq + 1)));
      }
    }
    if (chain.length > 0) return { chain, source: 'forwarded' };
  }
  if (xff !== null) {
    const chain = xff.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
    if (chain.length > 0) return { chain, source: 'x-forwarded-for' };
  }
  if (xRealIp !== null && xRealIp.trim() !== '') return { chain: [xRealIp.trim().toLowerCase()], source: 'x-real-ip' };
  return null;
}

export class FlowContextTracker implements Detector {
  readonly name = 'k8s-context';
  private readonly trusted: Range[] = [];
  private readonly trustedHops: number;
  private readonly maxFlows: number;
  private readonly flows = new Map<number, FlowContext>();
  private ended: number[] = [];
  /** Counters: claims believed and refused, PROXY headers seen. */
  originalFound = 0;
  originalUntrusted = 0;
  proxyHeaders = 0;
  domains = 0;
  dropped = 0;

  constructor(opts: FlowContextOptions = {}) {
    for (const c of opts.trustedProxies ?? []) {
      const r = parseCidr(c);
      if (r) this.trusted.push(r);
    }
    this.trustedHops = Math.max(0, Math.floor(opts.trustedProxyHops ?? 0));
    this.maxFlows = Math.max(1, opts.maxFlows ?? 65536);
  }

  /** Context of a flow by EVE flow_id (for the enricher). */
  get(flowId: number): FlowContext | undefined {
    return this.flows.get(flowId);
  }

  private isTrusted(ip: string): boolean {
    const n = parseIpv4(ip);
    if (n < 0) return false;
    for (const r of this.trusted) if (n - r.base >= 0 && n - r.base < r.size) return true;
    return false;
  }

  /**
   * The original client of `chain` (client first) as seen from `peer`, or
   * null when the peer itself is not trusted or every hop is.
   */
  originalClient(peer: string, chain: readonly string[]): string | null {
    let hops = this.trustedHops;
    const trustedHop = (ip: string): boolean => {
      if (this.isTrusted(ip)) return true;
      if (hops > 0) {
        hops--;
        return true;
      }
      return false;
    };
    if (!trustedHop(peer)) return null;
    for (let i = chain.length - 1; i >= 0; i--) {
      const a = chain[i];
      if (a === '' || a === 'unknown' || a.startsWith('_')) return null; // obfuscated hop: the chain stops being verifiable
      if (i === 0 || !trustedHop(a)) return a;
    }
    return null;
  }

  private ctx(flow: Flow): FlowContext {
    let c = this.flows.get(flow.flowId);
    if (!c) {
      if (this.flows.size >= this.maxFlows) {
        const first = this.flows.keys().next();
        if (!first.done) this.flows.delete(first.value);
        this.dropped++;
      }
      c = { peer: flowClientIp(flow) };
      this.flows.set(flow.flowId, c);
    }
    return c;
  }

  private flushEnded(): void {
    if (this.ended.length === 0) return;
    for (const id of this.ended) this.flows.delete(id);
    this.ended = [];
  }

  stream(flow: Flow, dir: Direction, buf: Buffer, off: number, len: number): void {
    if (dir !== 0 || flow.appProto !== null || !mayBeProxyHeader(buf, off, len)) return;
    const h = decodeProxyHeader(buf, off, len);
    if (h === null || h.srcIp === null) return;
    this.proxyHeaders++;
    const c = this.ctx(flow);
    if (c.originalIp !== undefined) return;
    const orig = this.originalClient(c.peer, [h.srcIp]);
    if (orig === null) {
      this.originalUntrusted++;
      return;
    }
    c.originalIp = orig;
    c.originalSource = h.version === 1 ? 'proxy-v1' : 'proxy-v2';
    this.originalFound++;
  }

  tx(flow: Flow, tx: AppTx): void {
    this.flushEnded();
    if (tx instanceof HttpTx) {
      const s = (b: Buffer | null): string | null => (b === null ? null : b.toString('latin1'));
      const fwd = forwardedChain(s(tx.forwarded), s(tx.xff), s(tx.xRealIp));
      const host = tx.host;
      const existing = this.flows.get(flow.flowId);
      if (fwd !== null && existing?.originalIp === undefined) {
        const c = this.ctx(flow);
        const orig = this.originalClient(c.peer, fwd.chain);
        if (orig !== null) {
          c.originalIp = orig;
          c.originalSource = fwd.source;
          this.originalFound++;
        } else this.originalUntrusted++;
      }
      if (host !== null && host.length > 0 && (existing?.domain === undefined)) {
        const c = this.ctx(flow);
        if (c.domain === undefined) {
          c.domain = host.toString('latin1');
          c.domainSource = 'host';
          this.domains++;
        }
      }
    } else if (tx instanceof TlsTx) {
      const sni = tx.data.sni;
      if (sni !== null && sni !== '') {
        const c = this.ctx(flow);
        // SNI wins over a Host seen earlier on the flow (it names the server the TLS session is with).
        if (c.domainSource !== 'sni') {
          if (c.domain === undefined) this.domains++;
          c.domain = sni.toLowerCase();
          c.domainSource = 'sni';
        }
      }
    }
  }

  flowEnd(flow: Flow): void {
    this.flushEnded();
    if (this.flows.has(flow.flowId)) this.ended.push(flow.flowId);
  }

  tick(): void {
    this.flushEnded();
  }

  finish(): void {
    this.flushEnded();
  }

  counters(): Record<string, number> {
    return {
      'harrier.k8s.context.flows': this.flows.size,
      'harrier.k8s.context.original_ip': this.originalFound,
      'harrier.k8s.context.original_ip_untrusted': this.originalUntrusted,
      'harrier.k8s.context.proxy_headers': this.proxyHeaders,
      'harrier.k8s.context.domains': this.domains,
      'harrier.k8s.context.dropped': this.dropped,
    };
  }
}
