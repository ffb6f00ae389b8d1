/**
 * Alert rate keywords in the rule: threshold, detection_filter, tag.
 * (threshold.config entries are parsed in src/detect/rules/config-files.ts.)
 */
import type { DetectionFilterSpec, ThresholdSpec } from '../rules/ast.js';
import { fail } from '../rules/errors.js';
import { clip } from '../rules/lexer.js';
import type { KeywordDecl } from './types.js';
import { commaList, expectValue, uint } from './types.js';

type Track = ThresholdSpec['track'];
const TRACKS = new Set(['by_src', 'by_dst', 'by_rule', 'by_both', 'by_flow']);

/** Parses `key value, key value` option lists (order free). */
export function keyValues(v: string, what: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of commaList(v)) {
    const m = /^(\w+)\s+(\S+)$/.exec(item);
    if (m === null) fail(`${what}: bad option "${clip(item)}"`);
    if (out.has(m[1]!)) fail(`${what}: ${m[1]} given twice`);
    out.set(m[1]!, m[2]!);
  }
  return out;
}

export function parseThresholdSpec(kv: Map<string, string>, what: string): ThresholdSpec {
  const type = kv.get('type');
  const track = kv.get('track');
  const count = kv.get('count');
  const seconds = kv.get('seconds');
  if (type === undefined || track === undefined || count === undefined) fail(`${what} needs type, track and count`);
  if (type !== 'limit' && type !== 'threshold' && type !== 'both' && type !== 'backoff') fail(`${what}: unknown type "${clip(type)}"`);
  if (!TRACKS.has(track)) fail(`${what}: unknown track "${clip(track)}"`);
  for (const k of kv.keys()) if (!['type', 'track', 'count', 'seconds', 'multiplier'].includes(k)) fail(`${what}: unknown option "${k}"`);
  const spec: ThresholdSpec = { type, track: track as Track, count: uint(count, `${what} count`, 1), seconds: 0 };
  if (type === 'backoff') {
    const mult = kv.get('multiplier');
    if (mult === undefined) fail(`${what}: backoff needs multiplier`);
    spec.multiplier = uint(mult, `${what} multiplier`, 1);
  } else {
    if (seconds === undefined) fail(`${what} needs seconds`);
    spec.seconds = uint(seconds, `${what} seconds`, 1);
  }
  return spec;
}

export const threshold: KeywordDecl = {
  name: 'threshold',
  value: 'required',
  doc: '`type limit|threshold|both|backoff, track by_src|by_dst|by_rule|by_both|by_flow, count n, seconds s` (backoff: `multiplier m`)',
  parse(v, b) {
    if (b.threshold !== null) fail('threshold given twice');
    if (b.detectionFilter !== null) fail('threshold and detection_filter cannot be combined');
    b.threshold = parseThresholdSpec(keyValues(expectValue(v, 'threshold'), 'threshold'), 'threshold');
  },
};

export const detectionFilter: KeywordDecl = {
  name: 'detection_filter',
  value: 'required',
  doc: '`track by_src|by_dst|by_rule|by_both|by_flow, count n, seconds s`: alert only after n matches',
  parse(v, b) {
    if (b.detectionFilter !== null) fail('detection_filter given twice');
    if (b.threshold !== null) fail('threshold and detection_filter cannot be combined');
    const kv = keyValues(expectValue(v, 'detection_filter'), 'detection_filter');
    const track = kv.get('track');
    const count = kv.get('count');
    const seconds = kv.get('seconds');
    if (track === undefined || count === undefined || seconds === undefined) fail('detection_filter needs track, count and seconds');
    if (!TRACKS.has(track)) fail(`detection_filter: unknown track "${clip(track)}"`);
    for (const k of kv.keys()) if (!['track', 'count', 'seconds'].includes(k)) fail(`detection_filter: unknown option "${k}"`);
    const spec: DetectionFilterSpec = { track: track as Track, count: uint(count, 'detection_filter count', 1), seconds: uint(seconds, 'detection_filter seconds', 1) };
    b.detectionFilter = spec;
  },
};

export const tag: KeywordDecl = {
  name: 'tag',
  value: 'required',
  doc: '`session|host[, count, packets|bytes|seconds][, src|dst]`: also log the packets that follow',
  parse(v, b) {
    const parts = commaList(expectValue(v, 'tag'));
    const type = parts[0];
    if (type !== 'session' && type !== 'host') fail(`tag: unknown type "${clip(type ?? '')}"`);
    let count = 256;
    let metric: 'packets' | 'bytes' | 'seconds' = 'packets';
    let direction: 'src' | 'dst' | null = null;
    if (parts.length >= 3) {
      count = uint(parts[1]!, 'tag count', 1);
      const m = parts[2]!;
      if (m !== 'packets' && m !== 'bytes' && m !== 'seconds') fail(`tag: unknown metric "${clip(m)}"`);
      metric = m;
    } else if (parts.length === 2) fail('tag: count needs a metric (packets, bytes, seconds)');
    if (parts.length >= 4) {
      const d = parts[3]!;
      if (d !== 'src' && d !== 'dst') fail(`tag: unknown direction "${clip(d)}"`);
      direction = d;
    }
    if (parts.length > 4) fail('tag: too many options');
    b.tag = { type, count, metric, direction };
  },
};

export const THRESHOLD_KEYWORDS: readonly KeywordDecl[] = [threshold, detectionFilter, tag];
