/**
 * `pcre` on JavaScript RegExp, bounded so a hostile pattern or payload can
 * never hang the engine.
 *
 * Patterns run on the latin1 string of the buffer (one char per byte), so
 * `\xNN` in a pattern means the byte NN.
 *
 * Bounding time, in order of preference:
 *  1. V8's backtracking fallback: with
 *     `--enable-experimental-regexp-engine-on-excessive-backtracks` (set
 *     below with v8.setFlagsFromString before any pattern is compiled; it
 *     takes effect at run time, test/detect/inspect-pcre.test.ts checks it)
 *     a RegExp that backtracks more than V8's limit (50,000) is re-run by
 *     V8's linear-time engine. This only applies to patterns that engine
 *     can run: no backreferences, no lookaround, counted repeats ≤ 16 and —
 *     in Node 20's V8 — no `i` flag. Case-insensitive patterns are therefore
 *     rewritten to explicit ASCII case classes (`a` → `[aA]`), which is also
 *     PCRE's own caseless rule for non-UTF patterns (bytes ≥ 0x80 are not
 *     folded), so the rewrite makes most `/i` patterns eligible. Eligible
 *     patterns keep V8's fast backtracking engine for the common case; the
 *     `l` flag (linear engine from the start) was measured slower on
 *     ordinary patterns and is not used.
 *  2. Patterns the linear engine cannot run ("fallback patterns", listed by
 *     `pcreStats()`/`describePcre`) are analysed: with a backreference or a
 *     nested quantifier (`(a+)+`, `(a|b)*…`) they may be exponential, with u
 *     unbounded quantifiers they may be O(n^(u+1)). Such a pattern runs in a
 *     `vm` script with a timeout (V8 interrupts a running RegExp) when the
 *     subject is long enough to be dangerous; a timeout (after one retry
 *     with a larger budget, see PCRE_GUARD_RETRY_MS) counts as no match
 *     (as PCRE's match-limit error does in Suricata). The guard costs about
 *     0.14 ms per run, so it is used only where needed.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import type { PcreOp } from '../rules/ast.js';

v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
// Lets us ask V8 whether its linear engine can run a pattern (the `l` flag);
// it changes nothing for patterns compiled without `l`.
v8.setFlagsFromString('--enable-experimental-regexp-engine');

/** Time budget of one guarded RegExp run. */
export const PCRE_GUARD_TIMEOUT_MS = 20;
/**
 * Budget of the one retry after a timeout. The budget is wall-clock time: a
 * GC pause, or the thread waiting for a core (worker threads, a busy node),
 * counts against it. Measured on a loaded 2-core machine with ET Open: a
 * guarded run that takes ~0.2 ms alone took 3–19 ms inside the pipeline, so
 * one timeout is no proof of a runaway, and alerts came and went between runs
 * of one capture (and between `--workers` settings). Only a run past this too
 * counts as a timeout; a pattern that has done so is not retried again, so a
 * hostile payload costs one 20 + 100 ms run per pattern, then 20 ms per run.
 */
export const PCRE_GUARD_RETRY_MS = 100;

/** How a compiled pattern is kept from running away. */
export type PcreMode = 'linear-fallback' | 'guarded' | 'plain';

export interface CompiledPcre {
  readonly re: RegExp;
  readonly mode: PcreMode;
  /** Subjects at least this long run guarded (mode 'guarded'); 0 = always. */
  readonly guardLen: number;
  readonly negated: boolean;
  readonly relative: boolean;
  readonly anchored: boolean;
  /** [capture group name, variable name] pairs. */
  readonly captures: ReadonlyArray<readonly [string, string]>;
  /** Why the pattern is not linear-fallback eligible ('' when it is). */
  readonly reason: string;
  readonly raw: string;
  /**
   * Guarded patterns only: a looser pattern that matches wherever this one
   * does (backreferences → `[\s\S]*?`, lookarounds dropped, counted repeats
   * over 16 → `*`/`+`) and that V8's linear fallback can run, or null. It
   * runs first, unguarded: when it finds nothing the guarded run (a `vm`
   * watchdog thread per call, ~0.1–0.3 ms) is skipped. Measured on the
   * benchmark corpus: one ET Open pattern (`/^\s*?\)\s*?\{\s*(?P<var>…`, /R
   * after a common content) ran guarded ~16k times per pass, ~15 % of the
   * engine's time, and its superset nearly never matches.
   */
  readonly pre: RegExp | null;
}

/** Counters over all patterns compiled and run in this process. */
const stats = { compiled: 0, linearFallback: 0, guarded: 0, plain: 0, guardedRuns: 0, guardSkipped: 0, timeouts: 0, guardRetries: 0 };
/** Guarded patterns that ran past the retry budget once: their timeouts are not retried. */
const runaway = new WeakSet<CompiledPcre>();
export function pcreStats(): Readonly<typeof stats> {
  return stats;
}

/** Thrown when a pattern cannot be compiled; message is the reason. */
export class PcreCompileError extends Error {}

interface Analysis {
  source: string;
  backref: boolean;
  lookaround: boolean;
  nested: boolean;
  unbounded: number;
  bigCount: boolean;
}

/**
 * Rewrite for case-insensitivity (when `fold`) and analyse the structure
 * of a JavaScript (non-unicode) pattern source.
 */
/** [front-end anchor with lookaround, equivalent without, where it may be swapped]. */
const ANCHOR_FORMS: ReadonlyArray<readonly [string, string, 'end' | 'start']> = [
  ['(?=\\n?(?![\\s\\S]))', '\\n?$', 'end'], // `$`: end, or before a final newline
  ['(?![\\s\\S])', '$', 'end'], // `$` with E (exactly JS's `$` without the m flag)
  ['(?=\\n|(?![\\s\\S]))', '(?:\\n|$)', 'end'], // `$` with m
  ['(?:^|(?<=\\n)(?=[\\s\\S]))', '(?:^|\\n)', 'start'], // `^` with m
];

export function analysePattern(src: string, fold: boolean, allowHead = true, superset = false): Analysis {
  let out = '';
  // superset: where each open group began in `out` when it is a lookaround (to drop it), else -1.
  const looks: number[] = [];
  let backref = false;
  let lookaround = false;
  let nested = false;
  let unbounded = 0;
  let bigCount = false;
  // Per open group: does it contain a quantifier or alternation (variable length)?
  const stack: boolean[] = [];
  let lastAtomVariable = false; // the atom just emitted is a group with variable content
  let i = 0;
  const n = src.length;
  const markVariable = (): void => {
    if (stack.length) stack[stack.length - 1] = true;
  };
  while (i < n) {
    const c = src[i];
    if (c === '\\') {
      const esc = readEscape(src, i);
      i = esc.end;
      if (esc.backref) backref = true;
      if (esc.backref && superset) out += '[\\s\\S]*?';
      else if (fold && esc.code >= 0 && isAsciiLetter(esc.code)) out += caseClass(esc.code);
      else out += esc.text;
      lastAtomVariable = false;
      continue;
    }
    if (c === '[') {
      const cls = readClass(src, i, fold);
      out += cls.text;
      i = cls.end;
      lastAtomVariable = false;
      continue;
    }
    if (c === '(' && stack.length === 0) {
      // The rule front end spells PCRE's anchors with lookarounds (JS has no
      // LF-only multiline mode); lookarounds make a pattern ineligible for
      // the linear fallback. Where such an anchor ends (or starts) a
      // top-level alternative, an equivalent without lookaround is used. It
      // may consume the newline next to the anchor, which moves the match
      // end/start by that one byte; whether the pattern matches is unchanged.
      const atAltEnd = (len: number): boolean => i + len === n || src[i + len] === '|';
      const atAltStart = i === 0 || (src[i - 1] === '|' && src[i - 2] !== '\\');
      let swapped = false;
      for (const [form, eq, where] of ANCHOR_FORMS) {
        if (!src.startsWith(form, i)) continue;
        if (where === 'end' ? !atAltEnd(form.length) : !(atAltStart && allowHead)) continue;
        out += eq;
        i += form.length;
        swapped = true;
        break;
      }
      if (swapped) {
        lastAtomVariable = false;
        continue;
      }
    }
    if (c === '(') {
      let j = i + 1;
      let head = '(';
      const at = out.length;
      let look = false;
      if (src[j] === '?') {
        if (src[j + 1] === '=' || src[j + 1] === '!') {
          lookaround = true;
          look = true;
          head = src.slice(i, j + 2);
          j += 2;
        } else if (src[j + 1] === '<' && (src[j + 2] === '=' || src[j + 2] === '!')) {
          lookaround = true;
          look = true;
          head = src.slice(i, j + 3);
          j += 3;
        } else if (src[j + 1] === '<') {
          const close = src.indexOf('>', j);
          const e = close < 0 ? n : close + 1;
          head = src.slice(i, e);
          j = e;
        } else if (src[j + 1] === ':') {
          head = '(?:';
          j += 2;
        }
      }
      out += head;
      looks.push(look ? at : -1);
      stack.push(false);
      i = j;
      lastAtomVariable = false;
      continue;
    }
    if (c === ')') {
      const variable = stack.pop() ?? false;
      const lookAt = looks.pop() ?? -1;
      // superset: a dropped lookaround becomes an empty group (a quantifier after it stays valid).
      if (superset && lookAt >= 0) out = out.slice(0, lookAt) + '(?:';
      out += ')';
      i++;
      lastAtomVariable = variable;
      if (variable) markVariable();
      continue;
    }
    if (c === '|') {
      markVariable();
      out += c;
      i++;
      lastAtomVariable = false;
      continue;
    }
    if (c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d+(,\d*)?\}/.test(src.slice(i, i + 24)))) {
      let q = c;
      let max = c === '?' ? 1 : Infinity;
      if (c === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i, i + 24));
        q = m ? m[0] : c;
        if (m) {
          const lo = Number(m[1]);
          max = m[2] === undefined ? lo : m[3] === '' ? Infinity : Number(m[3]);
          if (max > 16 && max !== Infinity) bigCount = true;
          if (lo > 16) bigCount = true;
        }
      }
      i += q.length;
      if (superset && q.length > 1 && bigCount) {
        // `{n,m}` past the linear engine's limit: `*`/`+` matches whatever it matched.
        const m = /^\{(\d+)(,(\d*))?\}/.exec(q)!;
        const lo = Number(m[1]);
        const hi = m[2] === undefined ? lo : m[3] === '' ? Infinity : Number(m[3]);
        if (lo > 16 || (hi > 16 && hi !== Infinity)) q = lo === 0 ? '*' : '+';
      }
      if (src[i] === '?') {
        q += '?';
        i++;
      }
      out += q;
      if (max === Infinity) unbounded++;
      if (max > 1 && lastAtomVariable) nested = true;
      markVariable();
      lastAtomVariable = false;
      continue;
    }
    if (fold && isAsciiLetter(c.charCodeAt(0))) out += caseClass(c.charCodeAt(0));
    else out += c;
    i++;
    lastAtomVariable = false;
  }
  return { source: out, backref, lookaround, nested, unbounded, bigCount };
}

function isAsciiLetter(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

function hex2(code: number): string {
  return '\\x' + code.toString(16).padStart(2, '0');
}

function caseClass(code: number): string {
  const lo = code | 0x20;
  return `[${hex2(lo)}${hex2(lo - 0x20)}]`;
}

/** Read one escape at src[i] === '\\'. code: the literal char code it denotes, or -1. */
function readEscape(src: string, i: number): { text: string; end: number; code: number; backref: boolean } {
  const c = src[i + 1];
  if (c === undefined) return { text: '\\', end: i + 1, code: -1, backref: false };
  if (c >= '1' && c <= '9') {
    let j = i + 1;
    while (j < src.length && src[j] >= '0' && src[j] <= '9') j++;
    return { text: src.slice(i, j), end: j, code: -1, backref: true };
  }
  if (c === 'k' && src[i + 2] === '<') {
    const close = src.indexOf('>', i);
    const e = close < 0 ? src.length : close + 1;
    return { text: src.slice(i, e), end: e, code: -1, backref: true };
  }
  if (c === 'x' && /^[0-9a-fA-F]{2}$/.test(src.slice(i + 2, i + 4))) {
    return { text: src.slice(i, i + 4), end: i + 4, code: parseInt(src.slice(i + 2, i + 4), 16), backref: false };
  }
  if (c === 'u' && /^[0-9a-fA-F]{4}$/.test(src.slice(i + 2, i + 6))) {
    return { text: src.slice(i, i + 6), end: i + 6, code: parseInt(src.slice(i + 2, i + 6), 16), backref: false };
  }
  if ('dDwWsSbBnrtfv0c'.includes(c)) {
    if (c === 'c' && /[A-Za-z]/.test(src[i + 2] ?? '')) return { text: src.slice(i, i + 3), end: i + 3, code: -1, backref: false };
    return { text: src.slice(i, i + 2), end: i + 2, code: -1, backref: false };
  }
  // Identity escape: the char itself.
  return { text: src.slice(i, i + 2), end: i + 2, code: c.charCodeAt(0), backref: false };
}

/** Read a class `[...]` at src[i]; with fold, add the other ASCII case of every letter and letter range. */
function readClass(src: string, i: number, fold: boolean): { text: string; end: number } {
  let j = i + 1;
  let text = '[';
  if (src[j] === '^') {
    text += '^';
    j++;
  }
  const extra: string[] = [];
  let prevCode = -1; // code of the last single char, for ranges
  let prevPushed = false; // its other case was appended to `extra`
  while (j < src.length && src[j] !== ']') {
    let code = -1;
    let piece: string;
    if (src[j] === '\\') {
      const e = readEscape(src, j);
      piece = e.text;
      code = e.backref ? -1 : e.code;
      j = e.end;
    } else {
      piece = src[j];
      code = src.charCodeAt(j);
      j++;
    }
    if (piece === '-' && prevCode >= 0 && src[j] !== ']' && j < src.length) {
      // A range prevCode-next.
      let hiCode: number;
      let hiPiece: string;
      if (src[j] === '\\') {
        const e = readEscape(src, j);
        hiPiece = e.text;
        hiCode = e.backref ? -1 : e.code;
        j = e.end;
      } else {
        hiPiece = src[j];
        hiCode = src.charCodeAt(j);
        j++;
      }
      text += '-' + hiPiece;
      if (prevPushed) extra.pop(); // the range start's own fold is covered by the range's
      if (fold && hiCode >= 0) addRangeFold(prevCode, hiCode, extra);
      prevCode = -1;
      prevPushed = false;
      continue;
    }
    text += piece;
    prevPushed = fold && code >= 0 && isAsciiLetter(code);
    if (prevPushed) extra.push(hex2(code ^ 0x20));
    prevCode = code;
  }
  // A literal `-` closing the class (`[a-z0-9_-]`) would start a range with the folds appended after it: escape it.
  if (extra.length > 0 && text.endsWith('-') && !text.endsWith('\\-')) text = text.slice(0, -1) + '\\-';
  text += extra.join('') + ']';
  return { text, end: Math.min(j + 1, src.length) };
}

function addRangeFold(lo: number, hi: number, extra: string[]): void {
  const a = Math.max(lo, 0x61);
  const b = Math.min(hi, 0x7a);
  if (a <= b) extra.push(`${hex2(a - 0x20)}-${hex2(b - 0x20)}`);
  const c = Math.max(lo, 0x41);
  const d = Math.min(hi, 0x5a);
  if (c <= d) extra.push(`${hex2(c + 0x20)}-${hex2(d + 0x20)}`);
}

/** Compile a pcre op. Throws PcreCompileError with V8's message when the pattern is invalid. */
export function compilePcre(op: PcreOp): CompiledPcre {
  const fold = op.jsFlags.includes('i');
  let flags = op.jsFlags.replace(/[gyli]/g, '');
  // A sticky (anchored) match must start exactly at its position: no consuming `^` rewrite then.
  const a = analysePattern(op.source, fold, !op.anchored);
  let source = a.source;
  // A case-insensitive backreference cannot be spelled with classes: keep `i`.
  if (fold && a.backref) {
    source = op.source;
    flags += 'i';
  }
  const runFlags = flags + (op.anchored ? 'y' : 'g');
  let re: RegExp;
  try {
    re = new RegExp(source, runFlags);
  } catch (e) {
    throw new PcreCompileError(`invalid pcre ${op.raw}: ${(e as Error).message}`);
  }
  let eligible = true;
  let reason = '';
  try {
    new RegExp(source, flags + 'l');
  } catch (e) {
    eligible = false;
    reason = a.backref
      ? 'backreference'
      : a.lookaround
        ? 'lookaround'
        : a.bigCount
          ? 'counted repeat > 16'
          : flags.includes('i')
            ? 'case-insensitive'
            : (e as Error).message.replace(/^.*: /, '');
  }
  let mode: PcreMode;
  let guardLen = 0;
  if (eligible) mode = 'linear-fallback';
  else if (a.backref || a.nested) mode = 'guarded';
  else if (a.unbounded > 0) {
    // Counted repeats alone (`[0-9a-f]{32}`) only multiply the cost by their count: not guarded.
    mode = 'guarded';
    // Cost ~ n^(u+1): guard subjects where that passes ~5e7 steps.
    guardLen = Math.floor(Math.pow(5e7, 1 / (Math.max(a.unbounded, 1) + 1)));
  } else mode = 'plain';
  let pre: RegExp | null = null;
  if (mode === 'guarded') {
    const loose = analysePattern(op.source, fold, !op.anchored, true).source;
    const baseFlags = op.jsFlags.replace(/[gyli]/g, '');
    try {
      new RegExp(loose, baseFlags + 'l');
      pre = new RegExp(loose, baseFlags + (op.anchored ? 'y' : 'g'));
    } catch {
      pre = null; // still not linear-engine eligible: no pre-check
    }
  }
  stats.compiled++;
  if (mode === 'linear-fallback') stats.linearFallback++;
  else if (mode === 'guarded') stats.guarded++;
  else stats.plain++;
  const captures: [string, string][] = Object.entries(op.captures ?? {});
  return { re, mode, guardLen, negated: op.negated, relative: op.relative, anchored: op.anchored, captures, reason, raw: op.raw, pre };
}

/** One line on how a compiled pattern is bounded, for `rules check` style reports. */
export function describePcre(p: CompiledPcre): string {
  if (p.mode === 'linear-fallback') return `${p.raw}: backtracking with linear-engine fallback`;
  if (p.mode === 'plain') return `${p.raw}: no fallback (${p.reason}), no unbounded repeats`;
  return `${p.raw}: no fallback (${p.reason}), guarded by a ${PCRE_GUARD_TIMEOUT_MS} ms timeout${p.guardLen ? ` for subjects ≥ ${p.guardLen} bytes` : ''}`;
}

const guardCtx = vm.createContext({ re: null as RegExp | null, s: '', out: null as RegExpExecArray | null });
const guardScript = new vm.Script('out = re.exec(s)');

/** One guarded run of `re` on `subject` from `from`; false when it ran past `ms`. The result is left in guardCtx.out. */
function guardedRun(re: RegExp, subject: string, from: number, ms: number): boolean {
  re.lastIndex = from;
  guardCtx.re = re;
  guardCtx.s = subject;
  guardCtx.out = null;
  try {
    guardScript.runInContext(guardCtx, { timeout: ms });
    return true;
  } catch {
    guardCtx.s = '';
    return false;
  }
}

/** Result of the last successful exec: match start and end in the subject. */
export const pcreResult = { start: 0, end: 0, groups: undefined as Record<string, string> | undefined };

/**
 * Run the pattern on `subject` from index `from`. Returns 1 on a match (with
 * pcreResult filled), 0 on no match, -1 when a guarded run timed out.
 */
export function execPcre(p: CompiledPcre, subject: string, from: number): number {
  const re = p.re;
  re.lastIndex = from;
  let m: RegExpExecArray | null;
  if (p.mode === 'guarded' && subject.length - from >= p.guardLen) {
    const pre = p.pre;
    if (pre !== null) {
      pre.lastIndex = from;
      if (!pre.test(subject)) {
        stats.guardSkipped++;
        return 0;
      }
    }
    stats.guardedRuns++;
    if (!guardedRun(re, subject, from, PCRE_GUARD_TIMEOUT_MS)) {
      // See PCRE_GUARD_RETRY_MS: one retry with a larger budget, unless the pattern is a known runaway.
      let ok = false;
      if (!runaway.has(p)) {
        stats.guardRetries++;
        ok = guardedRun(re, subject, from, PCRE_GUARD_RETRY_MS);
        if (!ok) runaway.add(p);
      }
      if (!ok) {
        stats.timeouts++;
        return -1;
      }
    }
    m = guardCtx.out as RegExpExecArray | null;
    guardCtx.out = null;
    guardCtx.s = '';
  } else {
    m = re.exec(subject);
  }
  if (m === null) return 0;
  pcreResult.start = m.index;
  pcreResult.end = m.index + m[0].length;
  pcreResult.groups = m.groups;
  return 1;
}
