/**
 * Header-block parsing (RFC 9112 §5 with libhtp's tolerance) and the header
 * views the signature engine inspects.
 *
 * Input is a complete head already in one buffer (the incremental part lives
 * in parser.ts), so this code sees whole lines. Lines end at LF, an optional
 * CR before it is dropped. A line starting with SP/HT continues the previous
 * field (obs-fold): like libhtp, its bytes are appended to the value as they
 * are. Values are trimmed of SP/HT on both ends. Names keep their case; the
 * lowercase `lname` is for lookups. Duplicates stay as separate entries in
 * wire order; `combinedValue()` joins them with ", " the way libhtp's header
 * table does, which is what Suricata's per-header buffers contain.
 */

/**
 * One header field. Name and value are views created on first use: a
 * Buffer view costs a few hundred ns, and most fields of most messages are
 * never read individually, so the parser only records offsets.
 */
export class HttpHeader {
  private nameBuf: Buffer | null = null;
  private valueBuf: Buffer | null;

  constructor(
    private readonly src: Buffer,
    private readonly ns: number,
    private readonly ne: number,
    private readonly vs: number,
    private readonly ve: number,
    /** Lowercase name (for lookups). */
    readonly lname: string,
    /** Value rebuilt from continuation lines, when the field was folded. */
    folded: Buffer | null,
  ) {
    this.valueBuf = folded;
  }

  /** Name as sent (case preserved). */
  get name(): Buffer {
    return (this.nameBuf ??= this.src.subarray(this.ns, this.ne));
  }

  /** Value, trimmed, continuation lines appended. */
  get value(): Buffer {
    return (this.valueBuf ??= this.src.subarray(this.vs, this.ve));
  }
}

/**
 * Lowercase names of common fields, by length, so that recognising them
 * costs a byte comparison instead of two string allocations.
 */
const COMMON = new Map<number, { bytes: Uint8Array; name: string }[]>();
for (const n of [
  'host', 'user-agent', 'accept', 'accept-language', 'accept-encoding', 'accept-charset', 'accept-ranges', 'connection',
  'keep-alive', 'cookie', 'set-cookie', 'referer', 'content-type', 'content-length', 'content-encoding', 'transfer-encoding',
  'cache-control', 'pragma', 'date', 'server', 'location', 'expires', 'last-modified', 'etag', 'vary', 'age', 'via',
  'upgrade', 'x-forwarded-for', 'x-real-ip', 'forwarded', 'authorization', 'origin', 'if-modified-since', 'if-none-match',
  'range', 'content-range', 'x-powered-by', 'x-requested-with', 'dnt', 'upgrade-insecure-requests', 'te', 'trailer',
  'expect', 'proxy-connection', 'x-xss-protection', 'x-content-type-options', 'x-frame-options', 'p3p',
  'strict-transport-security', 'access-control-allow-origin', 'content-disposition', 'www-authenticate',
]) {
  let l = COMMON.get(n.length);
  if (!l) COMMON.set(n.length, (l = []));
  l.push({ bytes: Buffer.from(n, 'latin1'), name: n });
}

/** Lowercase name of b[s..e): a shared constant for common fields. */
function lowerName(b: Buffer, s: number, e: number): string {
  const cands = COMMON.get(e - s);
  if (cands !== undefined) {
    outer: for (let k = 0; k < cands.length; k++) {
      const c = cands[k]!.bytes;
      for (let i = 0; i < c.length; i++) {
        const x = b[s + i]!;
        if ((x >= 0x41 && x <= 0x5a ? x | 0x20 : x) !== c[i]) continue outer;
      }
      return cands[k]!.name;
    }
  }
  // NUL bytes do not count: libhtp looks headers up ignoring them
  // ("Transfer\0-Encoding" is Transfer-Encoding to it, an http-evader case)
  const n = b.toString('latin1', s, e).toLowerCase();
  return b.indexOf(0, s) >= 0 && b.indexOf(0, s) < e ? n.replace(/\0/g, '') : n;
}

/** Problems found in a header block, as bits (the caller maps them to request/response event names). */
export const HDR_MISSING_COLON = 1;
export const HDR_INVALID_NAME = 2;
export const HDR_BAD_FOLDING = 4;
export const HDR_TOO_MANY = 8;

/** RFC 9110 tchar table: ! # $ % & ' * + - . ^ _ ` | ~ DIGIT ALPHA. */
const TCHAR = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) { TCHAR[c] = 1; TCHAR[c + 0x20] = 1; }
for (const ch of "!#$%&'*+-.^_`|~") TCHAR[ch.charCodeAt(0)] = 1;

function isWs(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * Parse header lines in b[s..e) (which may include the final empty line) into
 * `out`; returns a bitmask of HDR_* problems.
 */
export function parseHeaderBlock(b: Buffer, s: number, e: number, out: HttpHeader[], maxHeaders: number): number {
  let issues = 0;
  // the field being built (finished when the next non-continuation line starts)
  let nS = -1, nE = -1, vS = 0, vE = 0;
  let extra: Buffer[] | null = null;
  let p = s;
  while (p < e) {
    let lf = b.indexOf(10, p);
    if (lf < 0 || lf >= e) lf = e;
    let le = lf;
    if (le > p && b[le - 1] === 0x0d) le--;
    if (le === p) break; // empty line: end of headers
    if (isWs(b[p])) {
      if (nS >= 0) {
        (extra ??= []).push(b.subarray(p, le));
        p = lf + 1;
        continue;
      }
      // folding without a field to fold into: parse as a field of its own, trimmed
      issues |= HDR_BAD_FOLDING;
    }
    if (nS >= 0) { issues |= finishField(b, nS, nE, vS, vE, extra, out, maxHeaders); extra = null; }
    let ls = p;
    while (ls < le && isWs(b[ls])) ls++;
    const colon = b.indexOf(0x3a, ls);
    if (colon < 0 || colon >= le) {
      // libhtp keeps an unparseable line as a name with an empty value
      issues |= HDR_MISSING_COLON;
      nS = ls; nE = le; vS = le; vE = le;
    } else {
      nS = ls; nE = colon;
      // libhtp drops every byte <= 0x20 (not only SP/HT) before the colon
      while (nE > nS && b[nE - 1]! <= 0x20) { nE--; issues |= HDR_INVALID_NAME; }
      if (nE === nS) issues |= HDR_INVALID_NAME;
      for (let i = nS; i < nE; i++) if (TCHAR[b[i]!] === 0) { issues |= HDR_INVALID_NAME; break; }
      vS = colon + 1;
      while (vS < le && isWs(b[vS])) vS++;
      vE = le;
    }
    p = lf + 1;
  }
  if (nS >= 0) issues |= finishField(b, nS, nE, vS, vE, extra, out, maxHeaders);
  return issues;
}

function finishField(b: Buffer, nS: number, nE: number, vS: number, vE: number, extra: Buffer[] | null,
  out: HttpHeader[], maxHeaders: number): number {
  if (out.length >= maxHeaders) return HDR_TOO_MANY;
  let folded: Buffer | null = null;
  if (extra === null) {
    while (vE > vS && isWs(b[vE - 1])) vE--;
  } else {
    const v = Buffer.concat([b.subarray(vS, vE), ...extra]);
    let ve = v.length;
    while (ve > 0 && isWs(v[ve - 1])) ve--;
    folded = v.subarray(0, ve);
  }
  out.push(new HttpHeader(b, nS, nE, vS, vE, lowerName(b, nS, nE), folded));
  return 0;
}

/**
 * Response header lines → fields, the way Suricata's libhtp assembles them
 * (htp_connp_RES_HEADERS + htp_parse_response_header_generic), so that the
 * header evasions of http-evader are read as browsers read them:
 * - `lines` holds [start, end) pairs of the header lines in `b`, line
 *   terminators already removed (the parser splits lines; see parser.ts);
 * - a line starting with SP, HT or NUL continues the previous field, its
 *   bytes appended as they are — except on HTTP/1.1 when both it and the
 *   field so far contain a colon: then it starts a new field, minus its first
 *   byte ("Connection: close\r\n Transfer-Encoding: chunked" is two fields);
 * - the name is everything before the first colon (nothing is skipped before
 *   it), less trailing bytes <= 0x20; a line without a colon is a field with
 *   an empty name whose value is the line.
 */
export function parseResponseFields(b: Buffer, lines: readonly number[], n: number, http11: boolean,
  out: HttpHeader[], maxHeaders: number): number {
  let issues = 0;
  // the field being built: a range of b, or pieces once a continuation was appended
  let cs = -1, ce = -1;
  let pieces: Buffer[] | null = null;
  let curColon = false;
  const flush = (): void => {
    if (cs < 0 && pieces === null) return;
    if (pieces !== null) {
      const v = Buffer.concat(pieces);
      issues |= responseField(v, 0, v.length, out, maxHeaders);
    } else issues |= responseField(b, cs, ce, out, maxHeaders);
    cs = ce = -1;
    pieces = null;
  };
  for (let k = 0; k + 1 < n; k += 2) {
    const s = lines[k]!, e = lines[k + 1]!;
    const c0 = e > s ? b[s]! : -1;
    const folded = c0 === 0x20 || c0 === 0x09 || c0 === 0;
    const hasColon = b.indexOf(0x3a, s) >= 0 && b.indexOf(0x3a, s) < e;
    if (!folded) {
      flush();
      cs = s; ce = e; curColon = hasColon;
    } else if (cs < 0 && pieces === null) {
      issues |= HDR_BAD_FOLDING;
      cs = s; ce = e; curColon = hasColon;
    } else if (hasColon && curColon && http11) {
      issues |= HDR_BAD_FOLDING;
      flush();
      cs = s + 1; ce = e; curColon = true;
    } else {
      if (pieces === null) pieces = [b.subarray(cs, ce)];
      pieces.push(b.subarray(s, e));
      curColon ||= hasColon;
    }
  }
  flush();
  return issues;
}

/** One assembled response field b[s..e) → `out` (htp_parse_response_header_generic). */
function responseField(b: Buffer, s: number, e: number, out: HttpHeader[], maxHeaders: number): number {
  if (out.length >= maxHeaders) return HDR_TOO_MANY;
  let issues = 0;
  const colon = b.indexOf(0x3a, s);
  let nE: number, vS: number;
  if (colon < 0 || colon >= e) {
    issues |= HDR_MISSING_COLON;
    nE = s; vS = s;
  } else {
    nE = colon;
    while (nE > s && b[nE - 1]! <= 0x20) { nE--; issues |= HDR_INVALID_NAME; }
    if (nE === s) issues |= HDR_INVALID_NAME;
    for (let i = s; i < nE; i++) if (TCHAR[b[i]!] === 0) { issues |= HDR_INVALID_NAME; break; }
    vS = colon + 1;
  }
  while (vS < e && isWs(b[vS])) vS++;
  let vE = e;
  while (vE > vS && isWs(b[vE - 1])) vE--;
  out.push(new HttpHeader(b, s, nE, vS, vE, lowerName(b, s, nE), null));
  return issues;
}

/** All values of header `lname` joined with ", " (libhtp's table view); null when absent. */
export function combinedValue(hs: readonly HttpHeader[], lname: string): Buffer | null {
  let first: Buffer | null = null;
  let parts: Buffer[] | null = null;
  for (let i = 0; i < hs.length; i++) {
    const h = hs[i]!;
    if (h.lname !== lname) continue;
    if (first === null) first = h.value;
    else (parts ??= [first]).push(COMMA_SP, h.value);
  }
  return parts === null ? first : Buffer.concat(parts);
}

const COMMA_SP = Buffer.from(', ', 'latin1');
const COLON_SP = Buffer.from(': ', 'latin1');
const CRLF = Buffer.from('\r\n', 'latin1');

/** Headers merged by name in first-seen order, as libhtp's table holds them. */
export function mergedHeaders(hs: readonly HttpHeader[]): { name: Buffer; lname: string; value: Buffer }[] {
  const res: { name: Buffer; lname: string; value: Buffer }[] = [];
  const seen = new Map<string, number>();
  for (const h of hs) {
    const at = seen.get(h.lname);
    if (at === undefined) { seen.set(h.lname, res.length); res.push({ name: h.name, lname: h.lname, value: h.value }); }
    else { const r = res[at]!; r.value = Buffer.concat([r.value, COMMA_SP, h.value]); }
  }
  return res;
}

/**
 * Suricata's http.header buffer: `Name: value\r\n` per (merged) header,
 * skipping Cookie (requests) / Set-Cookie (responses), which have their own
 * buffer; no extra CRLF at the end (src/detect-http-header.c).
 */
export function headerBuffer(hs: readonly HttpHeader[], skip: string): Buffer {
  const parts: Buffer[] = [];
  for (const h of mergedHeaders(hs)) {
    if (h.lname === skip) continue;
    parts.push(h.name, COLON_SP, h.value, CRLF);
  }
  return Buffer.concat(parts);
}

/** Suricata's http.header_names: `\r\n` + each (merged) name + `\r\n`, then a final `\r\n`. */
export function headerNamesBuffer(hs: readonly HttpHeader[]): Buffer {
  const parts: Buffer[] = [CRLF];
  for (const h of mergedHeaders(hs)) parts.push(h.name, CRLF);
  parts.push(CRLF);
  return Buffer.concat(parts);
}

/** Suricata's http.start: start line, CRLF, `Name: value\r\n` per header (all of them), CRLF. */
export function startBuffer(line: Buffer, hs: readonly HttpHeader[]): Buffer {
  const parts: Buffer[] = [line, CRLF];
  for (const h of mergedHeaders(hs)) parts.push(h.name, COLON_SP, h.value, CRLF);
  parts.push(CRLF);
  return Buffer.concat(parts);
}
