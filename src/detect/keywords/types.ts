/**
 * The shape of a keyword declaration, and the small value parsers keywords
 * share. A keyword is one declaration object (name, aliases, what its value
 * looks like, a one-line description, the parse function) listed once in
 * registry.ts; startup validates the list (Suricata's sigmatch table, minus
 * its registration order that carries meaning).
 */
import type { IntCompare } from '../rules/ast.js';
import type { RuleBuilder } from '../rules/builder.js';
import { fail } from '../rules/errors.js';
import { clip } from '../rules/lexer.js';

export interface KeywordDecl {
  /** Suricata 7 name, lower case. */
  readonly name: string;
  /** Other names for the same behaviour (old names such as `dns_query`). */
  readonly aliases?: readonly string[];
  /** `none`: a flag (`nocase;`); `required`: `key:value;`; `optional`: either. */
  readonly value: 'none' | 'required' | 'optional';
  /** One line for docs and `--list-keywords`. */
  readonly doc: string;
  /**
   * Applies the keyword to the rule being built. `value` is trimmed, with
   * escapes intact; `name` is the name as written (an alias or the name).
   * Throws RuleParseError (via `fail`) with a reason when it cannot.
   */
  parse(value: string | null, b: RuleBuilder, name: string): void;
}

/** Parses an unsigned integer (decimal or 0x hex) within [min, max]. */
export function uint(s: string, what: string, min = 0, max = 0xffffffff): number {
  const t = s.trim();
  let n: number;
  if (/^\d{1,16}$/.test(t)) n = Number(t);
  else if (/^0x[0-9a-fA-F]{1,16}$/.test(t)) n = parseInt(t.slice(2), 16);
  else fail(`${what}: "${clip(t)}" is not a number`);
  if (n < min || n > max) fail(`${what}: ${n} is out of range ${min}..${max}`);
  return n;
}

/** Signed integer (offsets may be negative: `byte_jump … post_offset -2`, `distance:-4`). */
export function sint(s: string, what: string, min = -0x80000000, max = 0x7fffffff): number {
  const t = s.trim();
  if (/^-\d{1,12}$/.test(t)) {
    const n = Number(t);
    if (n < min) fail(`${what}: ${n} is out of range ${min}..${max}`);
    return n;
  }
  return uint(t, what, Math.max(0, min), max);
}

/** A byte_extract/byte_math variable name or a number. */
export function numOrVar(s: string, what: string, signed = false): number | string {
  const t = s.trim();
  if (/^-?(\d+|0x[0-9a-fA-F]+)$/.test(t)) return signed ? sint(t, what) : uint(t, what);
  if (/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(t)) return t;
  fail(`${what}: "${clip(t)}" is neither a number nor a variable name`);
}

/** Splits a comma list, trimming items. */
export function commaList(v: string): string[] {
  return v.split(',').map((x) => x.trim());
}

function unitValue(s: string, what: string, max: number): number {
  const m = /^(\d+|0x[0-9a-fA-F]+)\s*(kb|kib|mb|mib|gb|gib)?$/i.exec(s.trim());
  if (m === null) fail(`${what}: "${clip(s.trim())}" is not a number`);
  const mult = m[2] === undefined ? 1 : /^k/i.test(m[2]) ? 1024 : /^m/i.test(m[2]) ? 1048576 : 1073741824;
  const n = uint(m[1]!, what, 0, Number.MAX_SAFE_INTEGER) * mult;
  if (n > max) fail(`${what}: ${n} is out of range 0..${max}`);
  return n;
}

/**
 * Suricata's integer comparison syntax (detect-engine-uint): `N`, `=N`, `!N`,
 * `!=N`, `<N`, `<=N`, `>N`, `>=N`, `N<>M` and `N-M` (both exclusive ranges:
 * "comparisons are strict by default"). Negated ranges and bitmask forms are
 * not expressible in the AST and fail the rule.
 */
export function intCompare(v: string | null, what: string, max = 0xffffffff): IntCompare {
  if (v === null || v.trim() === '') fail(`${what} needs a value`);
  let s = v.trim();
  if (s.startsWith('&')) fail(`${what}: bitmask comparisons are not supported`);
  let m = /^(.+?)\s*(<>|-)\s*(.+)$/.exec(s);
  if (m !== null && !s.startsWith('<') && !s.startsWith('>') && !s.startsWith('=') && !s.startsWith('!=')) {
    if (m[1]!.startsWith('!')) fail(`${what}: negated ranges are not supported`);
    const lo = unitValue(m[1]!, what, max);
    const hi = unitValue(m[3]!, what, max);
    if (lo >= hi) fail(`${what}: range ${lo}-${hi} is empty or reversed`);
    return { op: '<>', value: lo, hi };
  }
  let op: IntCompare['op'] = '=';
  m = /^(<=|>=|!=|<|>|=|!)\s*/.exec(s);
  if (m !== null) {
    op = m[1] === '!' ? '!=' : (m[1] as IntCompare['op']);
    s = s.slice(m[0].length);
  }
  const value = unitValue(s, what, max);
  return { op, value };
}

export function expectValue(v: string | null, name: string): string {
  if (v === null || v === '') fail(`${name} needs a value`);
  return v;
}
