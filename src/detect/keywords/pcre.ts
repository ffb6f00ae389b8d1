/**
 * `pcre:[!]"/pattern/flags"`. The pattern is translated for JavaScript
 * (src/detect/rules/regex.ts); Suricata's extra modifiers choose the buffer
 * (letters as in Suricata's detect-pcre.c) or set op flags.
 */
import type { BufferName } from '../rules/ast.js';
import { fail } from '../rules/errors.js';
import { clip } from '../rules/lexer.js';
import { translatePcre } from '../rules/regex.js';
import type { KeywordDecl } from './types.js';
import { expectValue } from './types.js';

/** Buffer modifiers of pcre (Suricata names in comments). */
export const PCRE_BUFFER_FLAGS: Readonly<Record<string, BufferName>> = {
  U: 'http.uri', // normalised URI
  I: 'http.uri.raw', // raw URI
  P: 'http.request_body', // client body
  Q: 'file.data', // server body / file data
  H: 'http.header', // normalised headers
  D: 'http.header.raw', // raw headers
  M: 'http.method',
  C: 'http.cookie',
  S: 'http.stat_code',
  Y: 'http.stat_msg',
  V: 'http.user_agent',
  W: 'http.host',
  Z: 'http.host.raw',
};

export const pcre: KeywordDecl = {
  name: 'pcre',
  value: 'required',
  doc: '`[!]"/re/flags"`: regular expression on the current buffer (flags i s m x A E G R O B and buffer letters U I P Q H D M C S Y V W Z)',
  parse(v, b) {
    let t = expectValue(v, 'pcre').trim();
    let negated = false;
    if (t.startsWith('!')) {
      negated = true;
      t = t.slice(1).trim();
    }
    if (!t.startsWith('"')) fail('pcre must be quoted');
    const endQuote = t.lastIndexOf('"');
    if (endQuote <= 0) fail('pcre: unbalanced quotes');
    if (t.slice(endQuote + 1).trim() !== '') fail(`pcre: text after the pattern ("${clip(t.slice(endQuote + 1).trim())}") — capture-to-variable lists are not supported`);
    const raw = t.slice(1, endQuote);
    let body: string;
    let flags: string;
    if (raw.startsWith('/')) {
      const last = raw.lastIndexOf('/');
      if (last <= 0) fail('pcre: pattern is not closed with "/"');
      body = raw.slice(1, last);
      flags = raw.slice(last + 1);
    } else if (raw.startsWith('m') && raw.length > 2) {
      const open = raw[1]!;
      const close = open === '{' ? '}' : open === '(' ? ')' : open === '[' ? ']' : open === '<' ? '>' : open;
      const last = raw.lastIndexOf(close);
      if (last <= 1) fail('pcre: m-delimited pattern is not closed');
      body = raw.slice(2, last);
      flags = raw.slice(last + 1);
    } else fail('pcre: pattern must be "/…/flags"');
    const opt = { caseless: false, dotall: false, multiline: false, extended: false, dollarEndOnly: false, ungreedy: false };
    let relative = false;
    let anchored = false;
    let override = false;
    let rawbytes = false;
    let buffer: BufferName | null = null;
    for (const ch of flags) {
      switch (ch) {
        case 'i':
          opt.caseless = true;
          break;
        case 's':
          opt.dotall = true;
          break;
        case 'm':
          opt.multiline = true;
          break;
        case 'x':
          opt.extended = true;
          break;
        case 'A':
          anchored = true;
          break;
        case 'E':
          opt.dollarEndOnly = true;
          break;
        case 'G':
          opt.ungreedy = true;
          break;
        case 'R':
          relative = true;
          break;
        case 'O':
          override = true;
          break;
        case 'B':
          rawbytes = true;
          break;
        default: {
          const buf = PCRE_BUFFER_FLAGS[ch];
          if (buf === undefined) fail(`pcre: unknown modifier "${ch}"`);
          if (buffer !== null && buffer !== buf) fail(`pcre: modifiers select two buffers (${buffer}, ${buf})`);
          buffer = buf;
        }
      }
    }
    if (rawbytes && buffer !== null) fail(`pcre: modifier B cannot be combined with an http buffer modifier`);
    if (buffer !== null && b.stickyActive && b.currentBuffer !== buffer) {
      fail(`pcre: buffer modifier (${buffer}) used after the sticky buffer ${b.currentBuffer}`);
    }
    if (buffer === 'http.host' && !opt.caseless && /[A-Z]/.test(body.replace(/\\./g, ''))) {
      fail('pcre /W has upper-case letters but http.host is lower-case: it can never match');
    }
    const target = buffer ?? b.currentBuffer;
    if (relative && !b.stickyActive && buffer === null && !b.hasMatchIn(target)) {
      fail('pcre with /R (relative) needs a preceding content or pcre in the same buffer');
    }
    const tr = translatePcre(body, opt);
    b.addOp(
      {
        kind: 'pcre',
        source: tr.source,
        jsFlags: tr.jsFlags,
        negated,
        relative,
        anchored,
        raw: t,
        overrideLimits: override,
        captures: tr.captures,
      },
      buffer === null || buffer === b.currentBuffer ? undefined : buffer,
    );
  },
};

export const PCRE_KEYWORDS: readonly KeywordDecl[] = [pcre];
