/**
 * Redis recognition (app_proto `redis`): a client command in RESP, an array
 * of bulk strings — `*<n>\r\n$<len>\r\n<command>\r\n` (redis.io "RESP").
 * The server's replies (`+OK`, `:1`, `$5`) are too generic to identify alone.
 */
import { Probe, type Direction } from '../parser.js';
import { recogniser } from '../recognition.js';

/** Reads `<digits>\r\n` at p (1–max digits); returns the index after LF, -1 mismatch, -2 need more. */
function digitsCrlf(b: Buffer, p: number, end: number, max: number): number {
  let n = 0;
  for (; p < end && n <= max; p++, n++) {
    const c = b[p]!;
    if (c >= 0x30 && c <= 0x39) continue;
    if (c !== 0x0d || n === 0) return -1;
    if (p + 1 >= end) return -2;
    return b[p + 1] === 0x0a ? p + 2 : -1;
  }
  return n > max ? -1 : -2;
}

export function probeRedis(dir: Direction, b: Buffer, off: number, len: number): Probe {
  if (dir !== 0) return Probe.NO;
  const end = off + len;
  if (b[off] !== 0x2a) return Probe.NO; // '*'
  if (len < 2) return Probe.NEED_MORE;
  if (b[off + 1] === 0x30) return Probe.NO; // "*0" is no command
  const p = digitsCrlf(b, off + 1, end, 4);
  if (p === -2) return Probe.NEED_MORE;
  if (p < 0) return Probe.NO;
  if (p >= end) return Probe.NEED_MORE;
  if (b[p] !== 0x24) return Probe.NO; // '$'
  const q = digitsCrlf(b, p + 1, end, 9);
  if (q === -2) return Probe.NEED_MORE;
  if (q < 0) return Probe.NO;
  if (q >= end) return Probe.NEED_MORE;
  // The command name: letters only (GET, SET, HELLO, CLIENT…).
  const c = b[q]! | 0x20;
  return c >= 0x61 && c <= 0x7a ? Probe.YES : Probe.NO;
}

export const redisParser = recogniser('redis', 'tcp', [6379], probeRedis);
