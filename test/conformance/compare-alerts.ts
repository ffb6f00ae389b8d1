/**
 * Compares Harrier's alerts with Suricata's by (signature id, flow): the unit
 * is the pair, not the alert, because the two engines may raise a rule a
 * different number of times on one flow (per packet vs per transaction,
 * thresholds) while agreeing that the flow matched. The flow is its 5-tuple
 * with the two endpoints in a fixed order, so either direction of one flow
 * gives one key (alert records follow the triggering packet's direction).
 *
 * Input records: EVE `alert` records (`alert.signature_id`) or flat ones
 * (`signature_id` at top level, as in public-mix.suricata-alerts.jsonl);
 * records with another `event_type` are ignored.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** Canonical text of an IP address: IPv6 fully expanded and lower-case, IPv4 as written. */
export function canonicalIp(ip: string): string {
  if (!ip.includes(':')) return ip;
  let s = ip.toLowerCase();
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (v4) {
    const n = v4.slice(1).map(Number);
    s = s.slice(0, v4.index) + ((n[0] << 8) | n[1]).toString(16) + ':' + ((n[2] << 8) | n[3]).toString(16);
  }
  const [head, tail] = s.split('::', 2) as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined ? [] : tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  const groups = [...h, ...Array<string>(Math.max(0, fill)).fill('0'), ...t];
  return groups.map((g) => g.padStart(4, '0')).join(':');
}

function protoKey(p: unknown): string {
  const s = String(p ?? '').toUpperCase();
  if (s === 'IPV6-ICMP' || s === 'ICMPV6' || s === '58') return 'ICMPV6';
  if (s === '6') return 'TCP';
  if (s === '17') return 'UDP';
  if (s === '1') return 'ICMP';
  return s;
}

/** The direction-free key of a record's flow: `PROTO a b` with endpoints `ip/port` in sorted order. */
export function flowKey(rec: Record<string, unknown>): string {
  const a = `${canonicalIp(String(rec.src_ip ?? ''))}/${Number(rec.src_port ?? 0)}`;
  const b = `${canonicalIp(String(rec.dest_ip ?? ''))}/${Number(rec.dest_port ?? 0)}`;
  return `${protoKey(rec.proto)} ${a < b ? `${a} ${b}` : `${b} ${a}`}`;
}

/** sid of an alert record, or null for a record that is not an alert. */
export function sidOf(rec: Record<string, unknown>): number | null {
  if (rec.event_type !== undefined && rec.event_type !== 'alert') return null;
  const alert = rec.alert as Record<string, unknown> | undefined;
  const sid = alert && typeof alert === 'object' ? alert.signature_id : rec.signature_id;
  return typeof sid === 'number' && Number.isFinite(sid) ? sid : null;
}

/** Alerts of one side: pairs by sid (a set of flow keys each), alert counts, signature names. */
export interface AlertSide {
  pairs: Map<number, Set<string>>;
  alerts: number;
  names: Map<number, string>;
  /** Lines that were not JSON objects. */
  badLines: number;
}

export function emptySide(): AlertSide {
  return { pairs: new Map(), alerts: 0, names: new Map(), badLines: 0 };
}

/** Adds one line of JSON to a side (ignoring blanks and non-alerts). */
export function addLine(side: AlertSide, line: string): void {
  if (line.trim() === '') return;
  let rec: unknown;
  try {
    rec = JSON.parse(line);
  } catch {
    side.badLines++;
    return;
  }
  if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) {
    side.badLines++;
    return;
  }
  const r = rec as Record<string, unknown>;
  const sid = sidOf(r);
  if (sid === null) return;
  side.alerts++;
  let set = side.pairs.get(sid);
  if (!set) side.pairs.set(sid, (set = new Set()));
  set.add(flowKey(r));
  if (!side.names.has(sid)) {
    const a = r.alert as Record<string, unknown> | undefined;
    const name = (a && typeof a === 'object' ? a.signature : undefined) ?? r.signature;
    if (typeof name === 'string') side.names.set(sid, name);
  }
}

/** Reads a JSON-lines file into a side, streaming (EVE files can be large). */
export async function readSide(path: string): Promise<AlertSide> {
  const side = emptySide();
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of rl) addLine(side, line);
  return side;
}

export interface SidRow {
  sid: number;
  name: string;
  found: number;
  missed: number;
  extra: number;
}

export interface Comparison {
  rows: SidRow[];
  suricataAlerts: number;
  harrierAlerts: number;
  suricataPairs: number;
  harrierPairs: number;
  found: number;
  missed: number;
  extra: number;
  /** found / suricataPairs, in percent (100 when Suricata has none). */
  foundPct: number;
  /** extra / harrierPairs, in percent (0 when Harrier has none). */
  extraPct: number;
}

export function compare(harrier: AlertSide, suricata: AlertSide): Comparison {
  const sids = new Set([...harrier.pairs.keys(), ...suricata.pairs.keys()]);
  const rows: SidRow[] = [];
  let found = 0;
  let missed = 0;
  let extra = 0;
  let sp = 0;
  let hp = 0;
  for (const sid of sids) {
    const h = harrier.pairs.get(sid) ?? new Set<string>();
    const s = suricata.pairs.get(sid) ?? new Set<string>();
    let f = 0;
    for (const k of s) if (h.has(k)) f++;
    const row = { sid, name: suricata.names.get(sid) ?? harrier.names.get(sid) ?? '', found: f, missed: s.size - f, extra: h.size - f };
    rows.push(row);
    found += row.found;
    missed += row.missed;
    extra += row.extra;
    sp += s.size;
    hp += h.size;
  }
  rows.sort((a, b) => a.sid - b.sid);
  return {
    rows,
    suricataAlerts: suricata.alerts,
    harrierAlerts: harrier.alerts,
    suricataPairs: sp,
    harrierPairs: hp,
    found,
    missed,
    extra,
    foundPct: sp ? (100 * found) / sp : 100,
    extraPct: hp ? (100 * extra) / hp : 0,
  };
}

/** The printed report: top N sids by missed and by extra pairs, then totals. */
export function formatComparison(c: Comparison, top = 20): string {
  const out: string[] = [];
  const table = (title: string, rows: SidRow[]): void => {
    out.push(title);
    if (rows.length === 0) {
      out.push('  (none)');
      return;
    }
    out.push('       sid   found  missed   extra  signature');
    for (const r of rows) {
      out.push(`${String(r.sid).padStart(10)} ${String(r.found).padStart(7)} ${String(r.missed).padStart(7)} ${String(r.extra).padStart(7)}  ${r.name}`);
    }
  };
  table(`sids with the most missed (sid, flow) pairs (top ${top}):`, c.rows.filter((r) => r.missed > 0).sort((a, b) => b.missed - a.missed || a.sid - b.sid).slice(0, top));
  out.push('');
  table(`sids with the most extra (sid, flow) pairs (top ${top}):`, c.rows.filter((r) => r.extra > 0).sort((a, b) => b.extra - a.extra || a.sid - b.sid).slice(0, top));
  out.push('');
  const agree = c.rows.filter((r) => r.missed === 0 && r.extra === 0).length;
  out.push(`sids: ${c.rows.length} in all, ${agree} in full agreement`);
  out.push(`alerts: Suricata ${c.suricataAlerts}, Harrier ${c.harrierAlerts}`);
  out.push(`(sid, flow) pairs: Suricata ${c.suricataPairs}, Harrier ${c.harrierPairs}; found ${c.found}, missed ${c.missed}, extra ${c.extra}`);
  out.push(`${c.foundPct.toFixed(2)}% of Suricata's pairs found`);
  out.push(`${c.extraPct.toFixed(2)}% of Harrier's extra`);
  return out.join('\n') + '\n';
}
