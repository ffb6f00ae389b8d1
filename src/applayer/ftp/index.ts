/**
 * FTP control recognition (app_proto `ftp`, RFC 959). Server: a `220`
 * greeting naming FTP; client: `USER <name>` as the first command (an
 * anonymous or named login is how every FTP session starts).
 */
import { Probe, type Direction } from '../parser.js';
import { greetingNames } from '../smtp/index.js';
import { bytesAt, lineEnd, prefixAt, printable, recogniser } from '../recognition.js';

export function probeFtp(dir: Direction, b: Buffer, off: number, len: number): Probe {
  if (dir === 1) return greetingNames(b, off, len, 'FTP');
  const end = off + len;
  if (len < 5) return prefixAt(b, off, end, 'USER ', true) ? Probe.NEED_MORE : Probe.NO;
  if (!bytesAt(b, off, end, 'USER ', true)) return Probe.NO;
  const eol = lineEnd(b, off, end, 256);
  if (eol < 0) return len >= 256 ? Probe.NO : Probe.NEED_MORE;
  return b[eol - 1] === 0x0d && eol - 1 > off + 5 && printable(b, off + 5, eol - 1) ? Probe.YES : Probe.NO;
}

export const ftpParser = recogniser('ftp', 'tcp', [21], probeFtp);
