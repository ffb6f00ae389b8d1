/**
 * FTP control recognition (app_proto `ftp`, RFC 959). Server: a `220`
 * greeting naming FTP; client: `USER <name>` as the first command (an
 * anonymous or named login is how every FTP session starts), or the
 * `AUTH TLS` / `AUTH SSL` line an FTPS session starts with instead.
 *
 * Beyond recognition, AUTH TLS (RFC 4217 §4): `AUTH TLS` (or the older
 * `AUTH SSL`, `AUTH TLS-C`, `AUTH TLS-P`) answered by `234` hands the
 * control connection to detection, which finds TLS — as Suricata's FTP
 * parser does on the 234 to AUTH TLS. Any other answer and it stays FTP.
 * Replies pair with commands in order: `1yz` replies are preliminary (a
 * command gets its final reply later), and a multi-line reply (`ddd-` …)
 * ends only at a line starting with the same code and a space (RFC 959
 * §4.2), whatever the lines between say. Mechanics: ../smtp/dialogue.ts.
 */
import { Probe, type AppParserDecl, type Direction } from '../parser.js';
import { greetingNames, isGreetingCode } from '../smtp/index.js';
import { Answer, dialogueSwitch, feedDialogue, lineIs, newDialogue, replyCode, type Dialect, type DialogueState } from '../smtp/dialogue.js';
import { bytesAt, lineEnd, prefixAt, printable } from '../recognition.js';

/** `AUTH TLS`/`AUTH SSL`/`AUTH TLS-C`/`AUTH TLS-P` as a whole first line: YES, NO, NEED_MORE. */
function authTlsLine(b: Buffer, off: number, end: number): Probe {
  if (!prefixAt(b, off, end, 'AUTH ', true)) return Probe.NO;
  const eol = lineEnd(b, off, end, 16);
  if (eol < 0) return end - off >= 16 ? Probe.NO : Probe.NEED_MORE;
  const n = (b[eol - 1] === 0x0d ? eol - 1 : eol) - off;
  const is = (w: string): boolean => n === w.length && bytesAt(b, off, end, w, true);
  return is('AUTH TLS') || is('AUTH SSL') || is('AUTH TLS-C') || is('AUTH TLS-P') ? Probe.YES : Probe.NO;
}

export function probeFtp(dir: Direction, b: Buffer, off: number, len: number): Probe {
  if (dir === 1) return greetingNames(b, off, len, 'FTP');
  const end = off + len;
  // RFC 4217 §4: an FTPS client's first command is AUTH, before USER
  if (prefixAt(b, off, end, 'AUTH', true)) return authTlsLine(b, off, end);
  if (len < 5) return prefixAt(b, off, end, 'USER ', true) ? Probe.NEED_MORE : Probe.NO;
  if (!bytesAt(b, off, end, 'USER ', true)) return Probe.NO;
  const eol = lineEnd(b, off, end, 256);
  if (eol < 0) return len >= 256 ? Probe.NO : Probe.NEED_MORE;
  return b[eol - 1] === 0x0d && eol - 1 > off + 5 && printable(b, off + 5, eol - 1) ? Probe.YES : Probe.NO;
}

export interface FtpState extends DialogueState {
  /** The code of an open multi-line reply (`ddd-` seen, `ddd ` not yet), -1 none. */
  multi: number;
}

const ftpDialect: Dialect<FtpState> = {
  clientLine(s, text, len) {
    s.cmds++;
    return lineIs(text, len, 'AUTH TLS') || lineIs(text, len, 'AUTH SSL') || lineIs(text, len, 'AUTH TLS-C') || lineIs(text, len, 'AUTH TLS-P');
  },
  serverLine(s, text, len) {
    const code = replyCode(text, len);
    if (s.multi >= 0) {
      // only "<same code><SP>" closes a multi-line reply
      if (code !== s.multi || (len > 3 && text[3] !== 0x20)) return Answer.NONE;
      s.multi = -1;
    } else {
      if (code < 0) return Answer.NONE;
      if (len > 3 && text[3] === 0x2d) {
        s.multi = code;
        return Answer.NONE;
      }
    }
    if (code < 200) return Answer.NONE; // 1yz: preliminary, the final reply follows
    if (!s.greeted) {
      s.greeted = true;
      if (isGreetingCode(code)) return Answer.NONE;
    }
    if (s.replies++ !== s.upgradeAt) return Answer.NONE;
    return code === 234 ? Answer.ACCEPT : Answer.REFUSE;
  },
};

export const ftpParser: AppParserDecl<FtpState> = {
  name: 'ftp',
  transport: 'tcp',
  ports: [21],
  probe: probeFtp,
  create: () => ({ ...newDialogue(), multi: -1 }),
  parse: (s, dir, buf, off, len) => feedDialogue(ftpDialect, s, dir, buf, off, len),
  switchTo: dialogueSwitch,
};
