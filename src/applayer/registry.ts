/**
 * The application-layer protocols Harrier parses: one line per protocol.
 * Adding a protocol = a folder under src/applayer/ exporting an
 * `AppParserDecl`, plus its line here. `validateParsers` runs at start-up so a
 * malformed declaration fails loudly instead of misbehaving on traffic.
 *
 * Order matters only as a tie-break between parsers that both claim the same
 * first bytes; ports choose which are asked first.
 */
import type { AppParserDecl } from './parser.js';
import { dnsParser, dnsTcpParser } from './dns/index.js';
import { createHttpParser, httpParser } from './http/index.js';
import { http2Parser } from './http2/index.js';
import { sshParser } from './ssh/index.js';
import { createTlsParser, tlsParser } from './tls/index.js';
import { RECOGNISERS } from './recognisers.js';
import { imapParser } from './imap/index.js';
import { pop3Parser } from './pop3/index.js';

export const APP_PARSERS: readonly AppParserDecl<unknown>[] = [
  httpParser as AppParserDecl<unknown>,
  http2Parser as AppParserDecl<unknown>,
  tlsParser as AppParserDecl<unknown>,
  sshParser as AppParserDecl<unknown>,
  dnsParser as AppParserDecl<unknown>,
  dnsTcpParser as AppParserDecl<unknown>,
  // Recognition only (app_proto set; QUIC also yields its SNI and JA3):
  // SMTP, FTP, Redis, PostgreSQL, MySQL, MQTT, Kafka, stratum, BitTorrent, SMB, RDP, QUIC.
  ...RECOGNISERS,
  // IMAP and POP3: recognition plus the STARTTLS/STLS hand-off to TLS (as SMTP, FTP, MySQL, PostgreSQL above).
  imapParser as AppParserDecl<unknown>,
  pop3Parser as AppParserDecl<unknown>,
];

/** Start-up check of every declaration (names, transports, functions). */
export function validateParsers(parsers: readonly AppParserDecl<unknown>[]): void {
  const seen = new Set<string>();
  for (const p of parsers) {
    if (!/^[a-z][a-z0-9_-]*$/.test(p.name)) throw new Error(`app-layer parser with invalid name ${JSON.stringify(p.name)}`);
    if (p.transport !== 'tcp' && p.transport !== 'udp' && p.transport !== 'both') throw new Error(`app-layer parser ${p.name}: bad transport`);
    for (const fn of ['probe', 'create', 'parse'] as const) {
      if (typeof p[fn] !== 'function') throw new Error(`app-layer parser ${p.name}: ${fn} is not a function`);
    }
    const key = `${p.name}/${p.transport}`;
    if (seen.has(key)) throw new Error(`app-layer parser ${key} declared twice`);
    seen.add(key);
  }
}

/** The settings of `app-layer:` in the configuration file that shape the parsers. */
export interface AppLayerSettings {
  http: {
    requestBodyLimit: number;
    responseBodyLimit: number;
    extended: boolean;
    /** Content-Encoding layers undone at most (Suricata's response-body-decompress-layer-limit). */
    decompressLayerLimit?: number;
  };
  /** `ja4` and `alpn` add fields Suricata 7.0.4's schema does not have (Suricata 8 names). */
  tls: { ja4: boolean; alpn: boolean };
}

/**
 * The registry's parsers built with the configuration's settings (the HTTP
 * body limits and extended headers, TLS's optional EVE fields); the same list
 * and order as APP_PARSERS.
 */
export function appParsers(s: AppLayerSettings): readonly AppParserDecl<unknown>[] {
  const http = createHttpParser({
    requestBodyLimit: s.http.requestBodyLimit,
    responseBodyLimit: s.http.responseBodyLimit,
    extendedEve: s.http.extended,
    ...(s.http.decompressLayerLimit !== undefined ? { maxEncodingLayers: s.http.decompressLayerLimit } : {}),
  }) as AppParserDecl<unknown>;
  const tls = createTlsParser({ eve: { ja4: s.tls.ja4, alpn: s.tls.alpn } }) as AppParserDecl<unknown>;
  return APP_PARSERS.map((p) => (p === httpParser ? http : p === tlsParser ? tls : p));
}
