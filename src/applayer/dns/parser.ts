/**
 * Per-flow DNS parsing: message framing for UDP (one message per datagram)
 * and TCP (RFC 1035 §4.2.2 / RFC 7766: 2-byte length prefix, any number of
 * messages per stream, split anywhere), transactions and anomaly events.
 *
 * Transactions follow Suricata 7: every message is its own transaction
 * (`tx_id` counts messages in the flow, from 0) and is logged as its own EVE
 * record — a request as `type:"query"`, a response as `type:"answer"`. A
 * response is paired with the outstanding request of the same id (kept in
 * `DnsTx.request`) so consumers can see both; pairing never delays output.
 *
 * Bounds: at most MAX_PENDING unanswered requests are remembered per flow
 * (oldest dropped, `dns.flooded`); a TCP message is buffered only when split
 * across chunks and then only up to its declared length (<= 65535 bytes);
 * a flow yielding MAX_BAD_IN_A_ROW undecodable messages in a row is abandoned.
 */
import type { AppParserContext, AppTx, Direction } from '../parser.js';
import { Probe } from '../parser.js';
import { type DnsMessage, decodeDnsMessage, isDnsDecodeError } from './codec.js';
import { answerEve, queryEve } from './eve.js';
import { probeDnsTcp } from './probe.js';

export const MAX_PENDING = 64;
export const MAX_BAD_IN_A_ROW = 16;

/** One DNS message of a flow, as a transaction. */
export class DnsTx implements AppTx {
  readonly proto = 'dns';
  constructor(
    readonly txId: number,
    /** The decoded message. */
    readonly message: DnsMessage,
    /** Direction it travelled (0 = toServer). */
    readonly direction: Direction,
    /** Capture time (seconds) of the packet that completed it. */
    readonly tsSec: number,
    /** For a response: the request of the same id seen earlier in this flow, if any. */
    readonly request?: DnsMessage,
  ) {}

  /** A response (QR bit), logged as `type:"answer"`; otherwise a request, logged as `type:"query"`. */
  get isResponse(): boolean {
    return this.message.qr;
  }

  /** The record for the EVE `dns` key (for a request with several questions: the first; see eveRecords). */
  eve(): Record<string, unknown> {
    return this.message.qr ? answerEve(this.message) : queryEve(this.message, this.txId, 0);
  }

  /**
   * Every EVE `dns` record Suricata 7 writes for this message: one per
   * question for a request (none when it has no question), one for a response.
   */
  eveRecords(): Record<string, unknown>[] {
    if (this.message.qr) return [answerEve(this.message)];
    const out: Record<string, unknown>[] = [];
    for (let i = 0; i < this.message.questions.length; i++) out.push(queryEve(this.message, this.txId, i));
    return out;
  }
}

/** TCP reassembly of one direction's length-prefixed messages. */
interface TcpDir {
  /** Bytes of the length prefix gathered so far (0..2). */
  lenHave: number;
  lenHi: number;
  /** Declared length of the message being gathered. */
  mlen: number;
  /** The message being gathered when split across chunks. */
  msg: Buffer | null;
  have: number;
  /** After a gap: the next bytes must look like the start of a message. */
  resync: boolean;
}

export class DnsFlowState {
  txCount = 0;
  abandoned = false;
  badInARow = 0;
  /** Outstanding requests, oldest first. */
  readonly pending: DnsMessage[] = [];
  readonly tcpDirs: [TcpDir, TcpDir] | null;
  constructor(
    readonly ctx: AppParserContext,
    readonly tcp: boolean,
  ) {
    this.tcpDirs = tcp ? [newDir(), newDir()] : null;
  }
}

function newDir(): TcpDir {
  return { lenHave: 0, lenHi: 0, mlen: 0, msg: null, have: 0, resync: false };
}

function decodeEvent(code: string): string {
  switch (code) {
    case 'name_too_long': return 'dns.name_too_long';
    case 'pointer_loop':
    case 'too_many_pointers': return 'dns.infinite_loop';
    default: return 'dns.malformed_data';
  }
}

/** Handle one complete message buf[off, off+len). */
export function handleMessage(st: DnsFlowState, dir: Direction, buf: Buffer, off: number, len: number, tsSec: number): void {
  const ctx = st.ctx;
  const m = decodeDnsMessage(buf, off, len);
  if (isDnsDecodeError(m)) {
    ctx.event(decodeEvent(m.code));
    if (++st.badInARow >= MAX_BAD_IN_A_ROW) {
      st.abandoned = true;
      ctx.abandon('dns: too many malformed messages in a row');
    }
    return;
  }
  st.badInARow = 0;
  if (m.partial !== undefined) {
    ctx.event(m.partial.section === 'authority' ? 'dns.invalid_authorities' : 'dns.invalid_additionals');
  }
  if (m.z) ctx.event('dns.z_flag_set');
  if (m.opcode > 6 || m.opcode === 3) ctx.event('dns.invalid_opcode');
  let request: DnsMessage | undefined;
  if (!m.qr) {
    if (dir !== 0) ctx.event('dns.not_response');
    if (st.pending.length >= MAX_PENDING) {
      st.pending.shift();
      ctx.event('dns.flooded');
    }
    st.pending.push(m);
  } else {
    if (dir !== 1) ctx.event('dns.not_request');
    const p = st.pending;
    for (let i = p.length - 1; i >= 0; i--) {
      if (p[i].id === m.id) {
        request = p[i];
        p.splice(i, 1);
        break;
      }
    }
    if (request === undefined) ctx.event('dns.unsolicited_response');
  }
  ctx.tx(new DnsTx(st.txCount++, m, dir, tsSec, request));
}

export function parseUdp(st: DnsFlowState, dir: Direction, buf: Buffer, off: number, len: number, tsSec: number): void {
  if (st.abandoned) return;
  handleMessage(st, dir, buf, off, len, tsSec);
}

export function parseTcp(st: DnsFlowState, dir: Direction, buf: Buffer, off: number, len: number, tsSec: number): void {
  if (st.abandoned || st.tcpDirs === null) return;
  const d = st.tcpDirs[dir];
  let p = off;
  const end = off + len;
  if (d.resync) {
    if (probeDnsTcp(buf, off, len) === Probe.NO) {
      st.abandoned = true;
      st.ctx.abandon('dns: cannot resynchronise after a gap');
      return;
    }
    d.resync = false;
  }
  while (p < end && !st.abandoned) {
    if (d.lenHave === 0 && d.msg === null && end - p >= 2) {
      // Fast path: a whole message inside this chunk is decoded in place.
      const mlen = (buf[p] << 8) | buf[p + 1];
      if (end - p - 2 >= mlen) {
        if (mlen > 0) handleMessage(st, dir, buf, p + 2, mlen, tsSec);
        p += 2 + mlen;
        continue;
      }
    }
    if (d.lenHave < 2) {
      if (d.lenHave === 0) {
        d.lenHi = buf[p++];
        d.lenHave = 1;
        continue;
      }
      d.mlen = (d.lenHi << 8) | buf[p++];
      d.lenHave = 2;
      d.have = 0;
      if (d.mlen === 0) {
        d.lenHave = 0;
        continue;
      }
      d.msg = Buffer.allocUnsafe(d.mlen);
      continue;
    }
    const msg = d.msg as Buffer;
    const take = Math.min(end - p, d.mlen - d.have);
    buf.copy(msg, d.have, p, p + take);
    d.have += take;
    p += take;
    if (d.have === d.mlen) {
      d.msg = null;
      d.lenHave = 0;
      handleMessage(st, dir, msg, 0, d.mlen, tsSec);
    }
  }
}

/** Bytes lost in one direction: drop the partial message and require the next data to look like DNS. */
export function gapTcp(st: DnsFlowState, dir: Direction): void {
  if (st.tcpDirs === null) return;
  const d = st.tcpDirs[dir];
  d.lenHave = 0;
  d.msg = null;
  d.have = 0;
  d.resync = true;
}
