/**
 * Address and port expressions of the rule header (and of threshold.config's
 * `ip` lists): variables, groups, nested groups, negation, CIDR (v4/v6),
 * ranges, `any`. They resolve to the AST's AddressSet/PortSet: sorted,
 * merged, inclusive ranges with negation applied as a complement.
 *
 * Semantics follow Suricata: in a group, the positive items are united and
 * the negated items subtracted (a group of only negations starts from
 * "everything"); a leading `!` complements. A result that matches nothing is
 * an error, as is an unknown variable.
 *
 * Resolution happens at load time only. Thousands of rules share a handful of
 * expressions (`$HOME_NET`, `$EXTERNAL_NET`, `any`), so results are cached per
 * variable table and the returned sets are shared: treat them as read-only.
 * IPv6 ranges are computed with BigInt (load time, not a hot path).
 */
import type { AddressSet, PortSet } from './ast.js';
import { fail } from './errors.js';
import { clip } from './lexer.js';

export interface VarTable {
  addressGroups: Record<string, string>;
  portGroups: Record<string, string>;
}

const MAX_DEPTH = 32;
const V4_MAX = 0xffffffff;
const V6_MAX = (1n << 128n) - 1n;

interface IpSets {
  v4: number[];
  v6: bigint[];
}

const caches = new WeakMap<VarTable, { addr: Map<string, AddressSet>; port: Map<string, PortSet> }>();

function cacheFor(vars: VarTable): { addr: Map<string, AddressSet>; port: Map<string, PortSet> } {
  let c = caches.get(vars);
  if (c === undefined) {
    c = { addr: new Map(), port: new Map() };
    caches.set(vars, c);
  }
  return c;
}

/** Resolves an address expression (`$HOME_NET`, `[10.0.0.0/8,!10.1.0.0/16]`, `any`, …). */
export function resolveAddress(expr: string, vars: VarTable): AddressSet {
  const cache = cacheFor(vars).addr;
  const hit = cache.get(expr);
  if (hit !== undefined) return hit;
  const sets = addrExpr(expr.trim(), vars, 0);
  if (sets.v4.length === 0 && sets.v6.length === 0) fail(`address "${clip(expr)}" matches nothing`);
  const res = toAddressSet(sets);
  if (cache.size < 10000) cache.set(expr, res);
  return res;
}

/** Resolves a port expression (`$HTTP_PORTS`, `[80,8000:8100,!8080]`, `1024:`, `any`, …). */
export function resolvePorts(expr: string, vars: VarTable): PortSet {
  const cache = cacheFor(vars).port;
  const hit = cache.get(expr);
  if (hit !== undefined) return hit;
  const r = portExpr(expr.trim(), vars, 0);
  if (r.length === 0) fail(`port "${clip(expr)}" matches nothing`);
  const res: PortSet = { any: r.length === 2 && r[0] === 0 && r[1] === 65535, ranges: Uint16Array.from(r) };
  if (cache.size < 10000) cache.set(expr, res);
  return res;
}

// ---- generic interval arithmetic over sorted inclusive [lo, hi] pair lists ----

function normNum(r: number[]): number[] {
  if (r.length <= 2) return r;
  const pairs: [number, number][] = [];
  for (let i = 0; i < r.length; i += 2) pairs.push([r[i]!, r[i + 1]!]);
  pairs.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [lo, hi] of pairs) {
    const n = out.length;
    if (n > 0 && lo <= out[n - 1]! + 1) {
      if (hi > out[n - 1]!) out[n - 1] = hi;
    } else out.push(lo, hi);
  }
  return out;
}

function complNum(r: number[], max: number): number[] {
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < r.length; i += 2) {
    if (r[i]! > next) out.push(next, r[i]! - 1);
    next = r[i + 1]! + 1;
  }
  if (next <= max) out.push(next, max);
  return out;
}

function normBig(r: bigint[]): bigint[] {
  if (r.length <= 2) return r;
  const pairs: [bigint, bigint][] = [];
  for (let i = 0; i < r.length; i += 2) pairs.push([r[i]!, r[i + 1]!]);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: bigint[] = [];
  for (const [lo, hi] of pairs) {
    const n = out.length;
    if (n > 0 && lo <= out[n - 1]! + 1n) {
      if (hi > out[n - 1]!) out[n - 1] = hi;
    } else out.push(lo, hi);
  }
  return out;
}

function complBig(r: bigint[]): bigint[] {
  const out: bigint[] = [];
  let next = 0n;
  for (let i = 0; i < r.length; i += 2) {
    if (r[i]! > next) out.push(next, r[i]! - 1n);
    next = r[i + 1]! + 1n;
  }
  if (next <= V6_MAX) out.push(next, V6_MAX);
  return out;
}

/** a minus b = a ∩ ¬b, computed as ¬(¬a ∪ b). */
function minusNum(a: number[], b: number[], max: number): number[] {
  return complNum(normNum([...complNum(a, max), ...b]), max);
}
function minusBig(a: bigint[], b: bigint[]): bigint[] {
  return complBig(normBig([...complBig(a), ...b]));
}

/** Splits a group body at top-level commas. */
function splitGroup(body: string, what: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (c === ',' && depth === 0) {
      items.push(body.slice(start, i).trim());
      start = i + 1;
    }
  }
  items.push(body.slice(start).trim());
  for (const it of items) if (it === '') fail(`empty item in ${what} group`);
  return items;
}

function isGroup(e: string): boolean {
  if (e.charCodeAt(0) !== 0x5b || e.charCodeAt(e.length - 1) !== 0x5d) return false;
  // `[a],[b]` is not one group: the first `[` must close at the end.
  let depth = 0;
  for (let i = 0; i < e.length; i++) {
    if (e[i] === '[') depth++;
    else if (e[i] === ']') {
      depth--;
      if (depth === 0 && i !== e.length - 1) return false;
    }
  }
  return depth === 0;
}

// ---- addresses ----

const ALL: IpSets = { v4: [0, V4_MAX], v6: [0n, V6_MAX] };

function addrExpr(e: string, vars: VarTable, depth: number): IpSets {
  if (depth > MAX_DEPTH) fail('address variables nest too deeply (a variable that refers to itself?)');
  if (e === '') fail('empty address');
  if (e.charCodeAt(0) === 0x21 /* ! */) {
    const inner = addrExpr(e.slice(1).trim(), vars, depth + 1);
    return { v4: complNum(inner.v4, V4_MAX), v6: complBig(inner.v6) };
  }
  if (isGroup(e)) {
    const items = splitGroup(e.slice(1, -1), 'address');
    const pos: IpSets = { v4: [], v6: [] };
    const neg: IpSets = { v4: [], v6: [] };
    let anyPos = false;
    for (const it of items) {
      const negated = it.charCodeAt(0) === 0x21;
      const s = addrExpr(negated ? it.slice(1).trim() : it, vars, depth + 1);
      const dst = negated ? neg : pos;
      if (!negated) anyPos = true;
      dst.v4.push(...s.v4);
      dst.v6.push(...s.v6);
    }
    const base = anyPos ? { v4: normNum(pos.v4), v6: normBig(pos.v6) } : ALL;
    if (neg.v4.length === 0 && neg.v6.length === 0) return base;
    return { v4: minusNum(base.v4, normNum(neg.v4), V4_MAX), v6: minusBig(base.v6, normBig(neg.v6)) };
  }
  if (e.includes(',')) {
    // Suricata accepts a bare list in a variable's value (`1.2.3.4,5.6.7.8`).
    return addrExpr(`[${e}]`, vars, depth + 1);
  }
  if (e.charCodeAt(0) === 0x24 /* $ */) {
    const name = e.slice(1);
    const val = vars.addressGroups[name];
    if (val === undefined) {
      if (vars.portGroups[name] !== undefined) fail(`variable $${name} is a port group, used as an address`);
      fail(`unknown address variable $${name}`);
    }
    return addrExpr(val.trim(), vars, depth + 1);
  }
  if (e === 'any') return ALL;
  return literal(e);
}

function literal(e: string): IpSets {
  const dash = e.indexOf('-');
  if (dash > 0) {
    const a = parseIp(e.slice(0, dash));
    const b = parseIp(e.slice(dash + 1));
    if (a === null || b === null || typeof a !== typeof b) fail(`bad address range "${clip(e)}"`);
    if (a > b) fail(`address range "${clip(e)}" is reversed`);
    return typeof a === 'number' ? { v4: [a, b as number], v6: [] } : { v4: [], v6: [a, b as bigint] };
  }
  const slash = e.indexOf('/');
  const ipText = slash < 0 ? e : e.slice(0, slash);
  const ip = parseIp(ipText);
  if (ip === null) fail(`bad address "${clip(e)}"`);
  if (typeof ip === 'number') {
    let bits = 32;
    if (slash >= 0) {
      const m = e.slice(slash + 1);
      if (/^\d{1,2}$/.test(m)) bits = Number(m);
      else {
        const mask = parseV4(m);
        if (mask === null) fail(`bad netmask in "${clip(e)}"`);
        bits = 0;
        while (bits < 32 && mask & (0x80000000 >>> bits)) bits++;
        if (((mask << bits) >>> 0) !== 0 && bits < 32) fail(`non-contiguous netmask in "${clip(e)}"`);
      }
      if (bits > 32) fail(`bad prefix length in "${clip(e)}"`);
    }
    const size = 2 ** (32 - bits);
    const lo = Math.floor(ip / size) * size;
    return { v4: [lo, lo + size - 1], v6: [] };
  }
  let bits = 128;
  if (slash >= 0) {
    const m = e.slice(slash + 1);
    if (!/^\d{1,3}$/.test(m) || Number(m) > 128) fail(`bad prefix length in "${clip(e)}"`);
    bits = Number(m);
  }
  const hostBits = BigInt(128 - bits);
  const lo = (ip >> hostBits) << hostBits;
  return { v4: [], v6: [lo, lo + (1n << hostBits) - 1n] };
}

/** Parses an IPv4 (as number) or IPv6 (as bigint) address; null when neither. */
export function parseIp(s: string): number | bigint | null {
  if (s.includes(':')) return parseV6(s);
  return parseV4(s);
}

export function parseV4(s: string): number | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    v = v * 256 + n;
  }
  return v;
}

export function parseV6(s: string): bigint | null {
  if (s.length > 45 || s.length < 2) return null;
  let words: number[] = [];
  const dbl = s.indexOf('::');
  if (dbl !== s.lastIndexOf('::')) return null;
  const parseSide = (side: string): number[] | null => {
    if (side === '') return [];
    const out: number[] = [];
    const parts = side.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseV4(p);
        if (v4 === null) return null;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  if (dbl >= 0) {
    const a = parseSide(s.slice(0, dbl));
    const b = parseSide(s.slice(dbl + 2));
    if (a === null || b === null || a.length + b.length > 7) return null;
    words = [...a, ...new Array<number>(8 - a.length - b.length).fill(0), ...b];
  } else {
    const a = parseSide(s);
    if (a === null || a.length !== 8) return null;
    words = a;
  }
  let v = 0n;
  for (const w of words) v = (v << 16n) | BigInt(w);
  return v;
}

function toAddressSet(s: IpSets): AddressSet {
  const fullV4 = s.v4.length === 2 && s.v4[0] === 0 && s.v4[1] === V4_MAX;
  const fullV6 = s.v6.length === 2 && s.v6[0] === 0n && s.v6[1] === V6_MAX;
  const v6 = new Uint32Array(s.v6.length * 4);
  for (let i = 0; i < s.v6.length; i++) {
    const x = s.v6[i]!;
    for (let w = 0; w < 4; w++) v6[i * 4 + w] = Number((x >> BigInt(96 - 32 * w)) & 0xffffffffn);
  }
  return { any: fullV4 && fullV6, v4: Uint32Array.from(s.v4), v6 };
}

// ---- ports ----

function portExpr(e: string, vars: VarTable, depth: number): number[] {
  if (depth > MAX_DEPTH) fail('port variables nest too deeply (a variable that refers to itself?)');
  if (e === '') fail('empty port');
  if (e.charCodeAt(0) === 0x21) return complNum(portExpr(e.slice(1).trim(), vars, depth + 1), 65535);
  if (isGroup(e)) {
    const items = splitGroup(e.slice(1, -1), 'port');
    const pos: number[] = [];
    const neg: number[] = [];
    let anyPos = false;
    for (const it of items) {
      const negated = it.charCodeAt(0) === 0x21;
      const r = portExpr(negated ? it.slice(1).trim() : it, vars, depth + 1);
      if (negated) neg.push(...r);
      else {
        anyPos = true;
        pos.push(...r);
      }
    }
    const base = anyPos ? normNum(pos) : [0, 65535];
    return neg.length === 0 ? base : minusNum(base, normNum(neg), 65535);
  }
  if (e.includes(',')) return portExpr(`[${e}]`, vars, depth + 1);
  if (e.charCodeAt(0) === 0x24) {
    const name = e.slice(1);
    const val = vars.portGroups[name];
    if (val === undefined) {
      if (vars.addressGroups[name] !== undefined) fail(`variable $${name} is an address group, used as a port`);
      fail(`unknown port variable $${name}`);
    }
    return portExpr(val.trim(), vars, depth + 1);
  }
  if (e === 'any') return [0, 65535];
  const colon = e.indexOf(':');
  if (colon >= 0) {
    const a = e.slice(0, colon).trim();
    const b = e.slice(colon + 1).trim();
    const lo = a === '' ? 0 : portNum(a, e);
    const hi = b === '' ? 65535 : portNum(b, e);
    if (lo > hi) fail(`port range "${clip(e)}" is reversed`);
    return [lo, hi];
  }
  const p = portNum(e, e);
  return [p, p];
}

function portNum(s: string, whole: string): number {
  if (!/^\d{1,5}$/.test(s)) fail(`bad port "${clip(whole)}"`);
  const n = Number(s);
  if (n > 65535) fail(`port ${n} is out of range`);
  return n;
}
