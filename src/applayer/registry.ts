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
import { httpParser } from './http/index.js';
import { http2Parser } from './http2/index.js';
import { sshParser } from './ssh/index.js';
import { tlsParser } from './tls/index.js';
import { RECOGNISERS } from './recognisers.js';

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
