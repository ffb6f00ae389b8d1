/**
 * Base64 decoding for `base64_decode` with Suricata's "relax" mode
 * (util-base64.c, BASE64_MODE_RELAX, used by detect-base64-decode.c):
 *  - the input is consumed in blocks of 4 alphabet characters, each giving
 *    3 bytes, minus one per `=` padding character in the block;
 *  - the first character outside the alphabet (other than `=`) stops
 *    decoding; what was decoded so far is kept, and a partial block of 2–3
 *    characters before the stop still yields its 1–2 bytes;
 *  - a partial block of 2–3 characters at the end of the input yields its
 *    1–2 bytes too (suricata-verify base64-issue-5223: `base64_decode:bytes
 *    2` over "np…" gives 0x9e); a single leftover character yields nothing.
 * Not Node's Buffer.from(…, 'base64'), which skips invalid characters
 * anywhere and decodes trailing partial blocks, so results differ from
 * Suricata's on exactly the hostile inputs rules look for.
 */

const VALUE: Int8Array = (() => {
  const t = new Int8Array(256).fill(-1);
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < abc.length; i++) t[abc.charCodeAt(i)] = i;
  return t;
})();

/**
 * Decode src[from, from+len) into dst from index 0, at most dst.length bytes.
 * Returns the number of bytes written.
 */
export function decodeBase64Relaxed(src: Uint8Array, from: number, len: number, dst: Uint8Array): number {
  const end = Math.min(src.length, from + len);
  let out = 0;
  let acc = 0; // up to 4 sextets
  let n = 0; // sextets in acc
  let pad = 0;
  let stopped = false;
  for (let i = from; i < end; i++) {
    const c = src[i];
    let v = VALUE[c];
    if (v < 0) {
      if (c !== 0x3d) {
        stopped = true;
        break;
      }
      pad++;
      v = 0;
    }
    acc = (acc << 6) | v;
    n++;
    if (n === 4) {
      const emit = 3 - (pad < 4 ? pad : 3);
      if (out + emit > dst.length) return out;
      if (emit > 0) dst[out++] = (acc >>> 16) & 0xff;
      if (emit > 1) dst[out++] = (acc >>> 8) & 0xff;
      if (emit > 2) dst[out++] = acc & 0xff;
      acc = 0;
      n = 0;
      pad = 0;
    }
  }
  if (n > 0 && n < 4 && (stopped || (pad === 0 && n > 1))) {
    // What precedes a bad character or the end of the input: 2 sextets → 1 byte, 3 → 2.
    const p = n > 1 ? 4 - n : 2;
    const emit = 3 - p;
    acc <<= 6 * (4 - n);
    if (emit > 0 && out < dst.length) dst[out++] = (acc >>> 16) & 0xff;
    if (emit > 1 && out < dst.length) dst[out++] = (acc >>> 8) & 0xff;
  }
  return out;
}
