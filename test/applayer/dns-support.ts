/**
 * Test helpers for the DNS parser: run the parser declarations over the UDP
 * and TCP conversations of a capture (payloads extracted by tshark at test
 * time, never stored in the repository) and collect transactions and events.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppParserContext, AppTx, Direction } from '../../src/applayer/parser.js';
import { Probe } from '../../src/applayer/parser.js';
import { dnsParser, dnsTcpParser } from '../../src/applayer/dns/index.js';
import type { DnsTx } from '../../src/applayer/dns/parser.js';

export class Collect implements AppParserContext {
  readonly txs: AppTx[] = [];
  readonly events: string[] = [];
  abandoned: string | null = null;
  tx(t: AppTx): void {
    this.txs.push(t);
  }
  event(name: string): void {
    this.events.push(name);
  }
  abandon(reason: string): void {
    this.abandoned = reason;
  }
}

export interface CapturedDns {
  /** Every transaction of every DNS flow, in capture order of completion. */
  txs: { tx: DnsTx; client: string; transport: 'udp' | 'tcp'; frame: number }[];
  events: string[];
}

export interface Row {
  frame: number;
  ts: number;
  src: string;
  dst: string;
  proto: 'udp' | 'tcp';
  sport: number;
  dport: number;
  payload: Buffer;
}

const FIELDS = ['frame.interface_id', 'frame.number', 'frame.time_epoch', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst',
  'udp.srcport', 'udp.dstport', 'udp.payload', 'tcp.srcport', 'tcp.dstport', 'tcp.payload'];

function tsharkRows(pcap: string): { iface: number; row: Row }[] {
  const args = ['-r', pcap, '-n', '-Y', 'udp || (tcp && tcp.len > 0)', '-T', 'fields', '-E', 'separator=/t'];
  for (const f of FIELDS) args.push('-e', f);
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  const rows: { iface: number; row: Row }[] = [];
  for (const line of (r.stdout ?? '').split('\n')) {
    if (line === '') continue;
    const c = line.split('\t');
    const first = (s: string | undefined): string => (s ?? '').split(',')[0];
    const src = first(c[3]) || first(c[5]);
    const dst = first(c[4]) || first(c[6]);
    const udp = c[7] !== '';
    const payload = Buffer.from(first(udp ? c[9] : c[12]).replace(/:/g, ''), 'hex');
    rows.push({
      iface: Number(c[0]),
      row: {
        frame: Number(c[1]), ts: Number(c[2]), src, dst, proto: udp ? 'udp' : 'tcp',
        sport: Number(first(udp ? c[7] : c[10])), dport: Number(first(udp ? c[8] : c[11])), payload,
      },
    });
  }
  return rows;
}

/** Extract UDP datagrams and TCP segments with payload, in frame order. */
export function captureRows(pcap: string): Row[] {
  return tsharkRows(pcap).map((r) => r.row);
}

/**
 * captureRows for many captures with ONE tshark run (its start-up costs
 * ~0.6 s of CPU): the inputs are concatenated with `mergecap -a -I none`, so
 * each keeps its own interface and `frame.interface_id` says which file a
 * frame came from. Falls back to one run per file when an input has several
 * interfaces or cannot be merged.
 */
export function captureRowsMany(pcaps: readonly string[]): Row[][] {
  const perFile = (): Row[][] => pcaps.map((p) => captureRows(p));
  const dir = mkdtempSync(join(tmpdir(), 'harrier-dns-'));
  try {
    const merged = join(dir, 'merged.pcapng');
    const m = spawnSync('mergecap', ['-a', '-I', 'none', '-F', 'pcapng', '-w', merged, ...pcaps], { encoding: 'utf8' });
    if (m.status !== 0) return perFile();
    const info = spawnSync('capinfos', ['-I', merged], { encoding: 'utf8' }).stdout ?? '';
    const ifaces = /Number of interfaces in file:\s*(\d+)/.exec(info);
    if (ifaces === null || Number(ifaces[1]) !== pcaps.length) return perFile();
    const out: Row[][] = pcaps.map(() => []);
    for (const r of tsharkRows(merged)) out[r.iface]?.push(r.row);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Run the DNS declarations over the capture as the pipeline would: a flow is
 * DNS when a port is 53 or the probe says YES on its first payload; its
 * client is the sender of the first packet.
 */
export function runDnsOverCapture(pcap: string, rows: readonly Row[] = captureRows(pcap)): CapturedDns {
  const out: CapturedDns = { txs: [], events: [] };
  const flows = new Map<string, { client: string; cport: number; ctx: Collect; state: unknown; decl: typeof dnsParser | null; seen: number }>();
  for (const r of rows) {
    const a = `${r.src}|${r.sport}`;
    const b = `${r.dst}|${r.dport}`;
    const key = `${r.proto} ${a < b ? a + ' ' + b : b + ' ' + a}`;
    let f = flows.get(key);
    if (f === undefined) {
      const decl = r.proto === 'udp' ? dnsParser : dnsTcpParser;
      const isDns = r.sport === 53 || r.dport === 53 || decl.probe(0, r.payload, 0, r.payload.length) === Probe.YES;
      const ctx = new Collect();
      f = { client: r.src, cport: r.sport, ctx, state: isDns ? decl.create(ctx) : null, decl: isDns ? decl : null, seen: 0 };
      flows.set(key, f);
    }
    if (f.decl === null) continue;
    const dir: Direction = r.src === f.client && r.sport === f.cport ? 0 : 1;
    const before = f.ctx.txs.length;
    (f.decl.parse as (s: unknown, d: Direction, b: Buffer, o: number, l: number, t: number) => void)(f.state, dir, r.payload, 0, r.payload.length, r.ts);
    for (let i = before; i < f.ctx.txs.length; i++) {
      out.txs.push({ tx: f.ctx.txs[i] as DnsTx, client: f.client, transport: r.proto, frame: r.frame });
    }
  }
  for (const f of flows.values()) out.events.push(...f.ctx.events);
  return out;
}

/** Value at a Suricata-verify style path (`dns.answers[0].rdata`, `dns.grouped.A[1]`). */
export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    const m = /^([^[]+)((?:\[\d+\])*)$/.exec(part);
    if (m === null) return undefined;
    cur = (cur as Record<string, unknown> | undefined)?.[m[1]];
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) cur = (cur as unknown[] | undefined)?.[Number(idx[1])];
    if (cur === undefined) return undefined;
  }
  return cur;
}
