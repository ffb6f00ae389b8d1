/**
 * PROXY protocol header (HAProxy's spec, versions 1 and 2): the line or
 * binary block a load balancer puts at the very start of a TCP connection to
 * say which client it relays. Only the decode side, over a Buffer range,
 * allocation-free until a header is actually found.
 *
 *  v1: `PROXY TCP4|TCP6|UNKNOWN <src> <dst> <sport> <dport>\r\n`, at most 107 bytes.
 *  v2: 12-byte signature `\r\n\r\n\0\r\nQUIT\n`, version/command byte (0x2?,
 *      command 0 LOCAL or 1 PROXY), family/transport byte (0x11 TCP/IPv4,
 *      0x12 UDP/IPv4, 0x21 TCP/IPv6, 0x22 UDP/IPv6), 16-bit length, then
 *      source and destination addresses and ports (TLVs follow, ignored).
 */
import { isIP } from 'node:net';

export interface ProxyHeader {
  readonly version: 1 | 2;
  /** Original client address and port; null for LOCAL/UNKNOWN (health checks). */
  readonly srcIp: string | null;
  readonly srcPort: number;
  readonly dstIp: string | null;
  readonly dstPort: number;
  /** Bytes the header occupies at the start of the stream. */
  readonly length: number;
}

const V2_SIG = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
const V1_PREFIX = [0x50, 0x52, 0x4f, 0x58, 0x59, 0x20]; // "PROXY "

/** Could `buf[off…]` begin a PROXY header (one byte test, for the hot path)? */
export function mayBeProxyHeader(buf: Buffer, off: number, len: number): boolean {
  return len > 0 && (buf[off] === 0x50 || buf[off] === 0x0d);
}

/** A complete header at `buf[off…off+len)`, or null (not a header, or incomplete/malformed). */
export function decodeProxyHeader(buf: Buffer, off: number, len: number): ProxyHeader | null {
  if (len >= 16 && V2_SIG.every((b, i) => buf[off + i] === b)) return decodeV2(buf, off, len);
  if (len >= 8 && V1_PREFIX.every((b, i) => buf[off + i] === b)) return decodeV1(buf, off, len);
  return null;
}

function decodeV1(buf: Buffer, off: number, len: number): ProxyHeader | null {
  const max = Math.min(len, 107);
  let end = -1;
  for (let i = 6; i + 1 < max; i++) {
    if (buf[off + i] === 0x0d && buf[off + i + 1] === 0x0a) {
      end = i;
      break;
    }
  }
  if (end < 0) return null;
  const parts = buf.toString('latin1', off, off + end).split(' ');
  if (parts[1] === 'UNKNOWN') return { version: 1, srcIp: null, srcPort: 0, dstIp: null, dstPort: 0, length: end + 2 };
  if (parts.length !== 6 || (parts[1] !== 'TCP4' && parts[1] !== 'TCP6')) return null;
  const fam = parts[1] === 'TCP4' ? 4 : 6;
  if (isIP(parts[2]) !== fam || isIP(parts[3]) !== fam) return null;
  const sp = Number(parts[4]);
  const dp = Number(parts[5]);
  if (!/^\d{1,5}$/.test(parts[4]) || !/^\d{1,5}$/.test(parts[5]) || sp > 65535 || dp > 65535) return null;
  return { version: 1, srcIp: parts[2].toLowerCase(), srcPort: sp, dstIp: parts[3].toLowerCase(), dstPort: dp, length: end + 2 };
}

function ipv6Text(buf: Buffer, p: number): string {
  const words: string[] = [];
  for (let i = 0; i < 8; i++) words.push(buf.readUInt16BE(p + i * 2).toString(16));
  // Compress the longest run of zero words (RFC 5952).
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return words.join(':');
  return `${words.slice(0, best).join(':')}::${words.slice(best + bestLen).join(':')}`;
}

function decodeV2(buf: Buffer, off: number, len: number): ProxyHeader | null {
  const verCmd = buf[off + 12];
  if (verCmd >> 4 !== 2) return null;
  const cmd = verCmd & 0x0f;
  const fam = buf[off + 13];
  const bodyLen = buf.readUInt16BE(off + 14);
  const length = 16 + bodyLen;
  if (len < length) return null;
  if (cmd === 0) return { version: 2, srcIp: null, srcPort: 0, dstIp: null, dstPort: 0, length };
  if (cmd !== 1) return null;
  const p = off + 16;
  const af = fam >> 4;
  if (af === 1 && bodyLen >= 12) {
    const ip = (q: number): string => `${buf[q]}.${buf[q + 1]}.${buf[q + 2]}.${buf[q + 3]}`;
    return { version: 2, srcIp: ip(p), dstIp: ip(p + 4), srcPort: buf.readUInt16BE(p + 8), dstPort: buf.readUInt16BE(p + 10), length };
  }
  if (af === 2 && bodyLen >= 36) {
    return { version: 2, srcIp: ipv6Text(buf, p), dstIp: ipv6Text(buf, p + 16), srcPort: buf.readUInt16BE(p + 32), dstPort: buf.readUInt16BE(p + 34), length };
  }
  // AF_UNSPEC or AF_UNIX: no address to report.
  return { version: 2, srcIp: null, srcPort: 0, dstIp: null, dstPort: 0, length };
}
