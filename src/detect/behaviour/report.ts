/**
 * How behaviour detectors and baseline anomalies become alerts.
 *
 * Zeek's split: a detector says what it saw (a Finding: which detector, about
 * whom, observed vs baseline, a one-line explanation); this module applies
 * policy — mutes, deduplication windows — and raises the alert through the
 * shared AlertPath, so a behaviour alert carries the same identities, flow
 * context and pcap as a signature alert.
 *
 * Record shape: an EVE `alert` with gid HARRIER_GID.BEHAVIOUR, the
 * detector's sid and signature, and `alert.metadata` holding
 * `harrier_detector`, `harrier_subject`, `harrier_explanation`,
 * `harrier_observed`, `harrier_baseline`, `harrier_unit`, `harrier_score`,
 * `harrier_count`, and `harrier_namespace`/`harrier_workload` when the
 * subject is a Kubernetes workload (arrays of strings, as Suricata writes metadata; the
 * schema leaves metadata open). Chosen over `event_type: anomaly` because
 * Suricata's anomaly object is closed (type/event/layer only) and every
 * SIEM rule written for EVE already routes alerts.
 *
 * Deduplication: the first finding of an incident (same detector and
 * subject) is raised at once, so responders are not kept waiting; repeats
 * inside the window are folded into it and counted; when the window closes
 * with repeats, one follow-up alert carries the total (`harrier_count`),
 * the latest finding's observed value and explanation, and
 * `harrier_update: ["true"]`. One incident is therefore one alert, or two
 * when it went on.
 */
import { HARRIER_GID, type AlertPath, type AlertSite } from '../alert.js';
import type { Counters } from '../../events/stats.js';

export interface Finding {
  /** Detector name, dotted: `scan.vertical`, `dns.tunnel`, `anomaly.new_external_destination`, … */
  detector: string;
  /** Stable signature id of the detector (listed in docs/reference/behaviour.md). */
  sid: number;
  /** Alert signature text, e.g. `HARRIER BEHAVIOUR vertical port scan`. */
  signature: string;
  /** Alert category (Suricata classification text, e.g. `Detection of a Network Scan`). */
  category: string;
  /** 1 (high) … 4 (low). */
  severity: number;
  /** Who it is about, the dedupe key with the detector: a workload key, an IP, `src->dst`. */
  subject: string;
  /** Kubernetes namespace of the subject when known (mutes and overrides match on it; `harrier_namespace`). */
  namespace?: string;
  /** Workload name (Deployment, StatefulSet, … or the bare pod) when known (`harrier_workload`). */
  workload?: string;
  /** One line for a human: `cart: HTTP 5xx 37/min, baseline 0.4/min`. */
  explanation: string;
  observed?: number | string;
  baseline?: number | string;
  unit?: string;
  /** Anomaly score (detector-specific scale, documented per detector). */
  score?: number;
  /** Detector-specific extras (feature contributions, top sub-domains, …), strings. */
  extra?: Record<string, string>;
  site: AlertSite;
}

export interface ReporterOptions {
  /** Seconds an incident stays open for deduplication. Default 300. */
  dedupeWindowSec?: number;
  /** Open incidents kept at most (bounded memory; the oldest is closed early, counted). Default 100,000. */
  maxOpen?: number;
  /** Findings to drop (mutes from config): return true to mute. */
  mute?: (f: Finding) => boolean;
}

interface Incident {
  first: Finding;
  /** The latest finding folded in: the update alert carries its observed value and explanation. */
  last: Finding;
  count: number;
  openedAt: number;
  lastSec: number;
  lastNsec: number;
}

function metaOf(f: Finding, count: number, update: boolean): Record<string, string[]> {
  const m: Record<string, string[]> = {
    harrier_detector: [f.detector],
    harrier_subject: [f.subject],
    harrier_explanation: [f.explanation],
    harrier_count: [String(count)],
  };
  if (f.observed !== undefined) m.harrier_observed = [String(f.observed)];
  if (f.baseline !== undefined) m.harrier_baseline = [String(f.baseline)];
  if (f.unit !== undefined) m.harrier_unit = [f.unit];
  if (f.namespace !== undefined) m.harrier_namespace = [f.namespace];
  if (f.workload !== undefined) m.harrier_workload = [f.workload];
  if (f.score !== undefined) m.harrier_score = [f.score.toFixed(3)];
  if (update) m.harrier_update = ['true'];
  if (f.extra) for (const k of Object.keys(f.extra)) m[`harrier_${k}`] = [f.extra[k]];
  return m;
}

export class BehaviourReporter {
  private readonly window: number;
  private readonly maxOpen: number;
  private readonly mute: ((f: Finding) => boolean) | undefined;
  /** Insertion-ordered: the first entry is the oldest incident. */
  private readonly open = new Map<string, Incident>();
  private readonly c = { findings: 0, raised: 0, folded: 0, muted: 0, updates: 0, closedEarly: 0 };
  private readonly byDetector = new Map<string, number>();

  constructor(private readonly alerts: AlertPath, opts: ReporterOptions = {}) {
    this.window = opts.dedupeWindowSec ?? 300;
    this.maxOpen = opts.maxOpen ?? 100_000;
    this.mute = opts.mute;
  }

  report(f: Finding): void {
    this.c.findings++;
    if (this.mute?.(f)) {
      this.c.muted++;
      return;
    }
    const key = `${f.detector}\u0000${f.subject}`;
    const inc = this.open.get(key);
    if (inc !== undefined && f.site.tsSec - inc.openedAt < this.window) {
      inc.count++;
      inc.last = f;
      inc.lastSec = f.site.tsSec;
      inc.lastNsec = f.site.tsNsec;
      this.c.folded++;
      return;
    }
    if (inc !== undefined) this.close(key, inc);
    if (this.open.size >= this.maxOpen) {
      const [k, oldest] = this.open.entries().next().value as [string, Incident];
      this.close(k, oldest);
      this.c.closedEarly++;
    }
    this.open.set(key, { first: f, last: f, count: 1, openedAt: f.site.tsSec, lastSec: f.site.tsSec, lastNsec: f.site.tsNsec });
    this.raise(f, 1, false, f.site.tsSec, f.site.tsNsec);
  }

  /** Close incidents whose window has passed (call once per second of packet time). */
  tick(tsSec: number): void {
    for (const [k, inc] of this.open) {
      if (tsSec - inc.openedAt < this.window) break; // insertion order = age order
      this.close(k, inc);
    }
  }

  /** End of input: close everything. */
  finish(): void {
    for (const [k, inc] of this.open) this.close(k, inc);
  }

  private close(key: string, inc: Incident): void {
    this.open.delete(key);
    if (inc.count > 1) {
      this.c.updates++;
      // The update speaks for the whole incident: ids and site of the first
      // finding, the latest observed value and explanation, the total count.
      const f = inc.last === inc.first ? inc.first : { ...inc.first, observed: inc.last.observed, explanation: inc.last.explanation, score: inc.last.score, extra: inc.last.extra };
      this.raise(f, inc.count, true, inc.lastSec, inc.lastNsec);
    }
  }

  private raise(f: Finding, count: number, update: boolean, tsSec: number, tsNsec: number): void {
    this.c.raised++;
    this.byDetector.set(f.detector, (this.byDetector.get(f.detector) ?? 0) + 1);
    this.alerts.raise(
      {
        gid: HARRIER_GID.BEHAVIOUR,
        sid: f.sid,
        rev: 1,
        signature: f.signature,
        category: f.category,
        severity: f.severity,
        metadata: metaOf(f, count, update),
      },
      { ...f.site, tsSec, tsNsec },
    );
  }

  counters(): Counters {
    const out: Counters = {
      'harrier.behaviour.findings': this.c.findings,
      'harrier.behaviour.alerts': this.c.raised,
      'harrier.behaviour.folded': this.c.folded,
      'harrier.behaviour.muted': this.c.muted,
      'harrier.behaviour.updates': this.c.updates,
      'harrier.behaviour.closed_early': this.c.closedEarly,
      'harrier.behaviour.open_incidents': this.open.size,
    };
    for (const [d, n] of this.byDetector) out[`harrier.behaviour.by_detector.${d}`] = n;
    return out;
  }
}
