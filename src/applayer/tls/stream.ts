/**
 * TLS record layer and handshake reassembly over one TCP flow.
 *
 * Each direction is a small state machine fed in-order bytes in arbitrary
 * chunks: a 5-byte record header (buffered only when split), the record
 * body, and inside plaintext handshake records a 4-byte message header and
 * the message body. Messages can be split at any byte and span records.
 *
 * Memory: a message is parsed straight from the caller's chunk when it lies
 * within it (the common case: a ClientHello in one segment); otherwise, and
 * only for the messages we decode (ClientHello, ServerHello, Certificate),
 * its body is collected in a buffer allocated once at its announced length
 * and capped (maxHelloBytes, maxCertBytes). Everything else is skipped by
 * counting. After ChangeCipherSpec or application data in a direction
 * (TLS 1.3: the server's records after ServerHello) the direction is
 * encrypted: records are only counted.
 *
 * SSLv2: a direction may start with SSLv2 records (2-byte header, top bit
 * set); their CLIENT-HELLO / SERVER-HELLO give the version, nothing more.
 *
 * Measured (Node 20, shared 2-core machine under load ~14, /tmp bench over
 * suricata-verify tls-cert-issuer): a 180-byte ClientHello with state
 * creation, SNI/ALPN, JA3 string and JA4 inputs 6–7 µs; a whole resumed
 * TLS 1.2 flow 14–30 µs; a full flow with a cached certificate ~65 µs (an
 * uncached one adds the X509Certificate cost, see cert.ts); encrypted
 * records are skipped at ~60 ns per 1460-byte segment.
 */
import type { AppParserContext, Direction } from '../parser.js';
import { CertCache, type CertInfo } from './cert.js';
import { Ja4Source, ja3String, ja3sString, ja4Source } from './fingerprint.js';
import { HelloFields, parseClientHello, parseServerHello } from './hello.js';
import { TlsTx, type TlsEveOptions } from './tx.js';
import { SSL_V2, TLS_13_PRE_DRAFT16, isGrease, isTls13, normaliseVersion } from './version.js';

export interface TlsLimits {
  /** Largest ClientHello/ServerHello body collected across segments (default 64 KiB). */
  readonly maxHelloBytes: number;
  /** Largest Certificate message collected (default 256 KiB: a long chain). */
  readonly maxCertBytes: number;
  /** Decoded certificates remembered by SHA-1 (default 1024; 0 disables the cache). */
  readonly certCacheSize: number;
}

export const DEFAULT_LIMITS: TlsLimits = { maxHelloBytes: 64 * 1024, maxCertBytes: 256 * 1024, certCacheSize: 1024 };

/** RFC 5246 §6.2.3: TLSCiphertext.length is at most 2^14 + 2048. */
const MAX_RECORD = 16384 + 2048;

const CT_CCS = 20;
const CT_ALERT = 21;
const CT_HANDSHAKE = 22;
const CT_APPDATA = 23;
const CT_HEARTBEAT = 24;

const HS_CLIENT_HELLO = 1;
const HS_SERVER_HELLO = 2;
const HS_CERTIFICATE = 11;

const enum Mode {
  /** Before the first record: SSLv2 or TLS. */
  START = 0,
  TLS = 1,
  /** Lost sync (gap or garbage): bytes are ignored. */
  DEAD = 2,
}

/** Scratch shared by all flows (parsing is synchronous). */
const helloScratch = new HelloFields();

class DirState {
  mode: Mode = Mode.START;
  /** Record header bytes when a header is split across chunks (SSLv2 needs up to 7). */
  readonly hdr = new Uint8Array(8);
  hdrLen = 0;
  inRecord = false;
  recType = 0;
  recRemain = 0;
  /** Set at ChangeCipherSpec or application data: later records are opaque. */
  encrypted = false;
  records = 0;
  /** Version of this direction's first TLS record (Suricata's fallback for the server's version). */
  firstVersion = 0;
  // Handshake message assembly.
  readonly hsHdr = new Uint8Array(4);
  hsHdrLen = 0;
  hsActive = false;
  hsType = 0;
  hsRemain = 0;
  hsBuf: Buffer | null = null;
  hsFill = 0;
}

export class TlsState {
  readonly ctx: AppParserContext;
  readonly limits: TlsLimits;
  readonly eveOpts: TlsEveOptions;
  readonly certs: CertCache;
  readonly dirs: readonly [DirState, DirState] = [new DirState(), new DirState()];
  emitted = false;
  done = false;
  /**
   * Flow direction that sent the ClientHello, -1 until a hello shows it. The
   * flow table may have guessed the client wrongly (capture started
   * mid-handshake, SYN lost); roles follow the messages, not the guess.
   */
  clientDir = -1;
  // Client side.
  clientHelloSeen = false;
  sslv2Hello = false;
  clientVersion = 0;
  sni: string | null = null;
  ja3: string | null = null;
  ja4: Ja4Source | null = null;
  clientAlpns: string[] = [];
  readonly clientSessionId = new Uint8Array(32);
  clientSessionIdLen = 0;
  // Server side.
  serverHelloSeen = false;
  /** The last ServerHello was a HelloRetryRequest: another ClientHello/ServerHello follow. */
  helloRetry = false;
  version = 0;
  cipher = -1;
  ja3s: string | null = null;
  serverAlpn: string | null = null;
  sessionResumed = false;
  serverCertDer: Buffer | null = null;
  serverChainLength = 0;
  clientCertDer: Buffer | null = null;

  constructor(ctx: AppParserContext, limits: TlsLimits, eveOpts: TlsEveOptions, certs: CertCache) {
    this.ctx = ctx;
    this.limits = limits;
    this.eveOpts = eveOpts;
    this.certs = certs;
  }
}

/** Feed in-order bytes of one direction. */
export function tlsParse(st: TlsState, dir: Direction, buf: Buffer, off: number, len: number): void {
  const d = st.dirs[dir];
  let p = off;
  const end = off + len;
  while (p < end) {
    if (d.mode === Mode.DEAD) return;
    if (!d.inRecord) {
      p = readRecordHeader(st, d, dir, buf, p, end);
      continue;
    }
    let n = end - p;
    if (n > d.recRemain) n = d.recRemain;
    if (d.recType === CT_HANDSHAKE && !d.encrypted) feedHandshake(st, d, dir, buf, p, n);
    p += n;
    d.recRemain -= n;
    if (d.recRemain === 0) d.inRecord = false;
  }
}

/**
 * Consume record-header bytes at p; returns the new position. On a complete
 * header the record starts (inRecord); on garbage the direction dies.
 */
function readRecordHeader(st: TlsState, d: DirState, dir: Direction, buf: Buffer, p: number, end: number): number {
  // Peek the first byte to learn the header size (SSLv2 vs TLS).
  const first = d.hdrLen > 0 ? d.hdr[0]! : buf[p]!;
  const sslv2 = (first & 0x80) !== 0;
  // SSLv2 records only open a stream; once TLS records flowed, a set top bit is garbage.
  if (sslv2 && d.mode !== Mode.START) {
    invalid(st, d, 'tls.invalid_tls_header');
    return end;
  }
  // SSLv2 needs 7 bytes (length 2 + type 1 + up to 4 to reach the version); TLS needs 5.
  const need = sslv2 ? 7 : 5;
  let h: Uint8Array | Buffer;
  let ho: number;
  if (d.hdrLen === 0 && end - p >= need) {
    h = buf;
    ho = p;
    p += need;
  } else {
    while (d.hdrLen < need && p < end) d.hdr[d.hdrLen++] = buf[p++]!;
    if (d.hdrLen < need) return p;
    h = d.hdr;
    ho = 0;
    d.hdrLen = 0;
  }
  d.records++;
  if (sslv2) return sslv2Record(st, d, dir, h, ho, p);
  const type = h[ho]!;
  const major = h[ho + 1]!;
  const minor = h[ho + 2]!;
  const rlen = (h[ho + 3]! << 8) | h[ho + 4]!;
  if (type < CT_CCS || type > CT_HEARTBEAT) {
    invalid(st, d, 'tls.invalid_record_type');
    return p;
  }
  if (major !== 3 || minor > 4) {
    invalid(st, d, 'tls.invalid_record_version');
    return p;
  }
  if (rlen > MAX_RECORD) {
    invalid(st, d, 'tls.invalid_tls_header');
    return p;
  }
  d.mode = Mode.TLS;
  if (d.firstVersion === 0) d.firstVersion = (major << 8) | minor;
  d.recType = type;
  d.recRemain = rlen;
  d.inRecord = rlen > 0;
  switch (type) {
    case CT_CCS:
      // TLS 1.3 middlebox-compatibility CCS (RFC 8446 D.4) changes nothing;
      // before 1.3 it switches this direction to the negotiated cipher.
      if (!(st.serverHelloSeen && isTls13(st.version))) {
        d.encrypted = true;
        abortHandshakeMessage(d);
        checkDone(st);
      }
      break;
    case CT_APPDATA:
      d.encrypted = true;
      abortHandshakeMessage(d);
      checkDone(st);
      break;
    case CT_ALERT:
      if (!d.encrypted) st.ctx.event('tls.error_message_encountered');
      break;
    case CT_HEARTBEAT:
      st.ctx.event('tls.heartbeat_message');
      break;
    default:
      break;
  }
  return p;
}

/** An SSLv2 record whose first 7 header bytes are at h[ho..]; p is just past them. */
function sslv2Record(st: TlsState, d: DirState, dir: Direction, h: Uint8Array | Buffer, ho: number, p: number): number {
  const rlen = ((h[ho]! & 0x7f) << 8) | h[ho + 1]!;
  const msgType = h[ho + 2]!;
  if (rlen < 5) {
    invalid(st, d, 'tls.invalid_sslv2_header');
    return p;
  }
  if (d.mode === Mode.START) {
    if (msgType === 1 && (st.clientDir === -1 || st.clientDir === dir) && !st.clientHelloSeen) {
      st.clientDir = dir;
      // CLIENT-HELLO: version at bytes 1..2 of the message.
      st.sslv2Hello = true;
      st.clientHelloSeen = true;
      st.clientVersion = (h[ho + 3]! << 8) | h[ho + 4]!;
    } else if (msgType === 4 && isServerDir(st, dir)) {
      if (st.clientDir === -1) st.clientDir = dir === 0 ? 1 : 0;
      // SERVER-HELLO: session-id-hit, certificate-type, then version.
      st.serverHelloSeen = true;
      const v = (h[ho + 5]! << 8) | h[ho + 6]!;
      st.version = v === 0x0002 ? SSL_V2 : v;
    } else if (!st.sslv2Hello) {
      invalid(st, d, 'tls.invalid_sslv2_header');
      return p;
    }
  }
  d.recType = 0;
  // 5 of the 7 header bytes belong to the record body.
  d.recRemain = rlen - 5;
  d.inRecord = d.recRemain > 0;
  return p;
}

function invalid(st: TlsState, d: DirState, event: string): void {
  st.ctx.event(event);
  d.mode = Mode.DEAD;
  d.inRecord = false;
  abortHandshakeMessage(d);
  const other = st.dirs[0] === d ? st.dirs[1] : st.dirs[0];
  // Nothing learnt and nothing more to learn: give the flow up.
  if (!st.clientHelloSeen && !st.serverHelloSeen && (other.mode === Mode.DEAD || other.mode === Mode.START)) {
    st.done = true;
    st.ctx.abandon('tls: not a TLS stream');
  }
}

function abortHandshakeMessage(d: DirState): void {
  d.hsActive = false;
  d.hsHdrLen = 0;
  d.hsRemain = 0;
  d.hsBuf = null;
  d.hsFill = 0;
}

function isServerDir(st: TlsState, dir: Direction): boolean {
  return st.clientDir === -1 ? dir === 1 : dir !== st.clientDir;
}

function wanted(st: TlsState, dir: Direction, type: number): boolean {
  if (type === HS_CLIENT_HELLO) return !st.clientHelloSeen && (st.clientDir === -1 || st.clientDir === dir);
  if (type === HS_SERVER_HELLO) return st.clientDir === -1 || st.clientDir !== dir;
  if (type === HS_CERTIFICATE) return isServerDir(st, dir) ? st.serverCertDer === null : st.clientCertDer === null;
  return false;
}

/** n bytes of a plaintext handshake record body at buf[p]. */
function feedHandshake(st: TlsState, d: DirState, dir: Direction, buf: Buffer, p: number, n: number): void {
  const end = p + n;
  while (p < end) {
    if (!d.hsActive) {
      let type: number;
      let mlen: number;
      if (d.hsHdrLen === 0 && end - p >= 4) {
        type = buf[p]!;
        mlen = (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!;
        p += 4;
        if (end - p >= mlen) {
          // Whole message in this chunk and record: parse in place, no copy.
          if (wanted(st, dir, type)) handleMessage(st, dir, type, buf, p, mlen);
          p += mlen;
          continue;
        }
      } else {
        while (d.hsHdrLen < 4 && p < end) d.hsHdr[d.hsHdrLen++] = buf[p++]!;
        if (d.hsHdrLen < 4) return;
        d.hsHdrLen = 0;
        type = d.hsHdr[0]!;
        mlen = (d.hsHdr[1]! << 16) | (d.hsHdr[2]! << 8) | d.hsHdr[3]!;
        if (mlen === 0) {
          if (wanted(st, dir, type)) handleMessage(st, dir, type, buf, p, 0);
          continue;
        }
      }
      d.hsActive = true;
      d.hsType = type;
      d.hsRemain = mlen;
      d.hsFill = 0;
      d.hsBuf = null;
      if (wanted(st, dir, type)) {
        const cap = type === HS_CERTIFICATE ? st.limits.maxCertBytes : st.limits.maxHelloBytes;
        if (mlen <= cap) d.hsBuf = Buffer.allocUnsafe(mlen);
        else st.ctx.event(type === HS_CERTIFICATE ? 'tls.certificate_invalid_length' : 'tls.handshake_invalid_length');
      }
      continue;
    }
    let k = end - p;
    if (k > d.hsRemain) k = d.hsRemain;
    if (d.hsBuf !== null) buf.copy(d.hsBuf, d.hsFill, p, p + k);
    d.hsFill += k;
    d.hsRemain -= k;
    p += k;
    if (d.hsRemain === 0) {
      const mb = d.hsBuf;
      d.hsActive = false;
      d.hsBuf = null;
      if (mb !== null) handleMessage(st, dir, d.hsType, mb, 0, mb.length);
    }
  }
}

function handleMessage(st: TlsState, dir: Direction, type: number, b: Buffer, off: number, len: number): void {
  if (type === HS_CLIENT_HELLO) onClientHello(st, dir, b, off, len);
  else if (type === HS_SERVER_HELLO) onServerHello(st, dir, b, off, len);
  else if (type === HS_CERTIFICATE) onCertificate(st, dir, b, off, len);
}

function onClientHello(st: TlsState, dir: Direction, b: Buffer, off: number, len: number): void {
  const h = helloScratch;
  const err = parseClientHello(b, off, len, h);
  if (err !== null) {
    st.ctx.event('tls.invalid_handshake_message');
    return;
  }
  st.clientHelloSeen = true;
  st.clientDir = dir;
  st.clientVersion = h.legacyVersion;
  if (h.sniCount > 1) st.ctx.event('tls.multiple_sni_extensions');
  if (h.sniInvalid) st.ctx.event('tls.invalid_sni_length');
  if (h.sniOff >= 0) st.sni = b.toString('latin1', h.sniOff, h.sniOff + h.sniLen);
  for (let i = 0; i < h.nAlpns; i++) {
    const o = h.alpnOff[i]!;
    st.clientAlpns.push(b.toString('latin1', o, o + h.alpnLen[i]!));
  }
  st.clientSessionIdLen = h.sessionIdLen;
  st.clientSessionId.set(h.sessionId.subarray(0, h.sessionIdLen));
  st.ja3 = ja3String(h);
  st.ja4 = ja4Source(h, b, 't');
}

function onServerHello(st: TlsState, dir: Direction, b: Buffer, off: number, len: number): void {
  const h = helloScratch;
  const err = parseServerHello(b, off, len, h);
  if (err !== null) {
    st.ctx.event('tls.invalid_handshake_message');
    return;
  }
  st.serverHelloSeen = true;
  if (st.clientDir === -1) st.clientDir = dir === 0 ? 1 : 0;
  st.helloRetry = h.helloRetry;
  // A ServerHello version field of 0x0304 can only be a draft before 16 (as Suricata reads it).
  let v = h.legacyVersion === 0x0304 ? TLS_13_PRE_DRAFT16 : normaliseVersion(h.legacyVersion);
  const sel = h.nVersions > 0 ? h.versions[0]! : 0;
  if (sel !== 0 && !isGrease(sel)) v = normaliseVersion(sel);
  st.version = v;
  st.cipher = h.ciphers[0]!;
  st.ja3s = ja3sString(h);
  st.serverAlpn = h.nAlpns > 0 ? b.toString('latin1', h.alpnOff[0]!, h.alpnOff[0]! + h.alpnLen[0]!) : null;
  if (isTls13(v)) {
    // TLS 1.3 always echoes the legacy session id; resumption is the PSK extension.
    st.sessionResumed = h.hasPreSharedKey;
  } else {
    let same = h.sessionIdLen > 0 && h.sessionIdLen === st.clientSessionIdLen;
    for (let i = 0; same && i < h.sessionIdLen; i++) same = h.sessionId[i] === st.clientSessionId[i];
    st.sessionResumed = same;
  }
  checkDone(st);
}

/** TLS ≤ 1.2 Certificate: certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1>. */
function onCertificate(st: TlsState, dir: Direction, b: Buffer, off: number, len: number): void {
  const end = off + len;
  if (len < 3) {
    st.ctx.event('tls.certificate_invalid_length');
    return;
  }
  const listLen = (b[off]! << 16) | (b[off + 1]! << 8) | b[off + 2]!;
  let p = off + 3;
  if (p + listLen > end) {
    st.ctx.event('tls.certificate_invalid_length');
    return;
  }
  const le = p + listLen;
  let count = 0;
  let leaf: Buffer | null = null;
  while (p + 3 <= le) {
    const cl = (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!;
    p += 3;
    if (p + cl > le) {
      st.ctx.event('tls.certificate_invalid_length');
      break;
    }
    // Copy the leaf: the message buffer may be the caller's chunk.
    if (count === 0) leaf = Buffer.from(b.subarray(p, p + cl));
    count++;
    p += cl;
  }
  if (leaf === null) return; // empty list: e.g. a client with no certificate
  if (isServerDir(st, dir)) {
    st.serverCertDer = leaf;
    st.serverChainLength = count;
  } else {
    st.clientCertDer = leaf;
  }
}

/**
 * Handshake done: both directions went encrypted (TLS ≤ 1.2: after both
 * ChangeCipherSpecs), or TLS 1.3 was selected and the server went encrypted
 * (nothing more is visible).
 */
function checkDone(st: TlsState): void {
  if (st.emitted) return;
  const d0 = st.dirs[0];
  const d1 = st.dirs[1];
  const server = isServerDir(st, 0) ? d0 : d1;
  if ((d0.encrypted && d1.encrypted) || (st.serverHelloSeen && !st.helloRetry && isTls13(st.version) && server.encrypted)) {
    emit(st);
  }
}

function certOrEvent(st: TlsState, der: Buffer | null): CertInfo | null {
  if (der === null) return null;
  const c = st.certs.decode(der);
  if (c === null) st.ctx.event('tls.invalid_certificate');
  return c;
}

/**
 * Suricata reports the server's version: its ServerHello (supported_versions
 * for 1.3), else its first record; with a silent server, the ClientHello's
 * (Suricata ≥ 8.0.3, suricata-verify bug-5713-02-ja4), else UNDETERMINED.
 */
function reportedVersion(st: TlsState): number {
  if (st.version !== 0) return st.version;
  const srv = st.dirs[isServerDir(st, 0) ? 0 : 1].firstVersion;
  if (srv !== 0) return srv;
  return st.sslv2Hello ? 0 : normaliseVersion(st.clientVersion);
}

/** Build and hand over the flow's one transaction. */
export function emit(st: TlsState): void {
  if (st.emitted) return;
  st.emitted = true;
  const tx = new TlsTx(0, {
    version: reportedVersion(st),
    clientVersion: st.clientVersion,
    sni: st.sni,
    ja3: st.ja3,
    ja3s: st.ja3s,
    ja4: st.ja4,
    clientAlpns: st.clientAlpns,
    serverAlpn: st.serverAlpn,
    cipher: st.cipher,
    sessionResumed: st.sessionResumed,
    serverCert: certOrEvent(st, st.serverCertDer),
    serverCertDer: st.serverCertDer,
    serverChainLength: st.serverChainLength,
    clientCert: certOrEvent(st, st.clientCertDer),
    records: [st.dirs[0].records, st.dirs[1].records],
  }, st.eveOpts);
  // The DER copies are no longer needed once decoded.
  st.serverCertDer = null;
  st.clientCertDer = null;
  st.ctx.tx(tx);
}

/** Bytes lost in one direction: record framing is gone for good. */
export function tlsGap(st: TlsState, dir: Direction): void {
  const d = st.dirs[dir];
  if (d.mode === Mode.DEAD) return;
  // Losing already-encrypted bytes costs nothing but the record count.
  if (!d.encrypted) st.ctx.event('tls.stream_gap');
  d.mode = Mode.DEAD;
  d.inRecord = false;
  abortHandshakeMessage(d);
}

/** Flow end: flush the transaction if a hello was seen. */
export function tlsEnd(st: TlsState): void {
  if (st.emitted || st.done) return;
  if (st.clientHelloSeen || st.serverHelloSeen) emit(st);
}
