/**
 * threshold.config entries (Suricata's `suppress`, `threshold`,
 * `event_filter`) as the engine applies them per (gid, sid). `sid 0` (and
 * `gid 0`) apply to every rule of the generator (every rule). A suppress
 * without `track`/`ip` drops every alert of the rule; with them, alerts whose
 * source (by_src), destination (by_dst) or either (by_either) address is in
 * the set. A threshold/event_filter replaces the rule's own `threshold`.
 * rate_filter changes actions, which IDS mode has none of: ignored.
 */
import type { AddressSet, ThresholdSpec } from '../rules/ast.js';
import type { ThresholdConfig } from '../rules/config-files.js';
import { inV4, inV6, type Endpoints } from './addresses.js';

/** One threshold.config line as the engine applies it. */
export interface ThresholdConfigEntry {
  kind: 'suppress' | 'threshold' | 'event_filter' | 'rate_filter';
  gid: number;
  sid: number;
  /** suppress: which address the `ip` set applies to. */
  track?: 'by_src' | 'by_dst' | 'by_either' | null;
  ip?: AddressSet | null;
  /** threshold / event_filter. */
  threshold?: ThresholdSpec | null;
}

/** The front end's parsed threshold.config as a list of entries. */
export function thresholdEntries(cfg: ThresholdConfig | undefined): ThresholdConfigEntry[] {
  if (cfg === undefined) return [];
  return [
    ...cfg.suppress.map((s): ThresholdConfigEntry => ({ kind: 'suppress', gid: s.gid, sid: s.sid, track: s.track, ip: s.ips })),
    ...cfg.thresholds.map((t): ThresholdConfigEntry => ({ kind: t.kind, gid: t.gid, sid: t.sid, threshold: t.spec })),
  ];
}

export class RuleThresholdConfig {
  readonly suppress: { track: 'by_src' | 'by_dst' | 'by_either' | null; ip: AddressSet | null }[] = [];
  threshold: ThresholdSpec | null = null;

  suppressed(ep: Endpoints): boolean {
    for (const s of this.suppress) {
      if (s.ip === null || s.track === null) return true;
      const inSet = (side: 0 | 1): boolean =>
        s.ip!.any || (ep.v6 ? inV6(s.ip!.v6, side === 0 ? ep.src6 : ep.dst6) : inV4(s.ip!.v4, side === 0 ? ep.src4 : ep.dst4));
      if (s.track === 'by_src' && inSet(0)) return true;
      if (s.track === 'by_dst' && inSet(1)) return true;
      if (s.track === 'by_either' && (inSet(0) || inSet(1))) return true;
    }
    return false;
  }
}

export class ThresholdRules {
  private readonly bySid = new Map<string, RuleThresholdConfig>();
  private readonly byGid = new Map<number, RuleThresholdConfig>();
  private all: RuleThresholdConfig | null = null;

  add(e: ThresholdConfigEntry): void {
    if (e.kind === 'rate_filter') return;
    let c: RuleThresholdConfig | undefined;
    if (e.sid === 0 && e.gid === 0) c = this.all ??= new RuleThresholdConfig();
    else if (e.sid === 0) {
      c = this.byGid.get(e.gid);
      if (c === undefined) this.byGid.set(e.gid, (c = new RuleThresholdConfig()));
    } else {
      const k = `${e.gid}:${e.sid}`;
      c = this.bySid.get(k);
      if (c === undefined) this.bySid.set(k, (c = new RuleThresholdConfig()));
    }
    if (e.kind === 'suppress') c.suppress.push({ track: e.track ?? null, ip: e.ip ?? null });
    else if (e.threshold) c.threshold = e.threshold;
  }

  get empty(): boolean {
    return this.bySid.size === 0 && this.byGid.size === 0 && this.all === null;
  }

  /** The entry that applies to a rule (most specific first), or null. Only called after a match. */
  get(gid: number, sid: number): RuleThresholdConfig | null {
    if (this.empty) return null;
    return this.bySid.get(`${gid}:${sid}`) ?? this.byGid.get(gid) ?? this.all;
  }
}

export function compileThresholdConfig(entries: readonly ThresholdConfigEntry[]): ThresholdRules {
  const t = new ThresholdRules();
  for (const e of entries) t.add(e);
  return t;
}
