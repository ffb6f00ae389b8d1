/**
 * QUIC long-header recognition and Initial-packet decryption (RFC 9000 §17.2,
 * RFC 9001 §5, RFC 9369 for v2).
 *
 * The Initial packet's keys derive from its Destination Connection ID and a
 * per-version public salt, so any observer can decrypt it: that is how the
 * ClientHello (SNI, JA3) is read. Decryption uses node:crypto and allocates;
 * it runs only on a QUIC flow's client Initial packets until the ClientHello
 * is complete, never on other traffic.
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';

/** Initial salts by version (RFC 9001 §5.2; draft-ietf-quic-tls-23…34; RFC 9369 §3.3.1). */
const SALT_V1 = Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex');
const SALT_D29 = Buffer.from('afbfec289993d24c9e9786f19c6111e04390a899', 'hex');
const SALT_D23 = Buffer.from('c3eef712c72ebb5a11a7d2432bb46365bef9f502', 'hex');
const SALT_V2 = Buffer.from('0dede3def700a6db819381be6e269dcbf9bd2ed9', 'hex');
const SALT_D22 = Buffer.from('7fbcdb0e7c66bbe9193a96cd21519ebd7a02644a', 'hex');
/** Google QUIC versions with IETF-style Initial protection (as used by Chrome, documented by Wireshark/nDPI). */
const SALT_Q050 = Buffer.from('504574efd066fe2f9d945cfcdbd3a7f0d3b56b45', 'hex');
const SALT_T050 = Buffer.from('7ff579e5acd072915580304c43a2367c60488310', 'hex');
const SALT_T051 = Buffer.from('7a4edef4e7ccee5fa4506c19124fc8ccda6e033d', 'hex');
export const QUIC_Q050 = 0x51303530;

export const QUIC_V1 = 0x00000001;
export const QUIC_V2 = 0x6b3343cf;

/** Whether a long-header version field names a QUIC version Harrier recognises. */
export function knownVersion(v: number): boolean {
  if (v === QUIC_V1 || v === QUIC_V2) return true;
  // Reserved versions ?a?a?a?a (RFC 9000 §15) that clients send to force version negotiation.
  if ((v & 0x0f0f0f0f) === 0x0a0a0a0a) return true;
  if (v >>> 8 === 0xff0000) return (v & 0xff) >= 0x11 && (v & 0xff) <= 0x22; // IETF drafts 17–34
  if (v >>> 4 === 0xfaceb00) return (v & 0xf) <= 0xf; // Facebook mvfst
  // Google QUIC with IETF-style long header: 'Q046', 'Q050', 'T050', 'T051'…
  const c0 = v >>> 24;
  if (c0 !== 0x51 && c0 !== 0x54) return false;
  const d1 = ((v >>> 16) & 0xff) - 0x30;
  const d2 = ((v >>> 8) & 0xff) - 0x30;
  const d3 = (v & 0xff) - 0x30;
  return d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9 && d3 >= 0 && d3 <= 9;
}

/**
 * Salts to try for a version. Facebook's mvfst versions track drafts without
 * a published mapping, so each draft-era salt is tried; the AEAD tag tells
 * which one is right.
 */
function saltsOf(v: number): readonly Buffer[] {
  if (v === QUIC_V1) return [SALT_V1];
  if (v === QUIC_V2) return [SALT_V2];
  if (v >>> 8 === 0xff0000) {
    const d = v & 0xff;
    if (d >= 33) return [SALT_V1]; // drafts 33–34 already use the RFC 9001 salt
    if (d >= 29) return [SALT_D29];
    if (d >= 23 && d <= 28) return [SALT_D23];
    if (d === 22) return [SALT_D22];
    return [];
  }
  if (v >>> 4 === 0xfaceb00) return MVFST_SALTS;
  if (v === QUIC_Q050) return [SALT_Q050];
  if (v === 0x54303530) return [SALT_T050];
  if (v === 0x54303531) return [SALT_T051];
  // Reserved "force version negotiation" versions carry no salt of their own; clients use their current one.
  if ((v & 0x0f0f0f0f) === 0x0a0a0a0a) return RESERVED_SALTS;
  return [];
}
const MVFST_SALTS: readonly Buffer[] = [SALT_D22, SALT_D23, SALT_D29, SALT_V1];
const RESERVED_SALTS: readonly Buffer[] = [SALT_D29, SALT_V1];

/** Read a variable-length integer (RFC 9000 §16) at p; returns -1 when truncated. Sets `varLen`. */
export let varLen = 0;
export function readVarint(b: Buffer, p: number, end: number): number {
  if (p >= end) return -1;
  const first = b[p]!;
  const n = 1 << (first >> 6);
  if (p + n > end) return -1;
  varLen = n;
  let v = first & 0x3f;
  for (let i = 1; i < n; i++) v = v * 256 + b[p + i]!;
  return v;
}

function hkdfExpandLabel(secret: Buffer, label: string, len: number): Buffer {
  const full = Buffer.from('tls13 ' + label, 'latin1');
  const info = Buffer.alloc(4 + full.length);
  info.writeUInt16BE(len, 0);
  info[2] = full.length;
  full.copy(info, 3);
  info[3 + full.length] = 0; // empty context
  // One HMAC block suffices: every output here is at most 32 bytes (SHA-256's size).
  return createHmac('sha256', secret).update(info).update(Buffer.of(1)).digest().subarray(0, len);
}

interface InitialKeys {
  key: Buffer;
  iv: Buffer;
  hp: Buffer;
}

/** Client Initial keys (RFC 9001 §5.2) from a salt and the client's Destination Connection ID. */
export function clientInitialKeys(version: number, salt: Buffer, dcid: Buffer): InitialKeys {
  const initial = createHmac('sha256', salt).update(dcid).digest();
  const client = hkdfExpandLabel(initial, 'client in', 32);
  const v2 = version === QUIC_V2;
  return {
    key: hkdfExpandLabel(client, v2 ? 'quicv2 key' : 'quic key', 16),
    iv: hkdfExpandLabel(client, v2 ? 'quicv2 iv' : 'quic iv', 12),
    hp: hkdfExpandLabel(client, v2 ? 'quicv2 hp' : 'quic hp', 16),
  };
}

/** Whether the long-header packet type bits mean Initial for this version. */
export function isInitialType(b0: number, version: number): boolean {
  const t = (b0 >> 4) & 3;
  return version === QUIC_V2 ? t === 1 : t === 0;
}

/**
 * One long-header packet at `off` of a datagram: its bounds and, for a
 * decryptable Initial, its plaintext payload (frames).
 */
export interface LongPacket {
  /** End of this packet within the datagram (the next coalesced packet starts here). */
  end: number;
  /** Decrypted frames of an Initial, or null (not an Initial, unknown salt, bad tag). */
  payload: Buffer | null;
  /** The packet was an Initial of a known-salt version that failed to decrypt. */
  decryptFailed: boolean;
}

/** Where the DCID of the last decrypted-or-tried Initial lies in its buffer (for the caller to remember the first one). */
export let lastDcidOff = -1;
export let lastDcidLen = 0;

/** Parse (and for a client Initial, decrypt) one long-header packet; null when malformed. */
export function readLongPacket(b: Buffer, off: number, end: number, decrypt: boolean, firstDcid: Buffer | null = null): LongPacket | null {
  lastDcidOff = -1;
  if (end - off < 7) return null;
  const b0 = b[off]!;
  if ((b0 & 0x80) === 0) return null;
  const version = b.readUInt32BE(off + 1);
  let p = off + 5;
  const dcidLen = b[p++]!;
  if (dcidLen > 20 || p + dcidLen + 1 > end) return null;
  const dcidOff = p;
  p += dcidLen;
  const scidLen = b[p++]!;
  if (scidLen > 20 || p + scidLen > end) return null;
  p += scidLen;
  if (version === 0) return { end, payload: null, decryptFailed: false }; // version negotiation fills the datagram
  const type = (b0 >> 4) & 3;
  const initial = isInitialType(b0, version);
  const retry = version === QUIC_V2 ? type === 0 : type === 3;
  if (retry) return { end, payload: null, decryptFailed: false };
  if (initial) {
    const tokLen = readVarint(b, p, end);
    if (tokLen < 0) return null;
    p += varLen;
    if (p + tokLen > end) return null;
    p += tokLen;
  }
  const length = readVarint(b, p, end);
  if (length < 0) return null;
  p += varLen;
  const pnOff = p;
  const pktEnd = pnOff + length;
  if (pktEnd > end) return null;
  if (!initial || !decrypt) return { end: pktEnd, payload: null, decryptFailed: false };
  const salts = saltsOf(version);
  if (salts.length === 0 || length < 4 + 16 + 16) return { end: pktEnd, payload: null, decryptFailed: false };
  const dcid = b.subarray(dcidOff, dcidOff + dcidLen);
  lastDcidOff = dcidOff;
  lastDcidLen = dcidLen;
  for (const salt of salts) {
    const payload = decryptInitial(b, off, pnOff, pktEnd, clientInitialKeys(version, salt, dcid));
    if (payload !== null) return { end: pktEnd, payload, decryptFailed: false };
    // Some clients change the DCID between Initials without a Retry but keep the keys of the first one.
    if (firstDcid !== null && !firstDcid.equals(dcid)) {
      const again = decryptInitial(b, off, pnOff, pktEnd, clientInitialKeys(version, salt, firstDcid));
      if (again !== null) return { end: pktEnd, payload: again, decryptFailed: false };
    }
  }
  return { end: pktEnd, payload: null, decryptFailed: true };
}

/** Remove header protection and open the AEAD of one Initial; null when the tag does not verify. */
function decryptInitial(b: Buffer, off: number, pnOff: number, pktEnd: number, keys: InitialKeys): Buffer | null {
  // Header protection (RFC 9001 §5.4): mask from AES-ECB of a 16-byte sample 4 bytes past the PN start.
  const ecb = createCipheriv('aes-128-ecb', keys.hp, null);
  ecb.setAutoPadding(false);
  const mask = ecb.update(b.subarray(pnOff + 4, pnOff + 20));
  const first = b[off]! ^ (mask[0]! & 0x0f);
  const pnLen = (first & 3) + 1;
  const header = Buffer.from(b.subarray(off, pnOff + pnLen));
  header[0] = first;
  let pn = 0;
  for (let i = 0; i < pnLen; i++) {
    const x = b[pnOff + i]! ^ mask[1 + i]!;
    header[pnOff - off + i] = x;
    pn = pn * 256 + x;
  }
  const nonce = Buffer.from(keys.iv);
  for (let i = 0; i < 4; i++) nonce[11 - i]! ^= (pn >>> (8 * i)) & 0xff;
  try {
    const gcm = createDecipheriv('aes-128-gcm', keys.key, nonce);
    gcm.setAAD(header);
    gcm.setAuthTag(b.subarray(pktEnd - 16, pktEnd));
    return Buffer.concat([gcm.update(b.subarray(pnOff + pnLen, pktEnd - 16)), gcm.final()]);
  } catch {
    return null;
  }
}

/**
 * Walk the frames of a decrypted Initial, calling `crypto` for each CRYPTO
 * frame (`gquic`: the Initial of a Q05x/T05x version). Returns false on a frame it cannot skip (the rest is ignored).
 */
export function forEachCryptoFrame(f: Buffer, crypto: (offset: number, data: Buffer) => void, gquic = false): boolean {
  let p = 0;
  const end = f.length;
  while (p < end) {
    const type = readVarint(f, p, end);
    if (type < 0) return false;
    p += varLen;
    if (type === 0x00 || type === 0x01) continue; // PADDING, PING
    // Google's Q050/T050/T051 number their CRYPTO frame 0x08 with the same layout.
    if (type === 0x06 || (gquic && type === 0x08)) {
      const o = readVarint(f, p, end);
      if (o < 0) return false;
      p += varLen;
      const l = readVarint(f, p, end);
      if (l < 0 || p + varLen + l > end) return false;
      p += varLen;
      crypto(o, f.subarray(p, p + l));
      p += l;
      continue;
    }
    if (type === 0x02 || type === 0x03) {
      // ACK: largest, delay, range count, first range, then count × (gap, range) [, 3 ECN counts].
      let n = 0;
      for (let i = 0; i < 4; i++) {
        const v = readVarint(f, p, end);
        if (v < 0) return false;
        p += varLen;
        if (i === 2) n = v;
      }
      if (n > 1024) return false;
      const more = 2 * n + (type === 0x03 ? 3 : 0);
      for (let i = 0; i < more; i++) {
        if (readVarint(f, p, end) < 0) return false;
        p += varLen;
      }
      continue;
    }
    if (type === 0x1c) {
      // CONNECTION_CLOSE: error code, frame type, reason length, reason.
      for (let i = 0; i < 2; i++) {
        if (readVarint(f, p, end) < 0) return false;
        p += varLen;
      }
      const l = readVarint(f, p, end);
      if (l < 0) return false;
      p += varLen + l;
      continue;
    }
    return false;
  }
  return true;
}
