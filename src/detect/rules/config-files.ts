/**
 * The rule set's side files: classification.config (classtype → category
 * and priority), reference.config (system → URL) and threshold.config
 * (threshold / event_filter / suppress / rate_filter lines). Each parser
 * takes the file's text and reports bad lines instead of throwing.
 */
import type { AddressSet, RuleAction, ThresholdSpec } from './ast.js';
import { resolveAddress } from './address.js';
import type { VarTable } from './address.js';
import type { ClassType } from './builder.js';
import { RuleParseError } from './errors.js';
import { keyValues, parseThresholdSpec } from '../keywords/threshold.js';

export interface ConfigLineError {
  line: number;
  reason: string;
}

function lines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  const all = text.split('\n');
  for (let i = 0; i < all.length; i++) {
    const t = all[i]!.trim();
    if (t === '' || t.startsWith('#')) continue;
    out.push({ line: i + 1, text: t });
  }
  return out;
}

/** `config classification: shortname,description,priority`. */
export function parseClassificationConfig(text: string): { classes: Map<string, ClassType>; errors: ConfigLineError[] } {
  const classes = new Map<string, ClassType>();
  const errors: ConfigLineError[] = [];
  for (const { line, text: t } of lines(text)) {
    const m = /^config\s+classification\s*:\s*([^,]+),(.*),\s*(\d+)\s*$/.exec(t);
    if (m === null) {
      errors.push({ line, reason: 'not "config classification: name,description,priority"' });
      continue;
    }
    const name = m[1]!.trim();
    classes.set(name, { name, description: m[2]!.trim(), priority: Number(m[3]) });
  }
  return { classes, errors };
}

/** `config reference: system URL`. */
export function parseReferenceConfig(text: string): { systems: Map<string, string>; errors: ConfigLineError[] } {
  const systems = new Map<string, string>();
  const errors: ConfigLineError[] = [];
  for (const { line, text: t } of lines(text)) {
    const m = /^config\s+reference\s*:\s*(\S+)\s+(\S+)\s*$/.exec(t);
    if (m === null) {
      errors.push({ line, reason: 'not "config reference: system url"' });
      continue;
    }
    systems.set(m[1]!.toLowerCase(), m[2]!);
  }
  return { systems, errors };
}

/** `suppress gen_id G, sig_id S[, track by_src|by_dst|by_either, ip <addr>]`: alerts of that rule are dropped (for the listed addresses). */
export interface SuppressEntry {
  /** 0 = every generator. */
  gid: number;
  /** 0 = every rule of the generator. */
  sid: number;
  /** null: suppress everywhere. */
  track: 'by_src' | 'by_dst' | 'by_either' | null;
  /** Addresses for `track` (variables and groups resolved); null when no track. */
  ips: AddressSet | null;
  line: number;
}

/** `threshold|event_filter gen_id G, sig_id S, type …, track …, count n, seconds s`: overrides/sets the rule's threshold. */
export interface ThresholdEntry {
  kind: 'threshold' | 'event_filter';
  gid: number;
  sid: number;
  spec: ThresholdSpec;
  line: number;
}

/** `rate_filter gen_id G, sig_id S, track by_src|by_dst|by_rule|by_both, count n, seconds s, new_action a, timeout t`. */
export interface RateFilterEntry {
  gid: number;
  sid: number;
  track: 'by_src' | 'by_dst' | 'by_rule' | 'by_both';
  count: number;
  seconds: number;
  newAction: RuleAction;
  timeout: number;
  line: number;
}

export interface ThresholdConfig {
  suppress: SuppressEntry[];
  thresholds: ThresholdEntry[];
  rateFilters: RateFilterEntry[];
  errors: ConfigLineError[];
}

export function emptyThresholdConfig(): ThresholdConfig {
  return { suppress: [], thresholds: [], rateFilters: [], errors: [] };
}

/** Parses a threshold.config; addresses in `ip` are resolved with `vars`. */
export function parseThresholdConfig(text: string, vars: VarTable): ThresholdConfig {
  const cfg = emptyThresholdConfig();
  for (const { line, text: t } of lines(text)) {
    try {
      const m = /^(threshold|event_filter|suppress|rate_filter)\s+(.*)$/.exec(t);
      if (m === null) throw new RuleParseError('unknown directive (expected threshold, event_filter, suppress or rate_filter)');
      const kind = m[1]!;
      // `ip` values may be groups with commas: take them out before splitting.
      let rest = m[2]!;
      let ipText: string | null = null;
      const ipm = /,\s*ip\s+(\[[^\]]*(?:\[[^\]]*\][^\]]*)*\]|\S+)\s*$/.exec(rest);
      if (ipm !== null) {
        ipText = ipm[1]!;
        rest = rest.slice(0, ipm.index);
      }
      const kv = keyValues(rest, kind);
      const gidText = kv.get('gen_id');
      const sidText = kv.get('sig_id');
      if (gidText === undefined || sidText === undefined) throw new RuleParseError(`${kind} needs gen_id and sig_id`);
      const gid = Number(gidText);
      const sid = Number(sidText);
      if (!Number.isInteger(gid) || gid < 0 || !Number.isInteger(sid) || sid < 0) throw new RuleParseError('gen_id and sig_id must be numbers');
      kv.delete('gen_id');
      kv.delete('sig_id');
      if (kind === 'suppress') {
        const track = kv.get('track') ?? null;
        if (track !== null && track !== 'by_src' && track !== 'by_dst' && track !== 'by_either') throw new RuleParseError(`suppress: unknown track "${track}"`);
        for (const k of kv.keys()) if (k !== 'track') throw new RuleParseError(`suppress: unknown option "${k}"`);
        if ((track === null) !== (ipText === null)) throw new RuleParseError('suppress: track and ip go together');
        cfg.suppress.push({ gid, sid, track, ips: ipText === null ? null : resolveAddress(ipText, vars), line });
      } else if (kind === 'rate_filter') {
        const track = kv.get('track');
        if (track !== 'by_src' && track !== 'by_dst' && track !== 'by_rule' && track !== 'by_both') throw new RuleParseError(`rate_filter: bad track "${String(track)}"`);
        const action = kv.get('new_action');
        if (action === undefined || !['alert', 'drop', 'pass', 'reject', 'rejectsrc', 'rejectdst', 'rejectboth'].includes(action)) {
          throw new RuleParseError(`rate_filter: bad new_action "${String(action)}"`);
        }
        const num = (k: string): number => {
          const v = Number(kv.get(k));
          if (!Number.isInteger(v) || v < 0) throw new RuleParseError(`rate_filter: ${k} must be a number`);
          return v;
        };
        cfg.rateFilters.push({ gid, sid, track, count: num('count'), seconds: num('seconds'), newAction: action as RuleAction, timeout: num('timeout'), line });
      } else {
        if (ipText !== null) throw new RuleParseError(`${kind}: ip is only valid for suppress`);
        cfg.thresholds.push({ kind: kind as 'threshold' | 'event_filter', gid, sid, spec: parseThresholdSpec(kv, kind), line });
      }
    } catch (e) {
      cfg.errors.push({ line, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  return cfg;
}
