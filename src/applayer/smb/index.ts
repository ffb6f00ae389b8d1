/**
 * SMB recognition (app_proto `smb`, MS-SMB / MS-SMB2 over NetBIOS session
 * service or direct TCP, RFC 1002 §4.3): a session message (type 0, 3-byte
 * length ≥ the SMB header) whose payload opens with \xffSMB (SMB1), \xfeSMB
 * (SMB2/3) or \xfdSMB (SMB3 transform); or, on port 139, the NetBIOS
 * session request (type 0x81, two first-level-encoded names of 32 letters).
 */
import { Probe, type Direction } from '../parser.js';
import { recogniser } from '../recognition.js';

function encodedName(b: Buffer, p: number, end: number): boolean {
  if (p + 34 > end || b[p] !== 0x20) return false;
  for (let i = 1; i <= 32; i++) {
    const c = b[p + i]!;
    if (c < 0x41 || c > 0x50) return false; // 'A'..'P': one nibble each
  }
  return true;
}

export function probeSmb(_dir: Direction, b: Buffer, off: number, len: number): Probe {
  const end = off + len;
  const type = b[off]!;
  if (type === 0x81) {
    if (len < 4 + 68) return Probe.NEED_MORE;
    return encodedName(b, off + 4, end) && encodedName(b, off + 4 + 34, end) ? Probe.YES : Probe.NO;
  }
  if (type === 0x82 || type === 0x85) {
    // Positive session response / keep-alive: length 0. Not enough alone; wait for the SMB that follows.
    return len < 4 || (b[off + 1] === 0 && b[off + 2] === 0 && b[off + 3] === 0 && len === 4) ? Probe.NEED_MORE : Probe.NO;
  }
  if (type !== 0) return Probe.NO;
  if (len < 8) return Probe.NEED_MORE;
  const n = (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!;
  const m = b[off + 4]!;
  if ((m !== 0xff && m !== 0xfe && m !== 0xfd) || b[off + 5] !== 0x53 || b[off + 6] !== 0x4d || b[off + 7] !== 0x42) return Probe.NO;
  return n >= 32 ? Probe.YES : Probe.NO;
}

export const smbParser = recogniser('smb', 'tcp', [445, 139], probeSmb);
