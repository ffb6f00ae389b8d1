/**
 * Formatting of the scalar values EVE records carry (timestamps, addresses,
 * protocol names), in Suricata's spelling so that tools written for
 * Suricata's EVE read Harrier's unchanged.
 */

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

/**
 * Suricata's EVE timestamp: `2020-09-13T12:26:40.574982+0000` (UTC,
 * microseconds, offset without a colon).
 */
export function eveTimestamp(tsSec: number, tsNsec: number): string {
  const d = new Date(tsSec * 1000);
  const usec = Math.floor(tsNsec / 1000);
  return (
    `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}.` +
    `${String(usec).padStart(6, '0')}+0000`
  );
}

/** Dotted-quad text of an IPv4 address held as an unsigned 32-bit number. */
export function ipv4ToString(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}

/**
 * Text of an IPv6 address held as four 32-bit words. Suricata writes IPv6
 * addresses in full, each group as four hex digits (`2001:0db8:0000:…`);
 * we do the same so addresses compare equal as strings across both tools.
 */
export function ipv6ToString(w: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < 4; i++) {
    const v = w[i] >>> 0;
    if (i > 0) s += ':';
    s += (v >>> 16).toString(16).padStart(4, '0') + ':' + (v & 0xffff).toString(16).padStart(4, '0');
  }
  return s;
}

/** Parse dotted-quad IPv4 text into a number; NaN when not an IPv4 address. */
export function parseIpv4(s: string): number {
  const parts = s.split('.');
  if (parts.length !== 4) return NaN;
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return NaN;
    const n = Number(p);
    if (n > 255) return NaN;
    v = v * 256 + n;
  }
  return v;
}

/** Suricata's `proto` names by IP protocol number. */
const PROTO_NAMES: Readonly<Record<number, string>> = {
  1: 'ICMP',
  2: 'IGMP',
  6: 'TCP',
  17: 'UDP',
  47: 'GRE',
  50: 'ESP',
  51: 'AH',
  58: 'IPv6-ICMP',
  103: 'PIM',
  132: 'SCTP',
};

export function protoName(proto: number): string {
  return PROTO_NAMES[proto] ?? String(proto);
}
