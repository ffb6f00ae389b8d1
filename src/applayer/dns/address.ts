/**
 * IP address text for DNS answers.
 *
 * Two spellings are needed: the canonical one (dotted quad, RFC 5952 for
 * IPv6: lowercase, leading zeros dropped, longest run of two or more zero
 * groups as `::`), which is what the flow/EVE `src_ip`/`dest_ip` use and hence
 * the key of the answer table; and Suricata's EVE `rdata` spelling for AAAA,
 * eight 4-digit groups with nothing compressed (`2001:0db8:0000:…`).
 */

export function formatIpv4(buf: Uint8Array, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

/** RFC 5952 text of the 16 bytes at buf[off]. */
export function formatIpv6(buf: Uint8Array, off: number): string {
  // Find the longest run (>= 2) of zero groups; the first one wins ties.
  let bestStart = -1;
  let bestLen = 0;
  let runStart = -1;
  for (let g = 0; g <= 8; g++) {
    const zero = g < 8 && buf[off + 2 * g] === 0 && buf[off + 2 * g + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = g;
    } else if (runStart >= 0) {
      const len = g - runStart;
      if (len > bestLen && len >= 2) {
        bestStart = runStart;
        bestLen = len;
      }
      runStart = -1;
    }
  }
  let s = '';
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      s += g === 0 ? '::' : ':';
      g += bestLen - 1;
      continue;
    }
    s += ((buf[off + 2 * g] << 8) | buf[off + 2 * g + 1]).toString(16);
    if (g < 7) s += ':';
  }
  return s;
}

/** Parse IPv6 text (any valid spelling, optional embedded IPv4) into 16 bytes, or null. */
export function parseIpv6(text: string, out: Uint8Array = new Uint8Array(16)): Uint8Array | null {
  const dbl = text.indexOf('::');
  if (dbl >= 0 && text.indexOf('::', dbl + 1) >= 0) return null;
  const head = dbl >= 0 ? text.slice(0, dbl) : text;
  const tail = dbl >= 0 ? text.slice(dbl + 2) : '';
  const groups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      if (i === items.length - 1 && it.includes('.')) {
        const q = it.split('.');
        if (q.length !== 4) return null;
        const b = q.map((x) => (/^\d{1,3}$/.test(x) ? Number(x) : 256));
        if (b.some((x) => x > 255)) return null;
        out.push((b[0] << 8) | b[1], (b[2] << 8) | b[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(it)) return null;
        out.push(parseInt(it, 16));
      }
    }
    return out;
  };
  const h = groups(head);
  const t = groups(tail);
  if (h === null || t === null) return null;
  if (dbl < 0 ? h.length !== 8 : h.length + t.length > 7) return null;
  const all = dbl < 0 ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  for (let g = 0; g < 8; g++) {
    out[2 * g] = all[g] >> 8;
    out[2 * g + 1] = all[g] & 0xff;
  }
  return out;
}

/** Canonical text of an IPv4 or IPv6 address given as text; the input itself when it does not parse. */
export function canonicalIp(text: string): string {
  if (!text.includes(':')) return text;
  const b = parseIpv6(text);
  return b === null ? text : formatIpv6(b, 0);
}

/** Suricata's AAAA rdata spelling: 8 groups of 4 lowercase hex digits. */
export function ipv6Full(text: string): string {
  const b = parseIpv6(text);
  if (b === null) return '';
  let s = '';
  for (let i = 0; i < 16; i += 2) {
    if (i > 0) s += ':';
    s += ((b[i] << 8) | b[i + 1]).toString(16).padStart(4, '0');
  }
  return s;
}
