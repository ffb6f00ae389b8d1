/**
 * A bounded, synchronous inflater: deflate (RFC 1951) bare, in a zlib
 * wrapper (RFC 1950) or in gzip members (RFC 1952), for HTTP content decoding.
 *
 * Why our own rather than node:zlib or a library:
 * - node:zlib's synchronous functions on Node 20 never free their engine when
 *   they throw on corrupt data (a 16 KiB buffer and ~2 KiB of objects per
 *   call), so a server sending corrupt compressed bodies grows the sensor
 *   without bound; the streaming API is asynchronous and the HTTP parser is
 *   not. They also throw away everything decoded before the error, which a
 *   detector still wants to inspect.
 * - fflate decodes truncated streams differently from zlib (suricata-verify's
 *   HTTP tests, written against libhtp on zlib, regressed) and does not check
 *   everything zlib checks (a stored block's length complement).
 * The format is small; this file keeps zlib's observable behaviour for a
 * whole input given with Z_SYNC_FLUSH: every complete symbol is output
 * (partial stored blocks too), running out of input is not an error, and the
 * data errors zlib reports are reported here with zlib's messages, at the
 * same point, with everything decoded before them kept. A match may reach
 * back into all output so far, as in a single zlib inflate() call: a zlib
 * header's smaller window is not enforced (zlib itself enforces it only
 * across calls, so its verdict depends on the caller's output chunking).
 * test/applayer/inflate.test.ts checks this against node:zlib on valid,
 * truncated and mutated streams.
 *
 * Not re-entrant: the Huffman tables are module-level scratch (decoding is
 * synchronous and one body at a time), so decoding allocates only its output.
 */

export type InflateStatus =
  /** The stream (and its trailer, for zlib/gzip) ended cleanly. */
  | 'end'
  /** The input ran out first: zlib's Z_SYNC_FLUSH result, not an error. */
  | 'truncated'
  /** More output would follow but the limit was reached. */
  | 'limit'
  /** A data error (`error` says which); output decoded before it is kept. */
  | 'error';

export interface InflateResult {
  /** Decoded bytes (at most the limit). */
  data: Buffer;
  status: InflateStatus;
  /** zlib's message for the data error, or ''. */
  error: string;
}

export type Wrapper = 'raw' | 'zlib' | 'gzip';

const MAXBITS = 15;
/** Bits resolved by one table lookup; longer codes (rare) walk the canonical counts. */
const FAST = 9;
const FASTSIZE = 1 << FAST;
const FASTMASK = FASTSIZE - 1;
/** Table entry: no code has these bits (only in the incomplete tables zlib allows). */
const INVALID = -1;
/** decode(): out of input. */
const NEED = -2;

/** A canonical Huffman code: counts per length, symbols by code, and a first-level lookup. */
class Huffman {
  readonly count = new Uint16Array(MAXBITS + 1);
  readonly symbol: Uint16Array;
  /** (symbol << 4 | length) for codes of at most FAST bits, 0 for longer ones, INVALID for none. */
  readonly fast = new Int32Array(FASTSIZE);
  constructor(n: number) {
    this.symbol = new Uint16Array(n);
  }
}

const offs = new Uint16Array(MAXBITS + 2);

/**
 * Build `h` from code lengths lens[off..off+n). Returns false for the sets
 * zlib refuses: over-subscribed, or incomplete unless the code has a single
 * symbol of one bit (and never for the code-length code).
 */
function build(h: Huffman, lens: Uint8Array, off: number, n: number, codeLengthCode: boolean): boolean {
  const count = h.count;
  count.fill(0);
  for (let i = 0; i < n; i++) count[lens[off + i]!]!++;
  let max = MAXBITS;
  while (max >= 1 && count[max] === 0) max--;
  if (max === 0) {
    // No symbols at all: zlib accepts the set and fails when a symbol is
    // read, after one bit; the code-length code instead reads symbol 0
    // (a zero length) for every bit (zlib does not check that table's marker).
    h.fast.fill(codeLengthCode ? (0 << 4) | 1 : INVALID);
    return true;
  }
  count[0] = 0;
  let left = 1;
  for (let len = 1; len <= MAXBITS; len++) {
    left = (left << 1) - count[len]!;
    if (left < 0) return false;
  }
  if (left > 0 && (codeLengthCode || max !== 1)) return false;
  offs[1] = 0;
  for (let len = 1; len < MAXBITS; len++) offs[len + 1] = offs[len]! + count[len]!;
  for (let sym = 0; sym < n; sym++) {
    const l = lens[off + sym]!;
    if (l !== 0) h.symbol[offs[l]!++] = sym;
  }
  h.fast.fill(left > 0 ? INVALID : 0);
  let code = 0;
  let k = 0;
  for (let len = 1; len <= FAST; len++) {
    for (let c = count[len]!; c > 0; c--) {
      // codes are sent most significant bit first: index the table by the reversed code
      let rev = 0;
      for (let b = 0; b < len; b++) rev |= ((code >>> b) & 1) << (len - 1 - b);
      const entry = (h.symbol[k++]! << 4) | len;
      for (let j = rev; j < FASTSIZE; j += 1 << len) h.fast[j] = entry;
      code++;
    }
    code <<= 1;
  }
  return true;
}

/** Decode one symbol from `bits` (avail valid bits) by walking the canonical code; (symbol << 4 | length), NEED or INVALID. */
function decodeSlow(h: Huffman, bits: number, avail: number): number {
  let code = 0;
  let first = 0;
  let index = 0;
  for (let len = 1; len <= MAXBITS; len++) {
    if (len > avail) return NEED;
    code |= (bits >>> (len - 1)) & 1;
    const count = h.count[len]!;
    if (code - count < first) return (h.symbol[index + code - first]! << 4) | len;
    index += count;
    first = (first + count) << 1;
    code <<= 1;
  }
  return INVALID;
}

// RFC 1951 §3.2.5: length and distance bases and extra bits.
const LBASE = Uint16Array.from([3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]);
const LEXT = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]);
const DBASE = Uint16Array.from([1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]);
const DEXT = Uint8Array.from([0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]);
/** RFC 1951 §3.2.7: the order code-length code lengths are sent in. */
const CLORDER = Uint8Array.from([16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]);

// Fixed codes (§3.2.6), built once. zlib's fixed tables include the unused
// literal/length symbols 286-287 and distances 30-31, which decode as errors.
const fixedLit = new Huffman(288);
const fixedDist = new Huffman(32);
{
  const l = new Uint8Array(288);
  l.fill(8, 0, 144); l.fill(9, 144, 256); l.fill(7, 256, 280); l.fill(8, 280, 288);
  build(fixedLit, l, 0, 288, false);
  build(fixedDist, new Uint8Array(32).fill(5), 0, 32, false);
}
const dynLit = new Huffman(288);
const dynDist = new Huffman(32);
const clCode = new Huffman(19);
const lens = new Uint8Array(286 + 30);

/** The decoder's state for one call; reused. */
class Inflater {
  src: Uint8Array = new Uint8Array(0);
  pos = 0;
  end = 0;
  /** Bit buffer, least significant bit first; exactly bc valid bits, zeros above. */
  bb = 0;
  bc = 0;
  out: Buffer = Buffer.alloc(0);
  outLen = 0;
  limit = 0;
  error = '';

  reset(src: Uint8Array, start: number, limit: number, sizeHint: number): void {
    this.src = src;
    this.pos = start;
    this.end = src.length;
    this.bb = 0;
    this.bc = 0;
    this.limit = limit;
    this.out = Buffer.allocUnsafe(Math.min(limit, Math.max(1024, sizeHint)));
    this.outLen = 0;
    this.error = '';
  }

  private refill(): void {
    while (this.bc <= 24 && this.pos < this.end) {
      this.bb |= this.src[this.pos++]! << this.bc;
      this.bc += 8;
    }
  }

  /** n (≤ 16) bits, or -1 when the input ends first. */
  bits(n: number): number {
    if (this.bc < n) {
      this.refill();
      if (this.bc < n) return -1;
    }
    const v = this.bb & ((1 << n) - 1);
    this.bb >>>= n;
    this.bc -= n;
    return v;
  }

  /** Next symbol of `h`, NEED at the end of input, INVALID for a code that is not in `h`. */
  decode(h: Huffman): number {
    if (this.bc < MAXBITS) this.refill();
    if (this.bc === 0) return NEED;
    let e = h.fast[this.bb & FASTMASK]!;
    if (e === 0) e = decodeSlow(h, this.bb, this.bc);
    if (e < 0) return e;
    const len = e & 15;
    if (len > this.bc) return NEED;
    this.bb >>>= len;
    this.bc -= len;
    return e >>> 4;
  }

  /** Give whole unread bytes in the bit buffer back to the input (after byte alignment). */
  unreadBytes(): void {
    this.bb >>>= this.bc & 7;
    this.bc -= this.bc & 7;
    this.pos -= this.bc >>> 3;
    this.bb = 0;
    this.bc = 0;
  }

  /** Double the output buffer, up to the limit; false when it is already at the limit. */
  private grow(): boolean {
    if (this.out.length >= this.limit) return false;
    const n = Buffer.allocUnsafe(Math.min(this.limit, this.out.length * 2));
    this.out.copy(n, 0, 0, this.outLen);
    this.out = n;
    return true;
  }

  private fail(msg: string): InflateStatus {
    this.error = msg;
    return 'error';
  }

  /** Inflate one deflate stream from pos. */
  deflate(): InflateStatus {
    for (;;) {
      const hdr = this.bits(3);
      if (hdr < 0) return 'truncated';
      const type = hdr >>> 1;
      let st: InflateStatus | null;
      if (type === 0) st = this.stored();
      else if (type === 1) st = this.codes(fixedLit, fixedDist);
      else if (type === 2) st = this.dynamic();
      else return this.fail('invalid block type');
      if (st !== null) return st;
      if (hdr & 1) return 'end';
    }
  }

  private stored(): InflateStatus | null {
    this.unreadBytes();
    if (this.end - this.pos < 4) return 'truncated';
    const s = this.src;
    const p = this.pos;
    const len = s[p]! | (s[p + 1]! << 8);
    const nlen = s[p + 2]! | (s[p + 3]! << 8);
    if ((len ^ 0xffff) !== nlen) return this.fail('invalid stored block lengths');
    this.pos += 4;
    let left = len;
    while (left > 0) {
      if (this.pos === this.end) return 'truncated';
      if (this.outLen === this.out.length && !this.grow()) return 'limit';
      const n = Math.min(left, this.end - this.pos, this.out.length - this.outLen);
      this.out.set(s.subarray(this.pos, this.pos + n), this.outLen);
      this.outLen += n;
      this.pos += n;
      left -= n;
    }
    return null;
  }

  private dynamic(): InflateStatus | null {
    const h = this.bits(14);
    if (h < 0) return 'truncated';
    const nlen = (h & 31) + 257;
    const ndist = ((h >>> 5) & 31) + 1;
    const ncode = (h >>> 10) + 4;
    if (nlen > 286 || ndist > 30) return this.fail('too many length or distance symbols');
    lens.fill(0, 0, 19);
    for (let i = 0; i < ncode; i++) {
      const v = this.bits(3);
      if (v < 0) return 'truncated';
      lens[CLORDER[i]!] = v;
    }
    if (!build(clCode, lens, 0, 19, true)) return this.fail('invalid code lengths set');
    const total = nlen + ndist;
    let have = 0;
    while (have < total) {
      const sym = this.decode(clCode);
      if (sym === NEED) return 'truncated';
      if (sym === INVALID) return this.fail('invalid code lengths set'); // unreachable: build() refuses incomplete sets here
      if (sym < 16) {
        lens[have++] = sym;
        continue;
      }
      let len = 0;
      let copy: number;
      if (sym === 16) {
        const r = this.bits(2);
        if (r < 0) return 'truncated';
        if (have === 0) return this.fail('invalid bit length repeat');
        len = lens[have - 1]!;
        copy = 3 + r;
      } else if (sym === 17) {
        const r = this.bits(3);
        if (r < 0) return 'truncated';
        copy = 3 + r;
      } else {
        const r = this.bits(7);
        if (r < 0) return 'truncated';
        copy = 11 + r;
      }
      if (have + copy > total) return this.fail('invalid bit length repeat');
      lens.fill(len, have, have + copy);
      have += copy;
    }
    if (lens[256] === 0) return this.fail('invalid code -- missing end-of-block');
    if (!build(dynLit, lens, 0, nlen, false)) return this.fail('invalid literal/lengths set');
    if (!build(dynDist, lens, nlen, ndist, false)) return this.fail('invalid distances set');
    return this.codes(dynLit, dynDist);
  }

  /**
   * Decode literals and matches up to the end-of-block code. The hot loop:
   * the bit buffer, input position and output live in locals (written back
   * on every exit), and a symbol of at most FAST bits is one table lookup.
   */
  private codes(lit: Huffman, dist: Huffman): InflateStatus | null {
    const src = this.src;
    const end = this.end;
    const lf = lit.fast;
    const df = dist.fast;
    let bb = this.bb;
    let bc = this.bc;
    let pos = this.pos;
    let out = this.out;
    let w = this.outLen;
    let status: InflateStatus | null = null;
    for (;;) {
      if (bc < MAXBITS) {
        while (bc <= 24 && pos < end) { bb |= src[pos++]! << bc; bc += 8; }
        if (bc === 0) { status = 'truncated'; break; }
      }
      let e = lf[bb & FASTMASK]!;
      if (e === 0) e = decodeSlow(lit, bb, bc);
      if (e === NEED || (e & 15) > bc) { status = 'truncated'; break; }
      if (e === INVALID) { status = this.fail('invalid literal/length code'); break; }
      let sym = e >>> 4;
      const used = e & 15;
      bb >>>= used;
      bc -= used;
      if (sym < 256) {
        if (w === out.length) {
          this.outLen = w;
          if (!this.grow()) { status = 'limit'; break; }
          out = this.out;
        }
        out[w++] = sym;
        continue;
      }
      if (sym === 256) break;
      sym -= 257;
      if (sym >= 29) { status = this.fail('invalid literal/length code'); break; }
      let len = LBASE[sym]!;
      let n = LEXT[sym]!;
      if (n > 0) {
        if (bc < n) {
          while (bc <= 24 && pos < end) { bb |= src[pos++]! << bc; bc += 8; }
          if (bc < n) { status = 'truncated'; break; }
        }
        len += bb & ((1 << n) - 1);
        bb >>>= n;
        bc -= n;
      }
      if (bc < MAXBITS) {
        while (bc <= 24 && pos < end) { bb |= src[pos++]! << bc; bc += 8; }
        if (bc === 0) { status = 'truncated'; break; }
      }
      e = df[bb & FASTMASK]!;
      if (e === 0) e = decodeSlow(dist, bb, bc);
      if (e === NEED || (e & 15) > bc) { status = 'truncated'; break; }
      const ds = e >>> 4;
      if (e === INVALID || ds >= 30) { status = this.fail('invalid distance code'); break; }
      bb >>>= e & 15;
      bc -= e & 15;
      let d = DBASE[ds]!;
      n = DEXT[ds]!;
      if (n > 0) {
        if (bc < n) {
          while (bc <= 24 && pos < end) { bb |= src[pos++]! << bc; bc += 8; }
          if (bc < n) { status = 'truncated'; break; }
        }
        d += bb & ((1 << n) - 1);
        bb >>>= n;
        bc -= n;
      }
      if (d > w) { status = this.fail('invalid distance too far back'); break; }
      if (out.length - w < len) {
        this.outLen = w;
        while (this.out.length - w < len && this.grow()) { /* grow to fit or to the limit */ }
        out = this.out;
        if (out.length - w < len) {
          len = out.length - w;
          status = 'limit';
        }
      }
      if (len >= 16 && d >= len) {
        // a long match that does not overlap the bytes it produces: one memmove
        out.copyWithin(w, w - d, w - d + len);
        w += len;
      } else {
        // byte by byte: short, or overlapping (a run repeating its last d bytes)
        for (let r = w - d, stop = w + len; w < stop;) out[w++] = out[r++]!;
      }
      if (status !== null) break;
    }
    this.bb = bb;
    this.bc = bc;
    this.pos = pos;
    this.outLen = w;
    return status;
  }

  result(status: InflateStatus): InflateResult {
    return { data: this.out.subarray(0, this.outLen), status, error: this.error };
  }
}

const inflater = new Inflater();

/** CRC-32 tables for slicing by 8 (eight bytes per step: the byte-at-a-time loop was a third of decoding time). */
const CRC = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) for (let k = 1; k < 8; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n]! >>> 8) ^ t[t[(k - 1) * 256 + n]! & 0xff]!;
  return t;
})();

/** CRC-32 (RFC 1952 §8) of b[s..e). */
export function crc32(b: Uint8Array, s = 0, e = b.length): number {
  const t = CRC;
  let c = -1;
  for (; s + 8 <= e; s += 8) {
    const lo = c ^ (b[s]! | (b[s + 1]! << 8) | (b[s + 2]! << 16) | (b[s + 3]! << 24));
    c = t[1792 + (lo & 0xff)]! ^ t[1536 + ((lo >>> 8) & 0xff)]! ^ t[1280 + ((lo >>> 16) & 0xff)]! ^ t[1024 + (lo >>> 24)]!
      ^ t[768 + b[s + 4]!]! ^ t[512 + b[s + 5]!]! ^ t[256 + b[s + 6]!]! ^ t[b[s + 7]!]!;
  }
  for (; s < e; s++) c = t[(c ^ b[s]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** Adler-32 (RFC 1950 §8.2) of b[s..e). */
export function adler32(b: Uint8Array, s = 0, e = b.length): number {
  let a = 1;
  let d = 0;
  while (s < e) {
    // 5552: the most bytes before the sums can pass 2^32 (zlib's NMAX)
    const stop = Math.min(e, s + 5552);
    for (; s < stop; s++) {
      a += b[s]!;
      d += a;
    }
    a %= 65521;
    d %= 65521;
  }
  return ((d << 16) | a) >>> 0;
}

function readU32LE(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

/**
 * Offset of the deflate data after a gzip member header (RFC 1952 §2.3)
 * starting at `p`: -1 when `b` is not gzip there, -2 when the header is cut
 * short. Lenient as browsers and libhtp are: reserved flag bits and the
 * header CRC are not checked.
 */
export function gzipDataStart(b: Uint8Array, p = 0): number {
  if (b.length - p >= 1 && b[p] !== 0x1f) return -1;
  if (b.length - p >= 2 && b[p + 1] !== 0x8b) return -1;
  if (b.length - p >= 3 && b[p + 2] !== 8) return -1;
  if (b.length - p < 10) return -2;
  const flg = b[p + 3]!;
  let off = p + 10;
  if (flg & 0x04) {
    if (off + 2 > b.length) return -2;
    off += 2 + (b[off]! | (b[off + 1]! << 8));
  }
  if (flg & 0x08) { while (off < b.length && b[off] !== 0) off++; off++; }
  if (flg & 0x10) { while (off < b.length && b[off] !== 0) off++; off++; }
  if (flg & 0x02) off += 2;
  return off <= b.length ? off : -2;
}

/** Does `b` start with a valid zlib header (RFC 1950 §2.2: deflate, check bits)? */
export function isZlibHeader(b: Uint8Array): boolean {
  return b.length >= 2 && (b[0]! & 0x0f) === 8 && ((b[0]! << 8) | b[1]!) % 31 === 0;
}

/**
 * Decode `src` (one wrapper's worth: a raw deflate stream, a zlib stream, or
 * one or more gzip members) keeping at most `limit` output bytes.
 */
export function inflate(src: Uint8Array, wrapper: Wrapper, limit: number): InflateResult {
  const z = inflater;
  z.reset(src, 0, Math.max(0, limit), src.length * 4);
  try {
    if (wrapper === 'raw') return z.result(z.deflate());
    if (wrapper === 'zlib') return z.result(zlibStream(z));
    return z.result(gzipMembers(z));
  } finally {
    // keep neither the caller's input nor the returned output alive
    z.src = EMPTY_SRC;
    z.out = EMPTY_OUT;
  }
}

const EMPTY_SRC = new Uint8Array(0);
const EMPTY_OUT = Buffer.alloc(0);

function zlibStream(z: Inflater): InflateStatus {
  const s = z.src;
  if (s.length < 2) return 'truncated';
  if (((s[0]! << 8) | s[1]!) % 31 !== 0) { z.error = 'incorrect header check'; return 'error'; }
  if ((s[0]! & 0x0f) !== 8) { z.error = 'unknown compression method'; return 'error'; }
  if ((s[0]! >>> 4) + 8 > 15) { z.error = 'invalid window size'; return 'error'; }
  if (s[1]! & 0x20) { z.error = 'need dictionary'; return 'error'; }
  z.pos = 2;
  const st = z.deflate();
  if (st !== 'end') return st;
  z.unreadBytes();
  if (z.end - z.pos < 4) return 'truncated';
  const want = ((s[z.pos]! << 24) | (s[z.pos + 1]! << 16) | (s[z.pos + 2]! << 8) | s[z.pos + 3]!) >>> 0;
  if (adler32(z.out, 0, z.outLen) !== want) { z.error = 'incorrect data check'; return 'error'; }
  return 'end';
}

/**
 * gzip members back to back, as Node's gunzip reads them: after a member,
 * zero bytes (padding) end the input; anything else must be another member.
 * The header checks are zlib's, except the lenient ones of gzipDataStart.
 */
function gzipMembers(z: Inflater): InflateStatus {
  const s = z.src;
  for (let member = 0; ; member++) {
    if (member > 0 && (z.pos === z.end || s[z.pos] === 0)) return 'end';
    const avail = z.end - z.pos;
    if (avail < 2) return 'truncated';
    if (s[z.pos] !== 0x1f || s[z.pos + 1] !== 0x8b) { z.error = 'incorrect header check'; return 'error'; }
    if (avail < 4) return 'truncated';
    if (s[z.pos + 2] !== 8) { z.error = 'unknown compression method'; return 'error'; }
    const start = gzipDataStart(s, z.pos);
    if (start < 0) return 'truncated';
    const outStart = z.outLen;
    z.pos = start;
    const st = z.deflate();
    if (st !== 'end') return st;
    z.unreadBytes();
    // zlib checks the CRC as soon as its four bytes are in, before the length
    if (z.end - z.pos < 4) return 'truncated';
    if (crc32(z.out, outStart, z.outLen) !== readU32LE(s, z.pos)) { z.error = 'incorrect data check'; return 'error'; }
    if (z.end - z.pos < 8) return 'truncated';
    if (((z.outLen - outStart) >>> 0) !== readU32LE(s, z.pos + 4)) { z.error = 'incorrect length check'; return 'error'; }
    z.pos += 8;
  }
}
