/**
 * Google QUIC (Q043–Q046) client hello: the CHLO handshake message travels
 * in clear in the first packet's stream frame, as a tag/value map —
 * "CHLO", entry count (u16 LE), 2 bytes padding, then per entry a 4-byte tag
 * and the u32 LE end offset of its value, then the values back to back.
 * The SNI is the value of tag "SNI\0".
 */

/** 'CHLO' as it appears on the wire. */
const C = 0x43, H = 0x48, L = 0x4c, O = 0x4f;
/** More entries than this is not a real hello (Chrome sends ~20). */
const MAX_TAGS = 64;

/** The SNI of a CHLO somewhere in [off, off+len), or null. Scans once; no allocation until the name is found. */
export function gquicChloSni(b: Buffer, off: number, len: number): string | null {
  const end = off + len;
  for (let p = off; p + 8 <= end; p++) {
    if (b[p] !== C || b[p + 1] !== H || b[p + 2] !== L || b[p + 3] !== O) continue;
    const n = b.readUInt16LE(p + 4);
    if (n === 0 || n > MAX_TAGS) return null;
    const tags = p + 8;
    const values = tags + 8 * n;
    if (values > end) return null;
    let start = 0;
    for (let i = 0; i < n; i++) {
      const t = tags + 8 * i;
      const stop = b.readUInt32LE(t + 4);
      if (stop < start || values + stop > end) return null;
      if (b[t] === 0x53 && b[t + 1] === 0x4e && b[t + 2] === 0x49 && b[t + 3] === 0) {
        return stop > start && stop - start <= 255 ? b.toString('latin1', values + start, values + stop) : null;
      }
      start = stop;
    }
    return null;
  }
  return null;
}
