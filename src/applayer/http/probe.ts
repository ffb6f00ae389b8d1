/**
 * Cheap content test: is this the start of an HTTP/1.x message?
 *
 * toServer: a request method followed by a space (case-sensitive, as RFC 9110
 * says methods are). toClient: `HTTP/1.`. Runs on the first bytes of every
 * unidentified flow, so it compares against pre-built byte arrays and
 * allocates nothing.
 */
import { Probe, type Direction } from '../parser.js';

/** Methods recognised by the probe: RFC 9110 ones, PATCH, and the WebDAV/DeltaV family. */
export const HTTP_METHODS: readonly string[] = [
  'GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'CONNECT', 'PATCH', 'TRACE',
  'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'SEARCH',
  'REPORT', 'MKCALENDAR', 'ACL', 'BIND', 'UNBIND', 'REBIND', 'ORDERPATCH',
  'VERSION-CONTROL', 'CHECKIN', 'CHECKOUT', 'UNCHECKOUT', 'MKWORKSPACE', 'UPDATE',
  'LABEL', 'MERGE', 'BASELINE-CONTROL', 'MKACTIVITY', 'MKREDIRECTREF', 'UPDATEREDIRECTREF',
];

const METHOD_BYTES: readonly Uint8Array[] = HTTP_METHODS.map((m) => Buffer.from(m + ' ', 'latin1'));
const RESPONSE_PREFIX = Buffer.from('HTTP/1.', 'latin1');

/** Compare `pat` with buf[off..off+len): YES if it is a prefix of the data, NEED_MORE if the data is a prefix of it. */
function prefixProbe(pat: Uint8Array, buf: Buffer, off: number, len: number): Probe {
  const n = len < pat.length ? len : pat.length;
  for (let i = 0; i < n; i++) if (buf[off + i] !== pat[i]) return Probe.NO;
  return len >= pat.length ? Probe.YES : Probe.NEED_MORE;
}

/**
 * Empty lines skipped before a message: RFC 9112 §2.2 asks servers to ignore
 * at least one CRLF before a request line, and libhtp skips them in both
 * directions. They occur after a CONNECT tunnel opens (bytes that followed
 * the CONNECT request or its 2xx in the same segment) and after sloppy
 * clients' bodies. Bounded so that a stream of line ends is not "HTTP".
 */
const MAX_LEADING_EOL = 8;

export function probeHttp(dir: Direction, buf: Buffer, off: number, len: number): Probe {
  if (off < 0 || len <= 0 || off + len > buf.length) return len === 0 ? Probe.NEED_MORE : Probe.NO;
  let skip = 0;
  while (skip < len && (buf[off + skip] === 0x0d || buf[off + skip] === 0x0a)) skip++;
  if (skip > 0) {
    if (skip > MAX_LEADING_EOL) return Probe.NO;
    if (skip === len) return Probe.NEED_MORE;
    off += skip;
    len -= skip;
  }
  if (dir === 1) return prefixProbe(RESPONSE_PREFIX, buf, off, len);
  let best = Probe.NO;
  for (let i = 0; i < METHOD_BYTES.length; i++) {
    const r = prefixProbe(METHOD_BYTES[i]!, buf, off, len);
    if (r === Probe.YES) return r;
    if (r === Probe.NEED_MORE) best = Probe.NEED_MORE;
  }
  return best;
}
