/**
 * IPv4 options (RFC 791 and the IANA registry): which options a header
 * carries, as one bit per option type in `Packet.ipOpts`, and the validity
 * checks Suricata applies (decode-ipv4.c), raising its event names.
 *
 * Bits rather than a list so the rule keyword `ipopts:` is one AND and the
 * packet holds no per-packet array.
 */
import { decoderEventId } from './events.js';
import type { Packet } from './packet.js';
import type { EventSink } from './sink.js';

/** Option type bytes. */
export const enum Ipv4Opt {
  EOL = 0x00,
  NOP = 0x01,
  RR = 0x07,
  QS = 0x19,
  TS = 0x44,
  SEC = 0x82,
  LSRR = 0x83,
  CIPSO = 0x86,
  SID = 0x88,
  SSRR = 0x89,
  RTRALT = 0x94,
}

/** Bits in Packet.ipOpts (names as Suricata's `ipopts` keyword uses them). */
export const IPV4_OPT_BIT = {
  eol: 1 << 0,
  nop: 1 << 1,
  rr: 1 << 2,
  ts: 1 << 3,
  sec: 1 << 4,
  lsrr: 1 << 5,
  ssrr: 1 << 6,
  satid: 1 << 7,
  rtralt: 1 << 8,
  cipso: 1 << 9,
  qs: 1 << 10,
  /** Any option type not listed above. */
  unknown: 1 << 11,
} as const;

export type Ipv4OptName = keyof typeof IPV4_OPT_BIT;

const E_INVALID = decoderEventId('decoder.ipv4.opt_invalid');
const E_INVALID_LEN = decoderEventId('decoder.ipv4.opt_invalid_len');
const E_MALFORMED = decoderEventId('decoder.ipv4.opt_malformed');
const E_PAD_REQUIRED = decoderEventId('decoder.ipv4.opt_pad_required');
const E_EOL_REQUIRED = decoderEventId('decoder.ipv4.opt_eol_required');
const E_DUPLICATE = decoderEventId('decoder.ipv4.opt_duplicate');

/** Bit for an option type byte (0 for EOL/NOP handled by the caller). */
function bitOf(type: number): number {
  switch (type) {
    case Ipv4Opt.RR: return IPV4_OPT_BIT.rr;
    case Ipv4Opt.TS: return IPV4_OPT_BIT.ts;
    case Ipv4Opt.SEC: return IPV4_OPT_BIT.sec;
    case Ipv4Opt.LSRR: return IPV4_OPT_BIT.lsrr;
    case Ipv4Opt.SSRR: return IPV4_OPT_BIT.ssrr;
    case Ipv4Opt.SID: return IPV4_OPT_BIT.satid;
    case Ipv4Opt.RTRALT: return IPV4_OPT_BIT.rtralt;
    case Ipv4Opt.CIPSO: return IPV4_OPT_BIT.cipso;
    case Ipv4Opt.QS: return IPV4_OPT_BIT.qs;
    default: return IPV4_OPT_BIT.unknown;
  }
}

/**
 * Parse the options in b[off, off+len) (the bytes after the 20-byte header),
 * raising events on `pkt` and returning the option bits. A malformed option
 * stops the walk (its length cannot be trusted); the packet is still decoded
 * further, and the event says what was wrong.
 */
export function parseIpv4Options(sink: EventSink, pkt: Packet, b: Uint8Array, off: number, len: number): number {
  let bits = 0;
  let i = off;
  const end = off + len;
  while (i < end) {
    const type = b[i];
    if (type === Ipv4Opt.EOL) {
      bits |= IPV4_OPT_BIT.eol;
      // Everything after EOL must be zero padding (RFC 791).
      for (let j = i + 1; j < end; j++) {
        if (b[j] !== 0) {
          sink.event(pkt, E_PAD_REQUIRED);
          break;
        }
      }
      return bits;
    }
    if (type === Ipv4Opt.NOP) {
      bits |= IPV4_OPT_BIT.nop;
      i++;
      continue;
    }
    const rem = end - i;
    if (rem < 2) {
      // A multi-byte option type in the last byte: only EOL may end the list here.
      sink.event(pkt, E_EOL_REQUIRED);
      return bits;
    }
    const olen = b[i + 1];
    if (olen < 2 || olen > rem) {
      sink.event(pkt, E_INVALID_LEN);
      return bits;
    }
    const bit = bitOf(type);
    if (bit !== IPV4_OPT_BIT.unknown && (bits & bit) !== 0) sink.event(pkt, E_DUPLICATE);
    bits |= bit;
    switch (type) {
      case Ipv4Opt.RR:
      case Ipv4Opt.LSRR:
      case Ipv4Opt.SSRR: {
        // type, len, pointer, then 4-byte addresses; pointer is 1-based, >= 4, on an address boundary.
        if (olen < 3 || (olen - 3) % 4 !== 0) sink.event(pkt, E_INVALID_LEN);
        else {
          const ptr = b[i + 2];
          if (ptr < 4 || (ptr - 4) % 4 !== 0 || ptr > olen + 1) sink.event(pkt, E_MALFORMED);
        }
        break;
      }
      case Ipv4Opt.TS: {
        if (olen < 4) sink.event(pkt, E_INVALID_LEN);
        else {
          const ptr = b[i + 2];
          const flag = b[i + 3] & 0x0f;
          const rec = flag === 0 ? 4 : flag === 1 || flag === 3 ? 8 : 0;
          if (rec === 0 || ptr < 5 || (ptr - 5) % rec !== 0 || ptr > olen + 1) sink.event(pkt, E_MALFORMED);
        }
        break;
      }
      case Ipv4Opt.SEC:
        if (olen < 3) sink.event(pkt, E_INVALID_LEN);
        break;
      case Ipv4Opt.SID:
      case Ipv4Opt.RTRALT:
        if (olen !== 4) sink.event(pkt, E_INVALID_LEN);
        break;
      case Ipv4Opt.CIPSO:
        if (olen < 10) sink.event(pkt, E_INVALID_LEN);
        break;
      case Ipv4Opt.QS:
        if (olen !== 8) sink.event(pkt, E_INVALID_LEN);
        break;
      default:
        // Suricata raises opt_invalid for a type it does not know; opt_unknown is kept for rules naming it.
        sink.event(pkt, E_INVALID);
        break;
    }
    i += olen;
  }
  return bits;
}
