/**
 * TLS (and SSLv2-compatible hello) application-layer parser declaration.
 *
 * One transaction per flow, emitted when the handshake is done (both sides
 * past ChangeCipherSpec, or the server encrypting under TLS 1.3) or at flow
 * end; its EVE object is Suricata 7's `tls` record. See stream.ts for the
 * record/handshake machine and its limits.
 */
import { Probe, type AppParserContext, type AppParserDecl, type Direction } from '../parser.js';
import { DEFAULT_LIMITS, TlsState, tlsEnd, tlsGap, tlsParse, type TlsLimits } from './stream.js';
import type { TlsEveOptions } from './tx.js';
import { CertCache } from './cert.js';

export { TlsState } from './stream.js';
export type { TlsLimits } from './stream.js';
export { TlsTx } from './tx.js';
export type { TlsEveOptions, TlsTxData } from './tx.js';
export type { CertInfo } from './cert.js';
export { tlsVersionString } from './version.js';

export interface TlsParserOptions {
  readonly limits?: Partial<TlsLimits>;
  readonly eve?: TlsEveOptions;
}

/**
 * Is this the start of a TLS or SSLv2 stream?
 * TLS: a handshake record header 0x16 0x03 0x00–0x04 with a length of 1..2^14+2048
 * (and, when visible, a ClientHello or ServerHello message type).
 * SSLv2: a 2-byte-header record (top bit set) carrying CLIENT-HELLO (1) or
 * SERVER-HELLO (4) with version major 0x00 (SSLv2) or 0x03.
 */
export function probeTls(dir: Direction, buf: Buffer, off: number, len: number): Probe {
  if (len < 1) return Probe.NEED_MORE;
  const b0 = buf[off]!;
  if (b0 === 0x16) {
    if (len < 5) {
      if (len >= 2 && buf[off + 1] !== 0x03) return Probe.NO;
      if (len >= 3 && buf[off + 2]! > 0x04) return Probe.NO;
      return Probe.NEED_MORE;
    }
    if (buf[off + 1] !== 0x03 || buf[off + 2]! > 0x04) return Probe.NO;
    const rlen = (buf[off + 3]! << 8) | buf[off + 4]!;
    if (rlen < 4 || rlen > 16384 + 2048) return Probe.NO;
    if (len >= 6) {
      const t = buf[off + 5]!;
      if (t !== 1 && t !== 2) return Probe.NO;
    }
    return Probe.YES;
  }
  if (b0 === 0x17 || b0 === 0x15 || b0 === 0x14) {
    // A session picked up after its handshake (a sensor restarted, a
    // long-lived connection): application data, alert or ChangeCipherSpec
    // records. Their 5-byte header is checked strictly (TLS 1.0–1.3 record
    // version, a length a record can have for that type); random bytes pass
    // it about once in four million.
    if (len < 5) {
      if (len >= 2 && buf[off + 1] !== 0x03) return Probe.NO;
      if (len >= 3 && (buf[off + 2]! < 0x01 || buf[off + 2]! > 0x04)) return Probe.NO;
      return Probe.NEED_MORE;
    }
    if (buf[off + 1] !== 0x03 || buf[off + 2]! < 0x01 || buf[off + 2]! > 0x04) return Probe.NO;
    const rlen = (buf[off + 3]! << 8) | buf[off + 4]!;
    if (b0 === 0x14) return rlen === 1 ? Probe.YES : Probe.NO;
    if (b0 === 0x15) return rlen === 2 || (rlen >= 16 && rlen <= 64) ? Probe.YES : Probe.NO;
    return rlen >= 1 && rlen <= 16384 + 2048 ? Probe.YES : Probe.NO;
  }
  if ((b0 & 0x80) !== 0) {
    if (len < 5) return Probe.NEED_MORE;
    const rlen = ((b0 & 0x7f) << 8) | buf[off + 1]!;
    const t = buf[off + 2]!;
    if (dir === 0 && t === 1) {
      // CLIENT-HELLO: version (2), cipher-specs length (2), session-id length (2), challenge length (2).
      const major = buf[off + 3]!;
      if (rlen < 9 || (major !== 0x00 && major !== 0x03)) return Probe.NO;
      if (major === 0x00 && buf[off + 4] !== 0x02) return Probe.NO;
      if (major === 0x03 && buf[off + 4]! > 0x04) return Probe.NO;
      return Probe.YES;
    }
    if (dir === 1 && t === 4) {
      if (len < 7) return Probe.NEED_MORE;
      const major = buf[off + 5]!;
      if (rlen < 11 || (major !== 0x00 && major !== 0x03)) return Probe.NO;
      return Probe.YES;
    }
    return Probe.NO;
  }
  return Probe.NO;
}

/** A TLS parser declaration with non-default limits or EVE fields. */
export function createTlsParser(opts: TlsParserOptions = {}): AppParserDecl<TlsState> {
  const limits: TlsLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const eve: TlsEveOptions = { ...opts.eve };
  // Shared by every flow of this declaration.
  const certs = new CertCache(limits.certCacheSize);
  return {
    name: 'tls',
    transport: 'tcp',
    ports: [443, 465, 636, 853, 989, 990, 992, 993, 995, 5061, 8443],
    probe: probeTls,
    create: (ctx: AppParserContext) => new TlsState(ctx, limits, eve, certs),
    parse: (state, dir, buf, off, len) => tlsParse(state, dir, buf, off, len),
    gap: (state, dir) => tlsGap(state, dir),
    end: (state) => tlsEnd(state),
  };
}

/** The default declaration: Suricata 7 EVE fields, 64 KiB hellos, 256 KiB certificate chains, 1024 cached certificates. */
export const tlsParser: AppParserDecl<TlsState> = createTlsParser();
