/**
 * Domain names on the wire (RFC 1035 §3.1, §4.1.4): decode with compression
 * pointers, encode with optional compression.
 *
 * Decoding is the hot part: it runs for every name of every message. It
 * copies label bytes into one module-level scratch buffer and makes a single
 * string at the end (no per-label strings, no result object); the result is
 * left in `nameResult` and the function returns the position after the name
 * or a negative `NameError`.
 *
 * Hostile input is bounded three ways: the wire length of a name is at most
 * 255 octets (labels at most 63), a name follows at most MAX_POINTERS
 * compression pointers (and a message MAX_POINTERS_PER_MESSAGE), and a
 * pointer that revisits an offset already followed in this name is a loop. Forward pointers are allowed (legal, and
 * seen in the wild), so the visited check is what guarantees termination.
 */
import { bytesToText } from './text.js';

/** Wire length limit of a name, root label included (RFC 1035 §2.3.4). */
export const MAX_NAME_OCTETS = 255;
export const MAX_LABEL_OCTETS = 63;
/** A 255-octet name has at most 127 labels, so more pointers than that can only be a loop or junk. */
export const MAX_POINTERS = 128;
/**
 * Pointers followed in one whole message. Real messages follow one to three per
 * name; without a message-wide budget a 64 KiB message of records whose
 * names each chain through 127 pointers would cost ~50 ms to decode.
 */
export const MAX_POINTERS_PER_MESSAGE = 32768;

let pointerBudget = MAX_POINTERS_PER_MESSAGE;

/**
 * Names already decoded in the current message, by message offset. Most
 * names of a response are a bare pointer to a name decoded just before (the
 * owner of every answer points at the question; A records point at the
 * CNAME target), so a hit returns the same string without copying bytes or
 * making a new one: measured ~25% off a typical response's decode.
 */
const CACHE_SIZE = 16;
const cacheOff = new Int32Array(CACHE_SIZE);
const cacheStr: string[] = new Array<string>(CACHE_SIZE).fill('');
let cacheN = 0;

/** Start a new message: refill the pointer budget, forget the previous message's names. */
export function beginMessage(): void {
  pointerBudget = MAX_POINTERS_PER_MESSAGE;
  cacheN = 0;
}

export const enum NameError {
  TRUNCATED = -1,
  NAME_TOO_LONG = -2,
  POINTER_LOOP = -3,
  BAD_POINTER = -4,
  BAD_LABEL_TYPE = -5,
  TOO_MANY_POINTERS = -6,
}

/** The name decoded by the last successful readName (Suricata's form: labels joined by '.', root = ''). */
export let nameResult = '';

const scratch = Buffer.allocUnsafe(MAX_NAME_OCTETS + 1);
const visited = new Int32Array(MAX_POINTERS);

/**
 * Decode the name at `pos` of the message buf[msgStart, msgEnd).
 * Returns the position just after the name as it appears at `pos` (after the
 * first pointer when compressed), or a negative NameError.
 */
export function readName(buf: Buffer, msgStart: number, msgEnd: number, pos: number): number {
  // Where the full name begins (relative to the message): a bare pointer's target, or pos.
  let key = pos - msgStart;
  if (pos + 1 < msgEnd && (buf[pos] & 0xc0) === 0xc0) {
    key = ((buf[pos] & 0x3f) << 8) | buf[pos + 1];
    for (let i = 0; i < cacheN; i++) {
      if (cacheOff[i] === key) {
        nameResult = cacheStr[i];
        return pos + 2;
      }
    }
  }
  let p = pos;
  let after = -1;
  let out = 0;
  let wire = 1; // the terminating root label
  let ptrs = 0;
  let high = 0;
  for (;;) {
    if (p >= msgEnd) return NameError.TRUNCATED;
    const l = buf[p];
    if (l === 0) {
      p++;
      break;
    }
    const kind = l & 0xc0;
    if (kind === 0xc0) {
      if (p + 1 >= msgEnd) return NameError.TRUNCATED;
      const target = ((l & 0x3f) << 8) | buf[p + 1];
      if (after < 0) after = p + 2;
      if (msgStart + target >= msgEnd) return NameError.BAD_POINTER;
      for (let i = 0; i < ptrs; i++) if (visited[i] === target) return NameError.POINTER_LOOP;
      if (ptrs === MAX_POINTERS || --pointerBudget < 0) return NameError.TOO_MANY_POINTERS;
      visited[ptrs++] = target;
      p = msgStart + target;
      continue;
    }
    // 0x40 (extended label, RFC 6891 deprecated it) and 0x80 are reserved.
    if (kind !== 0) return NameError.BAD_LABEL_TYPE;
    const end = p + 1 + l;
    if (end > msgEnd) return NameError.TRUNCATED;
    wire += l + 1;
    if (wire > MAX_NAME_OCTETS) return NameError.NAME_TOO_LONG;
    if (out > 0) scratch[out++] = 0x2e;
    for (let i = p + 1; i < end; i++) {
      const b = buf[i];
      high |= b;
      scratch[out++] = b;
    }
    p = end;
  }
  nameResult = out === 0 ? '' : high < 0x80 ? scratch.toString('latin1', 0, out) : bytesToText(scratch, 0, out);
  if (cacheN < CACHE_SIZE) {
    cacheOff[cacheN] = key;
    cacheStr[cacheN++] = nameResult;
  }
  return after >= 0 ? after : p;
}

/** Wire length of `name` written uncompressed (for sizing buffers). */
export function nameWireLength(name: string): number {
  if (name === '' || name === '.') return 1;
  const t = name.endsWith('.') ? name.slice(0, -1) : name;
  return Buffer.byteLength(t, 'utf8') + 2;
}

/**
 * Name writer for the encoder. With `compress`, a suffix already written in
 * this message is replaced by a pointer (only offsets < 0x4000 can be pointed at).
 * Labels are split at '.', so a label containing a dot cannot be encoded —
 * the same limitation as Suricata's presentation of names.
 */
export class NameWriter {
  private readonly seen = new Map<string, number>();
  constructor(private readonly compress: boolean) {}

  /** Write `name` at buf[pos] (the message starts at buf[0]); returns the new position. */
  write(buf: Buffer, pos: number, name: string): number {
    const t = name.endsWith('.') ? name.slice(0, -1) : name;
    const labels = t === '' ? [] : t.split('.');
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.').toLowerCase();
      if (this.compress) {
        const at = this.seen.get(suffix);
        if (at !== undefined) {
          buf.writeUInt16BE(0xc000 | at, pos);
          return pos + 2;
        }
        if (pos < 0x4000) this.seen.set(suffix, pos);
      }
      const n = buf.write(labels[i], pos + 1, 'utf8');
      if (n > MAX_LABEL_OCTETS || n === 0) throw new RangeError(`DNS label length ${n} in ${JSON.stringify(name)}`);
      buf[pos] = n;
      pos += 1 + n;
    }
    buf[pos] = 0;
    return pos + 1;
  }
}
