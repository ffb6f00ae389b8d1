/**
 * STIX 2.1 bundles: `indicator` objects with `pattern_type` "stix" (or none).
 * The pattern grammar is parsed for the simple comparison forms Harrier can
 * match — `[type:path = 'value']`, joined by OR inside or between brackets:
 *   ipv4-addr:value, ipv6-addr:value, domain-name:value, url:value,
 *   file:hashes.MD5 / 'SHA-1' / 'SHA-256', x509-certificate:hashes.'SHA-1'.
 * Patterns with AND, FOLLOWEDBY, other operators or other object paths cannot
 * be reduced to a set of values and are counted malformed (one per indicator).
 * Category from `indicator_types` (malicious-activity, anomalous-activity,
 * compromised, …) or labels; confidence from `confidence`.
 */
import { classifyToken, hashKindOf, normalizeDomain, normalizeUrl } from '../normalize.js';
import type { IndicatorKind } from '../types.js';
import { FeedContext } from './context.js';
import type { FeedFormat } from './format.js';

interface Cmp {
  kind: IndicatorKind;
  value: string;
}

/** Tokenise and parse a STIX pattern into OR'ed equality comparisons, or null. */
export function parseStixPattern(pattern: string): Cmp[] | null {
  const out: Cmp[] = [];
  const re = /\s*(\[|\]|\bOR\b|\bAND\b|\bFOLLOWEDBY\b|'(?:[^'\\]|\\.)*'|[A-Za-z0-9_\-]+:[A-Za-z0-9_.'\-]+|=|!=|[^\s]+)/y;
  const toks: string[] = [];
  let m: RegExpExecArray | null;
  re.lastIndex = 0;
  while (re.lastIndex < pattern.length && (m = re.exec(pattern))) toks.push(m[1]);
  if (toks.length === 0) return null;
  let i = 0;
  let depth = 0;
  let expectCmp = true;
  while (i < toks.length) {
    const t = toks[i];
    if (t === '[') {
      depth++;
      i++;
      continue;
    }
    if (t === ']') {
      if (--depth < 0) return null;
      i++;
      expectCmp = false;
      continue;
    }
    if (t === 'OR') {
      i++;
      expectCmp = true;
      continue;
    }
    if (!expectCmp || depth === 0) return null;
    const path = t;
    if (toks[i + 1] !== '=' || toks[i + 2] === undefined || toks[i + 2][0] !== "'") return null;
    const raw = toks[i + 2].slice(1, -1).replace(/\\(.)/g, '$1');
    i += 3;
    expectCmp = false;
    const lp = path.toLowerCase().replace(/'/g, '');
    let kind: IndicatorKind | null = null;
    let value: string | null = null;
    if (lp === 'ipv4-addr:value' || lp === 'ipv6-addr:value') {
      const c = classifyToken(raw);
      if (c && (c.kind === 'ipv4' || c.kind === 'ipv6')) {
        kind = c.kind;
        value = c.value;
      }
    } else if (lp === 'domain-name:value') {
      kind = 'domain';
      value = normalizeDomain(raw);
    } else if (lp === 'url:value') {
      kind = 'url';
      value = normalizeUrl(raw);
    } else if (/^(file|x509-certificate|artifact):hashes\.(md5|sha-1|sha1|sha-256|sha256)$/.test(lp)) {
      const h = hashKindOf(raw);
      const want = /md5/.test(lp) ? 'md5' : /256/.test(lp) ? 'sha256' : 'sha1';
      if (h === want) {
        kind = h;
        value = raw.toLowerCase();
      }
    }
    if (!kind || !value) return null;
    out.push({ kind, value });
  }
  return depth === 0 && out.length > 0 ? out : null;
}

interface StixObject {
  type?: unknown;
  pattern?: unknown;
  pattern_type?: unknown;
  indicator_types?: unknown;
  labels?: unknown;
  confidence?: unknown;
  name?: unknown;
}

export const stixFormat: FeedFormat = {
  name: 'stix',
  description: 'STIX 2.1 bundle: indicator patterns on ipv4/ipv6/domain/url/file hashes',
  detect(sample) {
    const s = sample.trimStart();
    return s[0] === '{' && /"type"\s*:\s*"bundle"/.test(sample) ? 99 : 0;
  },
  parse(text: string, ctx: FeedContext) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      ctx.malformed(`invalid JSON: ${(e as Error).message}`);
      return;
    }
    const objects = (doc as { objects?: unknown }).objects;
    if (!Array.isArray(objects)) {
      ctx.malformed('bundle has no "objects" array');
      return;
    }
    for (const o of objects as StixObject[]) {
      ctx.report.lines++;
      if (!o || typeof o !== 'object' || o.type !== 'indicator') {
        ctx.ignore();
        continue;
      }
      if (o.pattern_type !== undefined && o.pattern_type !== 'stix') {
        ctx.ignore();
        continue;
      }
      if (typeof o.pattern !== 'string') {
        ctx.malformed('indicator without pattern');
        continue;
      }
      const cmps = parseStixPattern(o.pattern);
      if (!cmps) {
        ctx.malformed(o.pattern);
        continue;
      }
      const types = Array.isArray(o.indicator_types) ? o.indicator_types : Array.isArray(o.labels) ? o.labels : [];
      const cat = types.length > 0 && typeof types[0] === 'string' ? stixCategory(types[0]) : null;
      const conf = typeof o.confidence === 'number' && o.confidence >= 0 && o.confidence <= 100 ? o.confidence : -1;
      const tag = typeof o.name === 'string' ? o.name.slice(0, 200) : null;
      for (const c of cmps) ctx.emit(c.kind, c.value, 0, conf, cat, tag);
    }
  },
};

function stixCategory(t: string): string {
  const map: Record<string, string> = {
    'malicious-activity': 'malware',
    'anomalous-activity': 'suspicious',
    attribution: 'attribution',
    compromised: 'compromised',
    anonymization: 'tor',
    benign: 'benign',
  };
  return map[t] ?? t;
}
