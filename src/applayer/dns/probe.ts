/**
 * Content-based DNS detection: a plausible header and a well-formed first
 * question, on any port. Allocation-free; reads at most header + one name.
 *
 * What makes random bytes fail: opcode must be assigned (0,1,2,4,5,6), the
 * question count 1..16 (or 0 in a response or an inverse query, whose
 * first answer record is then checked the same way: see probeFirstRecord),
 * the first name made of labels within 255 octets, possibly ending in a
 * compression pointer that leads forward to a well-formed name (nothing
 * before the first question can be pointed at, but a forward pointer is
 * legal: masscan's `version.bind` probe ends its name with one, and
 * Suricata's name parser follows it), the class one
 * of IN/CH/HS/NONE/ANY (mDNS's unicast bit masked), and — when the whole
 * message is at hand — enough bytes left for the records the header counts
 * (each at least 11). Roughly a 2^-20 false-positive rate on uniform noise.
 */
import { Probe } from '../parser.js';

const MAX_PROBE_QUESTIONS = 16;
/** Smallest message with one question: header + root name + type + class. */
const MIN_QUERY_LEN = 12 + 1 + 4;

function probeMessage(buf: Buffer, off: number, avail: number, complete: boolean): Probe {
  if (avail < 12) return complete ? Probe.NO : Probe.NEED_MORE;
  const flags = (buf[off + 2] << 8) | buf[off + 3];
  const opcode = (flags >> 11) & 0xf;
  if (opcode > 6 || opcode === 3) return Probe.NO;
  const qd = (buf[off + 4] << 8) | buf[off + 5];
  const an = (buf[off + 6] << 8) | buf[off + 7];
  const rrs = an + ((buf[off + 8] << 8) | buf[off + 9]) + ((buf[off + 10] << 8) | buf[off + 11]);
  const end = off + avail;
  // A response without a question: unsolicited mDNS announcements (RFC 6762
  // §8.3) open their flow with one. Suricata's probe accepts a message
  // without questions too (it checks only that the counted records fit);
  // here the first answer record must look like one instead.
  // An inverse query (opcode 1, RFC 1035 §6.4, obsoleted by RFC 3425) asks with one answer record and no question.
  if (qd === 0) return ((flags & 0x8000) !== 0 || opcode === 1) && an >= 1 ? probeFirstRecord(buf, off + 12, end, complete, rrs) : Probe.NO;
  if (qd > MAX_PROBE_QUESTIONS) return Probe.NO;
  let p = skipQuestionName(buf, off + 12, end, off);
  if (p < 0) return p === NAME_SHORT && !complete ? Probe.NEED_MORE : Probe.NO;
  if (p + 4 > end) return complete ? Probe.NO : Probe.NEED_MORE;
  if (!plausibleClass(buf, p)) return Probe.NO;
  p += 4;
  // Each further question needs >= 5 bytes, each record >= 11.
  if (complete && end - p < (qd - 1) * 5 + rrs * 11) return Probe.NO;
  return Probe.YES;
}

/** skipPlainName: the name ran past the data seen so far. */
const NAME_SHORT = -1;
/** skipPlainName: not a name of plain labels (pointer, label > 63, name > 255). */
const NAME_BAD = -2;

/** The offset after a name of plain labels at p, or NAME_SHORT / NAME_BAD. */
function skipPlainName(buf: Buffer, p: number, end: number): number {
  let wire = 1;
  for (;;) {
    if (p >= end) return NAME_SHORT;
    const l = buf[p];
    if (l === 0) return p + 1;
    if (l > 63) return NAME_BAD;
    wire += l + 1;
    if (wire > 255) return NAME_BAD;
    p += l + 1;
  }
}

/** Hops followed at most from the first question's pointer (real names need one). */
const MAX_PROBE_HOPS = 4;

/**
 * The offset after the first question's name at p: labels, then a zero or
 * a pointer to a well-formed name after the header (followed at most
 * MAX_PROBE_HOPS times, 255 octets in all). NAME_SHORT / NAME_BAD as for
 * skipPlainName. `msg` is the message's first byte.
 */
function skipQuestionName(buf: Buffer, p: number, end: number, msg: number): number {
  let wire = 1;
  let after = -1;
  for (let hops = 0; ; ) {
    if (p >= end) return NAME_SHORT;
    const l = buf[p];
    if (l === 0) return after >= 0 ? after : p + 1;
    if (l >= 0xc0) {
      if (p + 2 > end) return NAME_SHORT;
      if (after < 0) after = p + 2;
      if (++hops > MAX_PROBE_HOPS) return NAME_BAD;
      const target = msg + (((l & 0x3f) << 8) | buf[p + 1]);
      if (target < msg + 12) return NAME_BAD;
      p = target;
      continue;
    }
    if (l > 63) return NAME_BAD;
    wire += l + 1;
    if (wire > 255) return NAME_BAD;
    p += l + 1;
  }
}

/** Class at p+2 is IN, CH, HS, NONE or ANY (mDNS's top bit — unicast-response / cache-flush — masked). */
function plausibleClass(buf: Buffer, p: number): boolean {
  const cls = ((buf[p + 2] << 8) | buf[p + 3]) & 0x7fff;
  return cls === 1 || cls === 3 || cls === 4 || cls === 254 || cls === 255;
}

/** Longest rdata of a plausible first answer (a TXT or certificate record is rarely longer). */
const MAX_PROBE_RDLEN = 4096;

/**
 * The first resource record of a message without questions, at p: a name of
 * plain labels (a pointer there would point into the header), a class of
 * IN/CH/HS/NONE/ANY (mDNS's cache-flush bit masked), an rdata length that
 * fits; when the message is whole, room for the remaining records.
 */
function probeFirstRecord(buf: Buffer, p: number, end: number, complete: boolean, rrs: number): Probe {
  p = skipPlainName(buf, p, end);
  if (p < 0) return p === NAME_SHORT && !complete ? Probe.NEED_MORE : Probe.NO;
  if (p + 10 > end) return complete ? Probe.NO : Probe.NEED_MORE;
  if (!plausibleClass(buf, p)) return Probe.NO;
  const rdlen = (buf[p + 8] << 8) | buf[p + 9];
  if (rdlen > MAX_PROBE_RDLEN) return Probe.NO;
  p += 10 + rdlen;
  if (complete && (p > end || end - p < (rrs - 1) * 11)) return Probe.NO;
  return Probe.YES;
}

/** A DNS message over UDP (the datagram is complete: never NEED_MORE). */
export function probeDnsUdp(buf: Buffer, off: number, len: number): Probe {
  if (len < MIN_QUERY_LEN) return Probe.NO;
  return probeMessage(buf, off, len, true);
}

/** A DNS message over TCP: 2-byte length prefix, then the message (may be incomplete). */
export function probeDnsTcp(buf: Buffer, off: number, len: number): Probe {
  if (len < 2) return Probe.NEED_MORE;
  const mlen = (buf[off] << 8) | buf[off + 1];
  if (mlen < MIN_QUERY_LEN) return Probe.NO;
  const avail = Math.min(len - 2, mlen);
  return probeMessage(buf, off + 2, avail, avail === mlen);
}
