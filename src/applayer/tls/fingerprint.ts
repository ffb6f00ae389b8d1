/**
 * TLS client/server fingerprints: JA3, JA3S (Salesforce) and JA4 (FoxIO).
 *
 * JA3  = MD5("version,ciphers,extensions,groups,point_formats"), decimal
 *        values joined by '-', GREASE (RFC 8701) removed; the version is the
 *        ClientHello legacy_version. An absent list is an empty field.
 * JA3S = MD5("version,cipher,extensions") of the ServerHello.
 * JA4  = a_b_c where (FoxIO-LLC/ja4 technical_details/JA4.md)
 *   a = 't' | version (highest supported_versions entry, else legacy version;
 *       "13" "12" "11" "10" "s3" "s2", "00" unknown) | 'd' SNI / 'i' none |
 *       2-digit cipher count | 2-digit extension count (GREASE excluded, SNI
 *       and ALPN included, capped at 99) | first+last char of the first ALPN
 *       value ("00" none; the first+last hex digit when either end is not
 *       ASCII alphanumeric)
 *   b = sha256(sorted 4-hex ciphers joined ',')[0:12], "000000000000" if none
 *   c = sha256(sorted 4-hex extensions without SNI/ALPN joined ',' + '_' +
 *       signature algorithms in wire order)[0:12] ('_' part omitted when there
 *       are no signature algorithms), "000000000000" if no extensions.
 *
 * These run once per hello (not per packet); the strings are the output.
 */
import { createHash } from 'node:crypto';
import { HelloFields, EXT_ALPN, EXT_SNI } from './hello.js';
import { isGrease } from './version.js';

function joinDec(a: Uint16Array | Uint8Array, n: number, grease: boolean): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    const v = a[i]!;
    if (grease && isGrease(v)) continue;
    s = s.length === 0 ? String(v) : s + '-' + v;
  }
  return s;
}

/** The JA3 string of a decoded ClientHello. */
export function ja3String(h: HelloFields): string {
  return (
    h.legacyVersion + ',' +
    joinDec(h.ciphers, h.nCiphers, true) + ',' +
    joinDec(h.exts, h.nExts, true) + ',' +
    joinDec(h.groups, h.nGroups, true) + ',' +
    joinDec(h.pointFormats, h.nPointFormats, false)
  );
}

/** The JA3S string of a decoded ServerHello. */
export function ja3sString(h: HelloFields): string {
  return h.legacyVersion + ',' + (h.nCiphers > 0 ? h.ciphers[0]! : '') + ',' + joinDec(h.exts, h.nExts, true);
}

export function md5Hex(s: string): string {
  return createHash('md5').update(s, 'latin1').digest('hex');
}

function sha256Trunc(s: string): string {
  return createHash('sha256').update(s, 'latin1').digest('hex').slice(0, 12);
}

function ja4Version(v: number): string {
  switch (v) {
    case 0x0304: return '13';
    case 0x0303: return '12';
    case 0x0302: return '11';
    case 0x0301: return '10';
    case 0x0300: return 's3';
    case 0x0002: return 's2';
    case 0xfeff: return 'd1';
    case 0xfefd: return 'd2';
    case 0xfefc: return 'd3';
    default: return '00';
  }
}

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

const HEX = '0123456789abcdef';

function hex4(v: number): string {
  return HEX[(v >> 12) & 15]! + HEX[(v >> 8) & 15]! + HEX[(v >> 4) & 15]! + HEX[v & 15]!;
}

function two(n: number): string {
  const c = n > 99 ? 99 : n;
  return c < 10 ? '0' + c : String(c);
}

/**
 * What JA4 needs from one ClientHello, kept per flow: the `a` part and the
 * GREASE-free, sorted cipher and extension lists plus the signature
 * algorithms, packed in one Uint16Array. The two SHA-256 hashes (~7 µs each
 * measured on the loaded 2-core CI machine, most of a hello's parse cost)
 * are only computed when the value is asked for; Suricata 7 output never does.
 */
export class Ja4Source {
  private cached: string | null = null;
  constructor(
    readonly a: string,
    private readonly lists: Uint16Array,
    private readonly nCiphers: number,
    private readonly nExts: number,
  ) {}

  value(): string {
    if (this.cached !== null) return this.cached;
    const l = this.lists;
    const nc = this.nCiphers;
    const ne = this.nExts;
    let ciphers = '';
    for (let i = 0; i < nc; i++) ciphers += (i === 0 ? '' : ',') + hex4(l[i]!);
    let exts = '';
    for (let i = nc; i < nc + ne; i++) exts += (i === nc ? '' : ',') + hex4(l[i]!);
    let sig = '';
    for (let i = nc + ne; i < l.length; i++) sig += (i === nc + ne ? '' : ',') + hex4(l[i]!);
    const b = nc === 0 ? '000000000000' : sha256Trunc(ciphers);
    // No signature algorithms: the string ends without '_' (spec; FoxIO ja4 issue #146).
    const c = ne === 0 ? '000000000000' : sha256Trunc(sig.length === 0 ? exts : exts + '_' + sig);
    return (this.cached = this.a + '_' + b + '_' + c);
  }
}

/**
 * Capture a decoded ClientHello for JA4. `b` is the buffer the hello was
 * decoded from (the first ALPN value is referenced by offset). `proto` is
 * 't' (TCP), 'q' (QUIC) or 'd' (DTLS).
 */
export function ja4Source(h: HelloFields, b: Buffer, proto: 't' | 'q' | 'd' = 't'): Ja4Source {
  const sv = h.maxSupportedVersion();
  const version = ja4Version(sv !== 0 ? sv : h.legacyVersion);
  let nc = 0;
  for (let i = 0; i < h.nCiphers; i++) if (!isGrease(h.ciphers[i]!)) nc++;
  let ne = 0;
  let nHashed = 0;
  let hasSni = false;
  for (let i = 0; i < h.nExts; i++) {
    const t = h.exts[i]!;
    if (isGrease(t)) continue;
    ne++;
    if (t === EXT_SNI) hasSni = true;
    else if (t !== EXT_ALPN) nHashed++;
  }
  let ns = 0;
  for (let i = 0; i < h.nSigAlgs; i++) if (!isGrease(h.sigAlgs[i]!)) ns++;
  let alpn = '00';
  if (h.nAlpns > 0 && h.alpnLen[0]! > 0) {
    const o = h.alpnOff[0]!;
    const f = b[o]!;
    const last = b[o + h.alpnLen[0]! - 1]!;
    if (isAlnum(f) && isAlnum(last)) alpn = String.fromCharCode(f, last);
    else alpn = HEX[f >> 4]! + HEX[last & 15]!;
  }
  const a = proto + version + (hasSni ? 'd' : 'i') + two(nc) + two(ne) + alpn;
  const lists = new Uint16Array(nc + nHashed + ns);
  let k = 0;
  for (let i = 0; i < h.nCiphers; i++) { const v = h.ciphers[i]!; if (!isGrease(v)) lists[k++] = v; }
  lists.subarray(0, nc).sort();
  for (let i = 0; i < h.nExts; i++) {
    const t = h.exts[i]!;
    if (!isGrease(t) && t !== EXT_SNI && t !== EXT_ALPN) lists[k++] = t;
  }
  lists.subarray(nc, nc + nHashed).sort();
  for (let i = 0; i < h.nSigAlgs; i++) { const v = h.sigAlgs[i]!; if (!isGrease(v)) lists[k++] = v; }
  return new Ja4Source(a, lists, nc, nHashed);
}

/** JA4 of a decoded ClientHello (see Ja4Source). */
export function ja4(h: HelloFields, b: Buffer, proto: 't' | 'q' | 'd' = 't'): string {
  return ja4Source(h, b, proto).value();
}
