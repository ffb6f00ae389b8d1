/**
 * SSH application-layer parser declaration: banners, HASSH, up to NEWKEYS.
 */
import { Probe } from '../parser.js';
import type { AppParserDecl, Direction } from '../parser.js';
import { SshFlowState, endSsh, gapSsh, parseSsh } from './parser.js';

export { SshFlowState, SshTx } from './parser.js';
export type { SshSide } from './parser.js';
export { parseBannerLine } from './banner.js';
export type { SshBanner } from './banner.js';
export { hassh, parseKexInit } from './kexinit.js';
export type { Hassh, SshKexInit } from './kexinit.js';

const MAGIC = [0x53, 0x53, 0x48, 0x2d]; // "SSH-"

/** `SSH-` at the start of either direction. */
export function probeSsh(_dir: Direction, buf: Buffer, off: number, len: number): Probe {
  const n = Math.min(len, 4);
  for (let i = 0; i < n; i++) if (buf[off + i] !== MAGIC[i]) return Probe.NO;
  return n < 4 ? Probe.NEED_MORE : Probe.YES;
}

export const sshParser: AppParserDecl<SshFlowState> = {
  name: 'ssh',
  transport: 'tcp',
  ports: [22],
  probe: probeSsh,
  create: (ctx) => new SshFlowState(ctx),
  parse: (st, dir, buf, off, len) => parseSsh(st, dir, buf, off, len),
  gap: (st, dir) => gapSsh(st, dir),
  end: (st) => endSsh(st),
};
