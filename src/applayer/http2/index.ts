/**
 * HTTP/2 in cleartext (prior knowledge and h2c upgrade): the protocol
 * declaration.
 *
 * `http2Parser` uses the defaults (config.ts); `createHttp2Parser(cfg)` makes
 * one with other limits. Each flow's state is an `Http2State`; every stream
 * becomes one `Http2Tx` (EVE: event_type `http`, key `http`, `protocol`
 * "HTTP/2", `http2.stream_id`), gRPC facts on `tx.grpc`.
 *
 * h2c (RFC 7540 §3.2): when the HTTP/1 parser reports `state.switched ===
 * 'h2c'` on a flow, the pipeline calls
 *
 *     const h2 = startH2cAfterUpgrade(ctx, upgradeTx, httpState.handoff);
 *
 * with the HttpTx that carried `Upgrade: h2c` (its request becomes stream 1,
 * half-closed from the client; the server answers it on stream 1 in HTTP/2)
 * and the bytes HTTP/1 already received past the switch point. From then on
 * the flow's bytes go to `http2Parser.parse(h2, dir, …)` and its end to
 * `http2Parser.end(h2)`: the returned state is an ordinary `Http2State`.
 */
import type { AppParserContext, AppParserDecl, Direction } from '../parser.js';
import { http2Config, type Http2Config } from './config.js';
import { probeHttp2 } from './frames.js';
import type { H2Header } from './hpack.js';
import { Http2State } from './parser.js';

export function createHttp2Parser(over: Partial<Http2Config> = {}): AppParserDecl<Http2State> {
  const cfg = http2Config(over);
  return {
    name: 'http2',
    transport: 'tcp',
    probe: probeHttp2,
    create: (ctx: AppParserContext): Http2State => new Http2State(cfg, ctx),
    parse: (state: Http2State, dir: Direction, buf: Buffer, off: number, len: number): void => state.parse(dir, buf, off, len),
    gap: (state: Http2State, dir: Direction, len: number): void => state.gap(dir, len),
    end: (state: Http2State): void => state.end(),
  };
}

export const http2Parser: AppParserDecl<Http2State> = createHttp2Parser();

/**
 * The HTTP/1.1 request that asked for `Upgrade: h2c`. An `HttpTx` from the
 * HTTP/1 parser fits as it is (method, uriRaw, requestHeaders).
 */
export interface H2cUpgradeRequest {
  readonly method: Buffer;
  /** Request-target as sent: becomes `:path`. */
  readonly uriRaw: Buffer;
  readonly requestHeaders: readonly { readonly name: Buffer; readonly value: Buffer }[];
}

/** Fields of HTTP/1.1 that do not carry over to an HTTP/2 stream (connection-specific, or become pseudo-headers). */
const NOT_CARRIED = new Set(['host', 'connection', 'upgrade', 'http2-settings', 'keep-alive', 'proxy-connection', 'transfer-encoding']);

/**
 * Starts HTTP/2 on a flow that switched from HTTP/1.1 with `Upgrade: h2c`.
 * Stream 1 is the upgrade request: `:method`, `:path` (the request-target),
 * `:scheme` http, `:authority` (Host), then the other request fields with
 * lowercased names; the `HTTP2-Settings` header (base64url SETTINGS payload)
 * is applied as the client's SETTINGS (bad value: http2.invalid_http1_settings).
 * `handoff[dir]`, when given, are bytes of each direction already received
 * after the switch point (client: preface onwards; server: after the 101
 * response); they are parsed at once, client side first.
 */
export function startH2cAfterUpgrade(
  ctx: AppParserContext,
  upgrade: H2cUpgradeRequest,
  handoff: readonly [Buffer | null, Buffer | null] | null = null,
  cfg: Partial<Http2Config> = {},
): Http2State {
  const state = new Http2State(http2Config(cfg), ctx);
  const hs: H2Header[] = [];
  const pseudo = (n: string, v: Buffer): void => {
    hs.push({ name: Buffer.from(n, 'latin1'), value: v, neverIndexed: false });
  };
  pseudo(':method', upgrade.method);
  pseudo(':path', upgrade.uriRaw);
  pseudo(':scheme', Buffer.from('http', 'latin1'));
  let settings: Buffer | null = null;
  let host: Buffer | null = null;
  const rest: H2Header[] = [];
  for (const h of upgrade.requestHeaders) {
    const lname = h.name.toString('latin1').toLowerCase();
    if (lname === 'host' && host === null) host = h.value;
    if (lname === 'http2-settings') settings = decodeSettingsHeader(h.value);
    if (NOT_CARRIED.has(lname)) continue;
    rest.push({ name: Buffer.from(lname, 'latin1'), value: h.value, neverIndexed: false });
  }
  if (host !== null) pseudo(':authority', host);
  for (const h of rest) hs.push(h);
  // A header present but not base64url is passed as a 1-byte payload, which seedUpgradeStream reports as invalid.
  state.seedUpgradeStream(hs, settings ?? (hasHeader(upgrade, 'http2-settings') ? Buffer.alloc(1) : null));
  if (handoff !== null) {
    for (const dir of [0, 1] as const) {
      const b = handoff[dir];
      if (b !== null && b.length > 0) state.parse(dir, b, 0, b.length);
    }
  }
  return state;
}

function hasHeader(r: H2cUpgradeRequest, lname: string): boolean {
  return r.requestHeaders.some((h) => h.name.toString('latin1').toLowerCase() === lname);
}

/** base64url (no padding) → bytes; null when it contains other characters. */
function decodeSettingsHeader(v: Buffer): Buffer | null {
  const s = v.toString('latin1').trim();
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(s)) return null;
  return Buffer.from(s, 'base64url');
}

export { Http2State, type Http2Setting } from './parser.js';
export { Http2Tx, type GrpcInfo } from './tx.js';
export { HpackDecoder, type H2Header } from './hpack.js';
export { huffmanDecode, huffmanEncode } from './huffman.js';
export { HTTP2_DEFAULTS, http2Config, type Http2Config } from './config.js';
export { HTTP2_EVENTS, type Http2EventName } from './events.js';
export { CLIENT_PREFACE, probeHttp2 } from './frames.js';
