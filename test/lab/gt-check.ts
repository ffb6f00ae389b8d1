/**
 * Checks a lab run's ground truth against its capture, independently of Harrier's
 * own reader: packets are listed with tshark (time, first IPv4 source and
 * destination), then each ground-truth window must hold packets between the
 * named endpoints, and each reused IP must be seen in both holders' lifetimes.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Endpoint {
  kind: 'pod' | 'external' | 'range' | 'node';
  ip?: string; clusterIP?: string; cidr?: string;
  namespace?: string; pod?: string; node?: string; domain?: string; service?: string;
}
export interface Scenario { name: string; stage: string; tool: string; start: string; end: string; src: Endpoint; dst: Endpoint }
export interface PodLife { namespace: string; pod: string; ip: string; node: string; hostNetwork: boolean; start: string; end: string | null }
export interface GroundTruth { mode: string; scenarios: Scenario[]; pods: PodLife[]; ipReuse: { ip: string; holders: PodLife[] }[] }

/** Packets of a capture as parallel typed arrays (time in ms, IPv4 as uint32). */
export interface PacketTable { t: Float64Array; src: Uint32Array; dst: Uint32Array; n: number }

export function ipToInt(ip: string): number {
  const p = ip.split('.').map(Number);
  return (((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!) >>> 0;
}

export function readPackets(pcap: string): PacketTable {
  const r = spawnSync('tshark', ['-r', pcap, '-n', '-Y', 'ip', '-T', 'fields', '-E', 'occurrence=f', '-e', 'frame.time_epoch', '-e', 'ip.src', '-e', 'ip.dst'],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`tshark failed on ${pcap}: ${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  const t = new Float64Array(lines.length);
  const src = new Uint32Array(lines.length);
  const dst = new Uint32Array(lines.length);
  lines.forEach((l, i) => {
    const [ts, s, d] = l.split('\t');
    t[i] = Number(ts) * 1000;
    src[i] = ipToInt(s!);
    dst[i] = ipToInt(d!);
  });
  return { t, src, dst, n: lines.length };
}

/** An endpoint as a predicate over an address: its IP, its service's ClusterIP, or a range. */
export function matcher(e: Endpoint): (ip: number) => boolean {
  if (e.kind === 'range') {
    const [net, len] = e.cidr!.split('/');
    const mask = Number(len) === 0 ? 0 : (0xffffffff << (32 - Number(len))) >>> 0;
    const base = (ipToInt(net!) & mask) >>> 0;
    return (ip) => ((ip & mask) >>> 0) === base;
  }
  const ips = new Set([e.ip, e.clusterIP].filter((x): x is string => !!x).map(ipToInt));
  return (ip) => ips.has(ip);
}

/** Packets in [from, to] (ms) between a and b, either direction. */
export function countBetween(p: PacketTable, from: number, to: number, a: (ip: number) => boolean, b: (ip: number) => boolean): number {
  let c = 0;
  for (let i = 0; i < p.n; i++) {
    const t = p.t[i]!;
    if (t < from || t > to) continue;
    const s = p.src[i]!, d = p.dst[i]!;
    if ((a(s) && b(d)) || (b(s) && a(d))) c++;
  }
  return c;
}

/** Packets in [from, to] with `ip` as source or destination. */
export function countWithIp(p: PacketTable, from: number, to: number, ip: number): number {
  let c = 0;
  for (let i = 0; i < p.n; i++) {
    const t = p.t[i]!;
    if (t >= from && t <= to && (p.src[i] === ip || p.dst[i] === ip)) c++;
  }
  return c;
}

export function loadGroundTruth(dir: string): GroundTruth {
  return JSON.parse(readFileSync(join(dir, 'ground-truth.json'), 'utf8')) as GroundTruth;
}

/** Slack around windows: timestamps come from `date` in the scripts, packets from the kernel. */
export const SLACK_MS = 1500;

/** Every problem found (empty = the ground truth matches the capture). */
export function checkGroundTruth(gt: GroundTruth, p: PacketTable): string[] {
  const problems: string[] = [];
  for (const s of gt.scenarios) {
    const from = Date.parse(s.start) - SLACK_MS, to = Date.parse(s.end) + SLACK_MS;
    const n = countBetween(p, from, to, matcher(s.src), matcher(s.dst));
    if (n === 0) problems.push(`${s.name}: no packet between ${describe(s.src)} and ${describe(s.dst)} in ${s.start} .. ${s.end}`);
  }
  for (const r of gt.ipReuse) {
    const ip = ipToInt(r.ip);
    for (const h of r.holders) {
      const from = Date.parse(h.start), to = h.end ? Date.parse(h.end) : Number.POSITIVE_INFINITY;
      if (countWithIp(p, from, to, ip) === 0) problems.push(`reused ${r.ip}: no packet while ${h.namespace}/${h.pod} held it (${h.start} .. ${h.end ?? 'end'})`);
    }
    for (let i = 1; i < r.holders.length; i++) {
      const prev = r.holders[i - 1]!, cur = r.holders[i]!;
      if (!prev.end || Date.parse(prev.end) > Date.parse(cur.start)) problems.push(`reused ${r.ip}: ${prev.pod} still held it when ${cur.pod} started`);
    }
  }
  return problems;
}

function describe(e: Endpoint): string {
  if (e.kind === 'range') return e.cidr!;
  return `${e.pod ?? e.domain ?? '?'} (${[e.ip, e.clusterIP].filter(Boolean).join(', ')})`;
}
