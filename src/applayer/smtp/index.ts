/**
 * SMTP recognition (app_proto `smtp`, RFC 5321). Server: a `220` greeting
 * line naming SMTP/ESMTP (FTP greets with 220 too, so a greeting that names
 * neither leaves the decision to the client). Client: `EHLO`/`HELO` + space.
 *
 * Beyond recognition, STARTTLS (RFC 3207): the client's `STARTTLS` command
 * answered by `220` hands the connection to detection, which finds TLS —
 * as Suricata's SMTP parser does (AppLayerRequestProtocolTLSUpgrade on the
 * 220 to STARTTLS). Any other answer (`454`, `501`, …) and it stays SMTP.
 * Commands and replies are paired in order (pipelining, RFC 2920): every
 * client line (a command, an AUTH continuation, the `.` ending DATA) gets
 * one final reply (`ddd ` after any `ddd-` lines); the first reply is the
 * greeting. Message content after `DATA` (until `.`) and `BDAT` chunks are
 * not read as commands. Mechanics: ./dialogue.ts.
 */
import { Probe, type AppParserDecl, type Direction } from '../parser.js';
import { bytesAt, indexOfAscii, firstTextLine, LINE_NEED_MORE, prefixAt } from '../recognition.js';
import {
  Answer,
  dialogueSwitch,
  feedDialogue,
  isContinuation,
  lineIs,
  newDialogue,
  replyCode,
  startsWithWord,
  type Dialect,
  type DialogueState,
} from './dialogue.js';

/** A greeting line longer than this is not a greeting. */
const MAX_LINE = 512;

/** A `220` greeting line: YES if it names `word`, NO if complete and it does not, NEED_MORE while incomplete. */
export function greetingNames(b: Buffer, off: number, len: number, word: string): Probe {
  const end = off + len;
  if (!prefixAt(b, off, end, '220')) return Probe.NO;
  if (len < 4) return Probe.NEED_MORE;
  if (b[off + 3] !== 0x20 && b[off + 3] !== 0x2d) return Probe.NO;
  const textEnd = firstTextLine(b, off, len, MAX_LINE);
  if (textEnd < 0) return textEnd === LINE_NEED_MORE ? Probe.NEED_MORE : Probe.NO;
  return indexOfAscii(b, off + 4, textEnd, word, true) >= 0 ? Probe.YES : Probe.NO;
}

export function probeSmtp(dir: Direction, b: Buffer, off: number, len: number): Probe {
  if (dir === 1) return greetingNames(b, off, len, 'SMTP');
  const end = off + len;
  if (len < 5) return prefixAt(b, off, end, 'EHLO', true) || prefixAt(b, off, end, 'HELO', true) ? Probe.NEED_MORE : Probe.NO;
  return (bytesAt(b, off, end, 'EHLO ', true) || bytesAt(b, off, end, 'HELO ', true)) ? Probe.YES : Probe.NO;
}

export interface SmtpState extends DialogueState {
  /** Client is sending message content (after DATA, until the `.` line). */
  data: boolean;
  /** Ordinal of the last DATA command, -1 none: a reply other than 354 to it ends `data`. */
  dataAt: number;
}

/** Whether a final reply code may be a greeting (RFC 5321 §3.1: 220, or 554/421 refusing service). */
export const isGreetingCode = (code: number): boolean => code === 220 || code === 554 || code === 421;

/** Reads `BDAT <size>[ LAST]`: the size, or -1. */
function bdatSize(text: Buffer, len: number): number {
  if (!startsWithWord(text, 0, len, 'BDAT ')) return -1;
  let n = 0;
  let p = 5;
  for (; p < len && text[p]! >= 0x30 && text[p]! <= 0x39; p++) n = Math.min(n * 10 + text[p]! - 0x30, 2 ** 40);
  return p > 5 ? n : -1;
}

const smtpDialect: Dialect<SmtpState> = {
  clientLine(s, text, len) {
    if (s.data) {
      // RFC 5321 §4.5.2: the content ends at a line holding one '.'
      if (len === 1 && text[0] === 0x2e) {
        s.data = false;
        s.cmds++;
      }
      return false;
    }
    s.cmds++;
    if (lineIs(text, len, 'STARTTLS')) return true;
    if (lineIs(text, len, 'DATA')) {
      s.data = true;
      s.dataAt = s.cmds - 1;
      return false;
    }
    const bdat = bdatSize(text, len);
    if (bdat > 0) s.skip[0] += bdat;
    return false;
  },
  serverLine(s, text, len) {
    const code = replyCode(text, len);
    if (code < 0 || isContinuation(text, len) || code < 200) return Answer.NONE;
    if (!s.greeted) {
      s.greeted = true;
      // Suricata takes the first reply as the greeting; a capture that missed it starts with a reply to a command instead
      if (isGreetingCode(code)) return Answer.NONE;
    }
    const n = s.replies++;
    if (n === s.dataAt && code !== 354) s.data = false;
    if (n !== s.upgradeAt) return Answer.NONE;
    return code === 220 ? Answer.ACCEPT : Answer.REFUSE;
  },
};

export const smtpParser: AppParserDecl<SmtpState> = {
  name: 'smtp',
  transport: 'tcp',
  ports: [25, 587, 2525],
  probe: probeSmtp,
  create: () => ({ ...newDialogue(), data: false, dataAt: -1 }),
  parse: (s, dir, buf, off, len) => feedDialogue(smtpDialect, s, dir, buf, off, len),
  switchTo: dialogueSwitch,
};
