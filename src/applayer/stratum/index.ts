/**
 * Stratum (cryptocurrency mining JSON-RPC) recognition (app_proto
 * `stratum`): the miner's first line is a JSON object whose method is
 * `mining.subscribe`, `mining.authorize`, `mining.extranonce.subscribe`,
 * `login` (XMRig / Monero pools) or `eth_submitLogin` (Ethereum pools).
 */
import { Probe, type Direction } from '../parser.js';
import { bytesAt, indexOfAscii, lineEnd, recogniser } from '../recognition.js';

/** The method is looked for within this many bytes of the start. */
const WINDOW = 1024;
const METHODS = ['"mining.subscribe"', '"mining.authorize"', '"mining.extranonce.subscribe"', '"login"', '"eth_submitLogin"'];

export function probeStratum(dir: Direction, b: Buffer, off: number, len: number): Probe {
  if (dir !== 0 || b[off] !== 0x7b) return Probe.NO; // '{'
  const end = off + Math.min(len, WINDOW);
  const m = indexOfAscii(b, off, end, '"method"');
  if (m < 0) return lineEnd(b, off, end, WINDOW) < 0 && len < WINDOW ? Probe.NEED_MORE : Probe.NO;
  let p = m + 8;
  while (p < end && (b[p] === 0x20 || b[p] === 0x3a)) p++;
  if (p >= end) return Probe.NEED_MORE;
  for (const name of METHODS) {
    if (bytesAt(b, p, end, name)) return Probe.YES;
  }
  return end - p < 32 && len < WINDOW && lineEnd(b, p, end, WINDOW) < 0 ? Probe.NEED_MORE : Probe.NO;
}

export const stratumParser = recogniser('stratum', 'tcp', [3333, 4444, 5555, 14444, 45700], probeStratum);
