/**
 * SMTP recognition (app_proto `smtp`, RFC 5321). Server: a `220` greeting
 * line naming SMTP/ESMTP (FTP greets with 220 too, so a greeting that names
 * neither leaves the decision to the client). Client: `EHLO`/`HELO` + space.
 */
import { Probe, type Direction } from '../parser.js';
import { bytesAt, indexOfAscii, lineEnd, prefixAt, printable, recogniser } from '../recognition.js';

/** A greeting line longer than this is not a greeting. */
const MAX_LINE = 512;

/** A `220` greeting line: YES if it names `word`, NO if complete and it does not, NEED_MORE while incomplete. */
export function greetingNames(b: Buffer, off: number, len: number, word: string): Probe {
  const end = off + len;
  if (!prefixAt(b, off, end, '220')) return Probe.NO;
  if (len < 4) return Probe.NEED_MORE;
  if (b[off + 3] !== 0x20 && b[off + 3] !== 0x2d) return Probe.NO;
  const eol = lineEnd(b, off, end, MAX_LINE);
  if (eol < 0) {
    const textEnd = b[end - 1] === 0x0d ? end - 1 : end; // a line cut between CR and LF
    return len >= MAX_LINE || !printable(b, off, textEnd) ? Probe.NO : Probe.NEED_MORE;
  }
  const textEnd = b[eol - 1] === 0x0d ? eol - 1 : eol;
  if (!printable(b, off, textEnd)) return Probe.NO;
  return indexOfAscii(b, off + 4, textEnd, word, true) >= 0 ? Probe.YES : Probe.NO;
}

export function probeSmtp(dir: Direction, b: Buffer, off: number, len: number): Probe {
  if (dir === 1) return greetingNames(b, off, len, 'SMTP');
  const end = off + len;
  if (len < 5) return prefixAt(b, off, end, 'EHLO', true) || prefixAt(b, off, end, 'HELO', true) ? Probe.NEED_MORE : Probe.NO;
  return (bytesAt(b, off, end, 'EHLO ', true) || bytesAt(b, off, end, 'HELO ', true)) ? Probe.YES : Probe.NO;
}

export const smtpParser = recogniser('smtp', 'tcp', [25, 587, 2525], probeSmtp);
