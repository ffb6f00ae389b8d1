/**
 * PostgreSQL recognition (app_proto `pgsql`, PostgreSQL docs "Message
 * Formats"). Client: StartupMessage (Int32 length, Int32 196608 = protocol
 * 3.0), SSLRequest (length 8, 80877103), GSSENCRequest (8, 80877104) or
 * CancelRequest (16, 80877102). Server: an Authentication message ('R',
 * Int32 length, Int32 method) — the first thing it sends after startup.
 *
 * Beyond recognition, one hand-off: a connection that opens with an
 * SSLRequest answered by the single byte 'S' continues in TLS (PostgreSQL
 * docs "SSL Session Encryption"), so the flow is handed back to detection
 * and its TLS handshake is parsed — as Suricata's pgsql parser does
 * (AppLayerRequestProtocolTLSUpgrade on SSLAccepted). 'N' (refused) or
 * anything else: the connection stays PostgreSQL.
 */
import { Probe, type AppParserDecl, type AppSwitch, type Direction } from '../parser.js';

const PROTO_30 = 196608;
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
/** Startup parameters are a few names and values; the server caps the packet at 10000 bytes. */
const MAX_STARTUP = 10000;

export function probePgsql(dir: Direction, b: Buffer, off: number, len: number): Probe {
  if (len < 8) return len > 0 && (dir === 0 ? b[off] === 0 : b[off] === 0x52) ? Probe.NEED_MORE : Probe.NO;
  if (dir === 0) {
    const n = b.readUInt32BE(off);
    const code = b.readUInt32BE(off + 4);
    if (code === SSL_REQUEST || code === GSSENC_REQUEST) return n === 8 ? Probe.YES : Probe.NO;
    if (code === CANCEL_REQUEST) return n === 16 ? Probe.YES : Probe.NO;
    if (code !== PROTO_30 || n < 9 || n > MAX_STARTUP) return Probe.NO;
    // The parameter list must end in a NUL terminator at exactly the stated length.
    if (len < n) return Probe.NEED_MORE;
    return b[off + n - 1] === 0 ? Probe.YES : Probe.NO;
  }
  if (b[off] !== 0x52) return Probe.NO; // 'R'
  if (len < 9) return Probe.NEED_MORE;
  const n = b.readUInt32BE(off + 1);
  const method = b.readUInt32BE(off + 5);
  // AuthenticationOk/KerberosV5/Cleartext/MD5/GSS/GSSContinue/SSPI/SASL/SASLContinue/SASLFinal.
  if (method === 0 || method === 2 || method === 3 || method === 7 || method === 9) return n === 8 ? Probe.YES : Probe.NO;
  if (method === 5) return n === 12 ? Probe.YES : Probe.NO;
  if (method === 8 || method === 10 || method === 11 || method === 12) return n > 8 && n < 4096 ? Probe.YES : Probe.NO;
  return Probe.NO;
}

/** Per-flow state: only what the SSLRequest hand-off needs. */
export interface PgsqlState {
  /** Bytes seen per direction. */
  bytes: [number, number];
  /** The client's first 8 bytes (an SSLRequest is exactly 8), gathered across segments. */
  head: Buffer;
  /** The connection opened with an SSLRequest; the server's next byte decides. */
  sslRequested: boolean;
  /** The server accepted ('S'): the bytes after it are TLS. */
  toTls: boolean;
  /** Bytes already received past the switch point, per direction. */
  handoff: [Buffer | null, Buffer | null];
}

function parsePgsql(s: PgsqlState, dir: Direction, buf: Buffer, off: number, len: number): void {
  const before = s.bytes[dir];
  s.bytes[dir] += len;
  if (s.toTls) return;
  if (dir === 0) {
    if (before < 8) {
      const n = Math.min(8 - before, len);
      buf.copy(s.head, before, off, off + n);
      if (before + n === 8 && s.head.readUInt32BE(0) === 8 && s.head.readUInt32BE(4) === SSL_REQUEST) s.sslRequested = true;
      // a client that does not wait for the answer: keep what follows the request for TLS (bounded by the segment)
      if (s.sslRequested && n < len) s.handoff[0] = Buffer.from(buf.subarray(off + n, off + len));
    }
    return;
  }
  if (before === 0 && s.sslRequested && len > 0 && buf[off] === 0x53) {
    s.toTls = true;
    if (len > 1) s.handoff[1] = Buffer.from(buf.subarray(off + 1, off + len));
  }
}

export const pgsqlParser: AppParserDecl<PgsqlState> = {
  name: 'pgsql',
  transport: 'tcp',
  ports: [5432],
  probe: probePgsql,
  create: () => ({ bytes: [0, 0], head: Buffer.alloc(8), sslRequested: false, toTls: false, handoff: [null, null] }),
  parse: parsePgsql,
  switchTo: (s: PgsqlState): AppSwitch | null => (s.toTls ? { redetect: true, handoff: s.handoff } : null),
};
