/**
 * POP3 (app_proto `pop3`, RFC 1939): recognition plus the STLS hand-off
 * (RFC 2595 §4).
 *
 * Recognised by the server greeting `+OK <text>` (the text is required:
 * Redis answers a bare `+OK`), or by a client's first line `CAPA`, `STLS`,
 * `APOP <name> <digest>`, `USER <name>` or `AUTH [<mechanism>]`. `USER` and
 * `AUTH TLS` open FTP sessions too: the port, then the registry order (FTP
 * first) decide; claiming them here keeps a POP3 session that the greeting
 * identified from being reported as a protocol mismatch when the client
 * then sends `USER`.
 *
 * `STLS` answered by `+OK` hands the connection to detection, which finds
 * TLS; `-ERR` and it stays POP3. Replies pair with commands in order (RFC
 * 2449 PIPELINING): each command gets one status line (`+OK`, `-ERR`, or a
 * SASL `+ ` challenge); the positive answers to CAPA, RETR, TOP, and to LIST
 * and UIDL without an argument, go on as a multi-line body ending at `.`,
 * whose lines are not status lines. Mechanics: ../smtp/dialogue.ts.
 */
import { Probe, type AppParserDecl, type Direction } from '../parser.js';
import { Answer, dialogueSwitch, feedDialogue, lineIs, newDialogue, startsWithWord, type Dialect, type DialogueState } from '../smtp/dialogue.js';
import { bytesAt, firstTextLine, LINE_NEED_MORE, prefixAt } from '../recognition.js';

const MAX_FIRST_LINE = 512;
/** Commands in flight whose reply shape is remembered (a ring); more than this many pipelined and the oldest are forgotten. */
const QUEUE = 64;

export function probePop3(dir: Direction, b: Buffer, off: number, len: number): Probe {
  const end = off + len;
  if (dir === 1) {
    if (!prefixAt(b, off, end, '+OK ')) return Probe.NO;
    if (len < 5) return Probe.NEED_MORE;
  } else {
    const ok = prefixAt(b, off, end, 'CAPA', true) || prefixAt(b, off, end, 'STLS', true) || prefixAt(b, off, end, 'APOP ', true) || prefixAt(b, off, end, 'USER ', true) || prefixAt(b, off, end, 'AUTH', true);
    if (!ok) return Probe.NO;
  }
  const textEnd = firstTextLine(b, off, len, MAX_FIRST_LINE);
  if (textEnd < 0) return textEnd === LINE_NEED_MORE ? Probe.NEED_MORE : Probe.NO;
  if (dir === 1) return textEnd > off + 4 ? Probe.YES : Probe.NO;
  const n = textEnd - off;
  if (n === 4) return bytesAt(b, off, end, 'CAPA', true) || bytesAt(b, off, end, 'STLS', true) || bytesAt(b, off, end, 'AUTH', true) ? Probe.YES : Probe.NO;
  return (bytesAt(b, off, end, 'APOP ', true) || bytesAt(b, off, end, 'USER ', true) || bytesAt(b, off, end, 'AUTH ', true)) && n > 5 ? Probe.YES : Probe.NO;
}

export interface Pop3State extends DialogueState {
  /** Per command ordinal (mod QUEUE): 1 if its positive answer is multi-line. */
  readonly multi: Uint8Array;
  /** Inside a multi-line answer (until the `.` line). */
  body: boolean;
}

/** Whether a positive answer to this command line is multi-line (RFC 1939, RFC 2449 CAPA). */
function multiLine(text: Buffer, len: number): boolean {
  if (lineIs(text, len, 'CAPA') || lineIs(text, len, 'LIST') || lineIs(text, len, 'UIDL')) return true;
  return startsWithWord(text, 0, len, 'RETR ') || startsWithWord(text, 0, len, 'TOP ');
}

const pop3Dialect: Dialect<Pop3State> = {
  clientLine(s, text, len) {
    s.multi[s.cmds % QUEUE] = multiLine(text, len) ? 1 : 0;
    s.cmds++;
    return lineIs(text, len, 'STLS');
  },
  serverLine(s, text, len) {
    if (s.body) {
      if (len === 1 && text[0] === 0x2e) s.body = false;
      return Answer.NONE;
    }
    const pos = startsWithWord(text, 0, len, '+OK');
    if (!pos && !startsWithWord(text, 0, len, '-ERR') && !startsWithWord(text, 0, len, '+ ')) return Answer.NONE;
    if (!s.greeted) {
      s.greeted = true;
      if (pos && s.cmds === 0) return Answer.NONE;
    }
    const n = s.replies++;
    if (pos && n < s.cmds && s.multi[n % QUEUE] === 1) s.body = true;
    if (n !== s.upgradeAt) return Answer.NONE;
    return pos ? Answer.ACCEPT : Answer.REFUSE;
  },
};

export const pop3Parser: AppParserDecl<Pop3State> = {
  name: 'pop3',
  transport: 'tcp',
  ports: [110],
  probe: probePop3,
  create: () => ({ ...newDialogue(), multi: new Uint8Array(QUEUE), body: false }),
  parse: (s, dir, buf, off, len) => feedDialogue(pop3Dialect, s, dir, buf, off, len),
  switchTo: dialogueSwitch,
};
