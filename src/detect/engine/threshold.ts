/**
 * `threshold`, `detection_filter` and threshold.config (suppress, threshold,
 * event_filter, rate_filter is not supported) as Suricata 7 applies them
 * after a rule matched:
 *
 * - limit N/s: alert on the first N matches of each window of s seconds;
 * - threshold N/s: alert on every Nth match within the window;
 * - both N/s: alert once per window, when the Nth match arrives;
 * - backoff N, multiplier M: alert on the 1st match, then the Nth, N·Mth, …;
 * - detection_filter N/s: alert on every match after the Nth within s seconds.
 *
 * Windows start at the first match of a key (by_src, by_dst, by_both,
 * by_rule, by_flow). The table is bounded: at `maxEntries` the oldest entry
 * is evicted (counted), which can only make a limit alert again, never hide
 * an alert for good. Keys are strings built only for rules that have a
 * threshold and just matched.
 */
import type { DetectionFilterSpec, ThresholdSpec } from '../rules/ast.js';

interface Entry {
  start: number;
  count: number;
  /** backoff: next count that alerts. */
  next: number;
  /** both: already alerted in this window. */
  done: boolean;
}

export class ThresholdTable {
  private readonly map = new Map<string, Entry>();
  evicted = 0;
  suppressed = 0;
  constructor(private readonly maxEntries = 100_000) {}

  private entry(key: string, now: number, seconds: number): Entry {
    let e = this.map.get(key);
    if (e !== undefined && seconds > 0 && now - e.start >= seconds) {
      e.start = now;
      e.count = 0;
      e.done = false;
    }
    if (e === undefined) {
      if (this.map.size >= this.maxEntries) {
        const first = this.map.keys().next().value;
        if (first !== undefined) this.map.delete(first);
        this.evicted++;
      }
      e = { start: now, count: 0, next: 1, done: false };
      this.map.set(key, e);
    }
    return e;
  }

  /** One match of a thresholded rule: should it alert? */
  threshold(t: ThresholdSpec, key: string, now: number): boolean {
    const e = this.entry('t' + key, now, t.type === 'backoff' ? 0 : t.seconds);
    e.count++;
    let ok: boolean;
    switch (t.type) {
      case 'limit':
        ok = e.count <= t.count;
        break;
      case 'threshold':
        ok = e.count >= t.count;
        if (ok) e.count = 0;
        break;
      case 'both':
        ok = !e.done && e.count >= t.count;
        if (ok) e.done = true;
        break;
      case 'backoff': {
        // Suricata: alert on the first match, then once the count reaches `count`, then count*multiplier, …
        if (e.count === 1) {
          ok = true;
          e.next = t.count;
        } else if (e.count >= e.next && e.next > 1) {
          ok = true;
          e.next = e.next * (t.multiplier ?? 1);
        } else ok = false;
        break;
      }
    }
    if (!ok) this.suppressed++;
    return ok;
  }

  /** One match of a rule with detection_filter: alert only past the first `count` in the window. */
  detectionFilter(d: DetectionFilterSpec, key: string, now: number): boolean {
    const e = this.entry('d' + key, now, d.seconds);
    e.count++;
    const ok = e.count > d.count;
    if (!ok) this.suppressed++;
    return ok;
  }

  get size(): number {
    return this.map.size;
  }
}
