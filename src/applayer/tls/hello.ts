/**
 * ClientHello / ServerHello decoding (RFC 8446 §4.1.2–4.1.3, RFC 5246 §7.4.1).
 *
 * Decodes one complete handshake message body into a reusable scratch
 * record of typed arrays: parsing runs synchronously, so one module-level
 * scratch per message kind serves every flow and a hello costs no
 * allocation until the caller extracts the few strings it keeps (SNI, ALPN,
 * fingerprint strings). Every read is bounds-checked against the message
 * end; a framing error returns a reason string, never throws.
 */
import { isGrease } from './version.js';

export const EXT_SNI = 0x0000;
export const EXT_SUPPORTED_GROUPS = 0x000a;
export const EXT_EC_POINT_FORMATS = 0x000b;
export const EXT_SIGNATURE_ALGORITHMS = 0x000d;
export const EXT_ALPN = 0x0010;
export const EXT_PRE_SHARED_KEY = 0x0029;
export const EXT_SUPPORTED_VERSIONS = 0x002b;
export const EXT_KEY_SHARE = 0x0033;

/** Upper bounds: a list longer than these is truncated (the rest is still skipped correctly). */
const MAX_U16_LIST = 32768; // a 64 KiB extension holds at most 32768 u16 values
const MAX_ALPNS = 64;

/** Fields of a ClientHello or ServerHello; offsets point into the buffer that was parsed. */
export class HelloFields {
  legacyVersion = 0;
  sessionIdLen = 0;
  readonly sessionId = new Uint8Array(32);
  readonly ciphers = new Uint16Array(MAX_U16_LIST);
  nCiphers = 0;
  compressionCount = 0;
  /** Extension types in wire order, GREASE included (fingerprints filter). */
  readonly exts = new Uint16Array(MAX_U16_LIST);
  nExts = 0;
  hasExtensions = false;
  readonly groups = new Uint16Array(MAX_U16_LIST);
  nGroups = 0;
  readonly pointFormats = new Uint8Array(256);
  nPointFormats = 0;
  readonly sigAlgs = new Uint16Array(MAX_U16_LIST);
  nSigAlgs = 0;
  /** supported_versions: the client's list, or the server's single selection. */
  readonly versions = new Uint16Array(128);
  nVersions = 0;
  readonly keyShareGroups = new Uint16Array(1024);
  nKeyShares = 0;
  /** First host_name of the first SNI extension, as offset/length into the parsed buffer (-1: none). */
  sniOff = -1;
  sniLen = 0;
  sniCount = 0;
  sniInvalid = false;
  /** ALPN protocol names as offset/length pairs into the parsed buffer. */
  readonly alpnOff = new Uint32Array(MAX_ALPNS);
  readonly alpnLen = new Uint8Array(MAX_ALPNS);
  nAlpns = 0;
  hasPreSharedKey = false;
  /** Whether the ServerHello random is the HelloRetryRequest magic value. */
  helloRetry = false;

  reset(): void {
    this.legacyVersion = 0;
    this.sessionIdLen = 0;
    this.nCiphers = 0;
    this.compressionCount = 0;
    this.nExts = 0;
    this.hasExtensions = false;
    this.nGroups = 0;
    this.nPointFormats = 0;
    this.nSigAlgs = 0;
    this.nVersions = 0;
    this.nKeyShares = 0;
    this.sniOff = -1;
    this.sniLen = 0;
    this.sniCount = 0;
    this.sniInvalid = false;
    this.nAlpns = 0;
    this.hasPreSharedKey = false;
    this.helloRetry = false;
  }

  /** Highest non-GREASE supported_versions entry, or 0 when the extension is absent. */
  maxSupportedVersion(): number {
    let best = 0;
    for (let i = 0; i < this.nVersions; i++) {
      const v = this.versions[i]!;
      if (!isGrease(v) && v > best) best = v;
    }
    return best;
  }
}

/** SHA-256("HelloRetryRequest"), RFC 8446 §4.1.3: a ServerHello with this random is an HRR. */
const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

function readU16List(b: Buffer, p: number, end: number, out: Uint16Array, count: number): number {
  // Returns the new count; the caller has checked that [p, end) is within bounds.
  for (; p + 1 < end; p += 2) {
    if (count < out.length) out[count++] = (b[p]! << 8) | b[p + 1]!;
  }
  return count;
}

/**
 * Decode a ClientHello body (after the 4-byte handshake header).
 * Returns null on success or a short reason on a framing error.
 */
export function parseClientHello(b: Buffer, off: number, len: number, h: HelloFields): string | null {
  h.reset();
  const end = off + len;
  let p = off;
  if (len < 2 + 32 + 1) return 'client hello too short';
  h.legacyVersion = (b[p]! << 8) | b[p + 1]!;
  p += 34;
  const sidLen = b[p++]!;
  if (sidLen > 32 || p + sidLen > end) return 'bad session id length';
  h.sessionIdLen = sidLen;
  for (let i = 0; i < sidLen; i++) h.sessionId[i] = b[p + i]!;
  p += sidLen;
  if (p + 2 > end) return 'truncated cipher suites';
  const csLen = (b[p]! << 8) | b[p + 1]!;
  p += 2;
  if ((csLen & 1) !== 0 || p + csLen > end) return 'bad cipher suites length';
  h.nCiphers = readU16List(b, p, p + csLen, h.ciphers, 0);
  p += csLen;
  if (p + 1 > end) return 'truncated compression methods';
  const cmLen = b[p++]!;
  if (p + cmLen > end) return 'bad compression methods length';
  h.compressionCount = cmLen;
  p += cmLen;
  if (p === end) return null; // no extensions (allowed before TLS 1.3)
  return parseExtensions(b, p, end, h, true);
}

/** Decode a ServerHello body (after the 4-byte handshake header). */
export function parseServerHello(b: Buffer, off: number, len: number, h: HelloFields): string | null {
  h.reset();
  const end = off + len;
  let p = off;
  if (len < 2 + 32 + 1) return 'server hello too short';
  h.legacyVersion = (b[p]! << 8) | b[p + 1]!;
  h.helloRetry = b.compare(HRR_RANDOM, 0, 32, p + 2, p + 34) === 0;
  p += 34;
  if (h.legacyVersion === 0x0304 || (h.legacyVersion >> 8) === 0x7f || (h.legacyVersion >> 8) === 0xfb) {
    // TLS 1.3 drafts before 22 put their version here (drafts 1–15 used
    // 0x0304 itself; final TLS 1.3 always sends 0x0303) and dropped
    // legacy_session_id and compression_method from the ServerHello.
    if (p + 2 > end) return 'truncated cipher suite';
    h.ciphers[0] = (b[p]! << 8) | b[p + 1]!;
    h.nCiphers = 1;
    p += 2;
    if (p === end) return null;
    return parseExtensions(b, p, end, h, false);
  }
  const sidLen = b[p++]!;
  if (sidLen > 32 || p + sidLen > end) return 'bad session id length';
  h.sessionIdLen = sidLen;
  for (let i = 0; i < sidLen; i++) h.sessionId[i] = b[p + i]!;
  p += sidLen;
  if (p + 3 > end) return 'truncated cipher suite';
  h.ciphers[0] = (b[p]! << 8) | b[p + 1]!;
  h.nCiphers = 1;
  p += 2;
  h.compressionCount = 1;
  p += 1;
  if (p === end) return null;
  return parseExtensions(b, p, end, h, false);
}

function parseExtensions(b: Buffer, p: number, end: number, h: HelloFields, client: boolean): string | null {
  // Extensions are optional (RFC 5246 §7.4.1.2): a single stray byte where
  // their length would be is read as "no extensions", as Suricata does
  // (TLSDecodeHSHelloExtensions), so the hello still yields its JA3.
  if (p + 2 > end) return null;
  const extLen = (b[p]! << 8) | b[p + 1]!;
  p += 2;
  // Some stacks pad past the declared list; the declared length must fit.
  if (p + extLen > end) return 'bad extensions length';
  h.hasExtensions = true;
  const extEnd = p + extLen;
  while (p < extEnd) {
    if (p + 4 > extEnd) return 'truncated extension header';
    const type = (b[p]! << 8) | b[p + 1]!;
    const len = (b[p + 2]! << 8) | b[p + 3]!;
    p += 4;
    if (p + len > extEnd) return 'bad extension length';
    if (h.nExts < h.exts.length) h.exts[h.nExts++] = type;
    const e = p + len;
    switch (type) {
      case EXT_SNI:
        h.sniCount++;
        if (client && h.sniCount === 1) decodeSni(b, p, e, h);
        break;
      case EXT_ALPN:
        decodeAlpn(b, p, e, h);
        break;
      case EXT_SUPPORTED_GROUPS:
        if (len >= 2) {
          const l = (b[p]! << 8) | b[p + 1]!;
          if (p + 2 + l <= e) h.nGroups = readU16List(b, p + 2, p + 2 + l, h.groups, 0);
        }
        break;
      case EXT_EC_POINT_FORMATS:
        if (len >= 1) {
          const l = b[p]!;
          for (let i = 0; i < l && p + 1 + i < e; i++) h.pointFormats[h.nPointFormats++] = b[p + 1 + i]!;
        }
        break;
      case EXT_SIGNATURE_ALGORITHMS:
        if (len >= 2) {
          const l = (b[p]! << 8) | b[p + 1]!;
          if (p + 2 + l <= e) h.nSigAlgs = readU16List(b, p + 2, p + 2 + l, h.sigAlgs, 0);
        }
        break;
      case EXT_SUPPORTED_VERSIONS:
        if (client) {
          if (len >= 1) {
            const l = b[p]!;
            if (p + 1 + l <= e) h.nVersions = readU16List(b, p + 1, p + 1 + l, h.versions, 0);
          }
        } else if (len >= 2) {
          h.versions[0] = (b[p]! << 8) | b[p + 1]!;
          h.nVersions = 1;
        }
        break;
      case EXT_KEY_SHARE:
        decodeKeyShare(b, p, e, h, client);
        break;
      case EXT_PRE_SHARED_KEY:
        h.hasPreSharedKey = true;
        break;
      default:
        break;
    }
    p = e;
  }
  return null;
}

function decodeSni(b: Buffer, p: number, e: number, h: HelloFields): void {
  if (p + 2 > e) { h.sniInvalid = true; return; }
  const listLen = (b[p]! << 8) | b[p + 1]!;
  p += 2;
  const le = p + listLen;
  if (le > e) { h.sniInvalid = true; return; }
  while (p + 3 <= le) {
    const nameType = b[p]!;
    const nameLen = (b[p + 1]! << 8) | b[p + 2]!;
    p += 3;
    if (p + nameLen > le) { h.sniInvalid = true; return; }
    if (nameType === 0 && h.sniOff < 0) {
      h.sniOff = p;
      h.sniLen = nameLen;
    }
    p += nameLen;
  }
}

function decodeAlpn(b: Buffer, p: number, e: number, h: HelloFields): void {
  if (p + 2 > e) return;
  const listLen = (b[p]! << 8) | b[p + 1]!;
  p += 2;
  const le = Math.min(p + listLen, e);
  while (p < le) {
    const l = b[p++]!;
    if (p + l > le) return;
    if (h.nAlpns < MAX_ALPNS) {
      h.alpnOff[h.nAlpns] = p;
      h.alpnLen[h.nAlpns] = l;
      h.nAlpns++;
    }
    p += l;
  }
}

function decodeKeyShare(b: Buffer, p: number, e: number, h: HelloFields, client: boolean): void {
  if (!client) {
    // ServerHello: one KeyShareEntry; HelloRetryRequest: just the selected group.
    if (p + 2 <= e) h.keyShareGroups[h.nKeyShares++] = (b[p]! << 8) | b[p + 1]!;
    return;
  }
  if (p + 2 > e) return;
  const listLen = (b[p]! << 8) | b[p + 1]!;
  p += 2;
  const le = Math.min(p + listLen, e);
  while (p + 4 <= le) {
    const group = (b[p]! << 8) | b[p + 1]!;
    const kl = (b[p + 2]! << 8) | b[p + 3]!;
    p += 4 + kl;
    if (p > le) return;
    if (h.nKeyShares < h.keyShareGroups.length) h.keyShareGroups[h.nKeyShares++] = group;
  }
}
