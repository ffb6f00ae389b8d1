/**
 * Shared shape of a recognition-only protocol (issue 4): a content probe
 * sets the flow's app_proto, and the parser keeps no state and reports no
 * transactions. Byte-matching helpers for the probes live here too, so each
 * protocol folder holds only what identifies its protocol.
 */
import type { AppParserDecl, Direction, Probe } from './parser.js';

/** The per-flow state of a recogniser: bytes seen per direction (for stats and debugging only). */
export interface SeenState {
  bytes: [number, number];
}

export function recogniser(
  name: string,
  transport: 'tcp' | 'udp' | 'both',
  ports: readonly number[],
  probe: (dir: Direction, buf: Buffer, off: number, len: number) => Probe,
): AppParserDecl<SeenState> {
  return {
    name,
    transport,
    ports,
    probe,
    create: () => ({ bytes: [0, 0] }),
    parse(s, dir, _buf, _off, len) {
      s.bytes[dir] += len;
    },
  };
}

/** Whether `ascii` (a literal, ASCII) is at b[p…], within `end`; case-insensitive when `fold`. */
export function bytesAt(b: Buffer, p: number, end: number, ascii: string, fold = false): boolean {
  if (p + ascii.length > end) return false;
  for (let i = 0; i < ascii.length; i++) {
    let c = b[p + i]!;
    if (fold && c >= 0x61 && c <= 0x7a) c -= 0x20;
    if (c !== ascii.charCodeAt(i)) return false;
  }
  return true;
}

/** As much of `ascii` as fits before `end` matches (a short buffer that could still become it). */
export function prefixAt(b: Buffer, p: number, end: number, ascii: string, fold = false): boolean {
  const n = Math.min(ascii.length, end - p);
  for (let i = 0; i < n; i++) {
    let c = b[p + i]!;
    if (fold && c >= 0x61 && c <= 0x7a) c -= 0x20;
    if (c !== ascii.charCodeAt(i)) return false;
  }
  return true;
}

/** Index of the first `ascii` occurrence in [p, end), case-insensitive when `fold`; -1 if none. */
export function indexOfAscii(b: Buffer, p: number, end: number, ascii: string, fold = false): number {
  for (let i = p; i + ascii.length <= end; i++) if (bytesAt(b, i, end, ascii, fold)) return i;
  return -1;
}

/** Index of the CRLF or LF ending the line starting at p (within max bytes), -1 if not within. */
export function lineEnd(b: Buffer, p: number, end: number, max: number): number {
  const stop = Math.min(end, p + max);
  for (let i = p; i < stop; i++) if (b[i] === 0x0a) return i;
  return -1;
}

/** firstTextLine(): the line is not complete yet but may still be text. */
export const LINE_NEED_MORE = -1;
/** firstTextLine(): not a text line (unprintable, or no line end within max bytes). */
export const LINE_NO = -2;

/**
 * The first line of a text protocol's message at b[off..off+len): the end
 * of its text (before CRLF or LF) if it is complete and printable, else
 * LINE_NEED_MORE or LINE_NO. A line cut between its CR and LF is still text.
 */
export function firstTextLine(b: Buffer, off: number, len: number, max: number): number {
  const end = off + len;
  const eol = lineEnd(b, off, end, max);
  if (eol < 0) {
    const textEnd = b[end - 1] === 0x0d ? end - 1 : end;
    return len >= max || !printable(b, off, textEnd) ? LINE_NO : LINE_NEED_MORE;
  }
  const textEnd = b[eol - 1] === 0x0d ? eol - 1 : eol;
  return printable(b, off, textEnd) ? textEnd : LINE_NO;
}

/** All bytes in [p, e) are printable ASCII (or TAB). */
export function printable(b: Buffer, p: number, e: number): boolean {
  for (let i = p; i < e; i++) {
    const c = b[i]!;
    if ((c < 0x20 || c > 0x7e) && c !== 0x09) return false;
  }
  return true;
}
