/**
 * MySQL recognition (app_proto `mysql`): the server speaks first, with the
 * Initial Handshake packet (MySQL client/server protocol docs): 3-byte
 * little-endian payload length, sequence id 0, protocol version 10, then a
 * NUL-terminated printable server version string.
 */
import { Probe, type Direction } from '../parser.js';
import { recogniser } from '../recognition.js';

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

export const mysqlParser = recogniser('mysql', 'tcp', [3306], probeMysql);
