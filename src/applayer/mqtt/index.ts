/**
 * MQTT recognition (app_proto `mqtt`): the client's first packet is CONNECT
 * (MQTT 3.1.1 §3.1 / 5.0 §3.1): fixed header 0x10, remaining length
 * (1–4 byte varint), then the protocol name "MQTT" (levels 4, 5) or
 * "MQIsdp" (3.1, level 3).
 */
import { Probe, type Direction } from '../parser.js';
import { bytesAt, prefixAt, recogniser } from '../recognition.js';

export function probeMqtt(dir: Direction, b: Buffer, off: number, len: number): Probe {
  if (dir !== 0 || b[off] !== 0x10) return Probe.NO;
  const end = off + len;
  let p = off + 1;
  let rem = 0;
  let mul = 1;
  for (let i = 0; ; i++) {
    if (p >= end) return Probe.NEED_MORE;
    if (i === 4) return Probe.NO;
    const c = b[p++]!;
    rem += (c & 0x7f) * mul;
    mul *= 128;
    if ((c & 0x80) === 0) break;
  }
  if (rem < 10) return Probe.NO;
  if (end - p < 9) {
    return prefixAt(b, p, end, '\x00\x04MQTT') || prefixAt(b, p, end, '\x00\x06MQIsdp') ? Probe.NEED_MORE : Probe.NO;
  }
  if (bytesAt(b, p, end, '\x00\x04MQTT')) return b[p + 6] === 4 || b[p + 6] === 5 ? Probe.YES : Probe.NO;
  if (bytesAt(b, p, end, '\x00\x06MQIsdp')) return b[p + 8] === 3 ? Probe.YES : Probe.NO;
  return Probe.NO;
}

export const mqttParser = recogniser('mqtt', 'tcp', [1883], probeMqtt);
