/**
 * Stats: every stage reports its counters as a flat map of dotted names
 * (`decoder.pkts`, `flow.memcap`, `tcp.reassembly_gap`, …), Suricata's names
 * where Suricata has the counter. This module merges those maps and shapes the
 * EVE `stats` record.
 *
 * The EVE record carries only the names Suricata's schema knows (so it
 * validates); Harrier's own counters (capture warnings, evictions of tables
 * Suricata does not have, …) are kept in the full map that the CLI summary
 * and the `--stats` file show.
 */
import { EVE_STATS_NAMES } from './stats-names.js';
import { eveTimestamp } from './format.js';

export type Counters = Record<string, number>;

/** Merge counter maps; the same name in two maps is summed. */
export function mergeCounters(...maps: Counters[]): Counters {
  const out: Counters = {};
  for (const m of maps) {
    for (const k in m) out[k] = (out[k] ?? 0) + m[k];
  }
  return out;
}

/** Turn `a.b.c = 1` into `{a: {b: {c: 1}}}`. */
export function nestCounters(flat: Counters, keep: (name: string) => boolean = () => true): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const name of Object.keys(flat).sort()) {
    if (!keep(name)) continue;
    const parts = name.split('.');
    let node = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const next = node[parts[i]];
      if (typeof next === 'object' && next !== null) node = next as Record<string, unknown>;
      else {
        const made: Record<string, unknown> = {};
        node[parts[i]] = made;
        node = made;
      }
    }
    node[parts[parts.length - 1]] = flat[name];
  }
  return root;
}

/** The EVE `stats` record for the given counters at packet time (sec, nsec). */
export function eveStatsRecord(flat: Counters, tsSec: number, tsNsec: number, uptimeSec: number): Record<string, unknown> {
  const stats = nestCounters(flat, (n) => EVE_STATS_NAMES.has(n));
  return {
    timestamp: eveTimestamp(tsSec, tsNsec),
    event_type: 'stats',
    stats: { uptime: Math.round(uptimeSec), ...stats },
  };
}
