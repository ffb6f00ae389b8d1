/**
 * Lexing of rule files and of one rule's text.
 *
 * Files are read as latin1 so that one character is one byte: content and
 * pcre patterns then describe bytes exactly as Suricata sees them (a UTF-8
 * `é` in a pattern is the two bytes C3 A9, as on the wire).
 *
 * Option splitting follows Suricata: an option ends at a `;` that is not
 * escaped by a backslash (quotes do not protect a `;`), so `content:"a\;b"`
 * is one option. Values keep their escapes; each keyword unescapes what it
 * needs (content and msg do, pcre must not).
 */
import { fail } from './errors.js';

/** One rule record of a file: its text with `\` continuations joined. */
export interface RuleRecord {
  text: string;
  /** 1-based line where the record starts. */
  line: number;
  /** Number of physical lines it spans. */
  lines: number;
  /** A commented-out rule (`# alert …`). */
  disabled: boolean;
}

// Only the head is matched by a regex; the `(…)` tail is checked with
// indexOf/endsWith (a `.*\(.*\)` regex backtracks quadratically on a hostile
// megabyte comment full of parentheses).
const DISABLED_HEAD_RE = /^#+[ \t]*(alert|drop|pass|reject|rejectsrc|rejectdst|rejectboth)[ \t]+\S+[ \t]/;

/**
 * Splits a rule file into records. Blank lines and comments are skipped;
 * comments that hold a whole rule are returned with `disabled` set so that
 * they can be counted.
 */
export function splitRuleFile(content: string): RuleRecord[] {
  const out: RuleRecord[] = [];
  const n = content.length;
  let pos = 0;
  let lineNo = 0;
  let pending = '';
  let pendingLine = 0;
  let pendingLines = 0;
  while (pos < n || pending !== '') {
    if (pos >= n) {
      // A trailing `\` on the last line: keep what was joined.
      out.push({ text: pending.trim(), line: pendingLine, lines: pendingLines, disabled: false });
      pending = '';
      break;
    }
    let end = content.indexOf('\n', pos);
    if (end < 0) end = n;
    let raw = content.slice(pos, end);
    pos = end + 1;
    lineNo++;
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    if (pending === '') {
      const t = raw.trimStart();
      if (t === '') continue;
      if (t.charCodeAt(0) === 0x23 /* # */) {
        const tt = t.trimEnd();
        if (tt.length > 8 && tt.endsWith(')') && tt.indexOf('(') > 0 && DISABLED_HEAD_RE.test(tt.slice(0, 200))) {
          out.push({ text: tt, line: lineNo, lines: 1, disabled: true });
        }
        continue;
      }
      pendingLine = lineNo;
      pendingLines = 0;
    }
    pendingLines++;
    const trimmed = raw.trimEnd();
    if (trimmed.endsWith('\\') && !trimmed.endsWith('\\\\')) {
      pending += trimmed.slice(0, -1);
      continue;
    }
    pending += raw;
    const text = pending.trim();
    pending = '';
    if (text !== '') out.push({ text, line: pendingLine, lines: pendingLines, disabled: false });
  }
  return out;
}

/** A rule split into its header words and its options. */
export interface RuleParts {
  header: string[];
  options: { key: string; value: string | null }[];
}

/**
 * Splits `action proto src sport dir dst dport (opts)` into header words and
 * options. Header words may contain spaces inside `[…]` groups.
 */
export function splitRule(text: string): RuleParts {
  const open = text.indexOf('(');
  if (open < 0) fail('no option list: a rule needs "(…)" after its header');
  const close = text.lastIndexOf(')');
  if (close < open) fail('option list is not closed with ")"');
  if (text.slice(close + 1).trim() !== '') fail('text after the closing ")"');
  const header = splitHeader(text.slice(0, open));
  const options = splitOptions(text, open + 1, close);
  return { header, options };
}

function splitHeader(s: string): string[] {
  // Slices, not per-character concatenation: this runs for every rule.
  const words: string[] = [];
  let depth = 0;
  let start = -1;
  let hasInnerSpace = false;
  const n = s.length;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? s.charCodeAt(i) : 0x20;
    if (c === 0x5b /* [ */) depth++;
    else if (c === 0x5d /* ] */) {
      depth--;
      if (depth < 0) fail('unbalanced "]" in rule header');
    }
    const space = c === 0x20 || c === 0x09;
    if (space && depth === 0) {
      if (start >= 0) {
        const w = s.slice(start, i);
        // Spaces inside groups carry no meaning: `[1.2.3.4, 5.6.7.8]`.
        words.push(hasInnerSpace ? w.replace(/[ \t]+/g, '') : w);
      }
      start = -1;
      hasInnerSpace = false;
    } else if (space) hasInnerSpace = true;
    else if (start < 0) start = i;
  }
  if (depth !== 0) fail('unbalanced "[" in rule header');
  return words;
}

function splitOptions(text: string, start: number, end: number): { key: string; value: string | null }[] {
  const out: { key: string; value: string | null }[] = [];
  let i = start;
  let optStart = start;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 0x5c /* \ */) {
      i += 2;
      continue;
    }
    if (c === 0x3b /* ; */) {
      pushOption(out, text.slice(optStart, i));
      optStart = i + 1;
    }
    i++;
  }
  const rest = text.slice(optStart, end).trim();
  if (rest !== '') fail(`option "${clip(rest)}" is not terminated by ";"`);
  return out;
}

function pushOption(out: { key: string; value: string | null }[], raw: string): void {
  const colon = raw.indexOf(':');
  const key = (colon < 0 ? raw : raw.slice(0, colon)).trim();
  if (key === '') {
    if (raw.trim() === '') fail('empty option (";;")');
    fail(`option without a keyword: "${clip(raw.trim())}"`);
  }
  if (colon < 0) {
    out.push({ key, value: null });
    return;
  }
  out.push({ key, value: raw.slice(colon + 1).trim() });
}

/** Shortens text for messages (hostile rules can be megabytes long). */
export function clip(s: string, max = 60): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}

/**
 * Removes the surrounding double quotes of a value if present. Returns the
 * inner text with its escapes still in place.
 */
export function stripQuotes(v: string): string {
  if (v.length >= 2 && v.charCodeAt(0) === 0x22 && v.charCodeAt(v.length - 1) === 0x22 && !isEscaped(v, v.length - 1)) return v.slice(1, -1);
  if (v.charCodeAt(0) === 0x22) fail(`unbalanced quotes in "${clip(v)}"`);
  return v;
}

function isEscaped(s: string, idx: number): boolean {
  let n = 0;
  for (let i = idx - 1; i >= 0 && s.charCodeAt(i) === 0x5c; i--) n++;
  return n % 2 === 1;
}

/** Resolves `\"`, `\;`, `\\`, `\:` (the escapes the rule language defines) in a msg or content. */
export function unescapeValue(s: string, what: string): string {
  if (s.indexOf('\\') < 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const d = s[i + 1];
    if (d === undefined) fail(`${what}: trailing backslash`);
    if (d === '"' || d === ';' || d === '\\' || d === ':') out += d;
    else if (what === 'msg') out += d;
    else fail(`${what}: "\\${d}" is not a valid escape (only \\" \\; \\\\ \\: are)`);
    i++;
  }
  return out;
}
