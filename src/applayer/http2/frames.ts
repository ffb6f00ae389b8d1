/**
 * HTTP/2 framing facts (RFC 9113 §4, §6, §7, §11): frame types, flags,
 * settings identifiers, error codes, the client connection preface, and
 * the probe used for protocol detection.
 */
import { Probe, type Direction } from '../parser.js';

export const FRAME_HEADER_LEN = 9;

export const enum FrameType {
  DATA = 0,
  HEADERS = 1,
  PRIORITY = 2,
  RST_STREAM = 3,
  SETTINGS = 4,
  PUSH_PROMISE = 5,
  PING = 6,
  GOAWAY = 7,
  WINDOW_UPDATE = 8,
  CONTINUATION = 9,
}

export const FLAG_END_STREAM = 0x1;
export const FLAG_ACK = 0x1;
export const FLAG_END_HEADERS = 0x4;
export const FLAG_PADDED = 0x8;
export const FLAG_PRIORITY = 0x20;

export const SETTINGS_HEADER_TABLE_SIZE = 1;
export const SETTINGS_MAX_FRAME_SIZE = 5;

/**
 * SETTINGS identifiers 1..6 as Suricata spells them in EVE `settings_id`
 * (its enum names: RFC names without underscores); others as the number.
 */
const SETTINGS_NAMES: readonly string[] = [
  '0', 'SETTINGSHEADERTABLESIZE', 'SETTINGSENABLEPUSH', 'SETTINGSMAXCONCURRENTSTREAMS',
  'SETTINGSINITIALWINDOWSIZE', 'SETTINGSMAXFRAMESIZE', 'SETTINGSMAXHEADERLISTSIZE',
];
export function settingsName(id: number): string {
  return SETTINGS_NAMES[id] ?? String(id);
}

/** Error codes (RFC 9113 §7) as Suricata writes them in EVE `error_code`: RFC names without underscores. */
const ERROR_NAMES: readonly string[] = [
  'NOERROR', 'PROTOCOLERROR', 'INTERNALERROR', 'FLOWCONTROLERROR', 'SETTINGSTIMEOUT', 'STREAMCLOSED',
  'FRAMESIZEERROR', 'REFUSEDSTREAM', 'CANCEL', 'COMPRESSIONERROR', 'CONNECTERROR', 'ENHANCEYOURCALM',
  'INADEQUATESECURITY', 'HTTP11REQUIRED',
];

/** Error code name for EVE `error_code`; unknown codes as their decimal value, as Suricata does. */
export function errorCodeName(code: number): string {
  return ERROR_NAMES[code] ?? String(code);
}

/** `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n` (RFC 9113 §3.4). */
export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * Detection. toServer: the client preface (prefix match on short input).
 * toClient: a server's first frame is a SETTINGS frame (not ACK) on stream
 * 0 whose length is a multiple of 6 and small — 9 bytes that are very
 * unlikely at the start of another protocol. Allocation-free.
 */
export function probeHttp2(dir: Direction, buf: Buffer, off: number, len: number): Probe {
  if (dir === 0) {
    const n = Math.min(len, CLIENT_PREFACE.length);
    for (let i = 0; i < n; i++) if (buf[off + i] !== CLIENT_PREFACE[i]) return Probe.NO;
    return n === CLIENT_PREFACE.length ? Probe.YES : Probe.NEED_MORE;
  }
  // length (3) type (1) flags (1) stream id (4)
  const n = Math.min(len, FRAME_HEADER_LEN);
  if (n >= 1 && buf[off] !== 0) return Probe.NO; // SETTINGS payloads are short: first length byte 0
  if (n >= 3) {
    const l = (buf[off + 1]! << 8) | buf[off + 2]!;
    if (l % 6 !== 0 || l > 6 * 32) return Probe.NO;
  }
  if (n >= 4 && buf[off + 3] !== FrameType.SETTINGS) return Probe.NO;
  if (n >= 5 && buf[off + 4] !== 0) return Probe.NO;
  for (let i = 5; i < n; i++) if (buf[off + i] !== 0) return Probe.NO;
  return n === FRAME_HEADER_LEN ? Probe.YES : Probe.NEED_MORE;
}
