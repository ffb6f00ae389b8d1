/**
 * HTTP/2 connection parser (RFC 9113): incremental frame layer for both
 * directions, header blocks through HPACK, streams as transactions.
 *
 * Input arrives in arbitrary chunks. A frame whose header and payload are
 * both inside one chunk is handled in place (no copy); otherwise its payload
 * is collected in a per-direction buffer. DATA payloads are never buffered:
 * they are counted and skipped, so a large upload costs nothing but the
 * count. Header-block fragments (HEADERS / PUSH_PROMISE + CONTINUATION) are
 * gathered until END_HEADERS, then decoded by that direction's HPACK decoder.
 *
 * A transaction is emitted when its stream closes: END_STREAM seen in both
 * directions, or RST_STREAM from either side; open streams are flushed at
 * flow end. If a header block cannot be decoded, that direction's HPACK
 * context is lost: framing, data counts and stream ends are still followed,
 * transactions just lack those headers.
 */
import type { AppParserContext, Direction } from '../parser.js';
import type { Http2Config } from './config.js';
import { HTTP2_EVENTS as EV } from './events.js';
import {
  CLIENT_PREFACE, FLAG_ACK, FLAG_END_HEADERS, FLAG_END_STREAM, FLAG_PADDED, FLAG_PRIORITY, FRAME_HEADER_LEN,
  FrameType, SETTINGS_HEADER_TABLE_SIZE,
} from './frames.js';
import {
  HPACK_ERR_INTEGER, HPACK_ERR_LIST_TOO_LARGE, HPACK_ERR_SIZE_UPDATE, HPACK_OK, HpackDecoder, type H2Header,
} from './hpack.js';
import { H_STATUS, Http2Tx, findHeader } from './tx.js';

const M_HEADER = 0;
const M_COLLECT = 1;
const M_SKIP = 2;
const M_DATA_PAD = 3;

/** One SETTINGS parameter as received. */
export interface Http2Setting {
  readonly id: number;
  readonly value: number;
}

/** Per-direction frame reader state. Plain fields, allocated once per flow. */
class DirState {
  prefaceLeft = 0;
  mode = M_HEADER;
  readonly hdr = Buffer.alloc(FRAME_HEADER_LEN);
  hdrLen = 0;
  fLen = 0;
  fType = 0;
  fFlags = 0;
  fStream = 0;
  payload: Buffer = Buffer.alloc(0);
  payLen = 0;
  skipLeft = 0;
  /** DATA frame being skipped: its data bytes (padding excluded) are counted at frame end. */
  dataCount = 0;
  isData = false;
  // Header block being gathered.
  block: Buffer = Buffer.alloc(0);
  blockLen = 0;
  blockStream = 0;
  /** 0 none, HEADERS or PUSH_PROMISE. */
  blockKind = -1;
  blockEndStream = false;
  blockPromised = 0;
  blockTooLong = false;
  /** Priority weight of the HEADERS frame that started the block (-1 none). */
  blockWeight = -1;
  readonly hpack: HpackDecoder;
  /** HPACK context lost (reported once). */
  hpackLost = false;
  /** Current SETTINGS of this side, merged over all SETTINGS frames (null before any; at most 64 ids kept). */
  settings: Http2Setting[] | null = null;
  /** GOAWAY from this side: last stream id and error code (-1 none). */
  goawayLastStream = -1;
  goawayError = -1;
  frames = 0;

  constructor(cfg: Http2Config) {
    this.hpack = new HpackDecoder(cfg.hpackTableCap, cfg.maxHeaderListSize);
  }
}

const AUTHORITY = Buffer.from(':authority');
const HOST = Buffer.from('host');
const CONNECTION_SPECIFIC = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'].map((s) =>
  Buffer.from(s, 'latin1'),
);

export class Http2State {
  readonly dirs: [DirState, DirState];
  /** Open streams by id (number keys). */
  readonly streams = new Map<number, Http2Tx>();
  private nextTxId = 0;
  /** Highest stream id opened by the client (stream-id reuse detection). */
  private lastClientStream = 0;
  abandoned = false;
  /** Transactions emitted so far. */
  txCount = 0;

  constructor(
    readonly cfg: Http2Config,
    private readonly ctx: AppParserContext,
    /** false when the client preface was already consumed elsewhere (rare; h2c still sends it). */
    expectPreface = true,
  ) {
    this.dirs = [new DirState(cfg), new DirState(cfg)];
    this.dirs[0].prefaceLeft = expectPreface ? CLIENT_PREFACE.length : 0;
  }

  parse(dir: Direction, buf: Buffer, off: number, len: number): void {
    const d = this.dirs[dir];
    let p = off;
    const end = off + len;
    while (p < end && !this.abandoned) {
      if (d.prefaceLeft > 0) {
        const k = CLIENT_PREFACE.length - d.prefaceLeft;
        const n = Math.min(d.prefaceLeft, end - p);
        if (buf.compare(CLIENT_PREFACE, k, k + n, p, p + n) !== 0) {
          this.ctx.event(EV.invalidClientMagic);
          this.abandon('client preface missing');
          return;
        }
        d.prefaceLeft -= n;
        p += n;
        continue;
      }
      switch (d.mode) {
        case M_HEADER: {
          if (d.hdrLen === 0 && end - p >= FRAME_HEADER_LEN) {
            this.frameHeader(dir, d, buf, p);
            p += FRAME_HEADER_LEN;
          } else {
            const n = Math.min(FRAME_HEADER_LEN - d.hdrLen, end - p);
            buf.copy(d.hdr, d.hdrLen, p, p + n);
            d.hdrLen += n;
            p += n;
            if (d.hdrLen < FRAME_HEADER_LEN) return;
            d.hdrLen = 0;
            this.frameHeader(dir, d, d.hdr, 0);
          }
          break;
        }
        case M_COLLECT: {
          if (d.payLen === 0 && end - p >= d.fLen) {
            d.mode = M_HEADER;
            this.frame(dir, d, buf, p, d.fLen);
            p += d.fLen;
          } else {
            if (d.payload.length < d.fLen) d.payload = Buffer.allocUnsafe(Math.max(d.fLen, Math.min(d.payload.length * 2, this.cfg.maxFrameSize)));
            const n = Math.min(d.fLen - d.payLen, end - p);
            buf.copy(d.payload, d.payLen, p, p + n);
            d.payLen += n;
            p += n;
            if (d.payLen < d.fLen) return;
            d.payLen = 0;
            d.mode = M_HEADER;
            this.frame(dir, d, d.payload, 0, d.fLen);
          }
          break;
        }
        case M_DATA_PAD: {
          const pad = buf[p++]!;
          if (pad > d.fLen - 1) {
            this.ctx.event(EV.invalidFrameData);
            d.dataCount = 0;
          } else d.dataCount = d.fLen - 1 - pad;
          d.skipLeft = d.fLen - 1;
          d.mode = M_SKIP;
          if (d.skipLeft === 0) this.skipDone(dir, d);
          break;
        }
        default: {
          // M_SKIP
          const n = Math.min(d.skipLeft, end - p);
          d.skipLeft -= n;
          p += n;
          if (d.skipLeft === 0) this.skipDone(dir, d);
        }
      }
    }
  }

  /** Bytes lost: a gap inside a DATA payload is skipped; anywhere else the frame layer (and HPACK) is lost. */
  gap(dir: Direction, len: number): void {
    if (this.abandoned) return;
    const d = this.dirs[dir];
    if (d.mode === M_SKIP && d.isData && len <= d.skipLeft) {
      d.skipLeft -= len;
      if (d.skipLeft === 0) this.skipDone(dir, d);
      return;
    }
    this.ctx.event(EV.gap);
    this.abandon('gap in HTTP/2 framing');
  }

  /** Flow end: every open stream becomes a transaction, flagged incomplete. */
  end(): void {
    for (const tx of this.streams.values()) {
      tx.incomplete = true;
      this.emit(tx);
    }
    this.streams.clear();
  }

  private abandon(reason: string): void {
    this.abandoned = true;
    this.ctx.abandon(reason);
  }

  private frameHeader(dir: Direction, d: DirState, b: Buffer, o: number): void {
    const len = (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!;
    const type = b[o + 3]!;
    const flags = b[o + 4]!;
    const stream = b.readUInt32BE(o + 5) & 0x7fffffff;
    d.fLen = len;
    d.fType = type;
    d.fFlags = flags;
    d.fStream = stream;
    d.frames++;
    d.isData = false;
    // A header block must continue with CONTINUATION on the same stream (§6.10).
    if (d.blockKind >= 0 && (type !== FrameType.CONTINUATION || stream !== d.blockStream)) {
      this.ctx.event(EV.invalidFrameHeader);
      this.dropBlock(d);
    }
    if (type === FrameType.DATA) {
      if (stream === 0) this.ctx.event(EV.invalidFrameHeader);
      d.isData = true;
      if (len === 0) {
        d.dataCount = 0;
        this.skipDone(dir, d);
      } else if (flags & FLAG_PADDED) d.mode = M_DATA_PAD;
      else {
        d.dataCount = len;
        d.skipLeft = len;
        d.mode = M_SKIP;
      }
      return;
    }
    let bad = false;
    switch (type) {
      case FrameType.SETTINGS: bad = len % 6 !== 0 || ((flags & FLAG_ACK) !== 0 && len !== 0); break;
      case FrameType.PING: bad = len !== 8; break;
      case FrameType.WINDOW_UPDATE:
      case FrameType.RST_STREAM: bad = len !== 4; break;
      case FrameType.PRIORITY: bad = len !== 5; break;
      case FrameType.GOAWAY: bad = len < 8; break;
      default:
    }
    if (bad) {
      this.ctx.event(EV.invalidFrameLength);
      this.skip(dir, d, len);
      return;
    }
    if (len > this.cfg.maxFrameSize) {
      this.ctx.event(EV.longFrameData);
      if (type === FrameType.HEADERS || type === FrameType.CONTINUATION || type === FrameType.PUSH_PROMISE) {
        this.loseHpack(d);
        if (type !== FrameType.CONTINUATION && stream !== 0) this.blockWithoutHeaders(dir, stream, (flags & FLAG_END_STREAM) !== 0 && type === FrameType.HEADERS);
      }
      this.skip(dir, d, len);
      return;
    }
    if (len === 0) {
      this.frame(dir, d, d.hdr, 0, 0);
      return;
    }
    d.mode = M_COLLECT;
    d.payLen = 0;
  }

  private skip(dir: Direction, d: DirState, len: number): void {
    d.isData = false;
    d.skipLeft = len;
    d.mode = M_SKIP;
    if (len === 0) this.skipDone(dir, d);
  }

  private skipDone(dir: Direction, d: DirState): void {
    d.mode = M_HEADER;
    if (!d.isData) return;
    d.isData = false;
    const tx = d.fStream === 0 ? undefined : this.streamFor(dir, d.fStream, false);
    if (tx === undefined) return;
    if (dir === 0) tx.requestDataBytes += d.dataCount;
    else tx.responseDataBytes += d.dataCount;
    if (d.fFlags & FLAG_END_STREAM) this.endStream(tx, dir);
  }

  /** One complete non-DATA frame payload b[o, o+len). */
  private frame(dir: Direction, d: DirState, b: Buffer, o: number, len: number): void {
    const flags = d.fFlags;
    const stream = d.fStream;
    switch (d.fType) {
      case FrameType.HEADERS: {
        if (stream === 0) {
          this.ctx.event(EV.invalidFrameHeader);
          this.loseHpack(d); // the block is not decoded, so the table is unknown from here
          return;
        }
        let s = o;
        let e = o + len;
        if (flags & FLAG_PADDED) {
          if (len < 1) return this.badFragment(d);
          const pad = b[s++]!;
          e -= pad;
        }
        let weight = -1;
        if (flags & FLAG_PRIORITY) {
          if (s + 5 > e) return this.badFragment(d);
          weight = b[s + 4]!;
          s += 5;
        }
        if (s > e) return this.badFragment(d);
        d.blockWeight = weight;
        this.startBlock(dir, d, FrameType.HEADERS, stream, (flags & FLAG_END_STREAM) !== 0, 0, b, s, e, (flags & FLAG_END_HEADERS) !== 0);
        return;
      }
      case FrameType.PUSH_PROMISE: {
        if (stream === 0 || dir === 0) this.ctx.event(EV.invalidFrameHeader);
        let s = o;
        let e = o + len;
        if (flags & FLAG_PADDED) {
          if (len < 1) return this.badFragment(d);
          e -= b[s++]!;
        }
        if (e - s < 4) return this.badFragment(d);
        const promised = b.readUInt32BE(s) & 0x7fffffff;
        s += 4;
        d.blockWeight = -1;
        this.startBlock(dir, d, FrameType.PUSH_PROMISE, stream, false, promised, b, s, e, (flags & FLAG_END_HEADERS) !== 0);
        return;
      }
      case FrameType.CONTINUATION: {
        if (d.blockKind < 0) {
          // Not after HEADERS/PUSH_PROMISE (or the block was already dropped).
          this.ctx.event(EV.invalidFrameHeader);
          this.loseHpack(d);
          return;
        }
        this.appendBlock(d, b, o, o + len);
        if (flags & FLAG_END_HEADERS) this.finishBlock(dir, d);
        return;
      }
      case FrameType.SETTINGS: {
        if (stream !== 0) this.ctx.event(EV.invalidFrameHeader);
        if (flags & FLAG_ACK) return;
        for (let i = o; i + 6 <= o + len; i += 6) {
          const id = b.readUInt16BE(i);
          const value = b.readUInt32BE(i + 2);
          setSetting(d, id, value);
          // What this side's decoder accepts bounds the other side's encoder.
          if (id === SETTINGS_HEADER_TABLE_SIZE) this.dirs[dir === 0 ? 1 : 0].hpack.setMaxAllowed(value);
          if ((id === 2 && value > 1) || (id === 4 && value > 0x7fffffff) || (id === 5 && (value < 16384 || value > 16777215))) {
            this.ctx.event(EV.invalidFrameData);
          }
        }
        d.settings ??= [];
        return;
      }
      case FrameType.RST_STREAM: {
        if (stream === 0) {
          this.ctx.event(EV.invalidFrameHeader);
          return;
        }
        const tx = this.streams.get(stream);
        if (tx === undefined) return;
        tx.rstCode[dir] = b.readUInt32BE(o);
        this.streams.delete(stream);
        this.emit(tx);
        return;
      }
      case FrameType.GOAWAY: {
        if (stream !== 0) this.ctx.event(EV.invalidFrameHeader);
        d.goawayLastStream = b.readUInt32BE(o) & 0x7fffffff;
        d.goawayError = b.readUInt32BE(o + 4);
        return;
      }
      case FrameType.PING:
        if (stream !== 0) this.ctx.event(EV.invalidFrameHeader);
        return;
      case FrameType.PRIORITY: {
        if (stream === 0) {
          this.ctx.event(EV.invalidFrameHeader);
          return;
        }
        const tx = this.streams.get(stream);
        if (tx !== undefined && tx.priority[dir] < 0) tx.priority[dir] = b[o + 4]!;
        return;
      }
      default:
        // WINDOW_UPDATE: nothing to keep. Unknown types are ignored (§5.5).
        return;
    }
  }

  private badFragment(d: DirState): void {
    this.ctx.event(EV.invalidFrameData);
    this.loseHpack(d);
  }

  private startBlock(
    dir: Direction, d: DirState, kind: number, stream: number, endStream: boolean, promised: number,
    b: Buffer, s: number, e: number, endHeaders: boolean,
  ): void {
    d.blockKind = kind;
    d.blockStream = stream;
    d.blockEndStream = endStream;
    d.blockPromised = promised;
    d.blockLen = 0;
    d.blockTooLong = false;
    if (endHeaders) {
      // Whole block in one frame: decode in place, no copy.
      this.decodeBlock(dir, d, b, s, e - s);
      return;
    }
    this.appendBlock(d, b, s, e);
  }

  private appendBlock(d: DirState, b: Buffer, s: number, e: number): void {
    if (d.blockTooLong) return;
    const n = e - s;
    if (d.blockLen + n > this.cfg.maxHeaderBlock) {
      d.blockTooLong = true;
      return;
    }
    if (d.block.length < d.blockLen + n) {
      const nb = Buffer.allocUnsafe(Math.min(this.cfg.maxHeaderBlock, Math.max(d.blockLen + n, d.block.length * 2, 1024)));
      d.block.copy(nb, 0, 0, d.blockLen);
      d.block = nb;
    }
    b.copy(d.block, d.blockLen, s, e);
    d.blockLen += n;
  }

  private finishBlock(dir: Direction, d: DirState): void {
    if (d.blockTooLong) {
      this.ctx.event(EV.headerBlockTooLong);
      this.loseHpack(d);
      if (d.blockKind === FrameType.HEADERS) this.blockWithoutHeaders(dir, d.blockStream, d.blockEndStream);
      d.blockKind = -1;
      return;
    }
    this.decodeBlock(dir, d, d.block, 0, d.blockLen);
  }

  private dropBlock(d: DirState): void {
    d.blockKind = -1;
    this.loseHpack(d);
  }

  private loseHpack(d: DirState): void {
    if (d.hpackLost) return;
    d.hpackLost = true;
    d.hpack.broken = true;
  }

  /** A HEADERS block we could not decode still opens / ends its stream. */
  private blockWithoutHeaders(dir: Direction, stream: number, endStream: boolean): void {
    const tx = this.streamFor(dir, stream, true);
    if (tx === undefined) return;
    tx.blocks[dir]++;
    if (endStream) this.endStream(tx, dir);
  }

  private decodeBlock(dir: Direction, d: DirState, b: Buffer, o: number, len: number): void {
    const kind = d.blockKind;
    d.blockKind = -1;
    let hs: H2Header[] = [];
    if (!d.hpack.broken) {
      const r = d.hpack.decode(b, o, len, hs);
      if (r !== HPACK_OK) {
        if (r === HPACK_ERR_INTEGER) this.ctx.event(EV.headerIntegerOverflow);
        else if (r === HPACK_ERR_SIZE_UPDATE) this.ctx.event(EV.invalidSizeUpdate);
        else if (r === HPACK_ERR_LIST_TOO_LARGE) this.ctx.event(EV.headerBlockTooLong);
        else this.ctx.event(EV.invalidHeader);
        if (d.hpack.broken) {
          d.hpackLost = true;
          hs = [];
        }
      }
      if (hs.length > 0) this.checkFields(hs);
    }
    if (kind === FrameType.PUSH_PROMISE) {
      const id = d.blockPromised;
      if (id === 0 || this.streams.has(id)) return;
      const tx = this.openStream(id);
      if (tx === undefined) return;
      tx.pushed = true;
      tx.requestHeaders = hs;
      tx.blocks[0] = 1;
      tx.ended[0] = true; // the client sends nothing on a pushed stream
      return;
    }
    const tx = this.streamFor(dir, d.blockStream, true);
    if (tx === undefined) return;
    const n = tx.blocks[dir]++;
    if (d.blockWeight >= 0 && tx.priority[dir] < 0) tx.priority[dir] = d.blockWeight;
    if (dir === 0) {
      if (n === 0) {
        tx.requestHeaders = hs;
        this.checkAuthority(hs);
      } else for (const h of hs) tx.requestTrailers.push(h);
    } else if (n === 0 || isInformational(tx.responseHeaders)) {
      // A 1xx response is followed by the final one (§8.1): keep the final.
      tx.responseHeaders = hs;
    } else for (const h of hs) tx.responseTrailers.push(h);
    if (d.blockEndStream) this.endStream(tx, dir);
  }

  /**
   * RFC 9113 §8.3.1: `:authority` must not carry userinfo (credentials in a
   * URL, often a phishing or injection trick), and a request with both
   * `:authority` and `host` must give the same one (two servers behind a
   * proxy may each believe a different one: request smuggling).
   */
  private checkAuthority(hs: readonly H2Header[]): void {
    let authority: Buffer | null = null;
    let host: Buffer | null = null;
    for (const h of hs) {
      if (authority === null && h.name.equals(AUTHORITY)) authority = h.value;
      else if (host === null && h.name.equals(HOST)) host = h.value;
    }
    if (authority === null) return;
    const at = authority.lastIndexOf(0x40);
    if (at >= 0) this.ctx.event(EV.userinfoInUri);
    if (host === null) return;
    const a = authority.subarray(at + 1);
    if (a.length !== host.length || a.toString('latin1').toLowerCase() !== host.toString('latin1').toLowerCase()) {
      this.ctx.event(EV.authorityHostMismatch);
    }
  }

  /** Names must be lowercase, pseudo-headers first, no connection-specific fields (§8.2). */
  private checkFields(hs: readonly H2Header[]): void {
    let regular = false;
    for (const h of hs) {
      const n = h.name;
      if (n.length === 0) return this.ctx.event(EV.invalidHeader);
      if (n[0] === 0x3a) {
        if (regular) return this.ctx.event(EV.invalidHeader);
        continue;
      }
      regular = true;
      for (let i = 0; i < n.length; i++) {
        const c = n[i]!;
        if ((c >= 0x41 && c <= 0x5a) || c <= 0x20 || c === 0x7f) return this.ctx.event(EV.invalidHeader);
      }
      for (const cs of CONNECTION_SPECIFIC) if (n.equals(cs)) return this.ctx.event(EV.invalidHeader);
    }
  }

  private openStream(id: number): Http2Tx | undefined {
    if (this.streams.size >= this.cfg.maxStreams) {
      this.ctx.event(EV.tooManyStreams);
      return undefined;
    }
    const tx = new Http2Tx(this.nextTxId++, id);
    this.streams.set(id, tx);
    return tx;
  }

  /**
   * The open stream `id`; when unknown and `open` (a header block), a new
   * one — from the client, or from the server on a stream we saw no request
   * for (joined midway).
   */
  private streamFor(dir: Direction, id: number, open: boolean): Http2Tx | undefined {
    const tx = this.streams.get(id);
    if (tx !== undefined) return tx;
    if (dir === 0 && open) {
      if ((id & 1) === 0 || id <= this.lastClientStream) {
        this.ctx.event(EV.streamIdReuse);
        if (id <= this.lastClientStream) return undefined; // a closed stream: nothing to track
      }
      this.lastClientStream = id;
      return this.openStream(id);
    }
    // Server HEADERS on a stream we never saw opened (joined midway, or a pushed stream whose promise was lost).
    if (dir === 1 && open && id > 0 && this.dirs[1].frames > 0 && (id & 1) === 1 && id > this.lastClientStream) {
      this.lastClientStream = id;
      return this.openStream(id);
    }
    return undefined;
  }

  private endStream(tx: Http2Tx, dir: Direction): void {
    tx.ended[dir] = true;
    if (tx.ended[0] && tx.ended[1]) {
      this.streams.delete(tx.streamId);
      this.emit(tx);
    }
  }

  private emit(tx: Http2Tx): void {
    this.txCount++;
    this.ctx.tx(tx);
  }

  /**
   * h2c: stream 1 is the HTTP/1.1 request that asked for the upgrade (RFC
   * 7540 §3.2); it is half-closed from the client, its response comes as
   * HTTP/2 on stream 1.
   */
  seedUpgradeStream(requestHeaders: H2Header[], settingsPayload: Buffer | null): void {
    if (settingsPayload !== null) {
      if (settingsPayload.length % 6 !== 0) this.ctx.event(EV.invalidHttp1Settings);
      else {
        this.dirs[0].settings ??= [];
        for (let i = 0; i + 6 <= settingsPayload.length; i += 6) {
          const id = settingsPayload.readUInt16BE(i);
          const value = settingsPayload.readUInt32BE(i + 2);
          setSetting(this.dirs[0], id, value);
          if (id === SETTINGS_HEADER_TABLE_SIZE) this.dirs[1].hpack.setMaxAllowed(value);
        }
      }
    }
    this.lastClientStream = 1;
    const tx = this.openStream(1);
    if (tx === undefined) return;
    tx.requestHeaders = requestHeaders;
    tx.blocks[0] = 1;
    tx.ended[0] = true;
  }
}

/** SETTINGS update parameters one by one (RFC 9113 §6.5): the current value per id, in first-seen order. */
function setSetting(d: DirState, id: number, value: number): void {
  const l = (d.settings ??= []);
  for (let i = 0; i < l.length; i++) {
    if (l[i]!.id === id) {
      l[i] = { id, value };
      return;
    }
  }
  if (l.length < 64) l.push({ id, value });
}

function isInformational(hs: readonly H2Header[]): boolean {
  const s = findHeader(hs, H_STATUS);
  return s !== null && s.length === 3 && s[0] === 0x31;
}
