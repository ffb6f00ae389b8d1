/**
 * MySQL recognition (app_proto `mysql`): the server speaks first, with the
 * Initial Handshake packet (MySQL client/server protocol docs): 3-byte
 * little-endian payload length, sequence id 0, protocol version 10, then a
 * NUL-terminated printable server version string.
 *
 * Beyond recognition, the SSL hand-off (MySQL docs "SSL Handshake"): a
 * client that wants TLS answers the greeting with an SSLRequest — the first
 * part of a Handshake Response, packet sequence id 1, with CLIENT_SSL
 * (0x0800) in its capability flags and nothing else: 32 bytes of payload
 * with CLIENT_PROTOCOL_41 (caps, max packet size, charset, 23 filler bytes),
 * 5 without it (HandshakeResponse320: 2-byte caps, 3-byte max packet size).
 * The server does not answer it:
 * the client's next bytes are its ClientHello, so the hand-off happens on
 * the request itself and what follows it is given to detection.
 */
import { Probe, type AppParserDecl, type AppSwitch, type Direction } from '../parser.js';

export function probeMysql(dir: Direction, b: Buffer, off: number, len: number): Probe {
  if (dir !== 1) return Probe.NO;
  if (len < 5) return len < 4 || b[off + 3] === 0 ? Probe.NEED_MORE : Probe.NO;
  const n = b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16);
  // version string, thread id (4), salt (8+1), capabilities… : at least ~40 bytes, a greeting is small.
  if (b[off + 3] !== 0 || b[off + 4] !== 10 || n < 40 || n > 1024) return Probe.NO;
  const end = off + len;
  const stop = Math.min(end, off + 4 + n);
  let p = off + 5;
  for (; p < stop && b[p] !== 0; p++) {
    const c = b[p]!;
    if (c < 0x20 || c > 0x7e) return Probe.NO;
  }
  if (p >= stop) return stop === end && p - off - 5 < 64 ? Probe.NEED_MORE : Probe.NO;
  // A version starts with a digit ("5.7.33", "8.0.36", "10.6.16-MariaDB").
  const first = b[off + 5]!;
  return p > off + 5 && first >= 0x30 && first <= 0x39 ? Probe.YES : Probe.NO;
}

const CLIENT_SSL = 0x0800;
const CLIENT_PROTOCOL_41 = 0x0200;

/** Per-flow state: only what the SSLRequest hand-off needs. */
export interface MysqlState {
  /** Bytes seen per direction. */
  bytes: [number, number];
  /** The client's first packet header and capability flags (4 + 2 bytes), gathered across segments. */
  head: Buffer;
  /** Bytes of the client's SSLRequest still to come (it may span segments); 0 when none is in progress. */
  sslLeft: number;
  /** The client's SSLRequest is complete: what follows it is TLS. */
  toTls: boolean;
  /** Bytes already received past the switch point, per direction. */
  handoff: [Buffer | null, Buffer | null];
}

/** Payload length of an SSLRequest with these capability flags (low 16 bits), or -1 when the packet is no SSLRequest. */
function sslRequestLen(h: Buffer): number {
  if (h[3] !== 1) return -1; // sequence id: the answer to the greeting (0)
  const caps = h[4]! | (h[5]! << 8);
  if ((caps & CLIENT_SSL) === 0) return -1;
  const n = h[0]! | (h[1]! << 8) | (h[2]! << 16);
  const want = caps & CLIENT_PROTOCOL_41 ? 32 : 5;
  return n === want ? n : -1;
}

function parseMysql(s: MysqlState, dir: Direction, buf: Buffer, off: number, len: number): void {
  const before = s.bytes[dir];
  s.bytes[dir] += len;
  if (s.toTls || dir !== 0) return;
  let used: number;
  if (s.sslLeft > 0) {
    used = Math.min(s.sslLeft, len);
    s.sslLeft -= used;
  } else {
    // the SSLRequest answers the greeting: a client that speaks first is not making one
    if (before >= 6 || s.bytes[1] === 0) return;
    const n = Math.min(6 - before, len);
    buf.copy(s.head, before, off, off + n);
    if (before + n < 6) return;
    const plen = sslRequestLen(s.head);
    if (plen < 0) return;
    const rest = 4 + plen - before; // bytes of the request from this chunk's start
    used = Math.min(rest, len);
    s.sslLeft = rest - used;
  }
  if (s.sslLeft > 0) return;
  s.toTls = true;
  if (used < len) s.handoff[0] = Buffer.from(buf.subarray(off + used, off + len));
}

export const mysqlParser: AppParserDecl<MysqlState> = {
  name: 'mysql',
  transport: 'tcp',
  ports: [3306],
  probe: probeMysql,
  create: () => ({ bytes: [0, 0], head: Buffer.alloc(6), sslLeft: 0, toTls: false, handoff: [null, null] }),
  parse: parseMysql,
  switchTo: (s: MysqlState): AppSwitch | null => (s.toTls ? { redetect: true, handoff: s.handoff } : null),
};
