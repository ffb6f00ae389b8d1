/** The short human summary `harrier analyze` prints. */
import type { Counters } from '../events/stats.js';
import { protoName } from '../events/format.js';

/** What the summary reads: a Pipeline, or the same figures gathered from worker threads. */
export interface SummarySource {
  elapsed(): number;
  readonly packets: number;
  readonly bytes: number;
  readonly flowRecords: number;
  readonly flowsByProto: ReadonlyMap<number, number>;
  readonly streamBytes: number;
  readonly streamGaps: number;
}

const n = (v: number): string => v.toLocaleString('en-US');

export function formatSummary(p: SummarySource, c: Counters, captures: number, eveTarget: string | undefined, eveRecords: number): string {
  const secs = p.elapsed();
  const mb = p.bytes / 1e6;
  const lines: string[] = [];
  lines.push(
    `harrier analyze: ${captures} capture${captures === 1 ? '' : 's'}, ${n(p.packets)} packets, ${mb.toFixed(1)} MB in ${secs.toFixed(2)} s ` +
      `(${(mb / Math.max(secs, 1e-6)).toFixed(0)} MB/s, ${n(Math.round(p.packets / Math.max(secs, 1e-6)))} packets/s)`,
  );
  const byProto = [...p.flowsByProto.entries()].sort((a, b) => b[1] - a[1]).map(([proto, count]) => `${protoName(proto)} ${n(count)}`);
  const evicted = c['flow.memcap'] ?? 0;
  lines.push(`flows: ${n(p.flowRecords)}${byProto.length ? ` (${byProto.join(', ')})` : ''}${evicted ? `; ${n(evicted)} evicted under memcap` : ''}`);
  lines.push(`tcp: ${n(c['tcp.sessions'] ?? 0)} sessions, ${(p.streamBytes / 1e6).toFixed(1)} MB reassembled, ${n(c['tcp.reassembly_gap'] ?? p.streamGaps)} gaps`);
  const events = Object.entries(c)
    .filter(([k, v]) => k.startsWith('decoder.event.') && v > 0)
    .sort((a, b) => b[1] - a[1]);
  const total = events.reduce((s, [, v]) => s + v, 0);
  lines.push(
    `decoder events: ${n(total)}${events.length ? ' (' + events.slice(0, 8).map(([k, v]) => `${k.slice('decoder.event.'.length)} ${n(v)}`).join(', ') + (events.length > 8 ? ', …' : '') + ')' : ''}`,
  );
  const alerts = c['detect.alert'] ?? 0;
  if (alerts > 0) {
    const by = (gid: number): number => c[`harrier.detect.alerts_by_gid.${gid}`] ?? 0;
    const rules = alerts - by(9000001) - by(9000002);
    lines.push(`alerts: ${n(alerts)} (signatures ${n(rules)}, intel ${n(by(9000001))}, behaviour ${n(by(9000002))}); pcaps: ${n(c['harrier.alert_pcap.files'] ?? 0)}`);
  }
  if (eveTarget) lines.push(`eve: ${n(eveRecords)} records → ${eveTarget === '-' ? 'standard output' : eveTarget}`);
  return lines.join('\n') + '\n';
}
