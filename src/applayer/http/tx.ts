/**
 * One HTTP request/response pair and the buffers the signature engine inspects.
 *
 * The parser fills the raw parts (views into one private copy of each head,
 * so a transaction costs one allocation per head plus its bodies); derived
 * buffers (normalised URI, http.header, …) are built on first use and cached,
 * since most rules groups touch only a few of them.
 *
 * Buffer getters return null when the part is absent (no request, header not
 * sent); Suricata's definitions are cited on each.
 */
import type { AppTx } from '../parser.js';
import { BoundedBody, EMPTY } from './body.js';
import { originalClients } from './client-ip.js';
import {
  combinedValue, headerBuffer, headerNamesBuffer, startBuffer, type HttpHeader,
} from './headers.js';
import { hostPort, normalizeHost, normalizeUri, splitUri, type UriParts } from './uri.js';

/** What happened to the connection after this transaction. */
export type HttpSwitch = 'none' | 'connect' | 'websocket' | 'h2c' | 'other';

export class HttpTx implements AppTx {
  readonly proto = 'http';
  readonly txId: number;

  // ---- request (filled by the parser) ----
  hasRequest = false;
  /** Private copy of request line + headers + terminating empty line. */
  requestHead: Buffer = EMPTY;
  /** Request headers in wire order, duplicates kept; chunked trailers appended. */
  readonly requestHeaders: HttpHeader[] = [];
  /** http.request_body: de-chunked body, up to request-body-limit. */
  readonly requestBody: BoundedBody;
  requestComplete = false;
  /** HTTP/0.9 request (no protocol, no headers); its response is a bare body. */
  http09 = false;

  // ---- response ----
  hasResponse = false;
  responseHead: Buffer = EMPTY;
  /** Numeric status, -1 when absent or invalid. */
  status = -1;
  readonly responseHeaders: HttpHeader[] = [];
  /** file_data / http.response_body: de-chunked, content-decoded, up to response-body-limit. */
  readonly responseBody: BoundedBody;
  /** Response body bytes on the wire (chunk framing included): EVE `length`. */
  responseWireLength = 0;
  /** Request body bytes on the wire. */
  requestWireLength = 0;
  responseComplete = false;

  /**
   * Start-line parts as offsets into the heads; views are made on first use
   * (a Buffer view costs a few hundred ns and most are never read).
   * Request: line, method, uri, protocol, headers-start. Response: line,
   * protocol, code, message, headers-start.
   */
  private readonly rq = new Int32Array(9);
  private readonly rs = new Int32Array(9);
  private views: (Buffer | undefined)[] = [];

  /** Connection switched protocol after this transaction (CONNECT tunnel, 101 Upgrade). */
  switched: HttpSwitch = 'none';
  /** Some body bytes were lost to a TCP gap. */
  bodyGap = false;

  private readonly extendedEve: boolean;
  private uriParts: UriParts | null = null;
  private cache: Map<string, Buffer | null> | null = null;

  constructor(txId: number, requestBodyLimit: number, responseBodyLimit: number, extendedEve: boolean) {
    this.txId = txId;
    this.requestBody = new BoundedBody(requestBodyLimit);
    this.responseBody = new BoundedBody(responseBodyLimit);
    this.extendedEve = extendedEve;
  }

  /** Parser: request start line, as offsets into `head` (line, method, uri, protocol: start/end pairs; header start). */
  setRequestLine(head: Buffer, o: readonly number[]): void {
    this.hasRequest = true;
    this.requestHead = head;
    for (let i = 0; i < 9; i++) this.rq[i] = o[i]!;
  }

  /** Parser: status line offsets (line, protocol, code, message: start/end pairs; header start). */
  setResponseLine(head: Buffer, o: readonly number[]): void {
    this.hasResponse = true;
    this.responseHead = head;
    for (let i = 0; i < 9; i++) this.rs[i] = o[i]!;
  }

  private view(slot: number, src: Buffer, s: number, e: number): Buffer {
    let v = this.views[slot];
    if (v === undefined) this.views[slot] = v = src.subarray(s, e);
    return v;
  }

  /** http.request_line: the request line without CRLF. */
  get requestLine(): Buffer { return this.view(0, this.requestHead, this.rq[0]!, this.rq[1]!); }
  /** http.method */
  get method(): Buffer { return this.view(1, this.requestHead, this.rq[2]!, this.rq[3]!); }
  /** http.uri.raw: the request-target as sent. */
  get uriRaw(): Buffer { return this.view(2, this.requestHead, this.rq[4]!, this.rq[5]!); }
  /** http.protocol (request side), e.g. `HTTP/1.1`; empty for HTTP/0.9. */
  get protocol(): Buffer { return this.view(3, this.requestHead, this.rq[6]!, this.rq[7]!); }
  /** http.header.raw (request): header lines as sent, through the final empty line. */
  get requestHeadersRaw(): Buffer { return this.view(4, this.requestHead, this.rq[8]!, this.requestHead.length); }
  /** http.response_line without CRLF. */
  get responseLine(): Buffer { return this.view(5, this.responseHead, this.rs[0]!, this.rs[1]!); }
  /** Protocol on the status line (`HTTP/1.1`). */
  get responseProtocol(): Buffer { return this.view(6, this.responseHead, this.rs[2]!, this.rs[3]!); }
  /** http.stat_code: the status code bytes. */
  get statCode(): Buffer { return this.view(7, this.responseHead, this.rs[4]!, this.rs[5]!); }
  /** http.stat_msg: reason phrase. */
  get statMsg(): Buffer { return this.view(8, this.responseHead, this.rs[6]!, this.rs[7]!); }
  /** http.header.raw (response). */
  get responseHeadersRaw(): Buffer { return this.view(9, this.responseHead, this.rs[8]!, this.responseHead.length); }

  /** The method is exactly `m` (compared in place, no view made). */
  methodIs(m: Buffer): boolean {
    const s = this.rq[2]!, e = this.rq[3]!;
    return e - s === m.length && this.requestHead.compare(m, 0, m.length, s, e) === 0;
  }
  /** The request protocol is exactly `p`. */
  protocolIs(p: Buffer): boolean {
    const s = this.rq[6]!, e = this.rq[7]!;
    return e - s === p.length && this.requestHead.compare(p, 0, p.length, s, e) === 0;
  }
  /** The response protocol is exactly `p`. */
  responseProtocolIs(p: Buffer): boolean {
    const s = this.rs[2]!, e = this.rs[3]!;
    return e - s === p.length && this.responseHead.compare(p, 0, p.length, s, e) === 0;
  }

  private cached(key: string, make: () => Buffer | null): Buffer | null {
    const c = (this.cache ??= new Map());
    let v = c.get(key);
    if (v === undefined) {
      v = make();
      c.set(key, v);
    }
    return v;
  }

  private parts(): UriParts {
    return (this.uriParts ??= splitUri(this.uriRaw, this.methodIs(CONNECT)));
  }

  /** Combined (", "-joined) value of a request header, by lowercase name. */
  requestHeader(lname: string): Buffer | null {
    return this.hasRequest ? combinedValue(this.requestHeaders, lname) : null;
  }

  /** Combined value of a response header, by lowercase name. */
  responseHeader(lname: string): Buffer | null {
    return this.hasResponse ? combinedValue(this.responseHeaders, lname) : null;
  }

  /** http.uri: the normalised URI (see uri.ts). */
  get uri(): Buffer | null {
    if (!this.hasRequest) return null;
    return this.cached('uri', () => normalizeUri(this.uriRaw, this.parts()));
  }

  /** The request-target is absolute-form (carries scheme and host). */
  get uriHasHost(): boolean {
    if (!this.hasRequest) return false;
    const p = this.parts();
    return p.hostStart >= 0 && p.hostEnd > p.hostStart;
  }

  /**
   * http.host.raw: the hostname of an absolute-form URI, else the Host
   * header value as sent (port included), as Suricata's raw host buffer.
   */
  get hostRaw(): Buffer | null {
    if (!this.hasRequest) return null;
    return this.cached('hostRaw', () => {
      const p = this.parts();
      if (p.hostStart >= 0 && p.hostEnd > p.hostStart) return this.uriRaw.subarray(p.hostStart, p.hostEnd);
      return this.requestHeader('host');
    });
  }

  /** http.host: hostname lowercased, port and trailing dots removed (URI authority wins over Host). */
  get host(): Buffer | null {
    if (!this.hasRequest) return null;
    return this.cached('host', () => {
      const p = this.parts();
      if (p.hostStart >= 0 && p.hostEnd > p.hostStart) return normalizeHost(this.uriRaw, p.hostStart, p.hostEnd);
      const h = this.requestHeader('host');
      if (h === null) return null;
      if (h.includes(0x2c)) return normalizeHost(h, 0, h.length); // several Host headers: lowercase the list
      const hp = hostPort(h, 0, h.length);
      return normalizeHost(h, hp.hostStart, hp.hostEnd);
    });
  }

  /** Port named in the URI authority or the Host header; -1 when none. */
  get port(): number {
    if (!this.hasRequest) return -1;
    const p = this.parts();
    if (p.hostStart >= 0) return p.port >= 0 ? p.port : -1;
    const h = this.requestHeader('host');
    if (h === null || h.includes(0x2c)) return -1;
    const r = hostPort(h, 0, h.length).port;
    return r >= 0 ? r : -1;
  }

  /** http.header (request): `Name: value\r\n` per merged header, Cookie left out. */
  get requestHeaderBuffer(): Buffer | null {
    if (!this.hasRequest) return null;
    return this.cached('rqh', () => headerBuffer(this.requestHeaders, 'cookie'));
  }
  /** http.header (response), Set-Cookie left out. */
  get responseHeaderBuffer(): Buffer | null {
    if (!this.hasResponse) return null;
    return this.cached('rsh', () => headerBuffer(this.responseHeaders, 'set-cookie'));
  }
  /** http.header_names (request). */
  get requestHeaderNames(): Buffer | null {
    if (!this.hasRequest) return null;
    return this.cached('rqn', () => headerNamesBuffer(this.requestHeaders));
  }
  /** http.header_names (response). */
  get responseHeaderNames(): Buffer | null {
    if (!this.hasResponse) return null;
    return this.cached('rsn', () => headerNamesBuffer(this.responseHeaders));
  }
  /** http.start (request): request line, normalised headers, final CRLF. */
  get requestStart(): Buffer | null {
    if (!this.hasRequest) return null;
    return this.cached('rqs', () => startBuffer(this.requestLine, this.requestHeaders));
  }
  /** http.start (response). */
  get responseStart(): Buffer | null {
    if (!this.hasResponse) return null;
    return this.cached('rss', () => startBuffer(this.responseLine, this.responseHeaders));
  }
  /** http.user_agent */
  get userAgent(): Buffer | null { return this.requestHeader('user-agent'); }
  /** http.cookie (request): the Cookie header value. */
  get cookie(): Buffer | null { return this.requestHeader('cookie'); }
  /** http.cookie (response): the Set-Cookie header value(s). */
  get setCookie(): Buffer | null { return this.responseHeader('set-cookie'); }
  /** http.referer */
  get referer(): Buffer | null { return this.requestHeader('referer'); }
  /** http.content_type (request side). */
  get requestContentType(): Buffer | null { return this.requestHeader('content-type'); }
  /** http.content_type (response side). */
  get responseContentType(): Buffer | null { return this.responseHeader('content-type'); }
  /** http.content_len (request side): the header value as sent. */
  get requestContentLength(): Buffer | null { return this.requestHeader('content-length'); }
  /** http.content_len (response side). */
  get responseContentLength(): Buffer | null { return this.responseHeader('content-length'); }
  /** http.server */
  get server(): Buffer | null { return this.responseHeader('server'); }
  /** http.location */
  get location(): Buffer | null { return this.responseHeader('location'); }
  /** http.request_body bytes. */
  get requestBodyBytes(): Buffer { return this.requestBody.bytes(); }
  /** http.response_body / file_data bytes (decoded). */
  get responseBodyBytes(): Buffer { return this.responseBody.bytes(); }

  /** Raw X-Forwarded-For value (combined), null when absent. */
  get xff(): Buffer | null { return this.requestHeader('x-forwarded-for'); }
  /** Raw Forwarded value. */
  get forwarded(): Buffer | null { return this.requestHeader('forwarded'); }
  /** Raw X-Real-IP value. */
  get xRealIp(): Buffer | null { return this.requestHeader('x-real-ip'); }

  /** Candidate original client addresses from Forwarded / X-Forwarded-For / X-Real-IP (claims, not facts). */
  get originalClient(): string[] {
    const s = (b: Buffer | null): string | null => (b === null ? null : b.toString('latin1'));
    return originalClients(s(this.forwarded), s(this.xff), s(this.xRealIp));
  }

  /** Suricata 7's EVE `http` object. */
  eve(): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    if (this.hasRequest) {
      const host = this.host;
      if (host !== null) o.hostname = eveString(host);
      const port = this.port;
      if (port >= 0) o.http_port = port;
      o.url = eveString(this.uriRaw);
      const ua = this.userAgent;
      if (ua !== null) o.http_user_agent = eveString(ua);
      const xff = this.xff;
      if (xff !== null) o.xff = eveString(xff);
    }
    if (this.hasResponse) {
      // Suricata logs the response Content-Type without parameters
      const ct = this.responseContentType;
      if (ct !== null) {
        const semi = ct.indexOf(0x3b);
        o.http_content_type = eveString(semi >= 0 ? ct.subarray(0, semi) : ct);
      }
      const cr = this.responseHeader('content-range');
      if (cr !== null) o.content_range = contentRange(cr);
    }
    if (this.hasRequest) {
      const ref = this.referer;
      if (ref !== null) o.http_refer = eveString(ref);
      o.http_method = eveString(this.method);
      if (this.rq[7]! > this.rq[6]!) o.protocol = eveString(this.protocol);
    }
    if (this.hasResponse) {
      if (this.status >= 0) o.status = this.status;
      const loc = this.location;
      if (loc !== null) o.redirect = eveString(loc);
      o.length = this.responseWireLength;
    }
    if (this.extendedEve) {
      if (this.hasRequest && this.requestHeaders.length > 0) o.request_headers = eveHeaders(this.requestHeaders);
      if (this.hasResponse && this.responseHeaders.length > 0) o.response_headers = eveHeaders(this.responseHeaders);
    }
    return o;
  }
}

/**
 * EVE `content_range`: the raw value and, when it parses as
 * `bytes first-last/size`, the numbers (`*` → -1, as Suricata reports it).
 */
function contentRange(v: Buffer): Record<string, unknown> {
  const raw = eveString(v);
  const m = /^\s*bytes\s+(?:(\d{1,15})-(\d{1,15})|\*)\/(\d{1,15}|\*)\s*$/i.exec(raw);
  if (m === null) return { raw };
  return {
    raw,
    start: m[1] === undefined ? -1 : Number(m[1]),
    end: m[2] === undefined ? -1 : Number(m[2]),
    size: m[3] === '*' ? -1 : Number(m[3]),
  };
}

function eveHeaders(hs: readonly HttpHeader[]): { name: string; value: string }[] {
  return hs.map((h) => ({ name: eveString(h.name), value: eveString(h.value) }));
}

const CONNECT = Buffer.from('CONNECT', 'latin1');
export function isConnect(method: Buffer): boolean {
  return method.equals(CONNECT);
}

/**
 * Bytes → EVE string the way Suricata's JSON builder does it: valid UTF-8 as
 * is, otherwise every byte outside printable ASCII as `\xHH`.
 */
export function eveString(b: Buffer): string {
  const s = b.toString('utf8');
  if (!s.includes('\ufffd') || Buffer.from(s, 'utf8').equals(b)) return s;
  let out = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    out += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '\\x' + c.toString(16).padStart(2, '0');
  }
  return out;
}
