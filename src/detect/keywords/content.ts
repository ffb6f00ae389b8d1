/**
 * `content` and its modifiers (nocase, depth, offset, distance, within,
 * startswith, endswith, fast_pattern, rawbytes), plus the buffer-level checks
 * isdataat, bsize and urilen. Modifiers apply to the last content of the rule
 * as in Suricata, whichever buffer it is in.
 */
import type { ContentOp, NumOrVar } from '../rules/ast.js';
import { fail } from '../rules/errors.js';
import { clip, stripQuotes } from '../rules/lexer.js';
import type { KeywordDecl } from './types.js';
import { commaList, expectValue, intCompare, numOrVar, uint } from './types.js';

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[65 + i] = 10 + i;
  HEX[97 + i] = 10 + i;
}

/**
 * Decodes a content string (quotes already removed): `|hex|` sections and the
 * escapes `\"` `\;` `\\` `\:`. Characters above 0xff (text that did not come
 * from a latin1-read file) are encoded as UTF-8.
 */
export function decodeContent(s: string): Uint8Array {
  const out: number[] = [];
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 0x7c /* | */) {
      const end = s.indexOf('|', i + 1);
      if (end < 0) fail(`content: unclosed "|" hex section in "${clip(s)}"`);
      let hi = -1;
      for (let j = i + 1; j < end; j++) {
        const h = s.charCodeAt(j);
        if (h === 0x20 || h === 0x09) {
          if (hi >= 0) fail(`content: odd number of hex digits in "|${clip(s.slice(i + 1, end))}|"`);
          continue;
        }
        const d = h < 128 ? HEX[h]! : -1;
        if (d < 0) fail(`content: "${s[j]}" is not a hex digit in "|${clip(s.slice(i + 1, end))}|"`);
        if (hi < 0) hi = d;
        else {
          out.push((hi << 4) | d);
          hi = -1;
        }
      }
      if (hi >= 0) fail(`content: odd number of hex digits in "|${clip(s.slice(i + 1, end))}|"`);
      i = end + 1;
      continue;
    }
    if (c === 0x5c /* \ */) {
      const d = s[i + 1];
      if (d === undefined) fail('content: trailing backslash');
      if (d !== '"' && d !== ';' && d !== '\\' && d !== ':') fail(`content: "\\${d}" is not a valid escape (only \\" \\; \\\\ \\: are)`);
      out.push(d.charCodeAt(0));
      i += 2;
      continue;
    }
    if (c === 0x22 /* " */) fail('content: unescaped \'"\' inside the content');
    if (c <= 0xff) out.push(c);
    else for (const byte of Buffer.from(s[i]!, 'utf8')) out.push(byte);
    i++;
  }
  return Uint8Array.from(out);
}

export function parseContentValue(v: string | null, name: string): ContentOp {
  let t = expectValue(v, name).trim();
  let negated = false;
  if (t.charCodeAt(0) === 0x21 /* ! */) {
    negated = true;
    t = t.slice(1).trim();
  }
  if (t.charCodeAt(0) !== 0x22) fail(`${name} must be quoted: ${clip(t)}`);
  const bytes = decodeContent(stripQuotes(t));
  if (bytes.length === 0) fail(`${name} is empty`);
  return {
    kind: 'content',
    bytes,
    nocase: false,
    negated,
    offset: null,
    depth: null,
    distance: null,
    within: null,
    startsWith: false,
    endsWith: false,
    fastPattern: false,
    fastPatternOnly: false,
    fastPatternChop: null,
    rawbytes: false,
  };
}

export const content: KeywordDecl = {
  name: 'content',
  value: 'required',
  doc: 'bytes to find in the current buffer: `"text|0d 0a|"`, `!` negates',
  parse(v, b) {
    b.addOp(parseContentValue(v, 'content'));
  },
};

export const uricontent: KeywordDecl = {
  name: 'uricontent',
  value: 'required',
  doc: 'legacy: content in http.uri',
  parse(v, b) {
    b.addOp(parseContentValue(v, 'uricontent'), 'http.uri');
  },
};

export const nocase: KeywordDecl = {
  name: 'nocase',
  value: 'none',
  doc: 'case-insensitive match of the previous content',
  parse(_v, b) {
    const c = b.lastContent('nocase');
    if (c.nocase) fail('nocase given twice on one content');
    c.nocase = true;
  },
};

type PosField = 'offset' | 'depth' | 'distance' | 'within';

function positional(name: PosField, doc: string, signed: boolean, minNum: number): KeywordDecl {
  return {
    name,
    value: 'required',
    doc,
    parse(v, b) {
      const c = b.lastContent(name);
      if (c[name] !== null) fail(`${name} given twice on one content`);
      const val: NumOrVar = numOrVar(expectValue(v, name), name, signed);
      if (typeof val === 'number' && val < minNum) fail(`${name} must be at least ${minNum}, got ${val}`);
      c[name] = val;
    },
  };
}

export const offset = positional('offset', 'previous content starts at or after this offset', false, 0);
export const depth = positional('depth', 'previous content ends within this many bytes from the start (or offset)', false, 1);
export const distance = positional('distance', 'previous content starts this many bytes after the previous match (may be negative)', true, -65535);
export const within = positional('within', 'previous content ends within this many bytes after the previous match', false, 1);

export const startswith: KeywordDecl = {
  name: 'startswith',
  value: 'none',
  doc: 'previous content must be at the start of the buffer',
  parse(_v, b) {
    const c = b.lastContent('startswith');
    if (c.startsWith) fail('startswith given twice');
    c.startsWith = true;
  },
};

export const endswith: KeywordDecl = {
  name: 'endswith',
  value: 'none',
  doc: 'previous content must be at the end of the buffer',
  parse(_v, b) {
    const c = b.lastContent('endswith');
    if (c.endsWith) fail('endswith given twice');
    c.endsWith = true;
  },
};

export const fastPattern: KeywordDecl = {
  name: 'fast_pattern',
  value: 'optional',
  doc: 'use the previous content as the prefilter pattern; `only` (legacy, same as plain) or `<offset>,<length>` (chop)',
  parse(v, b) {
    const c = b.markFastPattern('fast_pattern');
    if (v === null || v === '') return;
    if (v.trim() === 'only') {
      c.fastPatternOnly = true;
      return;
    }
    const parts = commaList(v);
    if (parts.length !== 2) fail(`fast_pattern: "${clip(v)}" is not "only" or "<offset>,<length>"`);
    const o = uint(parts[0]!, 'fast_pattern offset', 0, 65535);
    const l = uint(parts[1]!, 'fast_pattern length', 1, 65535);
    c.fastPatternChop = [o, l];
  },
};

export const rawbytes: KeywordDecl = {
  name: 'rawbytes',
  value: 'none',
  doc: 'previous content matches the raw packet (no effect on app-layer buffers)',
  parse(_v, b) {
    b.lastContent('rawbytes').rawbytes = true;
  },
};

export const isdataat: KeywordDecl = {
  name: 'isdataat',
  value: 'required',
  doc: '`[!]<n>[,relative][,rawbytes]`: data exists at that offset of the current buffer',
  parse(v, b) {
    const parts = commaList(expectValue(v, 'isdataat'));
    let first = parts[0]!;
    let negated = false;
    if (first.startsWith('!')) {
      negated = true;
      first = first.slice(1).trim();
    }
    let relative = false;
    for (const p of parts.slice(1)) {
      if (p === 'relative') relative = true;
      else if (p === 'rawbytes') {
        /* the default buffer is already raw for Harrier */
      } else fail(`isdataat: unknown option "${clip(p)}"`);
    }
    b.addOp({ kind: 'isdataat', offset: numOrVar(first, 'isdataat'), relative, negated });
  },
};

export const bsize: KeywordDecl = {
  name: 'bsize',
  value: 'required',
  doc: 'length of the current sticky buffer (integer comparison)',
  parse(v, b) {
    if (!b.stickyActive) fail('bsize needs a sticky buffer before it');
    b.addOp({ kind: 'bsize', cmp: intCompare(v, 'bsize') });
  },
};

export const urilen: KeywordDecl = {
  name: 'urilen',
  value: 'required',
  doc: '`<cmp>[,norm|raw]`: length of http.uri (or http.uri.raw)',
  parse(v, b) {
    const parts = commaList(expectValue(v, 'urilen'));
    let buffer: 'http.uri' | 'http.uri.raw' = 'http.uri';
    if (parts.length > 2) fail('urilen: too many options');
    if (parts[1] !== undefined) {
      if (parts[1] === 'raw') buffer = 'http.uri.raw';
      else if (parts[1] !== 'norm') fail(`urilen: unknown option "${clip(parts[1])}"`);
    }
    b.addOp({ kind: 'bsize', cmp: intCompare(parts[0]!, 'urilen', 65535) }, buffer);
  },
};

export const CONTENT_KEYWORDS: readonly KeywordDecl[] = [
  content,
  uricontent,
  nocase,
  offset,
  depth,
  distance,
  within,
  startswith,
  endswith,
  fastPattern,
  rawbytes,
  isdataat,
  bsize,
  urilen,
];

