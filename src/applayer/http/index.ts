/**
 * HTTP/1.0 and HTTP/1.1: the protocol declaration.
 *
 * `httpParser` uses the defaults (config.ts); `createHttpParser(cfg)` makes
 * one with other limits. Each flow's state is an `HttpState`; completed
 * transactions (`HttpTx`) carry the buffers the signature engine inspects
 * (tx.ts) and produce the EVE `http` object.
 *
 * Hand-off (for the pipeline): after each parse call, `state.switched` tells
 * whether the connection stopped being HTTP/1.x:
 *  - 'h2c'       → switch the flow to HTTP/2;
 *  - 'websocket' / 'other' (101 Switching Protocols), 'connect' (2xx to CONNECT)
 *    → a tunnel; stop treating it as HTTP.
 * `state.switchOffset[dir]` is the stream offset (bytes of that direction
 * since the flow started) where the new protocol begins, and
 * `state.handoff[dir]` holds the bytes from there that HTTP already received
 * (null if none); everything the flow delivers afterwards is the new
 * protocol's. HTTP ignores further input once switched.
 */
import type { AppParserContext, AppParserDecl, AppSwitch, Direction } from '../parser.js';
import { httpConfig, type HttpConfig } from './config.js';
import { HttpState } from './parser.js';
import { probeHttp } from './probe.js';
import { http2Parser, startH2cAfterUpgrade } from '../http2/index.js';

export function createHttpParser(over: Partial<HttpConfig> = {}): AppParserDecl<HttpState> {
  const cfg = httpConfig(over);
  return {
    name: 'http',
    transport: 'tcp',
    ports: [80, 8080, 8000, 8008, 8888, 3128],
    probe: probeHttp,
    create: (ctx: AppParserContext): HttpState => new HttpState(cfg, ctx),
    parse: (state: HttpState, dir: Direction, buf: Buffer, off: number, len: number): void =>
      state.parse(dir, buf, off, len),
    gap: (state: HttpState, dir: Direction, len: number): void => state.gap(dir, len),
    end: (state: HttpState): void => state.end(),
    // After `Upgrade: h2c` and a 101 response the connection speaks HTTP/2:
    // the upgrade request becomes stream 1 and the bytes already received
    // after the switch are handed to the HTTP/2 parser.
    // A 2xx to CONNECT opens a tunnel whose protocol is not announced: as
    // Suricata (app-layer-htp.c, only for the connection's first
    // transaction), detection runs again on what follows (TLS, HTTP, …).
    switchTo: (state: HttpState, ctx: AppParserContext): AppSwitch | null =>
      state.switched === 'h2c' && state.upgradeTx !== null
        ? { decl: http2Parser as AppParserDecl<unknown>, start: () => startH2cAfterUpgrade(ctx, state.upgradeTx!, state.handoff) }
        : state.switched === 'connect' && state.upgradeTx !== null && state.upgradeTx.txId === 0
          ? { redetect: true, handoff: state.handoff }
          : null,
  };
}

export const httpParser: AppParserDecl<HttpState> = createHttpParser();

export { HttpState } from './parser.js';
export { HttpTx, type HttpSwitch } from './tx.js';
export type { HttpHeader } from './headers.js';
export { HTTP_DEFAULTS, httpConfig, type HttpConfig } from './config.js';
export { HTTP_EVENTS, type HttpEventName } from './events.js';
export { HTTP_METHODS, probeHttp } from './probe.js';
