/**
 * The check language of suricata-verify's `test.yaml`, evaluated against EVE
 * records: `filter` (count of records whose fields all match), `stats` (fields
 * of the last stats record) and the `requires` blocks of tests and checks.
 *
 * Semantics follow the format description in suricata-verify's README and its
 * reference runner (run.py), since the tests were written against that runner:
 *  - a field path is split on `.`; each part may end in `[N]` (array index);
 *    a missing key or index gives "no value" (Python's None, here `undefined`);
 *  - `__len` is the length of the value reached (string, array, or number of
 *    keys of an object), -1 for values without a length;
 *  - `__find`/`__contains`/`__startswith`/`__endswith` stop the walk and
 *    compare the value reached with the expected one (substring; membership in
 *    a list, substring of a string or key of an object; prefix; suffix);
 *  - `__gt`/`__gte`/`__lt`/`__lte` compare numbers;
 *  - `has-key`/`not-has-key` test that the named path has (or lacks) a value;
 *  - any other key is compared for equality with Python's `==` (so 1 == 1.0,
 *    true == 1, lists and objects compared deeply).
 * Where run.py would raise on a record (an operator applied to a missing or
 * wrongly typed value), the check fails with that reason: `CheckError`.
 */

/** A JSON value as parsed from EVE or from test.yaml. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Raised where suricata-verify's runner would raise: the check fails. */
export class CheckError extends Error {}

const OPERATORS = ['__contains', '__find', '__startswith', '__endswith', '__gt', '__gte', '__lt', '__lte'] as const;
type Operator = (typeof OPERATORS)[number];

function isObject(v: unknown): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The value at a dotted path (`alert.metadata.tag[0]`, `dns.answers.__len`),
 * or undefined when there is none. JSON null counts as no value, as Python's
 * None does.
 */
export function findValue(path: string, obj: Json | undefined): Json | undefined {
  let cur: Json | undefined = obj;
  for (const part of path.split('.')) {
    if (part === '__len') {
      if (typeof cur === 'string' || Array.isArray(cur)) return cur.length;
      if (isObject(cur)) return Object.keys(cur).length;
      return -1;
    }
    if ((OPERATORS as readonly string[]).includes(part)) break;
    const m = /^(.*)\[(\d+)\]$/.exec(part);
    const name = m ? m[1] : part;
    if (!isObject(cur) || !Object.prototype.hasOwnProperty.call(cur, name)) return undefined;
    cur = cur[name];
    if (m) {
      const i = Number(m[2]);
      if (!Array.isArray(cur) || i >= cur.length) return undefined;
      cur = cur[i];
    }
    if (cur === null) return undefined;
  }
  return cur === null ? undefined : cur;
}

/** Python's `a == b` for JSON values (bool is an int; 1 == 1.0). */
export function pyEquals(a: Json | undefined, b: Json | undefined): boolean {
  if (a === undefined || a === null) return b === undefined || b === null;
  if (b === undefined || b === null) return false;
  const na = typeof a === 'boolean' ? Number(a) : a;
  const nb = typeof b === 'boolean' ? Number(b) : b;
  if (typeof na === 'number' && typeof nb === 'number') return na === nb;
  if (typeof na === 'string' || typeof nb === 'string') return na === nb;
  if (Array.isArray(na) || Array.isArray(nb)) {
    if (!Array.isArray(na) || !Array.isArray(nb) || na.length !== nb.length) return false;
    return na.every((x, i) => pyEquals(x, nb[i]));
  }
  if (isObject(na) && isObject(nb)) {
    const ka = Object.keys(na);
    if (ka.length !== Object.keys(nb).length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(nb, k) && pyEquals(na[k], nb[k]));
  }
  return false;
}

function operatorOf(key: string): Operator | null {
  for (const op of OPERATORS) if (key.endsWith(`.${op}`) || key === op) return op;
  return null;
}

function str(v: Json | undefined, key: string): string {
  if (typeof v !== 'string') throw new CheckError(`${key}: value is ${v === undefined ? 'missing' : typeof v}, not a string`);
  return v;
}

function number(v: Json | undefined, key: string): number {
  if (typeof v === 'boolean') return Number(v);
  if (typeof v !== 'number') throw new CheckError(`${key}: value is ${v === undefined ? 'missing' : typeof v}, not a number`);
  return v;
}

/** Whether one `key: expected` entry of a `match` block holds for a record. */
export function matchEntry(event: Json, key: string, expected: Json): boolean {
  if (key === 'has-key') return findValue(String(expected), event) !== undefined;
  if (key === 'not-has-key') return findValue(String(expected), event) === undefined;
  const val = findValue(key, event);
  const op = operatorOf(key);
  switch (op) {
    case '__find':
      return str(val, key).includes(String(expected));
    case '__startswith':
      return str(val, key).startsWith(String(expected));
    case '__endswith':
      return str(val, key).endsWith(String(expected));
    case '__contains':
      if (Array.isArray(val)) return val.some((x) => pyEquals(x, expected));
      if (typeof val === 'string') return val.includes(str(expected, `${key} (expected)`));
      if (isObject(val)) return typeof expected === 'string' && Object.prototype.hasOwnProperty.call(val, expected);
      throw new CheckError(`${key}: value is ${val === undefined ? 'missing' : typeof val}, cannot test membership`);
    case '__gt':
      return number(val, key) > number(expected, key);
    case '__gte':
      return number(val, key) >= number(expected, key);
    case '__lt':
      return number(val, key) < number(expected, key);
    case '__lte':
      return number(val, key) <= number(expected, key);
    default:
      return pyEquals(val, expected);
  }
}

/** Whether every entry of a `match` block holds (entries are tried in order; the first miss stops). */
export function matchEvent(event: Json, match: Record<string, Json> | null | undefined): boolean {
  if (!match) return true;
  for (const [k, v] of Object.entries(match)) if (!matchEntry(event, k, v)) return false;
  return true;
}

export interface CheckOutcome {
  ok: boolean;
  /** Why it failed (empty when ok). */
  reason: string;
}

/** A `filter` check: the number of records matching `match` must equal `count`. */
export function evalFilter(filter: { count?: Json; match?: Record<string, Json> | null; comment?: Json }, events: readonly Json[]): CheckOutcome {
  let n = 0;
  try {
    for (const e of events) if (matchEvent(e, filter.match)) n++;
  } catch (err) {
    if (err instanceof CheckError) return { ok: false, reason: `check error: ${err.message}` };
    throw err;
  }
  if (pyEquals(n, filter.count ?? null)) return { ok: true, reason: '' };
  const what = filter.comment ? String(filter.comment) : JSON.stringify(filter.match ?? {});
  return { ok: false, reason: `expected ${String(filter.count)} matches, got ${n}: ${what}` };
}

/** A `stats` check: fields of the last `stats` record's `stats` object. */
export function evalStats(check: Record<string, Json>, events: readonly Json[]): CheckOutcome {
  let stats: Json | undefined;
  for (const e of events) if (isObject(e) && e.event_type === 'stats') stats = e.stats;
  if (stats === undefined) return { ok: false, reason: 'stats check: no stats record in EVE' };
  for (const [key, expected] of Object.entries(check)) {
    try {
      if (!matchEntry(stats, key, expected)) {
        return { ok: false, reason: `stats.${key}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(findValue(key, stats) ?? null)}` };
      }
    } catch (err) {
      if (err instanceof CheckError) return { ok: false, reason: `stats check error: ${err.message}` };
      throw err;
    }
  }
  return { ok: true, reason: '' };
}

// ---------------------------------------------------------------- versions

/** A Suricata version; parts not written default to 0 (or are wildcards for `version:`). */
export interface Version {
  major: number;
  minor: number | null;
  patch: number | null;
}

export function parseVersion(text: Json | undefined, wildcard = false): Version | null {
  const m = /(?:Suricata version |^)(\d+)\.?(\d+)?\.?(\d+)?/.exec(String(text ?? '').trim());
  if (!m) return null;
  const d = wildcard ? null : 0;
  return { major: Number(m[1]), minor: m[2] !== undefined ? Number(m[2]) : d, patch: m[3] !== undefined ? Number(m[3]) : d };
}

/** -1, 0, 1 comparing a and b part by part (missing parts as 0). */
export function compareVersions(a: Version, b: Version): number {
  const pa = [a.major, a.minor ?? 0, a.patch ?? 0];
  const pb = [b.major, b.minor ?? 0, b.patch ?? 0];
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] < pb[i] ? -1 : 1;
  return 0;
}

/** `version: 7` matches 7.x.y, `7.0` matches 7.0.y, `7.0.4` only 7.0.4. */
export function versionMatches(actual: Version, wanted: Version): boolean {
  if (actual.major !== wanted.major) return false;
  if (wanted.minor !== null && actual.minor !== null && wanted.minor !== actual.minor) return false;
  if (wanted.patch !== null && actual.patch !== null && wanted.patch !== actual.patch) return false;
  return true;
}

/** What the emulated engine offers to `requires` blocks. */
export interface Capabilities {
  version: Version;
  /** Build features (`HAVE_JA3`, …) that Harrier has. */
  features: ReadonlySet<string>;
  /** `os` and `arch` as suricata-verify spells them (linux, x86_64). */
  os: string;
  arch: string;
}

/**
 * Checks a `requires` block (of a test or of one check). Returns null when
 * satisfied, otherwise the one-line reason to skip. `pcap` is handled by the
 * caller (it concerns input files, not the engine).
 */
export function unmetRequirement(requires: Record<string, Json> | null | undefined, caps: Capabilities): string | null {
  if (!requires) return null;
  for (const [key, val] of Object.entries(requires)) {
    switch (key) {
      case 'min-version': {
        const v = parseVersion(val);
        if (v && compareVersions(caps.version, v) < 0) return `requires Suricata >= ${String(val).trim()} behaviour (Harrier follows ${fmt(caps.version)})`;
        break;
      }
      case 'lt-version': {
        const v = parseVersion(val);
        if (v && compareVersions(caps.version, v) >= 0) return `only for Suricata < ${String(val).trim()}`;
        break;
      }
      case 'gt-version': {
        const v = parseVersion(val);
        if (v && compareVersions(caps.version, v) <= 0) return `only for Suricata > ${String(val).trim()}`;
        break;
      }
      case 'version': {
        const v = parseVersion(val, true);
        if (v && !versionMatches(caps.version, v)) return `only for Suricata ${String(val)}`;
        break;
      }
      case 'features':
        for (const f of Array.isArray(val) ? val : [val]) {
          if (!caps.features.has(String(f))) return `requires build feature ${String(f)}`;
        }
        break;
      case 'env':
        for (const e of Array.isArray(val) ? val : [val]) if (!(String(e) in process.env)) return `requires environment variable ${String(e)}`;
        break;
      case 'files':
        return 'requires files of the Suricata source tree';
      case 'script':
        return 'requires a script to run (not supported)';
      case 'lambda': {
        // Only the platform tests that appear in practice are understood.
        const s = String(val).replace(/\s+/g, '');
        if (s === 'sys.platform!="win32"' || s === "sys.platform!='win32'") break;
        if (s === 'sys.platform=="win32"' || s === "sys.platform=='win32'") return 'only for Windows';
        return `requires a Python expression (${String(val)})`;
      }
      case 'os':
        if (!caps.os.startsWith(String(val).toLowerCase())) return `only for OS ${String(val)}`;
        break;
      case 'arch':
        if (!caps.arch.startsWith(String(val).toLowerCase())) return `only for architecture ${String(val)}`;
        break;
      case 'pcap':
        break;
      default:
        return `unknown requirement ${key}`;
    }
  }
  return null;
}

function fmt(v: Version): string {
  return `${v.major}.${v.minor ?? 0}.${v.patch ?? 0}`;
}
