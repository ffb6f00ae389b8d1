/**
 * Content-based DNS detection: a plausible header and a well-formed first
 * question, on any port. Allocation-free; reads at most header + one name.
 *
 * What makes random bytes fail: opcode must be assigned (0,1,2,4,5,6), the
 * question count 1..16, the first name made of plain labels (a pointer
 * there has nothing earlier to point at) within 255 octets, the class one
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
  if (qd < 1 || qd > MAX_PROBE_QUESTIONS) return Probe.NO;
  const rrs = ((buf[off + 6] << 8) | buf[off + 7]) + ((buf[off + 8] << 8) | buf[off + 9]) + ((buf[off + 10] << 8) | buf[off + 11]);
  const end = off + avail;
  let p = off + 12;
  let wire = 1;
  for (;;) {
    if (p >= end) return complete ? Probe.NO : Probe.NEED_MORE;
    const l = buf[p];
    if (l === 0) break;
    if (l > 63) return Probe.NO;
    wire += l + 1;
    if (wire > 255) return Probe.NO;
    p += l + 1;
  }
  p++;
  if (p + 4 > end) return complete ? Probe.NO : Probe.NEED_MORE;
  const cls = ((buf[p + 2] << 8) | buf[p + 3]) & 0x7fff;
  if (cls !== 1 && cls !== 3 && cls !== 4 && cls !== 254 && cls !== 255) return Probe.NO;
  p += 4;
  // Each further question needs >= 5 bytes, each record >= 11.
  if (complete && end - p < (qd - 1) * 5 + rrs * 11) return Probe.NO;
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
