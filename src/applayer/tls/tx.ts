/**
 * The TLS transaction: one per flow, holding what the handshake revealed,
 * and its EVE `tls` object in Suricata 7's field names and order
 * (src/output-json-tls.c, "extended" mode: subject, issuerdn,
 * session_resumed, serial, fingerprint, sni, version, notbefore, notafter,
 * ja3, ja3s). Fields Suricata 7.0.4's schema does not have (ja4,
 * client_alpns, server_alpns, subjectaltname — Suricata 8 names) are only
 * added when asked for via TlsEveOptions, so the default output validates
 * against the 7.0.4 schema.
 */
import type { AppTx } from '../parser.js';
import type { CertInfo } from './cert.js';
import { md5Hex, type Ja4Source } from './fingerprint.js';
import { tlsVersionString } from './version.js';

export interface TlsEveOptions {
  /** Add `ja4` (Suricata 8 with ja4-fingerprints on). Default false: Suricata 7 never logs it. */
  readonly ja4?: boolean;
  /** Add `client_alpns` / `server_alpns` (Suricata 8). Default false. */
  readonly alpn?: boolean;
  /** Add `subjectaltname` (Suricata 8). Default false. */
  readonly subjectaltname?: boolean;
  /** Add the `client` certificate object (Suricata 7 custom field "client"). Default false. */
  readonly client?: boolean;
}

/** What the parser hands over when the handshake is done (or the flow ends). */
export interface TlsTxData {
  /** Server-side version as Suricata reports it (record/ServerHello/supported_versions), 0 = unknown. */
  readonly version: number;
  /** ClientHello legacy_version (or the SSLv2 CLIENT-HELLO version), 0 if none seen. */
  readonly clientVersion: number;
  readonly sni: string | null;
  readonly ja3: string | null;
  readonly ja3s: string | null;
  /** JA4 inputs; the fingerprint itself is TlsTx.ja4 (hashed on first use). */
  readonly ja4: Ja4Source | null;
  readonly clientAlpns: readonly string[];
  readonly serverAlpn: string | null;
  /** Cipher suite the server chose, -1 if no ServerHello. */
  readonly cipher: number;
  readonly sessionResumed: boolean;
  readonly serverCert: CertInfo | null;
  /** Number of certificates in the server's chain (0 if none seen). */
  readonly serverChainLength: number;
  readonly clientCert: CertInfo | null;
  /** DER of the server's leaf certificate (the signature engine's `tls.certs` buffer), null if none. */
  readonly serverCertDer?: Buffer | null;
  /** Records seen per direction [toServer, toClient] when the transaction was completed. */
  readonly records: readonly [number, number];
}

export class TlsTx implements AppTx {
  readonly proto = 'tls';
  readonly txId: number;
  readonly data: TlsTxData;
  private readonly opts: TlsEveOptions;
  private ja3HashCache: string | null = null;
  private ja3sHashCache: string | null = null;

  constructor(txId: number, data: TlsTxData, opts: TlsEveOptions) {
    this.txId = txId;
    this.data = data;
    this.opts = opts;
  }

  get versionString(): string {
    return tlsVersionString(this.data.version);
  }

  /** MD5 of the JA3 string (computed on first use). */
  get ja3Hash(): string | null {
    if (this.data.ja3 === null) return null;
    return (this.ja3HashCache ??= md5Hex(this.data.ja3));
  }

  get ja3sHash(): string | null {
    if (this.data.ja3s === null) return null;
    return (this.ja3sHashCache ??= md5Hex(this.data.ja3s));
  }

  /** The JA4 fingerprint of the ClientHello (computed on first use), null without one. */
  get ja4(): string | null {
    return this.data.ja4 === null ? null : this.data.ja4.value();
  }

  eve(): Record<string, unknown> {
    const d = this.data;
    const o: Record<string, unknown> = {};
    const c = d.serverCert;
    if (c !== null) {
      o.subject = c.subject;
      o.issuerdn = c.issuerdn;
    }
    if (d.sessionResumed) o.session_resumed = true;
    if (c !== null) {
      o.serial = c.serial;
      o.fingerprint = c.fingerprint;
    }
    if (d.sni !== null) o.sni = d.sni;
    o.version = this.versionString;
    if (c !== null) {
      if (c.notbefore !== null) o.notbefore = c.notbefore;
      if (c.notafter !== null) o.notafter = c.notafter;
    }
    if (d.ja3 !== null) o.ja3 = { hash: this.ja3Hash, string: d.ja3 };
    if (d.ja3s !== null) o.ja3s = { hash: this.ja3sHash, string: d.ja3s };
    if (this.opts.ja4 === true && d.ja4 !== null) o.ja4 = d.ja4.value();
    if (this.opts.alpn === true) {
      if (d.clientAlpns.length > 0) o.client_alpns = d.clientAlpns.slice();
      if (d.serverAlpn !== null) o.server_alpns = [d.serverAlpn];
    }
    if (this.opts.subjectaltname === true && c !== null && c.sans.length > 0) o.subjectaltname = c.sans.slice();
    if (this.opts.client === true && d.clientCert !== null) {
      const cc = d.clientCert;
      const co: Record<string, unknown> = {
        subject: cc.subject,
        issuerdn: cc.issuerdn,
        serial: cc.serial,
        fingerprint: cc.fingerprint,
      };
      if (cc.notbefore !== null) co.notbefore = cc.notbefore;
      if (cc.notafter !== null) co.notafter = cc.notafter;
      o.client = co;
    }
    return o;
  }
}
