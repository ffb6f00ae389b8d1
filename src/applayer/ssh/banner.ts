/**
 * The SSH identification line (RFC 4253 §4.2):
 * `SSH-protoversion-softwareversion SP comments CR LF`, at most 255 bytes
 * with the CR LF. Split as Suricata does: protoversion runs to the first
 * '-', softwareversion to the first space (comments are not logged).
 */
import { bytesToText } from '../dns/text.js';

/** RFC 4253: the whole line, CR LF included, is at most 255 characters. */
export const MAX_BANNER_LINE = 255;

export interface SshBanner {
  readonly protoVersion: string;
  readonly softwareVersion: string;
  /** Text after the first space, if any. */
  readonly comments: string;
}

/**
 * Parse a banner line buf[start, end) without its line ending (a trailing CR
 * is tolerated). Returns null when the line is not an SSH banner.
 */
export function parseBannerLine(buf: Buffer, start: number, end: number): SshBanner | null {
  if (end > start && buf[end - 1] === 0x0d) end--;
  if (end - start < 4 || buf[start] !== 0x53 || buf[start + 1] !== 0x53 || buf[start + 2] !== 0x48 || buf[start + 3] !== 0x2d) return null;
  const pv = start + 4;
  let dash = pv;
  while (dash < end && buf[dash] !== 0x2d) dash++;
  if (dash === pv || dash >= end) return null;
  let sp = dash + 1;
  while (sp < end && buf[sp] !== 0x20) sp++;
  return {
    protoVersion: bytesToText(buf, pv, dash),
    softwareVersion: bytesToText(buf, dash + 1, sp),
    comments: sp < end ? bytesToText(buf, sp + 1, end) : '',
  };
}
