/**
 * Number extraction for byte_test, byte_jump, byte_extract and byte_math,
 * with Suricata's semantics (util-byte.c, detect-byte*.c):
 *  - binary: 1..8 bytes, big or little endian, unsigned;
 *  - string: up to 23 characters read as text in base 10/16/8 the way C's
 *    strtoull reads them (leading white space, an optional sign, `0x` for
 *    hex; parsing stops at the first non-digit or NUL; the number of
 *    characters consumed is what byte_jump adds). No digit → no value.
 *
 * Values are unsigned 64-bit in Suricata; here they are doubles, exact up to
 * 2^53. Larger values (8-byte fields with the top bits set) lose low bits,
 * which can only matter for comparisons against equally huge constants.
 * The bitwise helpers split at 2^32 so `&`, `^` and bitmasks stay exact up
 * to 2^53.
 *
 * Everything here works on (buffer, position) with results in a caller-owned
 * Float64Array: no allocation per call.
 */

export const TWO32 = 4294967296;
export const TWO64 = 18446744073709551616;

/** Read `nbytes` (1..8) unsigned binary bytes at b[pos]. Caller checks bounds. */
export function readUint(b: Uint8Array, pos: number, nbytes: number, little: boolean): number {
  let v = 0;
  if (little) {
    for (let i = nbytes - 1; i >= 0; i--) v = v * 256 + b[pos + i];
  } else {
    for (let i = 0; i < nbytes; i++) v = v * 256 + b[pos + i];
  }
  return v;
}

/**
 * strtoull over b[pos, pos+nbytes) (stopping at NUL). On success writes
 * out[0] = value, out[1] = characters consumed (> 0) and returns true;
 * returns false when no digit was read or the value overflows 64 bits
 * (Suricata: ERANGE → error → no match).
 */
export function readString(b: Uint8Array, pos: number, nbytes: number, base: number, out: Float64Array): boolean {
  if (nbytes > 23 || nbytes <= 0) return false;
  const end = pos + nbytes;
  let i = pos;
  while (i < end && isSpace(b[i])) i++;
  let neg = false;
  if (i < end && (b[i] === 0x2b || b[i] === 0x2d)) {
    neg = b[i] === 0x2d;
    i++;
  }
  if (base === 16 && i + 1 < end && b[i] === 0x30 && (b[i + 1] | 0x20) === 0x78 && i + 2 < end && digitValue(b[i + 2]) < 16) {
    i += 2;
  }
  let v = 0;
  let digits = 0;
  while (i < end) {
    const d = digitValue(b[i]);
    if (d >= base) break;
    v = v * base + d;
    digits++;
    i++;
  }
  if (digits === 0) return false;
  if (v >= TWO64) return false;
  if (neg && v !== 0) v = TWO64 - v;
  out[0] = v;
  out[1] = i - pos;
  return true;
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function digitValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x7a) return l - 0x61 + 10;
  return 99;
}

/** a & b for non-negative integers below 2^53 (exact). */
export function and64(a: number, b: number): number {
  if (a < TWO32 && b < TWO32) return (a & b) >>> 0;
  const ah = Math.floor(a / TWO32);
  const bh = Math.floor(b / TWO32);
  return ((ah & bh) >>> 0) * TWO32 + ((a % TWO32 & b % TWO32) >>> 0);
}

/** a ^ b for non-negative integers below 2^53 (exact). */
export function xor64(a: number, b: number): number {
  if (a < TWO32 && b < TWO32) return (a ^ b) >>> 0;
  const ah = Math.floor(a / TWO32);
  const bh = Math.floor(b / TWO32);
  return ((ah ^ bh) >>> 0) * TWO32 + ((a % TWO32 ^ b % TWO32) >>> 0);
}

/** Number of trailing zero bits of a positive mask (Suricata shifts a masked value right by it). */
export function trailingZeros(mask: number): number {
  if (mask <= 0) return 0;
  let n = 0;
  let m = mask;
  while (m % 2 === 0 && n < 64) {
    m = m / 2;
    n++;
  }
  return n;
}

/** Apply a byte_* bitmask: value & mask, then shifted right by the mask's trailing zeros (when non-zero). */
export function applyBitmask(v: number, mask: number, shift: number): number {
  let r = and64(v, mask);
  if (r !== 0 && shift > 0) r = Math.floor(r / 2 ** shift);
  return r;
}

/** Wrap a double into the unsigned 64-bit range the way uint64 arithmetic does (approximately above 2^53). */
export function wrap64(v: number): number {
  if (v >= 0 && v < TWO64) return Math.floor(v);
  if (!Number.isFinite(v)) return 0;
  const r = v % TWO64;
  return Math.floor(r < 0 ? r + TWO64 : r);
}
