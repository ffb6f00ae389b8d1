/**
 * Recognition-only protocols of issue 4 (app_proto set, no full parser yet),
 * plus QUIC (SNI and JA3 from the decrypted Initial). The registry lists
 * these after the full parsers: `...RECOGNISERS`. Each probe is strict
 * enough not to claim HTTP, TLS, SSH or DNS bytes (test/applayer/recognisers.test.ts).
 */
import type { AppParserDecl } from './parser.js';
import { quicParser } from './quic/index.js';
import { smtpParser } from './smtp/index.js';
import { ftpParser } from './ftp/index.js';
import { redisParser } from './redis/index.js';
import { pgsqlParser } from './pgsql/index.js';
import { mysqlParser } from './mysql/index.js';
import { mqttParser } from './mqtt/index.js';
import { kafkaParser } from './kafka/index.js';
import { stratumParser } from './stratum/index.js';
import { bittorrentDhtParser, bittorrentParser, bittorrentUdpParser } from './bittorrent/index.js';
import { smbParser } from './smb/index.js';
import { rdpParser } from './rdp/index.js';

export const RECOGNISERS: readonly AppParserDecl<unknown>[] = [
  quicParser as AppParserDecl<unknown>,
  smtpParser as AppParserDecl<unknown>,
  ftpParser as AppParserDecl<unknown>,
  redisParser as AppParserDecl<unknown>,
  pgsqlParser as AppParserDecl<unknown>,
  mysqlParser as AppParserDecl<unknown>,
  mqttParser as AppParserDecl<unknown>,
  kafkaParser as AppParserDecl<unknown>,
  stratumParser as AppParserDecl<unknown>,
  bittorrentParser as AppParserDecl<unknown>,
  bittorrentUdpParser as AppParserDecl<unknown>,
  bittorrentDhtParser as AppParserDecl<unknown>,
  smbParser as AppParserDecl<unknown>,
  rdpParser as AppParserDecl<unknown>,
];
