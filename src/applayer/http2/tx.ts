/**
 * One HTTP/2 stream as a transaction: request headers (HEADERS or
 * PUSH_PROMISE), response headers (the final, non-1xx ones), trailers, DATA
 * byte counts, RST_STREAM codes, and gRPC facts.
 *
 * Pseudo-headers and a few common fields are looked up on demand (linear
 * scan of a short list, comparing bytes: no strings per packet).
 */
import type { AppTx } from '../parser.js';
import { eveString } from '../http/tx.js';
import type { H2Header } from './hpack.js';
import { errorCodeName } from './frames.js';

/** gRPC facts of a stream whose content-type is `application/grpc*`. */
export interface GrpcInfo {
  /** `pkg.Service` from `:path` = `/pkg.Service/Method`; '' when the path has another shape. */
  service: string;
  method: string;
  /** `grpc-status` from the trailers (or a trailers-only response); -1 when absent. */
  status: number;
  /** `grpc-message`, '' when absent. */
  message: string;
}

export function findHeader(hs: readonly H2Header[], lname: Buffer): Buffer | null {
  for (let i = 0; i < hs.length; i++) {
    const h = hs[i]!;
    if (h.name.length === lname.length && h.name.equals(lname)) return h.value;
  }
  return null;
}

const B = (s: string): Buffer => Buffer.from(s, 'latin1');
export const H_METHOD = B(':method');
export const H_PATH = B(':path');
export const H_AUTHORITY = B(':authority');
export const H_SCHEME = B(':scheme');
export const H_STATUS = B(':status');
const H_HOST = B('host');
const H_UA = B('user-agent');
const H_CT = B('content-type');
const H_CL = B('content-length');
const H_GRPC_STATUS = B('grpc-status');
const H_GRPC_MESSAGE = B('grpc-message');
const GRPC_CT = B('application/grpc');

export class Http2Tx implements AppTx {
  /**
   * Suricata logs HTTP/2 streams as event_type `http` under the `http` key
   * (app_proto `http2` comes from the flow), so the EVE key is `http`.
   */
  readonly proto = 'http';
  readonly txId: number;
  readonly streamId: number;
  requestHeaders: H2Header[] = [];
  responseHeaders: H2Header[] = [];
  /** Trailing HEADERS of the response (gRPC status lives here). */
  responseTrailers: H2Header[] = [];
  /** Trailing HEADERS of the request. */
  requestTrailers: H2Header[] = [];
  /** Stream opened by the server's PUSH_PROMISE (request headers are the promise's). */
  pushed = false;
  /** DATA payload bytes (padding excluded). */
  requestDataBytes = 0;
  responseDataBytes = 0;
  /** END_STREAM seen: [toServer, toClient]. */
  readonly ended: [boolean, boolean] = [false, false];
  /** RST_STREAM error code sent by the client / server; -1 none. */
  readonly rstCode: [number, number] = [-1, -1];
  /** Priority weight (0–255 as sent) from HEADERS with PRIORITY or a PRIORITY frame, per direction; -1 none. */
  readonly priority: [number, number] = [-1, -1];
  /** Header blocks seen so far per direction (1st = headers, later = trailers/1xx). */
  readonly blocks: [number, number] = [0, 0];
  /** Flushed at flow end / GOAWAY rather than closed. */
  incomplete = false;
  private grpcInfo: GrpcInfo | null | undefined = undefined;

  constructor(txId: number, streamId: number) {
    this.txId = txId;
    this.streamId = streamId;
  }

  get method(): Buffer | null { return findHeader(this.requestHeaders, H_METHOD); }
  get path(): Buffer | null { return findHeader(this.requestHeaders, H_PATH); }
  /** `:authority`, or the Host header when absent (as HTTP/2 allows). */
  get authority(): Buffer | null {
    return findHeader(this.requestHeaders, H_AUTHORITY) ?? findHeader(this.requestHeaders, H_HOST);
  }
  get scheme(): Buffer | null { return findHeader(this.requestHeaders, H_SCHEME); }
  get userAgent(): Buffer | null { return findHeader(this.requestHeaders, H_UA); }
  /** Numeric `:status`, -1 when absent or not three digits. */
  get status(): number {
    const s = findHeader(this.responseHeaders, H_STATUS);
    if (s === null || s.length !== 3) return -1;
    let v = 0;
    for (let i = 0; i < 3; i++) {
      const d = s[i]! - 0x30;
      if (d < 0 || d > 9) return -1;
      v = v * 10 + d;
    }
    return v;
  }
  get requestContentType(): Buffer | null { return findHeader(this.requestHeaders, H_CT); }
  get responseContentType(): Buffer | null { return findHeader(this.responseHeaders, H_CT); }

  /** The request's content-type starts with `application/grpc` (grpc, grpc+proto, grpc-web…). */
  get isGrpc(): boolean {
    const ct = this.requestContentType ?? this.responseContentType;
    return ct !== null && ct.length >= GRPC_CT.length && ct.compare(GRPC_CT, 0, GRPC_CT.length, 0, GRPC_CT.length) === 0;
  }

  /** gRPC service/method/status, null when the stream is not gRPC. Built once. */
  get grpc(): GrpcInfo | null {
    if (this.grpcInfo !== undefined) return this.grpcInfo;
    if (!this.isGrpc) return (this.grpcInfo = null);
    const p = this.path;
    let service = '';
    let method = '';
    if (p !== null) {
      const s = p.toString('latin1');
      const m = /^\/([^/?]+)\/([^/?]+)$/.exec(s);
      if (m !== null) {
        service = m[1]!;
        method = m[2]!;
      }
    }
    // Trailers-only responses carry grpc-status in the only HEADERS block.
    const st = findHeader(this.responseTrailers, H_GRPC_STATUS) ?? findHeader(this.responseHeaders, H_GRPC_STATUS);
    const msg = findHeader(this.responseTrailers, H_GRPC_MESSAGE) ?? findHeader(this.responseHeaders, H_GRPC_MESSAGE);
    const status = st !== null && /^\d{1,3}$/.test(st.toString('latin1')) ? Number(st.toString('latin1')) : -1;
    return (this.grpcInfo = { service, method, status, message: msg === null ? '' : eveString(msg) });
  }

  /**
   * The EVE `http` object for an HTTP/2 stream, as Suricata 7's HTTP/2
   * logger writes it: `version` "2", request_headers / response_headers
   * (every field of every header block of the side, trailers included),
   * hostname (:authority), url (:path), http_method, http_user_agent,
   * status, length (the content-length field, response side winning), and
   * `http2 {stream_id, request: {error_code, priority}, response: {…}}`
   * (RST_STREAM code, priority weight). Plus `protocol` "HTTP/2", which
   * Suricata writes only for HTTP/1 but which lets one query cover both.
   * The schema has no place for gRPC: it stays on the transaction (`grpc`).
   */
  eve(): Record<string, unknown> {
    const o: Record<string, unknown> = { version: '2' };
    // The schema wants at least one item: absent rather than empty.
    const rq = eveHeaders(this.requestHeaders, this.requestTrailers);
    if (rq.length > 0) o.request_headers = rq;
    const rs = eveHeaders(this.responseHeaders, this.responseTrailers);
    if (rs.length > 0) o.response_headers = rs;
    const host = this.authority;
    if (host !== null) o.hostname = eveString(host);
    const path = this.path;
    if (path !== null) o.url = eveString(path);
    const ua = this.userAgent;
    if (ua !== null) o.http_user_agent = eveString(ua);
    const m = this.method;
    if (m !== null) o.http_method = eveString(m);
    o.protocol = 'HTTP/2';
    const st = this.status;
    if (st >= 0) o.status = st;
    const cl = findHeader(this.responseHeaders, H_CL) ?? findHeader(this.requestHeaders, H_CL);
    if (cl !== null && /^\d{1,15}$/.test(cl.toString('latin1'))) o.length = Number(cl.toString('latin1'));
    const req: Record<string, unknown> = {};
    const res: Record<string, unknown> = {};
    if (this.rstCode[0] >= 0) req.error_code = errorCodeName(this.rstCode[0]);
    if (this.priority[0] >= 0) req.priority = this.priority[0];
    if (this.rstCode[1] >= 0) res.error_code = errorCodeName(this.rstCode[1]);
    o.http2 = { stream_id: this.streamId, request: req, response: res };
    return o;
  }
}

function eveHeaders(a: readonly H2Header[], b: readonly H2Header[]): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const h of a) out.push({ name: eveString(h.name), value: eveString(h.value) });
  for (const h of b) out.push({ name: eveString(h.name), value: eveString(h.value) });
  return out;
}
