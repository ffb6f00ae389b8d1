/**
 * Request-target splitting and normalisation, as Suricata's http.uri sees it.
 *
 * libhtp (Suricata's HTTP library, "IDS" personality, the default) builds the
 * normalised URI from the parsed request-target as path + `?query` +
 * `#fragment` where:
 *  - the path is percent-decoded (invalid `%` escapes are kept as they are),
 *    `%uHHHH` is decoded (best-fit: U+00xx → the byte, full-width ASCII →
 *    ASCII, anything else → `?`), backslashes become slashes, runs of slashes
 *    are compressed, and dot segments are removed (RFC 3986 §5.2.4);
 *  - the query is percent-decoded once (Suricata's SCHTPGenerateNormalizedUri
 *    url-decodes it; `+` stays `+`, Suricata's default query-plusspace-decode: no);
 *  - the fragment is percent-decoded.
 * Scheme and authority of an absolute URI are not part of http.uri; they feed
 * the host instead. Works on bytes: a URI is not necessarily text.
 */

export interface UriParts {
  /** Offsets into the raw URI; -1 when the part is absent. */
  hostStart: number;
  hostEnd: number;
  /** Port number from the authority, -1 when absent, -2 when present but invalid. */
  port: number;
  pathStart: number;
  pathEnd: number;
  queryStart: number; // after '?'
  queryEnd: number;
  fragStart: number; // after '#'
  fragEnd: number;
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** Split a request-target into its parts (origin-form, absolute-form, authority-form, `*`). */
export function splitUri(u: Buffer, isConnect: boolean): UriParts {
  const p: UriParts = {
    hostStart: -1, hostEnd: -1, port: -1,
    pathStart: -1, pathEnd: -1, queryStart: -1, queryEnd: -1, fragStart: -1, fragEnd: -1,
  };
  const n = u.length;
  let i = 0;
  if (isConnect && n > 0 && u[0] !== 0x2f) {
    // authority-form: host:port is the whole target
    parseAuthority(u, 0, n, p);
    return p;
  }
  if (n > 0 && isAlpha(u[0]!)) {
    // absolute-form? scheme = ALPHA *( ALPHA / DIGIT / + / - / . ) "://"
    let j = 1;
    while (j < n) {
      const c = u[j]!;
      if (isAlpha(c) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) j++;
      else break;
    }
    if (j + 2 < n && u[j] === 0x3a && u[j + 1] === 0x2f && u[j + 2] === 0x2f) {
      const aStart = j + 3;
      let aEnd = aStart;
      while (aEnd < n && u[aEnd] !== 0x2f && u[aEnd] !== 0x3f && u[aEnd] !== 0x23) aEnd++;
      parseAuthority(u, aStart, aEnd, p);
      i = aEnd;
    }
  }
  // path up to '?' or '#'
  let k = i;
  while (k < n && u[k] !== 0x3f && u[k] !== 0x23) k++;
  if (k > i) { p.pathStart = i; p.pathEnd = k; }
  if (k < n && u[k] === 0x3f) {
    let q = k + 1;
    while (q < n && u[q] !== 0x23) q++;
    p.queryStart = k + 1; p.queryEnd = q; k = q;
  }
  if (k < n && u[k] === 0x23) { p.fragStart = k + 1; p.fragEnd = n; }
  return p;
}

/** userinfo@host:port inside u[s..e) → host range and port. */
function parseAuthority(u: Buffer, s: number, e: number, p: UriParts): void {
  for (let j = e - 1; j >= s; j--) if (u[j] === 0x40) { s = j + 1; break; } // drop userinfo
  const r = hostPort(u, s, e);
  p.hostStart = r.hostStart; p.hostEnd = r.hostEnd; p.port = r.port;
}

/** Split `host[:port]` / `[v6]:port` in b[s..e) (whitespace already trimmed). */
export function hostPort(b: Buffer, s: number, e: number): { hostStart: number; hostEnd: number; port: number } {
  let hostEnd = e;
  let port = -1;
  let portFrom = -1;
  if (s < e && b[s] === 0x5b) {
    let j = s;
    while (j < e && b[j] !== 0x5d) j++;
    hostEnd = j < e ? j + 1 : e;
    if (hostEnd < e && b[hostEnd] === 0x3a) portFrom = hostEnd + 1;
  } else {
    for (let j = s; j < e; j++) if (b[j] === 0x3a) { hostEnd = j; portFrom = j + 1; break; }
  }
  if (portFrom >= 0) {
    let v = 0;
    let ok = portFrom < e && e - portFrom <= 5;
    for (let j = portFrom; ok && j < e; j++) {
      const c = b[j]!;
      if (c < 0x30 || c > 0x39) ok = false;
      else v = v * 10 + (c - 0x30);
    }
    port = ok && v > 0 && v <= 65535 ? v : -2;
  }
  return { hostStart: s, hostEnd, port };
}

/** Value of an ASCII hex digit, -1 for any other byte. */
export function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  c |= 0x20;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/**
 * Percent-decode b[s..e) into out at o; returns the new o. With `path`,
 * also %u decoding and backslash → slash (libhtp path decoder, IDS personality).
 */
function decodeInto(b: Buffer, s: number, e: number, out: Buffer, o: number, path: boolean): number {
  for (let i = s; i < e; i++) {
    let c = b[i]!;
    if (c === 0x25) {
      if (path && i + 5 < e && (b[i + 1] === 0x75 || b[i + 1] === 0x55)) {
        const h1 = hexVal(b[i + 2]!), h2 = hexVal(b[i + 3]!), h3 = hexVal(b[i + 4]!), h4 = hexVal(b[i + 5]!);
        if (h1 >= 0 && h2 >= 0 && h3 >= 0 && h4 >= 0) {
          const cp = (h1 << 12) | (h2 << 8) | (h3 << 4) | h4;
          if (cp < 0x100) c = cp;
          else if (cp >= 0xff01 && cp <= 0xff5e) c = cp - 0xff01 + 0x21; // full-width ASCII
          else c = 0x3f;
          i += 5;
          out[o++] = c === 0x5c ? 0x2f : c;
          continue;
        }
      }
      if (i + 2 < e) {
        const h = hexVal(b[i + 1]!), l = hexVal(b[i + 2]!);
        if (h >= 0 && l >= 0) { c = (h << 4) | l; i += 2; }
      }
    }
    out[o++] = path && c === 0x5c ? 0x2f : c;
  }
  return o;
}

/**
 * Remove dot segments (RFC 3986 §5.2.4) and compress runs of slashes, in
 * place over out[s..e); returns the new end. Works segment by segment with
 * an output cursor, so no intermediate strings.
 */
function normalizePathInPlace(out: Buffer, s: number, e: number): number {
  let w = s; // write cursor
  let r = s; // read cursor
  const abs = e > s && out[s] === 0x2f;
  if (abs) { out[w++] = 0x2f; r++; }
  const base = w;
  while (r < e) {
    // skip extra slashes
    if (out[r] === 0x2f) { r++; continue; }
    let q = r;
    while (q < e && out[q] !== 0x2f) q++;
    const segLen = q - r;
    const trailing = q < e; // segment followed by '/'
    if (segLen === 1 && out[r] === 0x2e) {
      // "." : drop
    } else if (segLen === 2 && out[r] === 0x2e && out[r + 1] === 0x2e) {
      // "..": drop the last written segment
      if (w > base) {
        let t = w - 1;
        if (out[t] === 0x2f) t--;
        while (t >= base && out[t] !== 0x2f) t--;
        w = t + 1;
      }
    } else {
      out.copyWithin(w, r, q);
      w += segLen;
      if (trailing) out[w++] = 0x2f;
    }
    r = q;
  }
  return w;
}

/** The normalised URI (http.uri) of a raw request-target. */
export function normalizeUri(raw: Buffer, parts: UriParts): Buffer {
  if (parts.pathStart < 0 && parts.queryStart < 0 && parts.fragStart < 0) {
    // authority-form (CONNECT) or an absolute URI without path: nothing to normalise
    return parts.hostStart >= 0 ? Buffer.alloc(0) : raw;
  }
  // the decoded result is never longer than the input (+1 for a leading '/' we never add)
  const out = Buffer.allocUnsafe(raw.length + 2);
  let o = 0;
  if (parts.pathStart >= 0) {
    o = decodeInto(raw, parts.pathStart, parts.pathEnd, out, 0, true);
    o = normalizePathInPlace(out, 0, o);
  }
  if (parts.queryStart >= 0) {
    out[o++] = 0x3f;
    o = decodeInto(raw, parts.queryStart, parts.queryEnd, out, o, false);
  }
  if (parts.fragStart >= 0) {
    out[o++] = 0x23;
    o = decodeInto(raw, parts.fragStart, parts.fragEnd, out, o, false);
  }
  return out.subarray(0, o);
}

/** Normalised host: lowercase, trailing dots removed (port already stripped by the caller). */
export function normalizeHost(b: Buffer, s: number, e: number): Buffer {
  while (e > s && b[e - 1] === 0x2e) e--;
  const out = Buffer.allocUnsafe(e - s);
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    out[i - s] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
  }
  return out;
}
