/**
 * Threat-intel reload without restart, on the same triggers as the rules
 * (sensor/reload.ts): the `--intel` paths (or the config's `intel.store`) and
 * the config's intel block (allow-lists, per-flow limit) are read again, new
 * matchers are built beside the running ones and swapped in between packets
 * only if everything opened and the new stores hold at least one indicator;
 * otherwise the running matchers stay and the outcome is one line.
 *
 * Flow state: each flow's "already alerted" set (flow.ext[FlowExt.INTEL]) is
 * keyed by the indicator's text, not by anything of a store, so it stays
 * valid: an indicator that alerted on a flow before the reload does not alert
 * on it again. Counters carry on (retired matchers' totals are kept).
 */
import type { Detector } from '../detect/detector.js';
import type { AlertPath } from '../detect/alert.js';
import type { Counters } from '../events/stats.js';
import type { IntelMatcher } from '../detect/intel/matcher.js';

/** Builds matchers on `sink` (attachIntel with the current config); may throw. */
export type IntelOpen = (sink: { readonly alerts: AlertPath; addDetector(d: Detector): void }, log: (line: string) => void) => IntelMatcher[];

export interface IntelReloadHost {
  readonly alerts: AlertPath;
  addDetector(d: Detector): void;
  replaceDetector(old: Detector, next: Detector): boolean;
  removeDetector(d: Detector): boolean;
}

/** Compiled entries that can match (address ranges, domains, URLs, hashes; not the metadata tables). */
function indicators(ms: readonly IntelMatcher[]): number {
  let n = 0;
  for (const m of ms) for (const [k, v] of Object.entries(m.store.counts())) if (k !== 'metadata' && k !== 'sets') n += v;
  return n;
}

export class IntelReloader implements Detector {
  readonly name = 'intel-reload';
  private retired: Counters = {};
  private cReloads = 0;
  private cFailures = 0;

  /** `matchers`: the running ones (already in the pipeline); adds itself for its counters. */
  constructor(
    private matchers: IntelMatcher[],
    private readonly host: IntelReloadHost,
    private readonly open: IntelOpen,
  ) {
    host.addDetector(this);
  }

  reload(): { ok: boolean; line: string } {
    const t0 = performance.now();
    const made: Detector[] = [];
    const notes: string[] = [];
    let next: IntelMatcher[];
    try {
      next = this.open({ alerts: this.host.alerts, addDetector: (d) => made.push(d) }, (l) => notes.push(l));
    } catch (err) {
      return this.failed(err instanceof Error ? err.message : String(err));
    }
    const n = indicators(next);
    if (next.length === 0 || n === 0) return this.failed('the new intel inputs hold no indicator');
    const old = this.matchers;
    for (let i = 0; i < Math.max(old.length, next.length); i++) {
      if (i < old.length && i < next.length) this.host.replaceDetector(old[i]!, next[i]!);
      else if (i < next.length) this.host.addDetector(next[i]!);
      else this.host.removeDetector(old[i]!);
    }
    for (const m of old) for (const [k, v] of Object.entries(m.counters())) this.retired[k] = (this.retired[k] ?? 0) + v;
    this.matchers = next;
    this.cReloads++;
    const summary = notes.find((l) => l.startsWith('intel: '))?.slice('intel: '.length);
    return { ok: true, line: `intel: reloaded: ${next.length} store${next.length === 1 ? '' : 's'}, ${n} entries${summary ? ` (${summary})` : ''} in ${((performance.now() - t0) / 1000).toFixed(1)} s` };
  }

  private failed(reason: string): { ok: boolean; line: string } {
    this.cFailures++;
    return { ok: false, line: `intel: reload failed, keeping the running entries (${indicators(this.matchers)}): ${reason}` };
  }

  counters(): Counters {
    return { ...this.retired, 'harrier.intel.reloads': this.cReloads, 'harrier.intel.reload_failures': this.cFailures };
  }
}
