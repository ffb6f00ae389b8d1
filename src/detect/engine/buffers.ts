/**
 * Where each app-layer inspection buffer comes from: one "get the bytes"
 * getter per BufferName on top of the transaction classes (Suricata's model:
 * a sticky buffer is only a getter; prefilter and inspection are generic).
 *
 * A getter takes the transaction, the direction being inspected and an
 * index; single buffers answer only index 0, multi-buffers (`dns.query`
 * over the questions of a message) answer 0..n-1 and null after the last.
 * `side` says which direction a buffer belongs to: `request` buffers are
 * inspected as to_server, `response` buffers as to_client, `both` ones
 * (http.header, file.data, ssh.proto …) in the direction the rule asks for.
 *
 * Transactions are handed over when complete (HTTP request and response
 * together), so a rule mixing request and response buffers is evaluated on
 * one complete transaction; an alert Suricata would raise on the request
 * alone is raised at the same transaction, only later in packet time.
 */
import { HttpTx } from '../../applayer/http/tx.js';
import { Http2Tx } from '../../applayer/http2/tx.js';
import { DnsTx } from '../../applayer/dns/parser.js';
import { TlsTx } from '../../applayer/tls/tx.js';
import { SshTx, type SshSide } from '../../applayer/ssh/parser.js';
import type { AppTx, Direction } from '../../applayer/parser.js';
import type { BufferName } from '../rules/ast.js';
import type { Packet } from '../../decode/packet.js';

export type BufferSide = 'request' | 'response' | 'both';

export interface BufferDecl {
  /** App-layer protocol family the buffer belongs to (`http` covers HTTP/1 and HTTP/2). */
  readonly proto: 'http' | 'dns' | 'tls' | 'ssh' | 'packet';
  readonly side: BufferSide;
  /** More than one buffer per transaction (`dns.query`). */
  readonly multi: boolean;
  /** Rank used when picking a rule's fast pattern (higher wins), after Suricata's app-layer-first choice. */
  readonly priority: number;
  get(tx: AppTx, dir: Direction, idx: number): Buffer | null;
}

const latin1 = (s: string | null | undefined): Buffer | null => (s === null || s === undefined ? null : Buffer.from(s, 'latin1'));

function http1(f: (tx: HttpTx, dir: Direction) => Buffer | null, f2?: (tx: Http2Tx, dir: Direction) => Buffer | null) {
  return (tx: AppTx, dir: Direction, idx: number): Buffer | null => {
    if (idx !== 0) return null;
    if (tx instanceof HttpTx) return f(tx, dir);
    if (f2 !== undefined && tx instanceof Http2Tx) return f2(tx, dir);
    return null;
  };
}

function http(side: BufferSide, f: (tx: HttpTx, dir: Direction) => Buffer | null, f2?: (tx: Http2Tx, dir: Direction) => Buffer | null, priority = 2): BufferDecl {
  return { proto: 'http', side, multi: false, priority, get: http1(f, f2) };
}

/**
 * `http.request_header` / `http.response_header`: a multi-buffer, one
 * `name: value` per header (Suricata's HTTP/2 keywords, also on HTTP/1 as in
 * Suricata 8). HTTP/2 includes the pseudo-headers (`:authority: …`), as
 * Suricata's HTTP/2 parser lists them. Built per inspection: these keywords
 * are rare (a handful of ET Open rules).
 */
function headerLines(side: 'request' | 'response'): BufferDecl {
  const line = (name: Buffer, value: Buffer): Buffer => {
    const b = Buffer.allocUnsafe(name.length + 2 + value.length);
    name.copy(b, 0);
    b[name.length] = 0x3a;
    b[name.length + 1] = 0x20;
    value.copy(b, name.length + 2);
    return b;
  };
  return {
    proto: 'http',
    side,
    multi: true,
    priority: 2,
    get: (tx, _dir, idx) => {
      if (tx instanceof HttpTx) {
        const h = (side === 'request' ? tx.requestHeaders : tx.responseHeaders)[idx];
        return h === undefined ? null : line(h.name, h.value);
      }
      if (tx instanceof Http2Tx) {
        const h = (side === 'request' ? tx.requestHeaders : tx.responseHeaders)[idx];
        return h === undefined ? null : line(h.name, h.value);
      }
      return null;
    },
  };
}

function tls(side: BufferSide, f: (tx: TlsTx) => Buffer | null): BufferDecl {
  return { proto: 'tls', side, multi: false, priority: 2, get: (tx, _dir, idx) => (idx === 0 && tx instanceof TlsTx ? f(tx) : null) };
}

function ssh(side: BufferSide, f: (s: SshSide) => Buffer | null): BufferDecl {
  return {
    proto: 'ssh',
    side,
    multi: false,
    priority: 2,
    get: (tx, dir, idx) => (idx === 0 && tx instanceof SshTx ? f(dir === 0 ? tx.client : tx.server) : null),
  };
}

const sideDir = <T>(dir: Direction, rq: () => T, rs: () => T): T => (dir === 0 ? rq() : rs());

/** Every app-layer buffer the engine can inspect. `pkt_data` and `base64_data` are not app-layer buffers. */
export const BUFFERS: Partial<Record<BufferName, BufferDecl>> = {
  'http.uri': http('request', (t) => t.uri, (t) => t.path),
  'http.uri.raw': http('request', (t) => (t.hasRequest ? t.uriRaw : null), (t) => t.path),
  'http.method': http('request', (t) => (t.hasRequest ? t.method : null), (t) => t.method, 1),
  'http.protocol': http('both', (t, d) => sideDir(d, () => (t.hasRequest ? t.protocol : null), () => (t.hasResponse ? t.responseProtocol : null)), undefined, 1),
  'http.request_line': http('request', (t) => (t.hasRequest ? t.requestLine : null)),
  'http.header': http('both', (t, d) => sideDir(d, () => t.requestHeaderBuffer, () => t.responseHeaderBuffer)),
  'http.header.raw': http('both', (t, d) => sideDir(d, () => (t.hasRequest ? t.requestHeadersRaw : null), () => (t.hasResponse ? t.responseHeadersRaw : null))),
  'http.header_names': http('both', (t, d) => sideDir(d, () => t.requestHeaderNames, () => t.responseHeaderNames)),
  'http.request_header': headerLines('request'),
  'http.response_header': headerLines('response'),
  'http.host': http('request', (t) => t.host, (t) => lowerCopy(t.authority)),
  'http.host.raw': http('request', (t) => t.hostRaw, (t) => t.authority),
  'http.user_agent': http('request', (t) => t.userAgent, (t) => t.userAgent),
  'http.cookie': http('both', (t, d) => sideDir(d, () => t.cookie, () => t.setCookie)),
  'http.referer': http('request', (t) => t.referer),
  'http.content_type': http('both', (t, d) => sideDir(d, () => t.requestContentType, () => t.responseContentType), (t, d) => sideDir(d, () => t.requestContentType, () => t.responseContentType)),
  'http.content_len': http('both', (t, d) => sideDir(d, () => t.requestContentLength, () => t.responseContentLength)),
  'http.accept': http('request', (t) => t.requestHeader('accept')),
  'http.accept_enc': http('request', (t) => t.requestHeader('accept-encoding')),
  'http.accept_lang': http('request', (t) => t.requestHeader('accept-language')),
  'http.connection': http('request', (t) => t.requestHeader('connection')),
  'http.request_body': http('request', (t) => (t.hasRequest ? t.requestBodyBytes : null)),
  'http.start': http('both', (t, d) => sideDir(d, () => t.requestStart, () => t.responseStart)),
  'http.stat_code': http('response', (t) => (t.hasResponse ? t.statCode : null)),
  'http.stat_msg': http('response', (t) => (t.hasResponse ? t.statMsg : null)),
  'http.response_line': http('response', (t) => (t.hasResponse ? t.responseLine : null)),
  'http.server': http('response', (t) => t.server),
  'http.location': http('response', (t) => t.location),
  'file.data': http('both', (t, d) => sideDir(d, () => (t.hasRequest ? t.requestBodyBytes : null), () => (t.hasResponse ? t.responseBodyBytes : null))),
  'dns.query': {
    proto: 'dns',
    side: 'request',
    multi: true,
    priority: 2,
    get: (tx, _dir, idx) => {
      if (!(tx instanceof DnsTx)) return null;
      const q = tx.message.questions[idx];
      // Suricata's dns.query is the name as text without the trailing dot.
      return q === undefined ? null : Buffer.from(q.name.endsWith('.') ? q.name.slice(0, -1) : q.name, 'latin1');
    },
  },
  'tls.sni': tls('request', (t) => latin1(t.data.sni)),
  'tls.cert_subject': tls('response', (t) => latin1(t.data.serverCert?.subject)),
  'tls.cert_issuer': tls('response', (t) => latin1(t.data.serverCert?.issuerdn)),
  'tls.cert_serial': tls('response', (t) => latin1(t.data.serverCert?.serial)),
  'tls.cert_fingerprint': tls('response', (t) => latin1(t.data.serverCert?.fingerprint)),
  // tls.certs is a multi-buffer over the chain; the TLS parser keeps the leaf's DER only.
  'tls.certs': { proto: 'tls', side: 'response', multi: true, priority: 2, get: (tx, _dir, idx) => (idx === 0 && tx instanceof TlsTx ? tx.data.serverCertDer ?? null : null) },
  'ja3.hash': tls('request', (t) => latin1(t.ja3Hash)),
  'ja3.string': tls('request', (t) => latin1(t.data.ja3)),
  'ja3s.hash': tls('response', (t) => latin1(t.ja3sHash)),
  'ja3s.string': tls('response', (t) => latin1(t.data.ja3s)),
  'ja4.hash': tls('request', (t) => latin1(t.ja4)),
  'ssh.proto': ssh('both', (s) => latin1(s.banner?.protoVersion)),
  'ssh.software': ssh('both', (s) => latin1(s.banner?.softwareVersion)),
  'ssh.hassh': ssh('request', (s) => latin1(s.hassh?.hash)),
  'ssh.hassh.string': ssh('request', (s) => latin1(s.hassh?.string)),
  'ssh.hassh.server': ssh('response', (s) => latin1(s.hassh?.hash)),
  'ssh.hassh.server.string': ssh('response', (s) => latin1(s.hassh?.string)),
};

/**
 * The raw HTTP message of one direction (head, then body as far as kept):
 * what payload (`pkt_data`) contents of an `http` rule that also uses
 * sticky buffers are matched against at transaction time.
 */
export const HTTP_RAW_MESSAGE: BufferDecl = http('both', (t, d) =>
  d === 0
    ? t.hasRequest ? Buffer.concat([t.requestHead, t.requestBodyBytes]) : null
    : t.hasResponse ? Buffer.concat([t.responseHead, t.responseBodyBytes]) : null,
);

function lowerCopy(b: Buffer | null): Buffer | null {
  if (b === null) return null;
  const out = Buffer.allocUnsafe(b.length);
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    out[i] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
  }
  return out;
}

/** The declaration of an app-layer buffer, or null for `pkt_data`/`base64_data` and buffers not supported. */
export function bufferDecl(name: BufferName): BufferDecl | null {
  return BUFFERS[name] ?? null;
}

/**
 * Packet header buffers (`ipv4.hdr`, `tcp.hdr`, …): where the header of one
 * layer sits in `pkt.data`. A getter fills HEADER_SPAN (one shared object, so
 * inspecting a header allocates nothing) and returns false when the packet
 * has no such header (another protocol, or the layer failed to decode).
 * Lengths follow Suricata's detect-*hdr.c: the IPv6 header with its
 * extension headers, TCP with options, UDP and ICMPv6 8 bytes, ICMPv4 8
 * bytes plus the timestamps (types 13/14) or the address list of a router
 * advertisement (type 9) when they fit.
 */
export const HEADER_SPAN = { off: 0, len: 0 };

const span = (off: number, len: number, p: Packet): boolean => {
  if (len <= 0 || off + len > p.data.length) return false;
  HEADER_SPAN.off = off;
  HEADER_SPAN.len = len;
  return true;
};

export const PACKET_HEADERS: Partial<Record<BufferName, (p: Packet) => boolean>> = {
  // The addresses in the IP header (Suricata 7's ip.src/ip.dst sticky buffers, read by datasets).
  'ip.src': (p) => (p.ipVersion === 4 ? span(p.l3Off + 12, 4, p) : p.ipVersion === 6 && span(p.l3Off + 8, 16, p)),
  'ip.dst': (p) => (p.ipVersion === 4 ? span(p.l3Off + 16, 4, p) : p.ipVersion === 6 && span(p.l3Off + 24, 16, p)),
  'ipv4.hdr': (p) => p.ipVersion === 4 && span(p.l3Off, p.l3HdrLen, p),
  'ipv6.hdr': (p) => p.ipVersion === 6 && span(p.l3Off, p.l3HdrLen, p),
  'tcp.hdr': (p) => p.proto === 6 && p.l4HdrLen >= 20 && span(p.l4Off, p.l4HdrLen, p),
  'udp.hdr': (p) => p.proto === 17 && p.l4HdrLen === 8 && span(p.l4Off, 8, p),
  'icmpv6.hdr': (p) => p.ipVersion === 6 && p.proto === 58 && p.l4HdrLen === 8 && span(p.l4Off, 8, p),
  'icmpv4.hdr': (p) => {
    if (p.ipVersion !== 4 || p.proto !== 1 || p.l4HdrLen !== 8) return false;
    const b = p.data;
    const o = p.l4Off;
    const avail = p.l4HdrLen + p.payloadLen;
    let len = 8;
    const type = b[o]!;
    if (type === 13 || type === 14) len = 20; // originate, receive, transmit timestamps
    else if (type === 9) len = 8 + b[o + 4]! * b[o + 5]! * 4; // addresses × entry size (32-bit words)
    return span(o, len <= avail ? len : 8, p);
  },
};

/** The header getter of a packet header buffer, or null for other buffers. */
export function packetHeader(name: BufferName): ((p: Packet) => boolean) | null {
  return PACKET_HEADERS[name] ?? null;
}

/**
 * Does a flow's app_proto belong to a rule protocol family? `http` covers
 * HTTP/1 and HTTP/2 as in Suricata 7; `http1` only HTTP/1.
 */
export function appProtoMatches(ruleProto: string, flowProto: string | null): boolean {
  if (flowProto === null) return false;
  if (ruleProto === flowProto) return true;
  if (ruleProto === 'http') return flowProto === 'http2' || flowProto === 'http1';
  if (ruleProto === 'http1') return flowProto === 'http';
  if (ruleProto === 'tls') return flowProto === 'ssl';
  return false;
}
