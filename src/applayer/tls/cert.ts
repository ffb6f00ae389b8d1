/**
 * X.509 certificate fields in Suricata's EVE spelling.
 *
 * Node's crypto.X509Certificate does the DER/ASN.1 work; this module only
 * converts its output to the strings Suricata 7 prints (checked against
 * suricata-verify expectations, e.g. tests/tls/tls-cert-issuer):
 *   subject/issuerdn  "C=FR, ST=IDF, L=Paris, O=Stamus, CN=SELKS" — RDNs in
 *                     certificate order joined by ", " (x509-parser's
 *                     Display), emailAddress spelt "Email"
 *   serial            raw DER INTEGER bytes as uppercase hex joined by ':'
 *                     ("00:97:E6:…"; a leading 00 byte is kept — Node's
 *                     serialNumber drops it, so the bytes are read here)
 *   fingerprint       SHA-1 of the DER, lowercase hex joined by ':'
 *   notbefore/after   "YYYY-MM-DDTHH:MM:SS" UTC
 *
 * Cost (measured here, Node 20, 2 cores shared): constructing an
 * X509Certificate is ~170–220 µs, dwarfing everything else in the TLS
 * parser, so it runs once per certificate when a transaction is completed,
 * never per packet.
 */
import { X509Certificate } from 'node:crypto';

export interface CertInfo {
  readonly subject: string;
  readonly issuerdn: string;
  readonly serial: string;
  readonly fingerprint: string;
  /** null when Node could not give a parseable date. */
  readonly notbefore: string | null;
  readonly notafter: string | null;
  /** DNS names from subjectAltName, in certificate order. */
  readonly sans: readonly string[];
}

/** OpenSSL short names that x509-parser (Suricata's) spells differently. */
const NAME_ALIASES: Record<string, string> = { emailAddress: 'Email' };

/**
 * Node prints names one RDN per line with RFC 2253 escaping (`\,`, `\+`,
 * control bytes as `\XX`); Suricata prints raw values joined by ", ".
 */
export function suricataName(multiline: string): string {
  if (multiline.length === 0) return '';
  const lines = multiline.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const eq = line.indexOf('=');
    if (eq > 0) {
      const key = line.slice(0, eq);
      const alias = NAME_ALIASES[key];
      let value = line.slice(eq + 1);
      if (value.includes('\\')) value = unescapeRfc2253(value);
      lines[i] = (alias ?? key) + '=' + value;
    }
  }
  return lines.join(', ');
}

function unescapeRfc2253(v: string): string {
  return v.replace(/\\([0-9A-Fa-f]{2}|.)/g, (_m, g: string) =>
    g.length === 2 ? String.fromCharCode(parseInt(g, 16)) : g,
  );
}

const MONTHS: Record<string, string> = {
  Jan: '01', Feb: '02', Mar: '03', Apr: '04', May: '05', Jun: '06',
  Jul: '07', Aug: '08', Sep: '09', Oct: '10', Nov: '11', Dec: '12',
};

/** "Feb 12 18:07:27 2015 GMT" (OpenSSL ASN1_TIME_print) → "2015-02-12T18:07:27". */
export function suricataDate(openssl: string): string | null {
  const m = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}:\d{2}:\d{2}) (\d{4}) GMT$/.exec(openssl);
  if (m === null) return null;
  const mon = MONTHS[m[1]!];
  if (mon === undefined) return null;
  return `${m[4]}-${mon}-${m[2]!.padStart(2, '0')}T${m[3]}`;
}

function hexColon(b: Uint8Array, upper: boolean): string {
  let s = '';
  for (let i = 0; i < b.length; i++) {
    const h = b[i]!.toString(16).padStart(2, '0');
    s += (i === 0 ? '' : ':') + (upper ? h.toUpperCase() : h);
  }
  return s;
}

/** Read a DER length at p; returns [length, headerEnd] or null. */
function derLen(b: Buffer, p: number, end: number): [number, number] | null {
  if (p >= end) return null;
  const first = b[p]!;
  if (first < 0x80) return [first, p + 1];
  const n = first & 0x7f;
  if (n === 0 || n > 3 || p + 1 + n > end) return null;
  let l = 0;
  for (let i = 0; i < n; i++) l = (l << 8) | b[p + 1 + i]!;
  return [l, p + 1 + n];
}

/** The raw bytes of tbsCertificate.serialNumber (RFC 5280 §4.1), or null. */
export function rawSerial(der: Buffer): Buffer | null {
  const end = der.length;
  if (der[0] !== 0x30) return null;
  let l = derLen(der, 1, end);
  if (l === null) return null;
  let p = l[1];
  if (der[p] !== 0x30) return null; // tbsCertificate
  l = derLen(der, p + 1, end);
  if (l === null) return null;
  p = l[1];
  if (der[p] === 0xa0) { // [0] EXPLICIT version
    l = derLen(der, p + 1, end);
    if (l === null) return null;
    p = l[1] + l[0];
  }
  if (der[p] !== 0x02) return null;
  l = derLen(der, p + 1, end);
  if (l === null || l[1] + l[0] > end) return null;
  return der.subarray(l[1], l[1] + l[0]);
}

function dnsSans(san: string | undefined): string[] {
  if (san === undefined || san.length === 0) return [];
  const out: string[] = [];
  for (const part of san.split(', ')) {
    if (part.startsWith('DNS:')) {
      let v = part.slice(4);
      // Newer Node versions quote values containing separators.
      if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = JSON.parse(v) as string;
      out.push(v);
    }
  }
  return out;
}

/** Decode one DER certificate; null when it is not a certificate Node can parse. */
export function decodeCertificate(der: Buffer): CertInfo | null {
  let x: X509Certificate;
  try {
    x = new X509Certificate(der);
  } catch {
    return null;
  }
  const serial = rawSerial(der);
  return {
    subject: suricataName(x.subject),
    issuerdn: suricataName(x.issuer),
    serial: serial === null ? '' : hexColon(serial, true),
    fingerprint: x.fingerprint.toLowerCase(),
    notbefore: suricataDate(x.validFrom),
    notafter: suricataDate(x.validTo),
    sans: dnsSans(x.subjectAltName),
  };
}
