/**
 * QUIC recognition (app_proto `quic`), with the client's SNI and JA3 read
 * from the decrypted Initial packets (IETF QUIC v1, v2, drafts 23–34, mvfst).
 *
 * Probe: an IETF long header (first bit set, fixed bit set, a known version,
 * connection-ID lengths ≤ 20) or a Google QUIC public header (flags with
 * version bit, 8-byte connection ID, version 'Q0dd'). Emits one `quic`
 * transaction per flow once the ClientHello is complete, with Suricata 7's
 * `quic.sni` and `quic.ja3` fields.
 */
import { Probe, type AppParserContext, type AppParserDecl, type AppTx, type Direction } from '../parser.js';
import { HelloFields, parseClientHello } from '../tls/hello.js';
import { ja3String, md5Hex } from '../tls/fingerprint.js';
import { forEachCryptoFrame, knownVersion, lastDcidLen, lastDcidOff, readLongPacket } from './initial.js';
import { gquicChloSni } from './gquic.js';

/** The ClientHello is gathered from CRYPTO frames up to this many bytes (large post-quantum hellos fit). */
const MAX_CRYPTO = 16384;
/** Client Initial packets decrypted (or tried) per flow before giving up on the hello. */
const MAX_INITIALS = 16;

export function probeQuic(_dir: Direction, b: Buffer, off: number, len: number): Probe {
  if (len < 7) return Probe.NO;
  const b0 = b[off]!;
  if ((b0 & 0x80) !== 0) {
    if ((b0 & 0x40) === 0) return Probe.NO;
    const v = b.readUInt32BE(off + 1);
    if (!knownVersion(v)) return Probe.NO;
    // Q046 packs both connection-ID lengths into one byte (nibbles), unlike the IETF header.
    if (v === 0x51303436) return len >= 20 ? Probe.YES : Probe.NO;
    const dcid = b[off + 5]!;
    if (dcid > 20 || 6 + dcid >= len) return Probe.NO;
    const scid = b[off + 6 + dcid]!;
    if (scid > 20 || 7 + dcid + scid > len) return Probe.NO;
    // A client's first Initial is padded to ≥1200 bytes (RFC 9000 §14.1); other long-header packets are not small either.
    return len >= 20 ? Probe.YES : Probe.NO;
  }
  // gQUIC ≤ Q043 public header: flags (version bit 0x01, 8-byte CID 0x08), CID, version 'Q0dd'.
  if ((b0 & 0x09) === 0x09 && (b0 & 0xc0) === 0 && len >= 13 + 12) {
    const v = b.readUInt32BE(off + 9);
    if (v >>> 16 === 0x5130 && knownVersion(v)) return Probe.YES;
  }
  return Probe.NO;
}

export class QuicTx implements AppTx {
  readonly proto = 'quic';
  constructor(
    readonly txId: number,
    readonly sni: string | null,
    readonly ja3: string | null,
  ) {}
  eve(): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    if (this.sni !== null) o.sni = this.sni;
    if (this.ja3 !== null) o.ja3 = { hash: md5Hex(this.ja3), string: this.ja3 };
    return o;
  }
}

export interface QuicState {
  ctx: AppParserContext;
  /** The ClientHello's CRYPTO stream, gathered lazily; null until a client Initial decrypts. */
  crypto: Buffer | null;
  filled: Uint8Array | null;
  initials: number;
  /** DCID of the flow's first client Initial (some clients change it between Initials yet keep its keys). */
  firstDcid: Buffer | null;
  done: boolean;
  txs: number;
}

const hello = new HelloFields();

/** A gQUIC packet whose hello is in clear: public header ≤ Q043, or Q046's long header. */
function isGoogleQuic(b: Buffer, off: number, len: number): boolean {
  const b0 = b[off]!;
  if ((b0 & 0x80) !== 0) return b.readUInt32BE(off + 1) === 0x51303436;
  return (b0 & 0x09) === 0x09 && len >= 13 && b.readUInt16BE(off + 9) === 0x5130;
}

function tryHello(s: QuicState): void {
  const c = s.crypto!;
  const f = s.filled!;
  if (f[0] === 0 || f[3] === 0) return;
  if (c[0] === 0x43) {
    // Q050: a gQUIC CHLO (tag map) in the CRYPTO stream instead of a TLS ClientHello.
    let n = 0;
    while (n < MAX_CRYPTO && f[n] === 1) n++;
    const sni = gquicChloSni(c, 0, n);
    if (sni !== null) {
      s.done = true;
      s.ctx.tx(new QuicTx(s.txs++, sni, null));
    }
    return;
  }
  if (c[0] !== 1) {
    s.done = true;
    return;
  }
  const len = (c[1]! << 16) | (c[2]! << 8) | c[3]!;
  if (4 + len > MAX_CRYPTO) {
    s.done = true;
    s.ctx.event('quic.crypto_too_long');
    return;
  }
  for (let i = 0; i < 4 + len; i++) if (f[i] === 0) return;
  s.done = true;
  if (parseClientHello(c, 4, len, hello) !== null) {
    s.ctx.event('quic.invalid_client_hello');
    return;
  }
  const sni = hello.sniOff >= 0 ? c.toString('latin1', hello.sniOff, hello.sniOff + hello.sniLen) : null;
  s.ctx.tx(new QuicTx(s.txs++, sni, ja3String(hello)));
  s.crypto = null;
  s.filled = null;
}

export const quicParser: AppParserDecl<QuicState> = {
  name: 'quic',
  transport: 'udp',
  ports: [443, 80, 8443],
  probe: probeQuic,
  create(ctx) {
    return { ctx, crypto: null, filled: null, initials: 0, firstDcid: null, done: false, txs: 0 };
  },
  parse(s, dir, buf, off, len) {
    if (s.done || dir !== 0 || len < 7) return;
    const end = off + len;
    if (isGoogleQuic(buf, off, len)) {
      // Q043–Q046 carry the hello in clear; later gQUIC versions encrypt it with keys not derived here.
      s.done = true;
      const sni = gquicChloSni(buf, off, len);
      if (sni !== null) s.ctx.tx(new QuicTx(s.txs++, sni, null));
      return;
    }
    if ((buf[off]! & 0x80) === 0) return;
    let p = off;
    // Coalesced packets (RFC 9000 §12.2): an Initial may be followed by others in the same datagram.
    while (p < end && !s.done && (buf[p]! & 0x80) !== 0) {
      const pkt = readLongPacket(buf, p, end, true, s.firstDcid);
      if (pkt === null) return;
      if (s.firstDcid === null && lastDcidOff >= 0) s.firstDcid = Buffer.from(buf.subarray(lastDcidOff, lastDcidOff + lastDcidLen));
      const version = buf.readUInt32BE(p + 1);
      if (pkt.decryptFailed) s.ctx.event('quic.initial_decrypt_failed');
      // Every decryption attempt counts, failed ones too: a flow whose Initials never open stops costing HMACs.
      if ((pkt.payload !== null || pkt.decryptFailed) && ++s.initials > MAX_INITIALS) {
        s.done = true;
        return;
      }
      if (pkt.payload !== null) {
        s.crypto ??= Buffer.allocUnsafe(MAX_CRYPTO); // `filled` says which bytes are valid
        s.filled ??= new Uint8Array(MAX_CRYPTO);
        const c = s.crypto;
        const fl = s.filled;
        const gquic = version >>> 16 === 0x5130 || version >>> 16 === 0x5430;
        forEachCryptoFrame(
          pkt.payload,
          (o, data) => {
            if (o >= MAX_CRYPTO) return;
            const n = Math.min(data.length, MAX_CRYPTO - o);
            data.copy(c, o, 0, n);
            fl.fill(1, o, o + n);
          },
          gquic,
        );
        tryHello(s);
      }
      p = pkt.end;
    }
  },
};
