/**
 * HPACK Huffman decoding (RFC 7541 §5.2, code table in Appendix B).
 *
 * The code of Appendix B is canonical: codes are assigned in order of
 * (length, symbol), so the bit length of each of the 257 symbols is the whole
 * table — the codes are rebuilt from it at load time (a test checks a few
 * codes against the RFC and decodes the Appendix C vectors).
 *
 * Decoding: an 8-bit first-level table resolves every code of ≤ 8 bits (all
 * printable ASCII that headers mostly use: 5–8 bits) with one lookup; longer
 * codes fall back to canonical decoding by length (first code / count per
 * length), a few comparisons. The bit accumulator is one uint32 (codes are at
 * most 30 bits), so nothing is allocated per string.
 */

/** Code length in bits of symbols 0..255 and EOS (256), RFC 7541 Appendix B. */
const LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];

const MAX_LEN = 30;
const EOS = 256;

/** Symbols sorted by (length, symbol): canonical order. */
const SORTED = new Uint16Array(257);
/** Per length L: first canonical code of that length, how many, index of the first in SORTED. */
const FIRST = new Uint32Array(MAX_LEN + 1);
const COUNT = new Uint16Array(MAX_LEN + 1);
const OFFSET = new Uint16Array(MAX_LEN + 1);
/** Code of each symbol (for tests and the encoder used by tests). */
export const HUFFMAN_CODES = new Uint32Array(257);
export const HUFFMAN_LENGTHS: readonly number[] = LENGTHS;
/** First-level table: top 8 bits → symbol | (length << 9); length 0 = longer than 8 bits. */
const T8 = new Uint16Array(256);
/** 2^n for n = 0..40, for the wide window of long codes. */
const POW2 = Float64Array.from({ length: 41 }, (_, n) => 2 ** n);

(function build(): void {
  for (const l of LENGTHS) COUNT[l]!++;
  let k = 0;
  for (let l = 1; l <= MAX_LEN; l++) {
    OFFSET[l] = k;
    for (let s = 0; s < 257; s++) if (LENGTHS[s] === l) SORTED[k++] = s;
  }
  let code = 0;
  for (let l = 1; l <= MAX_LEN; l++) {
    FIRST[l] = code;
    for (let i = 0; i < COUNT[l]!; i++) HUFFMAN_CODES[SORTED[OFFSET[l]! + i]!] = code + i;
    code = (code + COUNT[l]!) * 2;
  }
  for (let s = 0; s < 257; s++) {
    const l = LENGTHS[s]!;
    if (l > 8) continue;
    const base = HUFFMAN_CODES[s]! << (8 - l);
    for (let j = 0; j < 1 << (8 - l); j++) T8[base + j] = s | (l << 9);
  }
})();

/** Decoding failed: EOS inside the string, padding longer than 7 bits or not all ones. */
export const HUFFMAN_ERROR = -1;

/**
 * Decodes `src[off, off+len)` into `dst` from `dstOff`. Returns the number of
 * bytes written, or HUFFMAN_ERROR; also -2 when `dst` is too small (the caller
 * sizes dst for the worst case: a symbol is at least 5 bits, so at most
 * ⌊len·8/5⌋ bytes come out).
 */
export function huffmanDecode(src: Buffer, off: number, len: number, dst: Buffer, dstOff: number): number {
  let acc = 0;
  let nbits = 0;
  let i = off;
  const end = off + len;
  let o = dstOff;
  const dlen = dst.length;
  for (;;) {
    while (nbits <= 24 && i < end) {
      acc = ((acc << 8) | src[i++]!) >>> 0;
      nbits += 8;
    }
    if (nbits === 0) break;
    let peek: number;
    if (nbits >= 8) peek = (acc >>> (nbits - 8)) & 0xff;
    else peek = ((acc << (8 - nbits)) | ((1 << (8 - nbits)) - 1)) & 0xff; // pad with ones, like EOS
    const e = T8[peek]!;
    const l1 = e >>> 9;
    if (l1 !== 0 && l1 <= nbits) {
      if (o >= dlen) return -2;
      dst[o++] = e & 0x1ff;
      nbits -= l1;
      continue;
    }
    if (l1 !== 0 || nbits < 8) {
      // Only the tail is left (input is exhausted here since nbits ≤ 24 would have refilled):
      // it must be a prefix of EOS (all ones) shorter than 8 bits.
      if (i < end) return HUFFMAN_ERROR;
      if (nbits > 7) return HUFFMAN_ERROR;
      const mask = (1 << nbits) - 1;
      return (acc & mask) === mask ? o - dstOff : HUFFMAN_ERROR;
    }
    // Longer code: canonical decoding, length by length, on a wider (double) window so that a
    // 30-bit code fits even when only 25 bits are buffered (rare symbols: binary bytes).
    let w = acc % POW2[nbits]!;
    let wn = nbits;
    let j = i;
    while (wn < MAX_LEN && j < end) {
      w = w * 256 + src[j++]!;
      wn += 8;
    }
    let sym = -1;
    let l = 9;
    for (; l <= MAX_LEN && l <= wn; l++) {
      const c = Math.floor(w / POW2[wn - l]!) % POW2[l]!;
      const d = c - FIRST[l]!;
      if (d >= 0 && d < COUNT[l]!) {
        sym = SORTED[OFFSET[l]! + d]!;
        break;
      }
    }
    // No code fits: truncated code or padding of 8+ bits (shorter padding was handled above).
    if (sym < 0 || sym === EOS) return HUFFMAN_ERROR;
    if (o >= dlen) return -2;
    dst[o++] = sym;
    nbits = wn - l; // ≤ 28 bits left
    acc = (w % POW2[nbits]!) >>> 0;
    i = j;
  }
  return o - dstOff;
}

/** Huffman encoding (used by tests and by whoever builds header blocks); returns a new Buffer. */
export function huffmanEncode(src: Buffer): Buffer {
  let bits = 0;
  for (let i = 0; i < src.length; i++) bits += LENGTHS[src[i]!]!;
  const out = Buffer.alloc((bits + 7) >> 3);
  let acc = 0;
  let n = 0;
  let o = 0;
  for (let i = 0; i < src.length; i++) {
    const s = src[i]!;
    let l = LENGTHS[s]!;
    const code = HUFFMAN_CODES[s]!;
    // Feed the code in pieces of ≤ 16 bits so acc never exceeds 32 bits.
    while (l > 0) {
      const take = l > 16 ? l - 16 : l;
      const part = (code >>> (l - take)) & ((1 << take) - 1);
      acc = ((acc << take) | part) >>> 0;
      n += take;
      l -= take;
      while (n >= 8) {
        out[o++] = (acc >>> (n - 8)) & 0xff;
        n -= 8;
      }
    }
  }
  if (n > 0) out[o++] = ((acc << (8 - n)) | ((1 << (8 - n)) - 1)) & 0xff;
  return out;
}
