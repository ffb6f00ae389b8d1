/**
 * TLS protocol version numbers, their EVE spelling, and GREASE values.
 *
 * Versions use the wire encoding (major << 8 | minor): 0x0301 = TLS 1.0 …
 * 0x0304 = TLS 1.3; SSLv2 is stored as 0x0200 (Suricata's convention, so
 * that every version fits one u16 ordering); TLS 1.3 drafts are 0x7fNN and
 * Facebook's experimental drafts 0xfbNN.
 */

export const SSL_V2 = 0x0200;
export const SSL_V3 = 0x0300;
export const TLS_10 = 0x0301;
export const TLS_11 = 0x0302;
export const TLS_12 = 0x0303;
export const TLS_13 = 0x0304;
/** Every draft before 16 collapses to this value, as in Suricata. */
export const TLS_13_PRE_DRAFT16 = 0x7f01;

/**
 * RFC 8701 GREASE: 0x0a0a, 0x1a1a, … 0xfafa — both bytes equal and the low
 * nibble of each 0xa. Receivers must ignore them; fingerprints drop them.
 */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && (v >> 8) === (v & 0xff);
}

/**
 * Fold version values that Suricata folds (drafts < 16) so that comparisons
 * and the EVE string agree with it.
 */
export function normaliseVersion(v: number): number {
  if (v > 0x7f00 && v < 0x7f10) return TLS_13_PRE_DRAFT16;
  return v;
}

/** True for TLS 1.3 and its drafts: after ServerHello everything is encrypted. */
export function isTls13(v: number): boolean {
  return v === TLS_13 || (v >= 0x7f01 && v <= 0x7f1c) || (v >= 0xfb14 && v <= 0xfb1a);
}

/**
 * Suricata 7's `tls.version` string (src/app-layer-ssl.c SSLVersionToString):
 * note TLS 1.0 is spelt `TLSv1` while later ones are `TLS 1.x`; unknown
 * values print as `0x%04x`; nothing seen prints `UNDETERMINED`.
 */
export function tlsVersionString(v: number): string {
  switch (v) {
    case 0: return 'UNDETERMINED';
    case SSL_V2: return 'SSLv2';
    case SSL_V3: return 'SSLv3';
    case TLS_10: return 'TLSv1';
    case TLS_11: return 'TLS 1.1';
    case TLS_12: return 'TLS 1.2';
    case TLS_13: return 'TLS 1.3';
    case TLS_13_PRE_DRAFT16: return 'TLS 1.3 draft-<16';
    case 0xfb14: case 0xfb15: case 0xfb16: case 0xfb17: case 0xfb1a:
      return `TLS 1.3 draft-${v & 0xff}-fb`;
    default:
      if (v >= 0x7f10 && v <= 0x7f1c) return `TLS 1.3 draft-${v & 0xff}`;
      return '0x' + v.toString(16).padStart(4, '0');
  }
}
