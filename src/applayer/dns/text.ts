/**
 * Bytes from the wire as EVE strings, the way Suricata writes them.
 *
 * Suricata's JSON builder (`set_string_from_bytes`) keeps bytes that form
 * valid UTF-8 as they are, and otherwise keeps ASCII bytes and writes every
 * byte >= 0x80 as the four characters `\xhh` (lowercase). EVE consumers and
 * rules compare against those strings, so DNS names, TXT strings and SSH
 * banners are converted with exactly this rule (control characters stay as
 * characters; JSON.stringify escapes them as `\u0003`, as Suricata does).
 *
 * Converting is one allocation (the string) per field: the common all-ASCII
 * case goes through latin1 decoding, the fastest Buffer-to-string path.
 */
import { isUtf8 } from 'node:buffer';

const HEX = '0123456789abcdef';

/** The EVE string of buf[start, end). */
export function bytesToText(buf: Buffer, start: number, end: number): string {
  if (end <= start) return '';
  let high = 0;
  for (let i = start; i < end; i++) high |= buf[i];
  if (high < 0x80) return buf.toString('latin1', start, end);
  return nonAsciiToText(buf, start, end);
}

function nonAsciiToText(buf: Buffer, start: number, end: number): string {
  const view = buf.subarray(start, end);
  if (isUtf8(view)) return view.toString('utf8');
  let s = '';
  for (let i = start; i < end; i++) {
    const b = buf[i];
    s += b < 0x80 ? String.fromCharCode(b) : '\\x' + HEX[b >> 4] + HEX[b & 15];
  }
  return s;
}
