/**
 * PostgreSQL recognition (app_proto `pgsql`, PostgreSQL docs "Message
 * Formats"). Client: StartupMessage (Int32 length, Int32 196608 = protocol
 * 3.0), SSLRequest (length 8, 80877103), GSSENCRequest (8, 80877104) or
 * CancelRequest (16, 80877102). Server: an Authentication message ('R',
 * Int32 length, Int32 method) — the first thing it sends after startup.
 */
import { Probe, type Direction } from '../parser.js';
import { recogniser } from '../recognition.js';

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

export const pgsqlParser = recogniser('pgsql', 'tcp', [5432], probePgsql);
