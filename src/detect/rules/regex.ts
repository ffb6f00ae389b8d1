/**
 * Translation of a PCRE pattern (as Suricata compiles it: PCRE2, no UTF, LF
 * newlines) into a JavaScript RegExp source that matches the same bytes when
 * the subject is a latin1 string (one char per byte).
 *
 * One pass over the pattern; it rewrites only where the two dialects differ
 * and refuses (throws RuleParseError) where JavaScript cannot express the
 * PCRE construct, so a rule is never silently widened:
 * - anchors and `.`: JavaScript treats `\r`, U+2028/9 as line ends and its
 *   `$` does not match before a final newline; they are rewritten with
 *   lookarounds so `m`/`s`/`E` behave as in PCRE (the JS `m` flag is never used).
 * - `\s` `\h` `\v` `\R` `\N` `\A` `\z` `\Z` `\e` `\a` `\x{…}` `\o{…}` `\Q…\E`,
 *   POSIX classes, `(?P<n>`, `(?P=n)`, `\g{n}`, `\k{n}`, `(?#…)`, `x` mode.
 * - atomic groups `(?>X)` and possessive quantifiers `X*+` become
 *   `(?=(?<_aN>X))\k<_aN>` — the same semantics (no backtracking into X);
 *   refused when the pattern also uses numbered back-references, whose
 *   numbers the extra groups would shift.
 * - `G` (ungreedy) swaps the greediness of every quantifier.
 * - leading inline options `(?i)` `(?s)` `(?m)` `(?x)` become flags; inline
 *   options elsewhere are accepted only when they change nothing.
 * Refused: recursion, conditionals, branch reset, `\K`, `\G`, `\p{…}`,
 * backtracking verbs, callouts.
 *
 * Known difference: with `i`, JavaScript also folds case of latin1 letters
 * (0xC0–0xDE ↔ 0xE0–0xFE); PCRE without UTF folds ASCII only.
 */
import { fail } from './errors.js';
import { clip } from './lexer.js';

export interface PcreFlags {
  caseless: boolean;
  dotall: boolean;
  multiline: boolean;
  extended: boolean;
  dollarEndOnly: boolean;
  ungreedy: boolean;
}

export interface Translated {
  source: string;
  jsFlags: string;
  /** Capture group names that Suricata stores as variables (`pkt_x`, `flow_x`) → variable name. */
  captures: Record<string, string>;
}

const POSIX: Record<string, string> = {
  alpha: 'A-Za-z',
  digit: '0-9',
  alnum: 'A-Za-z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: '\\t-\\r ',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  xdigit: '0-9A-Fa-f',
  word: 'A-Za-z0-9_',
  cntrl: '\\x00-\\x1f\\x7f',
  print: ' -~',
  graph: '!-~',
  ascii: '\\x00-\\x7f',
};

const QUOTE_RE = /[\\^$.*+?()[\]{}|/-]/g;

function hex2(n: number): string {
  return `\\x${n.toString(16).padStart(2, '0')}`;
}

/** Translates `pattern` under `flags`; throws RuleParseError with a reason if JS cannot express it. */
export function translatePcre(pattern: string, flagsIn: PcreFlags): Translated {
  const f = { ...flagsIn };
  const captures: Record<string, string> = {};
  let p = pattern;

  // Leading option settings apply to the whole pattern: make them flags.
  for (;;) {
    const m = /^\(\?([imsxJU-]+)\)/.exec(p);
    if (m === null) break;
    let on = true;
    for (const ch of m[1]!) {
      if (ch === '-') on = false;
      else if (ch === 'i') f.caseless = on;
      else if (ch === 's') f.dotall = on;
      else if (ch === 'm') f.multiline = on;
      else if (ch === 'x') f.extended = on;
      else if (ch === 'U') f.ungreedy = on;
      else fail(`pcre: inline option (?${m[1]}) is not supported`);
    }
    p = p.slice(m[0].length);
  }
  if (p.startsWith('(*')) fail('pcre: leading (*VERB) options are not supported');

  const hasNumericBackref = /\\[1-9]|\\g\{?-?\d/.test(p);
  let out = '';
  let groups = 0;
  let synth = 0;
  // Per open paren: its output position and what to append at its close.
  const stack: { start: number; close: string; saved: PcreFlags }[] = [];
  // Case-insensitivity switched on inside the pattern (`(?i:…)`, `a(?i)b`)
  // when the whole pattern is not caseless: emulated by folding letters into
  // classes (`[aA]`), ASCII only as in PCRE without UTF.
  const globalI = f.caseless;
  const globalS = f.dotall;
  const ci = (): boolean => f.caseless && !globalI;
  const fold = (ch: string): string => {
    const lo = ch.toLowerCase();
    const up = ch.toUpperCase();
    return lo !== up && ch.charCodeAt(0) < 128 ? `[${lo}${up}]` : ch.replace(QUOTE_RE, '\\$&');
  };
  const foldClass = (cls: string): string => {
    const neg = cls.startsWith('[^');
    const pos = new RegExp(neg ? `[${cls.slice(2)}` : cls);
    const member = new Uint8Array(256);
    for (let c = 0; c < 256; c++) {
      if (!pos.test(String.fromCharCode(c))) continue;
      member[c] = 1;
      if (c >= 65 && c <= 90) member[c + 32] = 1;
      else if (c >= 97 && c <= 122) member[c - 32] = 1;
    }
    let body = '';
    for (let c = 0; c < 256; c++) {
      if (!member[c]) continue;
      let e = c;
      while (e < 255 && member[e + 1]) e++;
      body += e === c ? hex2(c) : `${hex2(c)}-${hex2(e)}`;
      c = e;
    }
    return `${neg ? '[^' : '['}${body}]`;
  };
  const noBackrefUnderCi = (): void => {
    if (ci()) fail('pcre: back-reference inside a mid-pattern (?i) region is not supported');
  };
  let atomStart = -1; // output index where the last quantifiable atom starts
  const n = p.length;
  let i = 0;

  const readClass = (): string => {
    // p[i] === '['
    let s = '[';
    i++;
    if (p[i] === '^') {
      s += '^';
      i++;
    }
    let first = true;
    for (;;) {
      if (i >= n) fail('pcre: unterminated character class');
      const c = p[i]!;
      if (c === ']' && !first) {
        s += ']';
        i++;
        break;
      }
      first = false;
      if (c === ']') {
        s += '\\]';
        i++;
        continue;
      }
      if (c === '[') {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(p.slice(i, i + 12));
        if (m !== null) {
          const body = POSIX[m[2]!];
          if (body === undefined || m[1] === '^') fail(`pcre: POSIX class [:${m[1]}${m[2]}:] is not supported`);
          s += body;
          i += m[0].length;
          continue;
        }
        s += '\\[';
        i++;
        continue;
      }
      if (c === '\\') {
        s += classEscape();
        continue;
      }
      s += c;
      i++;
    }
    return s;
  };

  /** Escapes valid in and out of classes that need rewriting; returns null when not handled. */
  const commonEscape = (): string | null => {
    const d = p[i + 1];
    if (d === undefined) fail('pcre: pattern ends with a backslash');
    switch (d) {
      case 'e':
        i += 2;
        return '\\x1b';
      case 'a':
        i += 2;
        return '\\x07';
      case 'x': {
        if (p[i + 2] === '{') {
          const end = p.indexOf('}', i + 3);
          const hex = end < 0 ? '' : p.slice(i + 3, end);
          if (!/^[0-9a-fA-F]{1,8}$/.test(hex)) fail('pcre: bad \\x{…} escape');
          const v = parseInt(hex, 16);
          if (v > 0xff) fail('pcre: \\x{…} above 0xff is not a byte');
          i = end + 1;
          return hex2(v);
        }
        const m = /^[0-9a-fA-F]{0,2}/.exec(p.slice(i + 2, i + 4))!;
        i += 2 + m[0].length;
        return hex2(m[0] === '' ? 0 : parseInt(m[0], 16));
      }
      case 'o': {
        const end = p.indexOf('}', i + 3);
        const oct = p[i + 2] === '{' && end > 0 ? p.slice(i + 3, end) : '';
        if (!/^[0-7]{1,3}$/.test(oct) || parseInt(oct, 8) > 0xff) fail('pcre: bad \\o{…} escape');
        i = end + 1;
        return hex2(parseInt(oct, 8));
      }
      case '0': {
        const m = /^0[0-7]{0,2}/.exec(p.slice(i + 1, i + 4))!;
        i += 1 + m[0].length;
        return hex2(parseInt(m[0], 8));
      }
      case 'p':
      case 'P':
      case 'X':
      case 'C':
        fail(`pcre: \\${d} (Unicode/code-unit escapes) is not supported`);
      // eslint-disable-next-line no-fallthrough
      default:
        return null;
    }
  };

  const classEscape = (): string => {
    const c = commonEscape();
    if (c !== null) return c;
    const d = p[i + 1]!;
    i += 2;
    switch (d) {
      case 's':
        return '\\t-\\r ';
      case 'h':
        return '\\t \\xa0';
      case 'v':
        return '\\n-\\r\\x85';
      case 'S':
      case 'H':
      case 'V':
      case 'N':
      case 'R':
        fail(`pcre: \\${d} inside a character class is not supported`);
      // eslint-disable-next-line no-fallthrough
      case 'Q': {
        const end = p.indexOf('\\E', i);
        const lit = end < 0 ? p.slice(i) : p.slice(i, end);
        i = end < 0 ? n : end + 2;
        return lit.replace(/[\]\\^-]/g, '\\$&');
      }
      case 'E':
        return '';
      default:
        return `\\${d}`;
    }
  };

  const emitAtom = (s: string): void => {
    atomStart = out.length;
    out += s;
  };

  while (i < n) {
    const c = p[i]!;
    if (f.extended) {
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
        i++;
        continue;
      }
      if (c === '#') {
        const nl = p.indexOf('\n', i);
        i = nl < 0 ? n : nl + 1;
        continue;
      }
    }
    switch (c) {
      case '\\': {
        const common = commonEscape();
        if (common !== null) {
          emitAtom(ci() && /^\\x[0-9a-f]{2}$/.test(common) ? fold(String.fromCharCode(parseInt(common.slice(2), 16))) : common);
          break;
        }
        const d = p[i + 1]!;
        i += 2;
        switch (d) {
          case 'A':
            out += '(?<![\\s\\S])';
            atomStart = -1;
            break;
          case 'z':
            out += '(?![\\s\\S])';
            atomStart = -1;
            break;
          case 'Z':
            out += '(?=\\n?(?![\\s\\S]))';
            atomStart = -1;
            break;
          case 'G':
          case 'K':
            fail(`pcre: \\${d} is not supported`);
          // eslint-disable-next-line no-fallthrough
          case 's':
            emitAtom('[\\t-\\r ]');
            break;
          case 'S':
            emitAtom('[^\\t-\\r ]');
            break;
          case 'h':
            emitAtom('[\\t \\xa0]');
            break;
          case 'H':
            emitAtom('[^\\t \\xa0]');
            break;
          case 'v':
            emitAtom('[\\n-\\r\\x85]');
            break;
          case 'V':
            emitAtom('[^\\n-\\r\\x85]');
            break;
          case 'R':
            emitAtom('(?:\\r\\n|[\\n-\\r\\x85])');
            break;
          case 'N':
            emitAtom('[^\\n]');
            break;
          case 'Q': {
            const end = p.indexOf('\\E', i);
            const lit = end < 0 ? p.slice(i) : p.slice(i, end);
            i = end < 0 ? n : end + 2;
            for (const ch of lit) emitAtom(ci() ? fold(ch) : ch.replace(QUOTE_RE, '\\$&'));
            break;
          }
          case 'E':
            break;
          case 'g': {
            const m = /^(?:\{(-?\d+|[A-Za-z_]\w*)\}|(-?\d+))/.exec(p.slice(i));
            if (m === null) fail('pcre: bad \\g reference');
            i += m[0].length;
            const ref = m[1] ?? m[2]!;
            noBackrefUnderCi();
            if (/^-?\d+$/.test(ref)) {
              let num = Number(ref);
              if (num < 0) num = groups + 1 + num;
              if (num <= 0) fail('pcre: relative back-reference before the first group');
              emitAtom(`\\${num}`);
            } else emitAtom(`\\k<${ref}>`);
            break;
          }
          case 'k': {
            const m = /^(?:<(\w+)>|'(\w+)'|\{(\w+)\})/.exec(p.slice(i));
            if (m === null) fail('pcre: bad \\k reference');
            noBackrefUnderCi();
            i += m[0].length;
            emitAtom(`\\k<${m[1] ?? m[2] ?? m[3]}>`);
            break;
          }
          default:
            if (d >= '1' && d <= '9') noBackrefUnderCi();
            emitAtom(`\\${d}`);
        }
        break;
      }
      case '[': {
        const cls = readClass();
        emitAtom(ci() ? foldClass(cls) : cls);
        break;
      }
      case '.':
        emitAtom(f.dotall ? '[\\s\\S]' : '[^\\n]');
        i++;
        break;
      case '^':
        out += f.multiline ? '(?:^|(?<=\\n)(?=[\\s\\S]))' : '^';
        atomStart = -1;
        i++;
        break;
      case '$':
        out += f.multiline ? '(?=\\n|(?![\\s\\S]))' : f.dollarEndOnly ? '(?![\\s\\S])' : '(?=\\n?(?![\\s\\S]))';
        atomStart = -1;
        i++;
        break;
      case '(': {
        const rest = p.slice(i, i + 4);
        if (rest.startsWith('(*')) fail('pcre: backtracking verbs (*…) are not supported');
        if (!rest.startsWith('(?')) {
          groups++;
          stack.push({ start: out.length, close: ')', saved: { ...f } });
          out += '(';
          i++;
          atomStart = -1;
          break;
        }
        const q = p[i + 2];
        if (q === '#') {
          const end = p.indexOf(')', i);
          if (end < 0) fail('pcre: unterminated (?# comment');
          i = end + 1;
          break;
        }
        if (q === ':' || q === '=' || q === '!' || (q === '<' && (p[i + 3] === '=' || p[i + 3] === '!'))) {
          const len = q === '<' ? 4 : 3;
          stack.push({ start: out.length, close: ')', saved: { ...f } });
          out += p.slice(i, i + len);
          i += len;
          atomStart = -1;
          break;
        }
        if (q === '>') {
          if (hasNumericBackref) fail('pcre: atomic group together with numbered back-references cannot be rewritten');
          const name = `_a${synth++}`;
          stack.push({ start: out.length, close: `))\\k<${name}>`, saved: { ...f } });
          out += `(?=(?<${name}>`;
          i += 3;
          atomStart = -1;
          break;
        }
        let nm: RegExpExecArray | null;
        if ((nm = /^\(\?(?:P?<([A-Za-z_]\w*)>|'([A-Za-z_]\w*)')/.exec(p.slice(i, i + 64))) !== null) {
          const name = nm[1] ?? nm[2]!;
          groups++;
          const cm = /^(pkt|flow)_(\w+)$/.exec(name);
          if (cm !== null) captures[name] = cm[2]!;
          stack.push({ start: out.length, close: ')', saved: { ...f } });
          out += `(?<${name}>`;
          i += nm[0].length;
          atomStart = -1;
          break;
        }
        if ((nm = /^\(\?P=(\w+)\)/.exec(p.slice(i, i + 64))) !== null) {
          noBackrefUnderCi();
          emitAtom(`\\k<${nm[1]}>`);
          i += nm[0].length;
          break;
        }
        if ((nm = /^\(\?([imsxJU]*)(?:-([imsxJU]*))?([:)])/.exec(p.slice(i, i + 16))) !== null) {
          // Inline options mid-pattern: s, m, x, U only steer this
          // translation (`.`, `^`, `$` and quantifiers are rewritten here),
          // so they are scoped exactly; i is emulated by folding (see ci()).
          const saved = { ...f };
          const set = (ch: string, on: boolean): void => {
            if (ch === 'i') {
              if (!on && globalI) fail(`pcre: "${nm![0]}" cannot switch off caselessness of a caseless pattern`);
              f.caseless = on;
            } else if (ch === 's') f.dotall = on;
            else if (ch === 'm') f.multiline = on;
            else if (ch === 'x') f.extended = on;
            else if (ch === 'U') f.ungreedy = on;
            else if (on) fail(`pcre: inline option "${nm![0]}" is not supported`);
          };
          i += nm[0].length;
          if (nm[3] === ':') {
            stack.push({ start: out.length, close: ')', saved });
            out += '(?:';
          }
          for (const ch of nm[1]!) set(ch, true);
          for (const ch of nm[2] ?? '') set(ch, false);
          atomStart = -1;
          break;
        }
        fail(`pcre: group syntax "${clip(p.slice(i, i + 6), 8)}" is not supported (recursion, conditionals, branch reset…)`);
      }
      // eslint-disable-next-line no-fallthrough
      case ')': {
        const g = stack.pop();
        if (g === undefined) fail('pcre: unbalanced ")"');
        out += g.close;
        Object.assign(f, g.saved);
        atomStart = g.start;
        i++;
        break;
      }
      case '*':
      case '+':
      case '?':
      case '{': {
        let q: string = c;
        if (c === '{') {
          const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(i, i + 24));
          if (m === null) {
            emitAtom('\\{');
            i++;
            break;
          }
          if (m[3] !== undefined && m[3] !== '' && Number(m[3]) < Number(m[1])) fail('pcre: quantifier {n,m} with m < n');
          q = m[0];
        }
        if (atomStart < 0) fail(`pcre: quantifier "${q}" follows nothing`);
        i += q.length;
        let lazy = false;
        let possessive = false;
        if (p[i] === '?') {
          lazy = true;
          i++;
        } else if (p[i] === '+') {
          possessive = true;
          i++;
        }
        if (f.ungreedy && !possessive) lazy = !lazy;
        if (possessive) {
          if (hasNumericBackref) fail('pcre: possessive quantifier together with numbered back-references cannot be rewritten');
          const name = `_p${synth++}`;
          const atom = out.slice(atomStart);
          out = `${out.slice(0, atomStart)}(?=(?<${name}>${atom}${q}))\\k<${name}>`;
        } else out += lazy ? `${q}?` : q;
        atomStart = -1;
        break;
      }
      case '/':
        emitAtom('\\/');
        i++;
        break;
      case '|':
        out += '|';
        atomStart = -1;
        i++;
        break;
      default: {
        const code = c.charCodeAt(0);
        if (code > 0xff) fail('pcre: pattern has a character above 0xff');
        emitAtom(ci() ? fold(c) : c);
        i++;
      }
    }
  }
  if (stack.length > 0) fail('pcre: unbalanced "("');
  const jsFlags = (globalI ? 'i' : '') + (globalS ? 's' : '');
  try {
    // Compiled once here to prove JavaScript accepts it; the engine compiles its own.
    new RegExp(out, jsFlags);
  } catch (e) {
    fail(`pcre: JavaScript cannot compile the translated pattern: ${(e as Error).message.slice(0, 120)}`);
  }
  return { source: out, jsFlags, captures };
}
