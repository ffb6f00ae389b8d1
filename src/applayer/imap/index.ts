/**
 * IMAP (app_proto `imap`, RFC 9051 / RFC 3501): recognition plus the
 * STARTTLS hand-off (RFC 9051 §6.2.1, RFC 2595).
 *
 * Recognised by the server greeting, an untagged `* OK`, `* PREAUTH` or
 * `* BYE` line, or by a client's first command: `<tag> <COMMAND>` with an
 * atom tag and one of the commands a session opens with.
 *
 * `<tag> STARTTLS` answered by the tagged `<tag> OK` hands the connection to
 * detection, which finds TLS; `<tag> NO` / `<tag> BAD` and it stays IMAP.
 * Untagged (`*`) and continuation (`+`) lines answer nothing here. Literals
 * (`{n}` / `{n+}` ending a line, RFC 9051 §4.3) are passed over in both
 * directions so message text is never read as commands or replies.
 * Mechanics: ../smtp/dialogue.ts.
 */
import { Probe, type AppParserDecl, type Direction } from '../parser.js';
import { Answer, dialogueSwitch, feedDialogue, HEAD, newDialogue, startsWithWord, type Dialect, type DialogueState } from '../smtp/dialogue.js';
import { bytesAt, firstTextLine, LINE_NEED_MORE, prefixAt } from '../recognition.js';

/** A greeting may carry a long CAPABILITY list; a first line longer than this is not IMAP. */
const MAX_FIRST_LINE = 2048;
/** A tag is a short atom (clients use `a001`, `A1`, `.`, `1`). */
const MAX_TAG = 32;

/** Commands a client opens an IMAP session with (before or instead of the greeting). */
const OPENING = ['CAPABILITY', 'LOGIN', 'STARTTLS', 'AUTHENTICATE', 'ID', 'NOOP', 'LOGOUT', 'ENABLE', 'SELECT', 'EXAMINE', 'LIST'];

/** RFC 9051 atom-char: printable ASCII except SP ( ) { % * " \ ] (and the tag may not contain `+`). */
function tagChar(c: number): boolean {
  return c > 0x20 && c < 0x7f && c !== 0x28 && c !== 0x29 && c !== 0x7b && c !== 0x25 && c !== 0x2a && c !== 0x22 && c !== 0x5c && c !== 0x5d && c !== 0x2b;
}

/** Length of the tag at the start of the line (ends at a space), 0 if none. */
function tagLength(b: Buffer, p: number, end: number): number {
  let i = p;
  while (i < end && i - p <= MAX_TAG && tagChar(b[i]!)) i++;
  return i > p && i - p <= MAX_TAG && i < end && b[i] === 0x20 ? i - p : 0;
}

export function probeImap(dir: Direction, b: Buffer, off: number, len: number): Probe {
  const end = off + len;
  if (dir === 1) {
    if (!prefixAt(b, off, end, '* ')) return Probe.NO;
    if (len < 6) return Probe.NEED_MORE;
    if (!bytesAt(b, off, end, '* OK', true) && !bytesAt(b, off, end, '* PREAUTH', true) && !bytesAt(b, off, end, '* BYE', true)) {
      return prefixAt(b, off, end, '* PREAUTH', true) ? Probe.NEED_MORE : Probe.NO;
    }
  } else if (len > 0 && !tagChar(b[off]!)) {
    return Probe.NO;
  }
  const textEnd = firstTextLine(b, off, len, MAX_FIRST_LINE);
  if (textEnd < 0) return textEnd === LINE_NEED_MORE ? Probe.NEED_MORE : Probe.NO;
  if (dir === 1) {
    const c = b[off + (bytesAt(b, off, end, '* OK', true) ? 4 : bytesAt(b, off, end, '* BYE', true) ? 5 : 9)];
    return off + 4 >= textEnd || c === 0x20 || c === 0x0d || c === 0x0a ? Probe.YES : Probe.NO;
  }
  const t = tagLength(b, off, textEnd);
  if (t === 0) return Probe.NO;
  const p = off + t + 1;
  for (const cmd of OPENING) {
    if (bytesAt(b, p, textEnd, cmd, true) && (p + cmd.length === textEnd || b[p + cmd.length] === 0x20)) return Probe.YES;
  }
  return Probe.NO;
}

export interface ImapState extends DialogueState {
  /** The STARTTLS command's tag (first tagLen bytes), awaiting its tagged answer. */
  readonly tag: Buffer;
  tagLen: number;
}

const imapDialect: Dialect<ImapState> = {
  clientLine(s, text, len) {
    s.cmds++;
    const t = tagLength(text, 0, len);
    // len HEAD: the line may go on past the kept head, so it is not a bare STARTTLS
    if (t === 0 || len >= HEAD || !startsWithWord(text, t + 1, len, 'STARTTLS')) return false;
    for (let i = t + 9; i < len; i++) if (text[i] !== 0x20 && text[i] !== 0x09) return false;
    text.copy(s.tag, 0, 0, t);
    s.tagLen = t;
    return true;
  },
  serverLine(s, text, len) {
    const t = s.tagLen;
    if (t === 0 || len <= t || text[t] !== 0x20 || text.compare(s.tag, 0, t, 0, t) !== 0) return Answer.NONE;
    s.tagLen = 0;
    return startsWithWord(text, t + 1, len, 'OK') && (len === t + 3 || text[t + 3] === 0x20) ? Answer.ACCEPT : Answer.REFUSE;
  },
};

export const imapParser: AppParserDecl<ImapState> = {
  name: 'imap',
  transport: 'tcp',
  ports: [143],
  probe: probeImap,
  create: () => ({ ...newDialogue(true), tag: Buffer.alloc(HEAD), tagLen: 0 }),
  parse: (s, dir, buf, off, len) => feedDialogue(imapDialect, s, dir, buf, off, len),
  switchTo: dialogueSwitch,
};
