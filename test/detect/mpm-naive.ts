/**
 * The reference the multi-pattern matcher tests compare against: every
 * pattern tried at every position of buf[off..off+len), nocase through the
 * matcher's own fold table. Returns the ids found.
 */
import { FOLD } from '../../src/detect/engine/mpm.js';

export interface NaivePattern {
  bytes: Uint8Array;
  nocase: boolean;
  id: number;
}

export function naiveMatches(pats: readonly NaivePattern[], buf: Uint8Array, off: number, len: number): Set<number> {
  const out = new Set<number>();
  for (const p of pats) {
    const m = p.bytes.length;
    for (let i = off; i + m <= off + len; i++) {
      let k = 0;
      if (p.nocase) while (k < m && FOLD[buf[i + k]!] === FOLD[p.bytes[k]!]) k++;
      else while (k < m && buf[i + k] === p.bytes[k]) k++;
      if (k === m) {
        out.add(p.id);
        break;
      }
    }
  }
  return out;
}
