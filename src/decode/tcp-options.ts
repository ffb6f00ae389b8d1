/**
 * TCP options (RFC 9293, 7323, 2018): MSS, window scale, SACK-permitted,
 * SACK blocks and timestamps go to the packet; malformed lengths raise
 * Suricata's events (decoder.tcp.opt_invalid_len, decoder.tcp.opt_duplicate).
 */
import { decoderEventId } from './events.js';
import type { Packet } from './packet.js';
import type { EventSink } from './sink.js';

const E_OPT_INVALID_LEN = decoderEventId('decoder.tcp.opt_invalid_len');
const E_OPT_DUPLICATE = decoderEventId('decoder.tcp.opt_duplicate');

const OPT_EOL = 0;
const OPT_NOP = 1;
const OPT_MSS = 2;
const OPT_WS = 3;
const OPT_SACKOK = 4;
const OPT_SACK = 5;
const OPT_TS = 8;

/** Walk b[off, off+len); set pkt.tcpMss/tcpWscale/tcpSackPermitted/tcpSackBlocks/tcpTsVal/tcpTsEcr. */
export function parseTcpOptions(sink: EventSink, pkt: Packet, b: Uint8Array, off: number, len: number): void {
  let i = off;
  const end = off + len;
  let seen = 0; // bit per option kind (< 32) already seen, for duplicates
  while (i < end) {
    const kind = b[i];
    if (kind === OPT_EOL) return;
    if (kind === OPT_NOP) {
      i++;
      continue;
    }
    if (end - i < 2) {
      sink.event(pkt, E_OPT_INVALID_LEN);
      return;
    }
    const olen = b[i + 1];
    if (olen < 2 || olen > end - i) {
      sink.event(pkt, E_OPT_INVALID_LEN);
      return;
    }
    if (kind < 32) {
      const bit = 1 << kind;
      if ((seen & bit) !== 0) sink.event(pkt, E_OPT_DUPLICATE);
      seen |= bit;
    }
    switch (kind) {
      case OPT_MSS:
        if (olen !== 4) sink.event(pkt, E_OPT_INVALID_LEN);
        else pkt.tcpMss = (b[i + 2] << 8) | b[i + 3];
        break;
      case OPT_WS:
        if (olen !== 3) sink.event(pkt, E_OPT_INVALID_LEN);
        else pkt.tcpWscale = b[i + 2];
        break;
      case OPT_SACKOK:
        if (olen !== 2) sink.event(pkt, E_OPT_INVALID_LEN);
        else pkt.tcpSackPermitted = true;
        break;
      case OPT_SACK:
        // 2 + 8n bytes, 1..4 blocks (RFC 2018 §3); Suricata also accepts an empty
        // SACK (length 2, no blocks: suricata-verify tcp-empty-sack), so do we.
        if (olen !== 2 && (olen < 10 || olen > 34 || (olen - 2) % 8 !== 0)) sink.event(pkt, E_OPT_INVALID_LEN);
        else pkt.tcpSackBlocks = (olen - 2) >> 3;
        break;
      case OPT_TS:
        if (olen !== 10) sink.event(pkt, E_OPT_INVALID_LEN);
        else {
          pkt.tcpTsVal = ((b[i + 2] << 24) | (b[i + 3] << 16) | (b[i + 4] << 8) | b[i + 5]) >>> 0;
          pkt.tcpTsEcr = ((b[i + 6] << 24) | (b[i + 7] << 16) | (b[i + 8] << 8) | b[i + 9]) >>> 0;
        }
        break;
      default:
        break;
    }
    i += olen;
  }
}
