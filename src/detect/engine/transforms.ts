/**
 * Buffer transforms (`dotprefix`, `to_lowercase`, `to_sha256`, …) written
 * after a sticky buffer. They run once per transaction and buffer (the
 * engine caches the result per buffer key), never per packet, so plain
 * allocation is fine here. Semantics are Suricata 7's (doc: "Transformations").
 */
import { createHash } from 'node:crypto';
import type { TransformName } from '../rules/ast.js';
import { translatePcre } from '../rules/regex.js';
import { compilePcre, execPcre, pcreResult, type CompiledPcre } from './pcre.js';

const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);

function strip(b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(b.length);
  let n = 0;
  for (let i = 0; i < b.length; i++) if (!isSpace(b[i]!)) out[n++] = b[i]!;
  return out.subarray(0, n);
}

function compress(b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(b.length);
  let n = 0;
  let prevSpace = false;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (isSpace(c)) {
      if (!prevSpace) out[n++] = 0x20;
      prevSpace = true;
    } else {
      out[n++] = c;
      prevSpace = false;
    }
  }
  return out.subarray(0, n);
}

function caseMap(b: Buffer, lower: boolean): Buffer {
  const out = Buffer.allocUnsafe(b.length);
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    out[i] = lower ? (c >= 0x41 && c <= 0x5a ? c | 0x20 : c) : c >= 0x61 && c <= 0x7a ? c & 0xdf : c;
  }
  return out;
}

const hexVal = (c: number): number => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1);

function urlDecode(b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(b.length);
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0x25 && i + 2 < b.length) {
      const h = hexVal(b[i + 1]!);
      const l = hexVal(b[i + 2]!);
      if (h >= 0 && l >= 0) {
        out[n++] = (h << 4) | l;
        i += 2;
        continue;
      }
    }
    out[n++] = c === 0x2b ? 0x20 : c;
  }
  return out.subarray(0, n);
}

/** Header names lowercased in a `Name: value\r\n` buffer (values left alone). */
function headerLowercase(b: Buffer): Buffer {
  const out = Buffer.from(b);
  let inName = true;
  for (let i = 0; i < out.length; i++) {
    const c = out[i]!;
    if (c === 0x0a) inName = true;
    else if (inName && c === 0x3a) inName = false;
    else if (inName && c >= 0x41 && c <= 0x5a) out[i] = c | 0x20;
  }
  return out;
}

/** Lines starting with `:` (HTTP/2 pseudo-headers) removed. */
function stripPseudo(b: Buffer): Buffer {
  const parts: Buffer[] = [];
  let s = 0;
  while (s < b.length) {
    let e = b.indexOf(0x0a, s);
    e = e < 0 ? b.length : e + 1;
    if (b[s] !== 0x3a) parts.push(b.subarray(s, e));
    s = e;
  }
  return Buffer.concat(parts);
}

export function applyTransform(t: TransformName, b: Buffer): Buffer {
  switch (t) {
    case 'dotprefix': {
      const out = Buffer.allocUnsafe(b.length + 1);
      out[0] = 0x2e;
      b.copy(out, 1);
      return out;
    }
    case 'strip_whitespace': return strip(b);
    case 'compress_whitespace': return compress(b);
    case 'to_lowercase': return caseMap(b, true);
    case 'to_uppercase': return caseMap(b, false);
    case 'to_md5': return createHash('md5').update(b).digest();
    case 'to_sha1': return createHash('sha1').update(b).digest();
    case 'to_sha256': return createHash('sha256').update(b).digest();
    case 'url_decode': return urlDecode(b);
    case 'header_lowercase': return headerLowercase(b);
    case 'strip_pseudo_headers': return stripPseudo(b);
    default: return pcrexform(t.slice('pcrexform:'.length), b);
  }
}

/** Compiled pcrexform regexes by source: compiled once, on first use. */
const pcrexformCache = new Map<string, CompiledPcre | null>();

/**
 * The buffer's first capture of `re`, or the buffer unchanged when `re` does
 * not match (or its bounded run gave up): Suricata's pcrexform. The regex
 * runs through the engine's PCRE compiler, so hostile patterns are bounded
 * as in `pcre`.
 */
function pcrexform(re: string, b: Buffer): Buffer {
  let p = pcrexformCache.get(re);
  if (p === undefined) {
    try {
      const tr = translatePcre(re, { caseless: false, dotall: false, multiline: false, extended: false, dollarEndOnly: false, ungreedy: false });
      p = compilePcre({ kind: 'pcre', source: tr.source, jsFlags: tr.jsFlags, negated: false, relative: false, anchored: false, raw: re, overrideLimits: false, captures: {} });
    } catch {
      p = null;
    }
    pcrexformCache.set(re, p);
  }
  if (p === null) return b;
  const s = b.toString('latin1');
  // The bounded run decides whether there is a match; only then is the capture read.
  if (execPcre(p, s, 0) !== 1) return b;
  p.re.lastIndex = pcreResult.start;
  const m = p.re.exec(s);
  const cap = m?.[1];
  return cap === undefined ? b : Buffer.from(cap, 'latin1');
}

export function applyTransforms(ts: readonly TransformName[], b: Buffer): Buffer {
  let out = b;
  for (const t of ts) out = applyTransform(t, out);
  return out;
}
