/**
 * RDP recognition (app_proto `rdp`, MS-RDPBCGR §2.2.1.1–2.2.1.2): the
 * client's X.224 Connection Request in a TPKT (03 00 length), code 0xE0,
 * carrying a routing token / `Cookie: mstshash=` or an RDP Negotiation
 * Request (type 1, length 8); the server's Connection Confirm (0xD0) with an
 * RDP Negotiation Response (2) or Failure (3). A bare X.224 CR without them
 * is ISO-on-TCP in general (S7comm on port 102 uses it too), so it is no.
 */
import { Probe, type Direction } from '../parser.js';
import { bytesAt, recogniser } from '../recognition.js';

export function probeRdp(dir: Direction, b: Buffer, off: number, len: number): Probe {
  if (b[off] !== 0x03) return Probe.NO;
  if (len < 2) return Probe.NEED_MORE;
  if (b[off + 1] !== 0x00) return Probe.NO;
  if (len < 11) return Probe.NEED_MORE;
  const tpkt = b.readUInt16BE(off + 2);
  const li = b[off + 4]!;
  const code = b[off + 5]! & 0xf0;
  if (tpkt < 11 || tpkt > 4096 || li !== tpkt - 5) return Probe.NO;
  const end = off + Math.min(len, tpkt);
  const p = off + 11;
  if (dir === 0) {
    if (code !== 0xe0) return Probe.NO;
    if (len < Math.min(tpkt, 19)) return Probe.NEED_MORE;
    if (bytesAt(b, p, end, 'Cookie: ')) return Probe.YES;
    return p + 8 <= end && b[p] === 0x01 && b[p + 2] === 0x08 && b[p + 3] === 0x00 ? Probe.YES : Probe.NO;
  }
  if (code !== 0xd0) return Probe.NO;
  if (len < Math.min(tpkt, 19)) return Probe.NEED_MORE;
  return p + 8 <= end && (b[p] === 0x02 || b[p] === 0x03) && b[p + 2] === 0x08 && b[p + 3] === 0x00 ? Probe.YES : Probe.NO;
}

export const rdpParser = recogniser('rdp', 'tcp', [3389], probeRdp);
