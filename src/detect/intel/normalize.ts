/**
 * Parsing and normalisation of indicator values, shared by every feed parser,
 * the store builder and the allow-list. Build-time code (allocations are
 * fine); the store's lookups have their own allocation-free paths.
 */
import type { IndicatorKind } from './types.js';

/** Dotted-quad to unsigned 32-bit number, or -1. Strict: 4 decimal octets 0..255, no leading '+'. */
export function parseIPv4(s: string, start = 0, end = s.length): number {
  let v = 0;
  let parts = 0;
  let digits = 0;
  let oct = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      oct = oct * 10 + (c - 48);
      if (++digits > 3 || oct > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || parts === 3) return -1;
      v = v * 256 + oct;
      parts++;
      digits = 0;
      oct = 0;
    } else return -1;
  }
  if (digits === 0 || parts !== 3) return -1;
  return v * 256 + oct;
}

export function formatIPv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** IPv6 text (RFC 4291 forms incl. `::` and embedded IPv4) to 4 big-endian words, or null. */
export function parseIPv6(s: string): Uint32Array | null {
  if (s.length < 2 || s.length > 45) return null;
  const pct = s.indexOf('%'); // zone index is irrelevant for matching
  if (pct >= 0) s = s.slice(0, pct);
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return null;
  const groups: number[] = [];
  const parseSide = (part: string, allowV4: boolean): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const fields = part.split(':');
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i];
      if (allowV4 && i === fields.length - 1 && f.includes('.')) {
        const v4 = parseIPv4(f);
        if (v4 < 0) return null;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(f)) return null;
        out.push(parseInt(f, 16));
      }
    }
    return out;
  };
  if (dbl >= 0) {
    const left = parseSide(s.slice(0, dbl), false);
    const right = parseSide(s.slice(dbl + 2), true);
    if (!left || !right || left.length + right.length > 7) return null;
    groups.push(...left);
    for (let i = left.length + right.length; i < 8; i++) groups.push(0);
    groups.push(...right);
  } else {
    const all = parseSide(s, true);
    if (!all || all.length !== 8) return null;
    groups.push(...all);
  }
  const w = new Uint32Array(4);
  for (let i = 0; i < 4; i++) w[i] = ((groups[2 * i] << 16) | groups[2 * i + 1]) >>> 0;
  return w;
}

export function formatIPv6(w: ArrayLike<number>): string {
  const g: string[] = [];
  for (let i = 0; i < 4; i++) g.push((w[i] >>> 16).toString(16), (w[i] & 0xffff).toString(16));
  return g.join(':');
}

/** A parsed IP network: IPv4 as [v] in words[0], IPv6 in 4 words; prefix length. */
export interface IPNet {
  v6: boolean;
  words: Uint32Array;
  prefix: number;
}

/** `a.b.c.d`, `a.b.c.d/n`, IPv6 and `v6/n` (host bits are masked off), or null. */
export function parseIPNet(s: string): IPNet | null {
  const slash = s.indexOf('/');
  const addr = slash < 0 ? s : s.slice(0, slash);
  let prefix = -1;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return null;
    prefix = Number(p);
  }
  const v4 = parseIPv4(addr);
  if (v4 >= 0) {
    if (prefix < 0) prefix = 32;
    if (prefix > 32) return null;
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    return { v6: false, words: Uint32Array.of((v4 & mask) >>> 0), prefix };
  }
  if (!addr.includes(':')) return null;
  const w = parseIPv6(addr);
  if (!w) return null;
  if (prefix < 0) prefix = 128;
  if (prefix > 128) return null;
  for (let i = 0; i < 4; i++) {
    const bits = Math.max(0, Math.min(32, prefix - 32 * i));
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    w[i] = (w[i] & mask) >>> 0;
  }
  return { v6: true, words: w, prefix };
}

/**
 * Domain normalisation: lowercase, no trailing dot, no leading `*.` (a
 * wildcard is what parent-domain matching does anyway). Punycode is kept as
 * given (no IDNA conversion). Returns null when not a plausible host name:
 * labels 1..63 chars of [a-z0-9_-] (or non-ASCII), at least two labels, ≤ 253.
 */
export function normalizeDomain(s: string): string | null {
  let d = s.trim().toLowerCase();
  if (d.startsWith('*.')) d = d.slice(2);
  else if (d.startsWith('.')) d = d.slice(1);
  if (d.endsWith('.')) d = d.slice(0, -1);
  if (d.length === 0 || d.length > 253) return null;
  let label = 0;
  let dots = 0;
  for (let i = 0; i < d.length; i++) {
    const c = d.charCodeAt(i);
    if (c === 46) {
      if (label === 0) return null;
      label = 0;
      dots++;
      continue;
    }
    const ok = (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95 || c > 127;
    if (!ok || ++label > 63) return null;
  }
  if (label === 0 || dots === 0) return null;
  // A numeric last label is an IP address (or junk), never a TLD.
  if (/^[0-9]+$/.test(d.slice(d.lastIndexOf('.') + 1))) return null;
  return d;
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/**
 * URL key used by the store: `host[:port]/path[?query]` without scheme or
 * fragment — HTTP and HTTPS are matched alike (the matcher knows the host and
 * the request target, not always the scheme). Host lowercased, default ports
 * 80 and 443 removed, empty path becomes `/`, percent-encoded unreserved
 * characters decoded and other escapes upper-cased (RFC 3986 §6.2.2).
 * A path-only trail (`/evil.php`) keeps an empty host. Returns null when unusable.
 */
export function normalizeUrl(s: string): string | null {
  let u = s.trim();
  // Characters RFC 3986 never allows unescaped (HTML fragments, quoted junk) make it no URL.
  if (u.length === 0 || /[\s<>"{}|\\^`\x00-\x1f\x7f]/.test(u)) return null;
  const sch = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(u);
  if (sch) u = u.slice(sch[0].length);
  const hash = u.indexOf('#');
  if (hash >= 0) u = u.slice(0, hash);
  let slash = u.search(/[/?]/);
  if (slash < 0) slash = u.length;
  let host = u.slice(0, slash).toLowerCase();
  let rest = u.slice(slash);
  const at = host.lastIndexOf('@');
  if (at >= 0) host = host.slice(at + 1);
  const pm = /:(\d{1,5})$/.exec(host);
  if (pm) {
    const port = Number(pm[1]);
    if (port > 65535) return null;
    host = host.slice(0, -pm[0].length);
    if (port !== 80 && port !== 443) host += `:${port}`;
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host !== '' && !/^(\[[0-9a-f:.]+\]|[a-z0-9_.\-\u0080-\uffff]+)(:\d+)?$/.test(host)) return null;
  if (!sch && host !== '' && !rest) return null; // bare host: that is a domain, not a URL
  if (rest === '' || rest[0] === '?') rest = '/' + rest;
  rest = rest.replace(/%([0-9a-fA-F]{2})/g, (_m, hx: string) => {
    const ch = String.fromCharCode(parseInt(hx, 16));
    return UNRESERVED.test(ch) ? ch : '%' + hx.toUpperCase();
  });
  return host + rest;
}

const HEX = /^[0-9a-fA-F]+$/;

/** Kind of a lowercase hex digest by length, or null. */
export function hashKindOf(s: string): 'md5' | 'sha1' | 'sha256' | null {
  if (!HEX.test(s)) return null;
  return s.length === 32 ? 'md5' : s.length === 40 ? 'sha1' : s.length === 64 ? 'sha256' : null;
}

/** Result of classifying one token of a list file. */
export interface Classified {
  kind: IndicatorKind;
  value: string;
  port: number;
}

/**
 * Classify a bare token from a list: IPv4/IPv6 (with optional /prefix),
 * `ip:port`, `[v6]:port`, URL (scheme or a `/`), `*.domain` / domain, or a
 * hex digest. Returns null when it is none of these.
 */
export function classifyToken(tok: string): Classified | null {
  if (tok.length === 0) return null;
  const c0 = tok.charCodeAt(0);
  // ip:port (IPv4) — checked before URLs and domains.
  const colon = tok.indexOf(':');
  if (c0 === 91 /* [ */) {
    const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(tok);
    if (!m || Number(m[2]) > 65535 || !parseIPv6(m[1])) return null;
    return { kind: 'ipv6', value: m[1], port: Number(m[2]) };
  }
  if (colon > 0 && tok.indexOf(':', colon + 1) < 0 && !tok.includes('/')) {
    const port = tok.slice(colon + 1);
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) return null;
    const host = tok.slice(0, colon);
    if (parseIPv4(host) >= 0) return { kind: 'ipv4', value: host, port: Number(port) };
    const d = normalizeDomain(host);
    return d ? { kind: 'domain', value: d, port: Number(port) } : null;
  }
  if (tok.startsWith('*.') && parseIPv4(tok, 2) >= 0) return { kind: 'ipv4', value: tok.slice(2), port: 0 };
  const net = parseIPNet(tok);
  if (net) return { kind: net.v6 ? 'ipv6' : 'ipv4', value: tok, port: 0 };
  if (tok.includes('/') || tok.includes('://')) {
    const u = normalizeUrl(tok);
    return u ? { kind: 'url', value: u, port: 0 } : null;
  }
  const h = hashKindOf(tok);
  if (h) return { kind: h, value: tok.toLowerCase(), port: 0 };
  const d = normalizeDomain(tok);
  return d ? { kind: 'domain', value: d, port: 0 } : null;
}

/** Category inferred from a feed or file name where it is obvious; null otherwise. */
export function inferCategory(name: string): string | null {
  const n = name.toLowerCase();
  const rules: Array<[RegExp, string]> = [
    [/min(er|ing)|coin|crypto|xmr|monero/, 'mining'],
    [/phish/, 'phishing'],
    [/\btor\b|onion|tor_|_tor/, 'tor'],
    [/scan/, 'scanner'],
    [/c2|c&c|botnet|feodo|cnc|sslbl|ja3/, 'c2'],
    [/ransom/, 'ransomware'],
    [/exfil/, 'exfiltration'],
    [/scam|fraud/, 'scam'],
    [/abuse|ipsum|spam/, 'abuse'],
    [/malware|trojan|rat\b|stealer|urlhaus|malicious/, 'malware'],
    [/suspicious/, 'suspicious'],
  ];
  for (const [re, cat] of rules) if (re.test(n)) return cat;
  return null;
}
