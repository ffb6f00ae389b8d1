/**
 * Incremental HTTP/1.0 and HTTP/1.1 parser over the two reassembled streams
 * of one connection.
 *
 * Each direction is a small state machine fed arbitrary chunks. Heads (start
 * line + headers, and chunked trailers) are gathered into one reusable,
 * bounded buffer per direction and parsed whole once the empty line arrives —
 * so splitting a message at any byte changes nothing, and the per-chunk work
 * is one memchr for LF plus one copy. Bodies stream through without being
 * gathered except for the part kept for inspection (body.ts).
 *
 * Requests queue as transactions; responses pair with them first in, first
 * out (pipelining, keep-alive). A transaction is reported once both sides are
 * complete, in txId order. The response's framing depends on its request
 * (HEAD, CONNECT), which is why pairing happens at the response head.
 *
 * Protocol switches: a request carrying `Upgrade` or using CONNECT holds the
 * client's later bytes until the response decides. 101 Switching Protocols or
 * a 2xx to CONNECT stops HTTP parsing on both sides (`state.switched`); the
 * bytes HTTP did not consume are handed over in `handoff[dir]` and
 * `switchOffset[dir]` gives the stream offset where the other protocol begins.
 * Any other response replays the held bytes as HTTP.
 */
import type { AppParserContext, Direction } from '../parser.js';
import { BoundedBody, copyBytes, decodeBounded, parseCodings, type Coding } from './body.js';
import type { HttpConfig } from './config.js';
import { HTTP_EVENTS as E } from './events.js';
import {
  combinedValue, HDR_BAD_FOLDING, HDR_INVALID_NAME, HDR_MISSING_COLON, HDR_TOO_MANY, parseHeaderBlock,
  parseResponseFields, type HttpHeader,
} from './headers.js';
import { HttpTx, type HttpSwitch } from './tx.js';
import { hexVal, hostPort, normalizeHost } from './uri.js';

const enum St {
  IDLE,
  HEAD,
  BODY_CL,
  CHUNK_SIZE,
  CHUNK_DATA,
  CHUNK_CRLF,
  TRAILER,
  BODY_EOF,
  /** toServer after an Upgrade/CONNECT request: bytes held until the response decides. */
  HOLD,
  /** Not HTTP any more (switched protocol): bytes ignored. */
  TUNNEL,
  /** Framing lost in this direction (bad chunk size): bytes ignored. */
  DEAD,
}

/** Longest chunk-size line accepted (size, extensions). */
const CHUNK_LINE_LIMIT = 1024;
/** Compressed bytes kept beyond the decoded-output limit (see body.ts). */
const COMPRESSED_SLACK = 16 * 1024;
const LF = 0x0a;
const CR = 0x0d;

class DirState {
  st: St = St.IDLE;
  /** Head/trailer/chunk-line gathering buffer, reused; grows by doubling up to headLimit. */
  head: Buffer = Buffer.allocUnsafe(512);
  headLen = 0;
  lineStart = 0;
  firstLineDone = false;
  /** Bytes left in a Content-Length body or a chunk. */
  remaining = 0;
  /** Transaction whose body this direction is reading. */
  tx: HttpTx | null = null;
  /** Compressed body being collected, with the codings to undo (response only). */
  compressed: BoundedBody | null = null;
  codings: Coding[] | null = null;
  /** Stream bytes of this direction consumed by the parser (held bytes excluded). */
  consumed = 0;
  // Response heads are split into lines the way libhtp does (feedResponseHead):
  /** Where the line scan resumes in `head` (a CR/LF whose meaning needs the next byte). */
  scan = 0;
  /** The previous line ended with LF CR (libhtp's "lfcrending"). */
  lfcr = false;
  /** Header lines as [start, end) pairs in `head`, line ends removed. */
  readonly lines: number[] = [];
  /** End of the status line (line end removed) and start of the header lines. */
  statusEnd = -1;
  hdrStart = -1;
  /** Response side: inside a line before the status line that is no status line (read as body). */
  junk = false;
  /** …and that line's last byte so far is a CR (a following LF still belongs to it). */
  junkCr = false;
  /** Request side: the request line has no protocol but header lines follow it. */
  missingProto = false;
  /** Request side: a request line without protocol ended a chunk; the next bytes decide (see feedHead). */
  pending09 = false;

  resetHead(): void {
    this.headLen = 0;
    this.lineStart = 0;
    this.firstLineDone = false;
    this.scan = 0;
    this.lfcr = false;
    this.lines.length = 0;
    this.statusEnd = -1;
    this.hdrStart = -1;
    this.junk = false;
    this.junkCr = false;
    this.missingProto = false;
    this.pending09 = false;
  }
}

export class HttpState {
  readonly cfg: HttpConfig;
  readonly ctx: AppParserContext;
  readonly dirs: readonly [DirState, DirState] = [new DirState(), new DirState()];
  /** Transactions not yet reported, in txId order. */
  readonly pending: HttpTx[] = [];
  nextTxId = 0;
  /** What the connection turned into; 'none' while it is HTTP/1.x. */
  switched: HttpSwitch = 'none';
  /** The transaction whose response switched protocols (its request starts HTTP/2 after h2c). */
  upgradeTx: HttpTx | null = null;
  /** Per direction, the stream offset where the switched-to protocol starts (-1 before a switch). */
  readonly switchOffset: [number, number] = [-1, -1];
  /** Per direction, bytes already received that belong to the switched-to protocol. */
  readonly handoff: [Buffer | null, Buffer | null] = [null, null];
  /** The transaction whose response decides a HOLD. */
  holdTx: HttpTx | null = null;
  held: Buffer[] = [];
  heldLen = 0;
  /** Input of the current feedResponseHead call: buf, read position, end. */
  private rb: Buffer = Buffer.alloc(0);
  private rq = 0;
  private rend = 0;
  /** The last request read (a following line that is no request line is its body). */
  private lastRequest: HttpTx | null = null;
  abandoned = false;
  ended = false;
  /** Stream position bias of the current call: stream offset of buf[i] is bias + i. */
  private bias = 0;

  constructor(cfg: HttpConfig, ctx: AppParserContext) {
    this.cfg = cfg;
    this.ctx = ctx;
  }

  // ------------------------------------------------------------------ input

  parse(dir: Direction, buf: Buffer, off: number, len: number): void {
    if (this.abandoned || len <= 0) return;
    if (off < 0 || off + len > buf.length) return;
    const d = this.dirs[dir];
    if (d.st === St.HOLD) {
      this.hold(buf, off, off + len);
      return;
    }
    if (d.st === St.TUNNEL || d.st === St.DEAD) {
      d.consumed += len;
      return;
    }
    const savedBias = this.bias;
    this.bias = d.consumed - off;
    let p = off;
    const end = off + len;
    while (p < end && !this.abandoned) {
      // (a cast: TypeScript narrows d.st from the early returns above, but the loop changes it)
      switch (d.st as St) {
        case St.IDLE: {
          // tolerate stray CR/LF between messages (extra CRLF after a POST body is common)
          while (p < end && (buf[p] === CR || buf[p] === LF)) p++;
          if (p < end) {
            d.resetHead();
            if (dir === 1) {
              // the server answers an HTTP/0.9 request line: the request is complete
              const d0 = this.dirs[0];
              if (d0.pending09) this.requestHead(d0, -1);
              if (this.startBareResponse()) break;
            }
            d.st = St.HEAD;
          }
          break;
        }
        case St.HEAD:
          if (dir === 0) p = this.feedHead(d, dir, buf, p, end);
          else p = d.junk ? this.feedJunkLine(d, buf, p, end) : this.feedResponseHead(d, buf, p, end);
          break;
        case St.TRAILER:
          p = this.feedHead(d, dir, buf, p, end);
          break;
        case St.BODY_CL:
        case St.CHUNK_DATA: {
          const avail = end - p;
          const n = d.remaining < avail ? d.remaining : avail;
          this.bodyData(d, dir, buf, p, n);
          this.wire(d, dir, n);
          p += n;
          d.remaining -= n;
          if (d.remaining === 0) {
            if (d.st === St.BODY_CL) this.messageDone(dir, p);
            else d.st = St.CHUNK_CRLF;
          }
          break;
        }
        case St.CHUNK_CRLF: {
          const c = buf[p]!;
          if (c === CR || c === LF) {
            p++;
            this.wire(d, dir, 1);
            if (c === LF) { d.st = St.CHUNK_SIZE; d.resetHead(); }
          } else {
            // missing CRLF after chunk data: read the size line from here
            d.st = St.CHUNK_SIZE;
            d.resetHead();
          }
          break;
        }
        case St.CHUNK_SIZE:
          p = this.feedChunkLine(d, dir, buf, p, end);
          break;
        case St.BODY_EOF: {
          const n = end - p;
          this.bodyData(d, dir, buf, p, n);
          this.wire(d, dir, n);
          p = end;
          break;
        }
        case St.HOLD:
          d.consumed = this.bias + p;
          this.bias = savedBias;
          this.hold(buf, p, end);
          return;
        case St.TUNNEL:
          // bytes after the switching response belong to the next protocol
          if (this.handoff[dir] === null && this.switchOffset[dir] === this.bias + p) {
            this.handoff[dir] = Buffer.from(buf.subarray(p, end));
          }
          p = end;
          break;
        case St.DEAD:
          p = end;
          break;
      }
    }
    d.consumed = this.bias + (this.abandoned ? end : p);
    this.bias = savedBias;
  }

  gap(dir: Direction, len: number): void {
    if (this.abandoned || len <= 0) return;
    const d = this.dirs[dir];
    switch (d.st) {
      case St.TUNNEL:
      case St.DEAD:
        d.consumed += len;
        return;
      case St.BODY_EOF:
        d.consumed += len;
        if (d.tx !== null) d.tx.bodyGap = true;
        this.wire(d, dir, len);
        return;
      case St.BODY_CL:
      case St.CHUNK_DATA:
        if (len <= d.remaining) {
          d.consumed += len;
          d.remaining -= len;
          if (d.tx !== null) d.tx.bodyGap = true;
          this.wire(d, dir, len);
          if (d.remaining === 0) {
            if (d.st === St.BODY_CL) this.messageDone(dir, -1);
            else d.st = St.CHUNK_CRLF;
          }
          return;
        }
        break;
      default:
        break;
    }
    // The gap hides this direction's framing, and only this direction's:
    // stop reading it and go on with the other. Suricata does the same
    // (suricata-verify http-gap-beyond-body: after a gap it cannot skip, the
    // response side stops and later requests are still logged).
    this.ctx.event(E.gapInHeaders);
    d.consumed += len;
    this.stopDirection(dir);
  }

  /**
   * Framing lost in `dir` (a gap it cannot skip): the transaction it was
   * reading is closed as it is and the direction reads nothing more. With the
   * response side stopped, transactions are reported without waiting for a
   * response; with both sides stopped the parser gives up.
   */
  private stopDirection(dir: Direction): void {
    const d = this.dirs[dir];
    if (d.st === St.HOLD) {
      this.held = [];
      this.heldLen = 0;
      this.holdTx = null;
    }
    const tx = d.tx;
    if (tx !== null) {
      this.finishBody(d, dir);
      if (dir === 0) tx.requestComplete = true;
      else tx.responseComplete = true;
    }
    d.tx = null;
    d.remaining = 0;
    d.resetHead();
    d.st = St.DEAD;
    if (this.dirs[dir === 0 ? 1 : 0].st === St.DEAD) {
      this.giveUp('http: gap inside message framing');
      return;
    }
    // no response will come to decide a held Upgrade/CONNECT: parse the held bytes as HTTP
    if (dir === 1 && this.dirs[0].st === St.HOLD) this.release();
    this.flush();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.abandoned) return;
    if (this.dirs[0].st === St.HOLD) this.release();
    // a request whose headers the connection cut off: libhtp finalizes it at
    // the close with its request line and the complete header lines
    // (suricata-verify http-request-line inspects that request line)
    const d0 = this.dirs[0];
    if (d0.st === St.HEAD && d0.firstLineDone && !this.abandoned) {
      d0.headLen = d0.lineStart;
      this.requestHead(d0, -1);
    }
    for (const dir of [0, 1] as const) {
      const d = this.dirs[dir];
      if (d.tx !== null && (d.st === St.BODY_EOF || d.st === St.BODY_CL || d.st === St.CHUNK_DATA ||
        d.st === St.CHUNK_SIZE || d.st === St.CHUNK_CRLF || d.st === St.TRAILER || d.st === St.HEAD)) {
        this.messageDone(dir, -1);
      }
    }
    this.flushAll();
  }

  // ------------------------------------------------------------------ heads

  /** Gather head (or trailer) lines; returns the new read position. */
  private feedHead(d: DirState, dir: Direction, buf: Buffer, p: number, end: number): number {
    if (d.pending09) {
      d.pending09 = false;
      if (protocolOnlyMissing(buf, p, end)) d.missingProto = true;
      else {
        this.requestHead(d, p);
        return p;
      }
    }
    while (p < end) {
      const lf = buf.indexOf(LF, p);
      const haveLf = lf >= 0 && lf < end;
      const stop = haveLf ? lf + 1 : end;
      const n = stop - p;
      if (d.headLen + n > this.cfg.headLimit) {
        this.ctx.event(dir === 0 ? E.requestFieldTooLong : E.responseFieldTooLong);
        this.giveUp('http: message head exceeds limit');
        return end;
      }
      this.ensureHead(d, d.headLen + n);
      copyBytes(buf, p, stop, d.head, d.headLen);
      d.headLen += n;
      p = stop;
      if (d.st === St.TRAILER) this.wire(d, dir, n); // trailers are part of the chunked body
      if (!haveLf) return p;
      let le = d.headLen - 1;
      if (le > d.lineStart && d.head[le - 1] === CR) le--;
      const empty = le === d.lineStart;
      const lineStart = d.lineStart;
      d.lineStart = d.headLen;
      if (d.st === St.HEAD && !d.firstLineDone) {
        // after a request, a line that does not start with a method libhtp
        // knows is more body of that request, not a new one (libhtp's
        // htp_connp_REQ_FINALIZE: "Unexpected request body"; a POST without
        // Content-Length followed by its body, suricata-verify
        // http-request-invalid)
        const last = this.lastRequest;
        if (dir === 0 && last !== null && !startsWithKnownMethod(d.head, lineStart, d.headLen)) {
          this.ctx.event(E.requestBodyUnexpected);
          if (last.requestBody.append(d.head, lineStart, d.headLen - lineStart)) this.ctx.event(E.bodyLimitReached);
          last.requestWireLength += d.headLen - lineStart;
          d.resetHead();
          d.st = St.IDLE;
          return p;
        }
        d.firstLineDone = true;
        // HTTP/0.9: a request line without protocol has no headers — unless
        // more follows in this chunk: then the protocol is only missing
        if (dir === 0 && requestLineIs09(d.head, lineStart, le)) {
          if (p === end) {
            // decided by the next bytes of the client, the server's answer, or the end
            d.pending09 = true;
            return p;
          }
          if (!protocolOnlyMissing(buf, p, end)) {
            this.requestHead(d, p);
            return p;
          }
          d.missingProto = true;
        }
        continue;
      }
      if (empty) {
        if (d.st === St.TRAILER) this.trailerDone(d, dir, p);
        else if (dir === 0) this.requestHead(d, p);
        else this.responseHead(d, p);
        return p;
      }
    }
    return p;
  }

  /**
   * Gather a response head, splitting lines as Suricata's libhtp does
   * (htp_connp_RES_LINE / htp_connp_RES_HEADERS), because http-evader hides
   * headers behind line ends that browsers accept:
   * - status line: ends at LF, or at a CR not followed by LF;
   * - header lines: end at CRLF, at LF (taking a CR right after it: "LF CR"),
   *   or at a lone CR — but CR CR keeps the first CR in the line, and a line
   *   that would be just one CR is not a line;
   * - the head ends at an empty line ("\n", "\r", "\r\n"), or at SP/HT + LF
   *   when the next byte is not LF; after an "LF CR" line, "CRLF CRLF" is one
   *   end of head.
   * A decision that needs the next byte waits for it (state in d.scan and
   * d.lfcr), so splitting the stream anywhere changes nothing. A line that
   * does not start with "HTTP" where the status line should be is no status
   * line: libhtp (and browsers) read it as body and look for the status line
   * in the next line (feedJunkLine).
   */
  private feedResponseHead(d: DirState, buf: Buffer, p: number, end: number): number {
    // the "virtual" stream: head bytes, then buf[rq..rend) (fields, not closures: no allocation per call)
    this.rb = buf;
    this.rq = p;
    this.rend = end;
    let i = d.scan;
    for (;;) {
      // run of ordinary bytes
      if (i >= d.headLen) {
        let k = this.rq + (i - d.headLen);
        const k0 = k;
        while (k < end && buf[k] !== CR && buf[k] !== LF) k++;
        if (k > k0) d.lfcr = false;
        i = d.headLen + (k - this.rq);
      } else {
        let c = d.head[i]!;
        while (c !== CR && c !== LF) {
          d.lfcr = false;
          c = this.vat(d, ++i);
          if (c < 0) break;
        }
      }
      const c = this.vat(d, i);
      if (c < 0) return this.waitMore(d, i);
      const ls = d.lineStart;
      let e: number;
      if (!d.firstLineDone) {
        if (c === CR) {
          const n = this.vat(d, i + 1);
          if (n < 0) return this.waitMore(d, i);
          if (n === LF) { i++; continue; }
        }
        e = i + 1;
        if (this.statusLineIsBody(d, e, true)) return this.startJunk(d, this.rq);
        if (!this.vtake(d, e)) return end;
        let ce = e;
        while (ce > ls && (d.head[ce - 1] === CR || d.head[ce - 1] === LF)) ce--;
        d.statusEnd = ce;
        d.hdrStart = e;
        d.firstLineDone = true;
        d.lineStart = e;
        d.lfcr = false;
        i = e;
        continue;
      }
      let drop = 0;
      let endCr = false;
      if (c === CR) {
        const n = this.vat(d, i + 1);
        if (n < 0) return this.waitMore(d, i);
        if (n === LF) {
          e = i + 2;
          if (d.lfcr) {
            const n2 = this.vat(d, e);
            if (n2 < 0) return this.waitMore(d, i);
            if (n2 === CR) {
              const n3 = this.vat(d, e + 1);
              if (n3 < 0) return this.waitMore(d, i);
              // libhtp moves the line start along with these bytes
              e++; drop++;
              if (n3 === LF) { e++; drop++; }
            }
          }
        } else if (n === CR) {
          i++; // CR CR: the first CR belongs to the line
          continue;
        } else e = i + 1;
        endCr = true;
      } else {
        const n = this.vat(d, i + 1);
        // a non-empty line waits for the byte after LF (an LF CR ending); an empty one ends the head now
        if (n < 0 && i > ls) return this.waitMore(d, i);
        e = n === CR ? i + 2 : i + 1;
      }
      const ds = ls + drop;
      const len = e - ds;
      if (endCr && len < 2) {
        // a lone CR is not a line end: it is part of the next line
        d.lfcr = false;
        i = e;
        continue;
      }
      const b0 = this.vat(d, ds), b1 = len >= 2 ? this.vat(d, ds + 1) : -1;
      let term = (len === 1 && (b0 === CR || b0 === LF)) || (len === 2 && b0 === CR && b1 === LF);
      if (!term && len === 2 && (b0 === 0x20 || b0 === 0x09) && b1 === LF) {
        const nx = this.vat(d, e);
        if (nx < 0) return this.waitMore(d, i);
        term = nx !== LF;
      }
      d.lfcr = c === LF && e === i + 2;
      if (!this.vtake(d, e)) return end;
      d.lineStart = e;
      i = e;
      if (term) {
        const q = this.rq;
        this.responseHead(d, q);
        return q;
      }
      let ce = e;
      while (ce > ds && (d.head[ce - 1] === CR || d.head[ce - 1] === LF)) ce--;
      d.lines.push(ds, ce);
    }
  }

  /**
   * libhtp's htp_treat_response_line_as_body: after leading whitespace and
   * NULs, a status line starts with "HTTP" (any case). Decided as soon as four
   * such bytes are there, so a body without line ends is not gathered as a head.
   */
  /** A decision needs bytes not received yet: keep all of them (they belong to the current line) and wait. */
  private waitMore(d: DirState, i: number): number {
    if (!d.firstLineDone && this.statusLineIsBody(d, i)) return this.startJunk(d, this.rq);
    if (!this.vtake(d, d.headLen + (this.rend - this.rq))) return this.rend;
    d.scan = i;
    return this.rend;
  }

  /** Byte v of the virtual stream (head, then the unread input), -1 when not received yet. */
  private vat(d: DirState, v: number): number {
    if (v < d.headLen) return d.head[v]!;
    const k = this.rq + (v - d.headLen);
    return k < this.rend ? this.rb[k]! : -1;
  }

  /** Copy the virtual stream up to v into the head; false when the head limit gave up the flow. */
  private vtake(d: DirState, v: number): boolean {
    const n = v - d.headLen;
    if (n <= 0) return true;
    if (d.headLen + n > this.cfg.headLimit) {
      this.ctx.event(E.responseFieldTooLong);
      this.giveUp('http: message head exceeds limit');
      return false;
    }
    this.ensureHead(d, d.headLen + n);
    copyBytes(this.rb, this.rq, this.rq + n, d.head, d.headLen);
    d.headLen += n;
    this.rq += n;
    return true;
  }

  private statusLineIsBody(d: DirState, upto: number, whole = false): boolean {
    let i = d.lineStart;
    for (;; i++) {
      const c = i < upto ? this.vat(d, i) : -1;
      if (c < 0) return whole; // a whole line of whitespace is no status line; a partial one is undecided
      if (!(c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0)) break;
    }
    const w = [0x68, 0x74, 0x74, 0x70];
    for (let k = 0; k < 4; k++) {
      const c = i + k < upto ? this.vat(d, i + k) : -1;
      if (c < 0) return whole;
      if ((c | 0x20) !== w[k]) return true;
    }
    return false;
  }

  /**
   * A line before the status line that is no status line: its bytes are
   * body of the response being read (libhtp hands them to the body hooks),
   * and the status line may still follow ("foobar\r\nHTTP/1.1 200 ok…",
   * http-evader 484-488). A response that never has a status line (an
   * HTTP/0.9-style answer) is all body this way.
   */
  private startJunk(d: DirState, q: number): number {
    if (d.tx === null) {
      const tx = this.pairResponse();
      tx.hasResponse = true;
      d.tx = tx;
      d.compressed = null;
      d.codings = null;
    }
    const n = d.headLen - d.lineStart;
    if (n > 0) {
      this.bodyData(d, 1, d.head, d.lineStart, n);
      this.wire(d, 1, n);
    }
    d.resetHead();
    d.junk = true;
    d.junkCr = false;
    return q;
  }

  /** Body bytes of a junk line (see startJunk) up to its end: LF, CR LF, or a CR not followed by LF. */
  private feedJunkLine(d: DirState, buf: Buffer, p: number, end: number): number {
    let k = p;
    let done = false;
    if (d.junkCr) {
      d.junkCr = false;
      if (buf[k] === LF) k++;
      done = true;
    } else {
      while (k < end) {
        const c = buf[k];
        if (c === LF) { k++; done = true; break; }
        if (c === CR) {
          if (k + 1 >= end) { k++; d.junkCr = true; break; }
          k += buf[k + 1] === LF ? 2 : 1;
          done = true;
          break;
        }
        k++;
      }
    }
    if (k > p) {
      this.bodyData(d, 1, buf, p, k - p);
      this.wire(d, 1, k - p);
    }
    if (done) d.junk = false;
    return k;
  }

  private ensureHead(d: DirState, need: number): void {
    if (need <= d.head.length) return;
    let cap = d.head.length * 2;
    while (cap < need) cap *= 2;
    if (cap > this.cfg.headLimit) cap = this.cfg.headLimit;
    const nb = Buffer.allocUnsafe(cap);
    d.head.copy(nb, 0, 0, d.headLen);
    d.head = nb;
  }

  private copyHead(d: DirState): Buffer {
    const head = Buffer.allocUnsafe(d.headLen);
    d.head.copy(head, 0, 0, d.headLen);
    return head;
  }

  private requestHead(d: DirState, p: number): void {
    const head = this.copyHead(d); // private copy for the transaction
    const missingProto = d.missingProto;
    d.resetHead();
    const tx = this.newTx();
    this.lastRequest = tx;
    const cfg = this.cfg;
    let lineEnd = head.indexOf(LF);
    if (lineEnd < 0) lineEnd = head.length;
    const hdrStart = lineEnd < head.length ? lineEnd + 1 : head.length;
    if (lineEnd > 0 && head[lineEnd - 1] === CR) lineEnd--;
    this.parseRequestLine(tx, head, lineEnd, hdrStart);
    if (tx.http09 && missingProto) {
      this.ctx.event(E.requestLineMissingProtocol);
      tx.http09 = false;
    } else if (tx.http09) {
      this.ctx.event(E.requestLineMissingProtocol);
      tx.requestComplete = true;
      d.st = St.IDLE;
      this.flush();
      return;
    }
    const issues = parseHeaderBlock(head, hdrStart, head.length, tx.requestHeaders, cfg.maxHeaders);
    this.headerEvents(0, issues);
    // libhtp knows the Basic, Digest and Bearer schemes (htp_parse_authorization)
    const auth = tx.requestHeader('authorization');
    if (auth !== null && !/^(?:basic|digest|bearer)/i.test(auth.toString('latin1', 0, 6))) this.ctx.event(E.requestAuthUnrecognized);
    // Host checks (RFC 9112 §3.2)
    const hostHdr = tx.requestHeader('host');
    if (hostHdr === null) {
      if (tx.protocolIs(HTTP11) && !tx.methodIs(CONNECT)) this.ctx.event(E.missingHostHeader);
    } else if (tx.uriHasHost) {
      // absolute-form URI and a Host header: they should name the same host
      const hp = hostPort(hostHdr, 0, hostHdr.length);
      const fromHdr = normalizeHost(hostHdr, hp.hostStart, hp.hostEnd);
      const h = tx.host;
      if (h !== null && !h.equals(fromHdr)) this.ctx.event(E.hostHeaderAmbiguous);
    }
    // body framing (RFC 9112 §6.3): Transfer-Encoding, then Content-Length, else none
    d.tx = tx;
    d.compressed = null;
    d.codings = null;
    const te = tx.requestHeader('transfer-encoding');
    const cl = contentLength(tx.requestHeaders);
    if (te !== null) {
      if (cl !== CL_ABSENT) this.ctx.event(E.contentLengthAndTransferEncoding);
      if (lastCodingIsChunked(te)) {
        d.st = St.CHUNK_SIZE;
        return;
      }
      this.ctx.event(E.invalidTransferEncodingRequest);
      this.messageDone(0, p);
      return;
    }
    if (cl === CL_INVALID) this.ctx.event(E.invalidContentLengthRequest);
    else if (cl === CL_CONFLICT) this.ctx.event(E.duplicateContentLengthRequest);
    const n = cl >= 0 ? cl : cl === CL_CONFLICT ? firstContentLength(tx.requestHeaders) : 0;
    if (n > 0) {
      d.remaining = n;
      d.st = St.BODY_CL;
      return;
    }
    this.messageDone(0, p);
  }

  /** Split the request line h[..e) into method, URI and protocol (offsets handed to the transaction). */
  private parseRequestLine(tx: HttpTx, h: Buffer, e: number, hdrStart: number): void {
    let i = 0;
    while (i < e && isWs(h[i])) i++;
    if (i > 0) this.ctx.event(E.requestLineLeadingWhitespace);
    const lineStart = i;
    const mS = i;
    while (i < e && !isWs(h[i])) i++;
    const mE = i;
    const afterMethod = i;
    while (i < e && isWs(h[i])) i++;
    if (i - afterMethod > 1 || (i > afterMethod && h[afterMethod] !== 0x20)) this.ctx.event(E.methodDelimNonCompliant);
    let uS = i, uE = i, pS = e, pE = e;
    if (i >= e) {
      // "GET" alone: no URI at all
      this.ctx.event(E.requestLineInvalid);
      tx.http09 = true;
    } else {
      // protocol = last token when it starts with HTTP/; the URI is what lies between
      let t = e;
      while (t > i && isWs(h[t - 1])) t--;
      let ps = t;
      while (ps > i && !isWs(h[ps - 1])) ps--;
      if (ps > i && startsWithHttp(h, ps, t)) {
        let ue = ps;
        while (ue > i && isWs(h[ue - 1])) ue--;
        let odd = ps - ue > 1 || h[ue] !== 0x20;
        for (let k = i; !odd && k < ue; k++) if (isWs(h[k])) odd = true;
        if (odd) this.ctx.event(E.uriDelimNonCompliant);
        uE = ue; pS = ps; pE = t;
      } else {
        let ue = i;
        while (ue < e && !isWs(h[ue])) ue++;
        uE = ue;
        let q = ue;
        while (q < e && isWs(h[q])) q++;
        if (q >= t) tx.http09 = true;
        else {
          pS = q; pE = t;
          this.ctx.event(E.requestLineInvalid);
        }
      }
    }
    tx.setRequestLine(h, [lineStart, e, mS, mE, uS, uE, pS, pE, hdrStart]);
  }

  /** toClient message start: if the next transaction is HTTP/0.9, its response is a bare body. */
  private startBareResponse(): boolean {
    const tx = this.firstAwaitingResponse();
    if (tx === null || !tx.http09) return false;
    tx.hasResponse = true;
    const d = this.dirs[1];
    d.tx = tx;
    d.compressed = null;
    d.codings = null;
    d.st = St.BODY_EOF;
    return true;
  }

  private responseHead(d: DirState, p: number): void {
    const head = this.copyHead(d);
    // line boundaries found by feedResponseHead
    const lineEnd = d.statusEnd >= 0 ? d.statusEnd : 0;
    const hdrStart = d.hdrStart >= 0 ? d.hdrStart : head.length;
    const headers: HttpHeader[] = [];
    // status line: protocol SP status SP reason
    let i = 0;
    while (i < lineEnd && isWs(head[i])) i++;
    const pS = i;
    while (i < lineEnd && !isWs(head[i])) i++;
    const pE = i;
    while (i < lineEnd && isWs(head[i])) i++;
    const sS = i;
    while (i < lineEnd && !isWs(head[i])) i++;
    const sE = i;
    while (i < lineEnd && isWs(head[i])) i++;
    let status = -1;
    if (sE - sS === 3) {
      const a = head[sS]! - 0x30, b = head[sS + 1]! - 0x30, c = head[sS + 2]! - 0x30;
      if (a >= 1 && a <= 9 && b >= 0 && b <= 9 && c >= 0 && c <= 9) status = a * 100 + b * 10 + c;
    }
    const http11 = pE - pS === HTTP11.length && head.compare(HTTP11, 0, HTTP11.length, pS, pE) === 0;
    const issues = parseResponseFields(head, d.lines, d.lines.length, http11, headers, this.cfg.maxHeaders);
    d.resetHead();
    // A response with Content-Length or Transfer-Encoding has a body whatever
    // its status: libhtp reads it (browsers do too), so a 1xx, 204 or 304
    // that frames a body is a final response with that body (http-evader).
    const framedHdr = combinedValue(headers, 'transfer-encoding') !== null || combinedValue(headers, 'content-length') !== null;
    // interim 1xx (not 101): the final response for the same request follows
    if (status >= 100 && status < 200 && status !== 101 && !framedHdr) {
      d.st = St.IDLE;
      return;
    }
    if (!startsWithHttp(head, pS, pE)) this.ctx.event(E.responseInvalidProtocol);
    if (status < 0) this.ctx.event(E.responseInvalidStatus);
    // (a transaction is already paired when junk lines came first)
    const tx = d.tx ?? this.pairResponse();
    tx.setResponseLine(head, [pS, lineEnd, pS, pE, sS, sE, i, lineEnd, hdrStart]);
    tx.status = status;
    for (const h of headers) tx.responseHeaders.push(h);
    this.headerEvents(1, issues);
    d.tx = tx;
    d.compressed = null;
    d.codings = null;

    // protocol switches
    if (status === 101 && !framedHdr) {
      const up = tx.requestHeader('upgrade') ?? tx.responseHeader('upgrade');
      const tok = up === null ? '' : up.toString('latin1').trim().toLowerCase();
      this.switchTo(tx, tok === 'h2c' ? 'h2c' : tok === 'websocket' ? 'websocket' : 'other', p);
      return;
    }
    if (tx.methodIs(CONNECT) && status >= 200 && status < 300) {
      this.switchTo(tx, 'connect', p);
      return;
    }
    if (this.holdTx === tx) this.release();
    if (this.abandoned) return;

    // body framing (RFC 9112 §6.3)
    // 1xx, 204 and 304 have no body, unless the server frames one anyway:
    // browsers then read it, and so does libhtp (http-evader 447-453), even
    // a 304's Content-Length (which RFC 9110 §8.6 says describes the cached
    // representation: following libhtp here keeps Suricata's view).
    const noBody = tx.methodIs(HEAD) || (!framedHdr && (status === 204 || status === 304 || (status >= 100 && status < 200)));
    if (noBody) {
      this.messageDone(1, p);
      return;
    }
    if (this.cfg.decompress) {
      const ce = tx.responseHeader('content-encoding');
      if (ce !== null) {
        const codings = parseCodings(ce);
        if (codings !== null && codings.length > 0) {
          if (codings.length > this.cfg.maxEncodingLayers) this.ctx.event(E.tooManyEncodingLayers);
          else {
            d.codings = codings;
            d.compressed = new BoundedBody(this.cfg.responseBodyLimit + COMPRESSED_SLACK);
          }
        }
      }
    }
    const te = tx.responseHeader('transfer-encoding');
    const cl = contentLength(tx.responseHeaders);
    if (te !== null) {
      if (cl !== CL_ABSENT) this.ctx.event(E.contentLengthAndTransferEncoding);
      if (lastCodingIsChunked(te)) {
        if (tx.responseProtocolIs(HTTP10)) this.ctx.event(E.responseChunkedOldProto);
        d.st = St.CHUNK_SIZE;
      } else {
        this.ctx.event(E.invalidTransferEncodingResponse);
        d.st = St.BODY_EOF;
      }
      return;
    }
    if (cl === CL_INVALID) this.ctx.event(E.invalidContentLengthResponse);
    else if (cl === CL_CONFLICT) this.ctx.event(E.duplicateContentLengthResponse);
    const n = cl >= 0 ? cl : cl === CL_CONFLICT ? firstContentLength(tx.responseHeaders) : -1;
    if (n === 0) this.messageDone(1, p);
    else if (n > 0) {
      d.remaining = n;
      d.st = St.BODY_CL;
    } else d.st = St.BODY_EOF; // no length: the body runs to the end of the connection
  }

  private trailerDone(d: DirState, dir: Direction, p: number): void {
    const tx = d.tx;
    if (tx !== null && d.headLen > 2) {
      const copy = Buffer.from(d.head.subarray(0, d.headLen));
      const list = dir === 0 ? tx.requestHeaders : tx.responseHeaders;
      const issues = parseHeaderBlock(copy, 0, copy.length, list, this.cfg.maxHeaders);
      this.headerEvents(dir, issues);
    }
    d.resetHead();
    this.messageDone(dir, p);
  }

  private headerEvents(dir: Direction, issues: number): void {
    if (issues === 0) return;
    const ev = this.ctx;
    if (issues & HDR_MISSING_COLON) ev.event(dir === 0 ? E.requestFieldMissingColon : E.responseFieldMissingColon);
    if (issues & HDR_INVALID_NAME) ev.event(dir === 0 ? E.requestHeaderInvalid : E.responseHeaderInvalid);
    if (issues & HDR_BAD_FOLDING) ev.event(dir === 0 ? E.invalidRequestFieldFolding : E.invalidResponseFieldFolding);
    if (issues & HDR_TOO_MANY) ev.event(dir === 0 ? E.requestTooManyHeaders : E.responseTooManyHeaders);
  }

  // ------------------------------------------------------------------ chunks

  private feedChunkLine(d: DirState, dir: Direction, buf: Buffer, p: number, end: number): number {
    const lf = buf.indexOf(LF, p);
    const haveLf = lf >= 0 && lf < end;
    const stop = haveLf ? lf + 1 : end;
    const n = stop - p;
    this.wire(d, dir, n);
    if (d.headLen + n > CHUNK_LINE_LIMIT) {
      this.badChunk(d, dir);
      return stop;
    }
    this.ensureHead(d, d.headLen + n);
    copyBytes(buf, p, stop, d.head, d.headLen);
    d.headLen += n;
    if (!haveLf) {
      // libhtp's probe: 8 bytes without a line end whose first non-control
      // byte is not a hex digit are no chunk size; the body is then read to
      // the end of the connection (a server that says chunked but is not)
      if (d.headLen >= 8 && !looksLikeChunkSize(d.head, d.headLen)) this.badChunk(d, dir);
      return stop;
    }
    const h = d.head;
    let i = 0;
    const e = d.headLen;
    // Suricata's libhtp skips leading CR/LF/SP/HT/VT/FF, reads the hex digits
    // and ignores whatever follows them ("fx", "f\0"): an evasion-resistant
    // reading that the http-evader tests check. A line of only such control
    // bytes is skipped and the next line is read as the size.
    while (i < e && isChunkCtl(h[i]!)) i++;
    if (i === e) {
      d.resetHead();
      return stop;
    }
    let size = 0;
    let digits = 0;
    let zeros = 0;
    while (i < e && h[i] === 0x30) { i++; zeros++; } // leading zeros are legal and must not count as size
    if (zeros > 0) digits = 1;
    for (; i < e; i++) {
      const v = hexVal(h[i]!);
      if (v < 0) break;
      if (++digits > 8) break; // libhtp refuses sizes above INT32_MAX
      size = size * 16 + v;
    }
    const ok = digits > 0 && digits <= 8 && size <= 0x7fffffff;
    // "size; name=value": libhtp reports request chunk extensions (and ignores them)
    if (ok && dir === 0 && h.indexOf(0x3b, i) >= 0 && h.indexOf(0x3b, i) < e) this.ctx.event(E.requestChunkExtension);
    if (!ok) {
      // libhtp then reads the rest of the response, this line included, as
      // a body that runs to the end of the connection
      this.badChunk(d, dir);
      return stop;
    }
    d.resetHead();
    if (size === 0) {
      d.st = St.TRAILER;
      d.firstLineDone = true;
    } else {
      d.remaining = size;
      d.st = St.CHUNK_DATA;
    }
    return stop;
  }

  private badChunk(d: DirState, dir: Direction): void {
    this.ctx.event(dir === 0 ? E.invalidRequestChunkLen : E.invalidResponseChunkLen);
    if (dir === 1) {
      // keep what follows, and the unreadable line itself, as body (as
      // libhtp does): more useful to inspection than nothing
      d.st = St.BODY_EOF;
      if (d.headLen > 0) this.bodyData(d, dir, d.head, 0, d.headLen);
      d.resetHead();
      return;
    }
    d.resetHead();
    // the request stream cannot be reframed: stop reading it
    if (d.tx !== null) this.finishBody(d, dir);
    if (d.tx !== null) d.tx.requestComplete = true;
    d.tx = null;
    d.st = St.DEAD;
    this.flush();
  }

  // ------------------------------------------------------------------ bodies

  private bodyData(d: DirState, dir: Direction, buf: Buffer, p: number, n: number): void {
    const tx = d.tx;
    if (tx === null || n <= 0) return;
    if (d.compressed !== null) {
      d.compressed.append(buf, p, n, d.remaining);
      return;
    }
    const body = dir === 0 ? tx.requestBody : tx.responseBody;
    if (body.append(buf, p, n, d.st === St.BODY_CL ? d.remaining : 0)) this.ctx.event(E.bodyLimitReached);
  }

  private wire(d: DirState, dir: Direction, n: number): void {
    const tx = d.tx;
    if (tx === null) return;
    if (dir === 0) tx.requestWireLength += n;
    else tx.responseWireLength += n;
  }

  /** Decode a collected compressed body into the transaction's response body. */
  private finishBody(d: DirState, dir: Direction): void {
    const tx = d.tx;
    const comp = d.compressed;
    const codings = d.codings;
    d.compressed = null;
    d.codings = null;
    if (tx === null || comp === null || codings === null || dir !== 1) return;
    const limit = this.cfg.responseBodyLimit;
    let data = comp.bytes();
    let failed = false;
    let limited = comp.truncated;
    for (let layer = 0; layer < codings.length; layer++) {
      const r = decodeBounded(data, limit);
      if (!r.ok && !r.limited) failed = true;
      if (r.limited) limited = true;
      // a layer that does not decode passes its input through, as libhtp's
      // decompressors do: the other layers are still undone ("gzip, deflate"
      // over a body that is only gzipped)
      if (!r.ok && r.data.length === 0) continue;
      data = r.data;
    }
    if (failed && !comp.truncated) this.ctx.event(E.gzipDecompressionFailed);
    if (tx.responseBody.append(data, 0, data.length, data.length) || limited) this.ctx.event(E.bodyLimitReached);
  }

  // ------------------------------------------------------------------ transactions

  private newTx(): HttpTx {
    const c = this.cfg;
    const tx = new HttpTx(this.nextTxId++, c.requestBodyLimit, c.responseBodyLimit, c.extendedEve);
    if (this.pending.length >= c.maxPendingTx) {
      this.ctx.event(E.tooManyPendingTx);
      const old = this.pending.shift()!;
      this.ctx.tx(old);
    }
    this.pending.push(tx);
    return tx;
  }

  private firstAwaitingResponse(): HttpTx | null {
    for (let i = 0; i < this.pending.length; i++) {
      const t = this.pending[i]!;
      if (t.hasRequest && !t.hasResponse) return t;
    }
    return null;
  }

  private pairResponse(): HttpTx {
    const t = this.firstAwaitingResponse();
    if (t !== null) return t;
    this.ctx.event(E.unableToMatchResponse);
    const tx = this.newTx();
    tx.requestComplete = true;
    return tx;
  }

  private messageDone(dir: Direction, p: number): void {
    const d = this.dirs[dir];
    const tx = d.tx;
    this.finishBody(d, dir);
    d.tx = null;
    d.remaining = 0;
    d.st = St.IDLE;
    if (tx !== null) {
      if (dir === 0) {
        tx.requestComplete = true;
        // wait for the response before reading more: it may switch protocols
        if (p >= 0 && !this.ended && this.dirs[1].st !== St.DEAD && (tx.methodIs(CONNECT) || tx.requestHeader('upgrade') !== null) && !tx.hasResponse) {
          d.st = St.HOLD;
          this.holdTx = tx;
        }
      } else tx.responseComplete = true;
    }
    this.flush();
  }

  private switchTo(tx: HttpTx, kind: HttpSwitch, p: number): void {
    this.upgradeTx = tx;
    tx.switched = kind;
    tx.responseComplete = true;
    this.switched = kind;
    const [d0, d1] = this.dirs;
    this.switchOffset[0] = d0.consumed;
    this.switchOffset[1] = this.bias + p;
    this.handoff[0] = this.held.length > 0 ? Buffer.concat(this.held) : null;
    this.held = [];
    this.heldLen = 0;
    this.holdTx = null;
    d0.st = St.TUNNEL;
    d1.st = St.TUNNEL;
    d0.tx = null;
    d1.tx = null;
    this.flush();
  }

  private hold(buf: Buffer, p: number, end: number): void {
    const n = end - p;
    if (n <= 0) return;
    if (this.heldLen + n > this.cfg.headLimit) {
      // a client that keeps talking without waiting is not doing an upgrade handshake: parse on
      const d0 = this.dirs[0];
      this.release();
      if (d0.st !== St.HOLD) this.parse(0, buf, p, n);
      return;
    }
    this.held.push(Buffer.from(buf.subarray(p, end)));
    this.heldLen += n;
  }

  /** The response did not switch protocols: parse the held client bytes as HTTP. */
  private release(): void {
    const d0 = this.dirs[0];
    this.holdTx = null;
    if (d0.st === St.HOLD) d0.st = St.IDLE;
    const held = this.held;
    this.held = [];
    this.heldLen = 0;
    for (const b of held) this.parse(0, b, 0, b.length);
  }

  private flush(): void {
    const q = this.pending;
    // with the response side stopped (gap), no response will complete a transaction
    const noResponses = this.dirs[1].st === St.DEAD;
    while (q.length > 0 && q[0]!.requestComplete && (q[0]!.responseComplete || noResponses)) this.ctx.tx(q.shift()!);
  }

  private flushAll(): void {
    const q = this.pending;
    while (q.length > 0) this.ctx.tx(q.shift()!);
  }

  private giveUp(reason: string): void {
    if (this.abandoned) return;
    for (const dir of [0, 1] as const) {
      const d = this.dirs[dir];
      if (d.tx !== null) this.finishBody(d, dir);
    }
    this.flushAll();
    this.abandoned = true;
    this.held = [];
    this.heldLen = 0;
    this.ctx.abandon(reason);
  }
}

const HTTP10 = Buffer.from('HTTP/1.0', 'latin1');
const HTTP11 = Buffer.from('HTTP/1.1', 'latin1');
const HEAD = Buffer.from('HEAD', 'latin1');
const CONNECT = Buffer.from('CONNECT', 'latin1');

function isWs(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09;
}

/** Bytes libhtp skips before a chunk size (CR, LF, SP, HT, VT, FF). */
function isChunkCtl(c: number): boolean {
  return c === 0x0d || c === 0x0a || c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c;
}

function looksLikeChunkSize(h: Buffer, e: number): boolean {
  let i = 0;
  while (i < e && isChunkCtl(h[i]!)) i++;
  return i === e || hexVal(h[i]!) >= 0;
}

/** b[s..e) starts with "HTTP/" (case-insensitive, as libhtp accepts). */
function startsWithHttp(b: Buffer, s: number, e: number): boolean {
  return e - s >= 5 && (b[s]! | 0x20) === 0x68 && (b[s + 1]! | 0x20) === 0x74 && (b[s + 2]! | 0x20) === 0x74 &&
    (b[s + 3]! | 0x20) === 0x70 && b[s + 4] === 0x2f;
}

/**
 * libhtp's probe after a request line without protocol (htp_connp_REQ_PROTOCOL,
 * as in Suricata 7.0.3+): when anything but whitespace follows in the same
 * chunk, or more than a few bytes do, the protocol is only missing and header
 * lines follow; a junk "request" then does not turn its response into an
 * HTTP/0.9 body (suricata-verify http-not09-file, http-missing-protocol).
 */
function protocolOnlyMissing(b: Buffer, p: number, end: number): boolean {
  if (end - p > HTTP09_MAX_JUNK) return true;
  for (let i = p; i < end; i++) {
    const c = b[i]!;
    if (!(c === 0x20 || (c >= 0x09 && c <= 0x0d))) return true;
  }
  return false;
}

/** Whitespace bytes after an HTTP/0.9 request line still read as 0.9 (libhtp's HTTP09_MAX_JUNK_LEN, 16). */
const HTTP09_MAX_JUNK = 16;

/** Methods libhtp knows (htp_convert_method_to_number); other first words after a request are body. */
const KNOWN_METHODS = [
  'GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'PROPFIND', 'PROPPATCH', 'MKCOL',
  'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'VERSION-CONTROL', 'CHECKOUT', 'UNCHECKOUT', 'CHECKIN', 'UPDATE', 'LABEL',
  'REPORT', 'MKWORKSPACE', 'MKACTIVITY', 'BASELINE-CONTROL', 'MERGE', 'INVALID',
].map((m) => Buffer.from(m, 'latin1'));

/** The line b[s..e) starts (after whitespace) with a known method followed by whitespace or the line end. */
function startsWithKnownMethod(b: Buffer, s: number, e: number): boolean {
  let i = s;
  while (i < e && (b[i] === 0x20 || (b[i]! >= 0x09 && b[i]! <= 0x0d))) i++;
  let j = i;
  while (j < e && !(b[j] === 0x20 || (b[j]! >= 0x09 && b[j]! <= 0x0d))) j++;
  if (j === i) return true; // a blank line is skipped, not body
  for (const m of KNOWN_METHODS) if (m.length === j - i && b.compare(m, 0, m.length, i, j) === 0) return true;
  return false;
}

/** A request line without a protocol token (method SP uri, nothing after). */
function requestLineIs09(b: Buffer, s: number, e: number): boolean {
  let i = s;
  while (i < e && isWs(b[i])) i++;
  while (i < e && !isWs(b[i])) i++; // method
  while (i < e && isWs(b[i])) i++;
  if (i >= e) return true; // method only
  while (i < e && !isWs(b[i])) i++; // uri
  while (i < e && isWs(b[i])) i++;
  return i >= e;
}

/**
 * Transfer-Encoding that makes the body chunked. Suricata's libhtp takes any
 * value that contains "chunked" (case-insensitive, NUL bytes ignored), so
 * "xchunked", "chu\0nked" or "x, chunked, y" all dechunk: following it keeps
 * the evasions of http-evader visible to file_data.
 */
function lastCodingIsChunked(v: Buffer): boolean {
  // eslint-disable-next-line no-control-regex
  return v.toString('latin1').replace(/\x00/g, '').toLowerCase().includes('chunked');
}

const CL_ABSENT = -1;
const CL_INVALID = -2;
const CL_CONFLICT = -3;

function parseDecimal(v: Buffer): number {
  let s = 0, e = v.length;
  while (s < e && isWs(v[s])) s++;
  while (e > s && isWs(v[e - 1])) e--;
  if (e === s) return -1;
  while (e - s > 1 && v[s] === 0x30) s++; // leading zeros
  if (e - s > 15) return -1;
  let n = 0;
  for (let i = s; i < e; i++) {
    const c = v[i]! - 0x30;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/** Content-Length across all instances: the value, or CL_ABSENT / CL_INVALID / CL_CONFLICT. */
function contentLength(hs: readonly HttpHeader[]): number {
  let val = CL_ABSENT;
  for (const h of hs) {
    if (h.lname !== 'content-length') continue;
    // "5, 5" (a list of identical values) is allowed by RFC 9110 §8.6
    for (const part of splitComma(h.value)) {
      const n = parseDecimal(part);
      if (n < 0) return CL_INVALID;
      if (val === CL_ABSENT) val = n;
      else if (val !== n) return CL_CONFLICT;
    }
  }
  return val;
}

function firstContentLength(hs: readonly HttpHeader[]): number {
  for (const h of hs) {
    if (h.lname !== 'content-length') continue;
    const n = parseDecimal(splitComma(h.value)[0]!);
    return n < 0 ? 0 : n;
  }
  return 0;
}

function splitComma(v: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let s = 0;
  for (let i = 0; i <= v.length; i++) {
    if (i === v.length || v[i] === 0x2c) {
      out.push(v.subarray(s, i));
      s = i + 1;
    }
  }
  return out;
}
