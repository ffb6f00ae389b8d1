/**
 * Which worker gets a frame: a symmetric hash of the IP address pair.
 *
 * Every packet of a flow must reach the same worker, in both directions.
 * Hashing the address pair (not the 5-tuple) also keeps IP fragments, which
 * carry no ports after the first, and ICMP errors about a flow with their
 * hosts; the cost is coarser balance when two hosts carry most traffic.
 * Tunnels are hashed by the outer addresses: all flows inside one VXLAN
 * pair of hosts go to one worker (the decoder there sees them whole).
 *
 * Only link and IP headers are read — a few loads per frame, no state.
 */

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Offset of the IP header after Ethernet and up to two VLAN tags; -1 if not IP. */
function afterEthernet(b: Buffer, off: number, end: number): number {
  let p = off + 12;
  for (let i = 0; i < 3; i++) {
    if (p + 2 > end) return -1;
    const et = (b[p] << 8) | b[p + 1];
    if (et === 0x8100 || et === 0x88a8 || et === 0x9100) {
      p += 4;
      continue;
    }
    return et === 0x0800 || et === 0x86dd ? p + 2 : -1;
  }
  return -1;
}

/** Symmetric hash of the IPv4/IPv6 address pair at `p`; -1 when there is none. */
function ipPairHash(b: Buffer, p: number, end: number): number {
  if (p < 0 || p >= end) return -1;
  const v = b[p] >>> 4;
  if (v === 4) {
    if (p + 20 > end) return -1;
    const a = b.readUInt32BE(p + 12);
    const c = b.readUInt32BE(p + 16);
    // Sum and xor are both symmetric; mixing both separates (a,c) pairs better than either alone.
    return mix(((a + c) >>> 0) ^ Math.imul(a ^ c, 0x9e3779b1));
  }
  if (v === 6) {
    if (p + 40 > end) return -1;
    let s = 0;
    let x = 0;
    for (let i = 0; i < 4; i++) {
      const a = b.readUInt32BE(p + 8 + i * 4);
      const c = b.readUInt32BE(p + 24 + i * 4);
      s = (s + a + c) >>> 0;
      x = (x ^ a ^ c) >>> 0;
    }
    return mix(s ^ Math.imul(x, 0x9e3779b1));
  }
  return -1;
}

/**
 * The hash of a frame for dispatch, or -1 when it carries no IP header the
 * dispatcher can find (such frames go to worker 0).
 */
export function dispatchHash(b: Buffer, off: number, capLen: number, linkType: number): number {
  const end = Math.min(b.length, off + capLen);
  switch (linkType) {
    case 1:
      return ipPairHash(b, afterEthernet(b, off, end), end);
    case 113: // Linux cooked v1: protocol at 14, header 16 bytes
      return end >= off + 16 ? ipPairHash(b, off + 16, end) : -1;
    case 276: // Linux cooked v2: header 20 bytes
      return ipPairHash(b, off + 20, end);
    case 101:
    case 12:
    case 14:
    case 228:
    case 229:
      return ipPairHash(b, off, end);
    case 0:
    case 108:
      return ipPairHash(b, off + 4, end);
    default:
      return -1;
  }
}
