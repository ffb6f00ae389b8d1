/**
 * Per-flow SSH parsing (RFC 4253): the identification line of each side,
 * then the cleartext binary packets up to SSH_MSG_NEWKEYS, after which the
 * stream is encrypted and that side is no longer looked at.
 *
 * Only two things are kept from the packets: the first KEXINIT of each side
 * (for HASSH / HASSH-server) and the NEWKEYS that ends parsing. Every other
 * packet is skipped by length without being buffered; the KEXINIT is
 * buffered up to MAX_KEXINIT bytes. A flow gives one transaction, emitted
 * when both sides have sent NEWKEYS (or stopped being parseable), or at flow
 * end with whatever was seen.
 *
 * Bounds: a banner line is gathered up to 255 bytes (longer: `ssh.long_banner`,
 * the rest of the line is skipped up to MAX_LINE_SKIP); at most
 * MAX_PREBANNER_LINES other lines may precede the banner (RFC 4253 lets a
 * server send some); a packet length above MAX_PACKET is `ssh.invalid_record`.
 */
import type { AppParserContext, AppTx, Direction } from '../parser.js';
import { MAX_BANNER_LINE, type SshBanner, parseBannerLine } from './banner.js';
import { type Hassh, SSH_MSG_KEXINIT, SSH_MSG_NEWKEYS, type SshKexInit, hassh, parseKexInit } from './kexinit.js';

export const MAX_PREBANNER_LINES = 16;
export const MAX_LINE_SKIP = 8192;
/** OpenSSH refuses packets above 256 KiB; anything larger is not SSH. */
export const MAX_PACKET = 256 * 1024;
/** A KEXINIT of real clients is 1-2 KiB; 64 KiB leaves room for very long algorithm lists. */
export const MAX_KEXINIT = 64 * 1024;

const enum Phase {
  BANNER = 0,
  /** Skipping the rest of an over-long line. */
  LINE_SKIP = 1,
  HEADER = 2,
  SKIP = 3,
  KEXINIT = 4,
  DONE = 5,
}

export interface SshSide {
  banner: SshBanner | null;
  kexinit: SshKexInit | null;
  hassh: Hassh | null;
  /** Saw NEWKEYS: the rest is encrypted. */
  newKeys: boolean;
}

interface DirState {
  phase: Phase;
  /** Phase to return to after LINE_SKIP. */
  resume: Phase;
  line: Buffer;
  lineLen: number;
  linesBefore: number;
  /** Bytes of the 6-byte packet header gathered (length, padding length, message code). */
  hdr: Buffer;
  hdrHave: number;
  skip: number;
  kex: Buffer | null;
  kexHave: number;
  side: SshSide;
}

export class SshTx implements AppTx {
  readonly proto = 'ssh';
  readonly txId = 0;
  constructor(
    readonly client: SshSide,
    readonly server: SshSide,
  ) {}

  eve(): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    const side = (s: SshSide): Record<string, unknown> | null => {
      if (s.banner === null) return null;
      const r: Record<string, unknown> = { proto_version: s.banner.protoVersion };
      if (s.banner.softwareVersion !== '') r.software_version = s.banner.softwareVersion;
      if (s.hassh !== null) r.hassh = { hash: s.hassh.hash, string: s.hassh.string };
      return r;
    };
    const c = side(this.client);
    const s = side(this.server);
    if (c !== null) o.client = c;
    if (s !== null) o.server = s;
    return o;
  }
}

export class SshFlowState {
  readonly dirs: [DirState, DirState];
  emitted = false;
  abandoned = false;
  constructor(readonly ctx: AppParserContext) {
    this.dirs = [newDir(), newDir()];
  }
}

function newDir(): DirState {
  return {
    phase: Phase.BANNER, resume: Phase.BANNER, line: Buffer.allocUnsafe(MAX_BANNER_LINE), lineLen: 0, linesBefore: 0,
    hdr: Buffer.allocUnsafe(6), hdrHave: 0, skip: 0, kex: null, kexHave: 0,
    side: { banner: null, kexinit: null, hassh: null, newKeys: false },
  };
}

function maybeEmit(st: SshFlowState): void {
  if (st.emitted) return;
  if (st.dirs[0].phase === Phase.DONE && st.dirs[1].phase === Phase.DONE) emit(st);
}

function emit(st: SshFlowState): void {
  if (st.emitted) return;
  st.emitted = true;
  if (st.dirs[0].side.banner === null && st.dirs[1].side.banner === null) return;
  st.ctx.tx(new SshTx(st.dirs[0].side, st.dirs[1].side));
}

function finishDir(st: SshFlowState, d: DirState): void {
  d.phase = Phase.DONE;
  d.line = EMPTY;
  d.kex = null;
  maybeEmit(st);
}
const EMPTY = Buffer.alloc(0);

/** A complete line d.line[0, d.lineLen) (line ending removed) in the banner phase. */
function onLine(st: SshFlowState, dir: Direction, d: DirState): void {
  const b = parseBannerLine(d.line, 0, d.lineLen);
  d.lineLen = 0;
  if (b === null) {
    // RFC 4253 §4.2 lets the server send other lines first; a client may not.
    if (dir === 0) st.ctx.event('ssh.invalid_banner');
    if (++d.linesBefore > MAX_PREBANNER_LINES) {
      if (dir === 1) st.ctx.event('ssh.invalid_banner');
      st.abandoned = true;
      st.ctx.abandon('ssh: no banner line');
    }
    return;
  }
  d.side.banner = b;
  // SSH 1.x (other than 1.99, which speaks 2.0) uses another packet format.
  if (b.protoVersion.startsWith('1.') && b.protoVersion !== '1.99') finishDir(st, d);
  else d.phase = Phase.HEADER;
}

export function parseSsh(st: SshFlowState, dir: Direction, buf: Buffer, off: number, len: number): void {
  if (st.abandoned) return;
  const d = st.dirs[dir];
  let p = off;
  const end = off + len;
  while (p < end && !st.abandoned) {
    switch (d.phase) {
      case Phase.DONE:
        return;
      case Phase.BANNER: {
        let i = p;
        while (i < end && buf[i] !== 0x0a) i++;
        const n = i - p;
        const room = MAX_BANNER_LINE - d.lineLen;
        buf.copy(d.line, d.lineLen, p, p + Math.min(n, room));
        d.lineLen += Math.min(n, room);
        if (n > room) {
          // Over-long line: parse the first 255 bytes, skip the rest up to its LF.
          p += room;
          st.ctx.event('ssh.long_banner');
          onLine(st, dir, d);
          const next = d.phase as Phase;
          if (next !== Phase.DONE) {
            d.resume = next;
            d.skip = 0;
            d.phase = Phase.LINE_SKIP;
          }
          continue;
        }
        p = i;
        if (i < end) {
          p++; // the LF
          onLine(st, dir, d);
        }
        continue;
      }
      case Phase.LINE_SKIP: {
        let i = p;
        while (i < end && buf[i] !== 0x0a) i++;
        d.skip += i - p;
        if (d.skip > MAX_LINE_SKIP) {
          st.abandoned = true;
          st.ctx.abandon('ssh: over-long line');
          return;
        }
        p = i;
        if (i < end) {
          p++;
          d.skip = 0;
          d.phase = d.resume;
        }
        continue;
      }
      case Phase.HEADER: {
        while (d.hdrHave < 6 && p < end) d.hdr[d.hdrHave++] = buf[p++];
        if (d.hdrHave < 6) return;
        d.hdrHave = 0;
        const plen = d.hdr.readUInt32BE(0);
        const code = d.hdr[5];
        if (plen < 2 || plen > MAX_PACKET) {
          st.ctx.event('ssh.invalid_record');
          finishDir(st, d);
          return;
        }
        if (code === SSH_MSG_NEWKEYS) {
          d.side.newKeys = true;
          finishDir(st, d);
          return;
        }
        if (code === SSH_MSG_KEXINIT && d.side.kexinit === null && plen - 1 <= MAX_KEXINIT) {
          // Gather code + fields + padding: plen - 1 bytes (plen counts the padding-length byte).
          d.kex = Buffer.allocUnsafe(plen - 1);
          d.kex[0] = code;
          d.kexHave = 1;
          d.phase = Phase.KEXINIT;
        } else {
          d.skip = plen - 2;
          d.phase = Phase.SKIP;
        }
        continue;
      }
      case Phase.SKIP: {
        const n = Math.min(d.skip, end - p);
        d.skip -= n;
        p += n;
        if (d.skip === 0) d.phase = Phase.HEADER;
        continue;
      }
      case Phase.KEXINIT: {
        const k = d.kex as Buffer;
        const n = Math.min(k.length - d.kexHave, end - p);
        buf.copy(k, d.kexHave, p, p + n);
        d.kexHave += n;
        p += n;
        if (d.kexHave === k.length) {
          const padLen = d.hdr[4];
          const kx = parseKexInit(k, 0, Math.max(1, k.length - padLen));
          if (kx === null) st.ctx.event('ssh.invalid_record');
          else {
            d.side.kexinit = kx;
            d.side.hassh = hassh(kx, dir === 1);
          }
          d.kex = null;
          d.phase = Phase.HEADER;
        }
        continue;
      }
    }
  }
}

/** Bytes lost: packet boundaries are gone, so this side is not parsed further. */
export function gapSsh(st: SshFlowState, dir: Direction): void {
  const d = st.dirs[dir];
  if (d.phase !== Phase.DONE) finishDir(st, d);
}

export function endSsh(st: SshFlowState): void {
  emit(st);
}
