/**
 * Kafka recognition (app_proto `kafka`): a client request (Kafka protocol
 * guide, "Request Header v1+"): Int32 size, Int16 api_key (0–74 assigned),
 * Int16 api_version (0–20), Int32 correlation_id, then client_id as a
 * nullable Int16-length string of printable characters.
 */
import { Probe, type Direction } from '../parser.js';
import { printable, recogniser } from '../recognition.js';

const MAX_API_KEY = 74;
const MAX_API_VERSION = 20;
/** Requests larger than this (100 MiB, the broker's default socket.request.max.bytes) are refused by brokers. */
const MAX_SIZE = 104857600;

export function probeKafka(dir: Direction, b: Buffer, off: number, len: number): Probe {
  if (dir !== 0) return Probe.NO;
  if (len < 14) {
    // Check what is there already: a size's high byte is 0 for any sane request, api_key's too.
    if (len >= 1 && b[off] !== 0) return Probe.NO;
    if (len >= 5 && b[off + 4] !== 0) return Probe.NO;
    return Probe.NEED_MORE;
  }
  const size = b.readUInt32BE(off);
  const apiKey = b.readInt16BE(off + 4);
  const apiVersion = b.readInt16BE(off + 6);
  const idLen = b.readInt16BE(off + 12);
  if (size < 10 || size > MAX_SIZE) return Probe.NO;
  if (apiKey < 0 || apiKey > MAX_API_KEY || apiVersion < 0 || apiVersion > MAX_API_VERSION) return Probe.NO;
  if (idLen === -1) return size >= 10 ? Probe.YES : Probe.NO;
  if (idLen < 1 || 10 + idLen > size) return Probe.NO;
  const end = off + len;
  const idEnd = off + 14 + idLen;
  if (idEnd > end) return printable(b, off + 14, end) ? Probe.NEED_MORE : Probe.NO;
  return printable(b, off + 14, idEnd) ? Probe.YES : Probe.NO;
}

export const kafkaParser = recogniser('kafka', 'tcp', [9092], probeKafka);
