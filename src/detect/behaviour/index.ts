/**
 * The behaviour Detector: hosts every behaviour sub-detector (those needing
 * no baseline, in detectors/, and the baselines part) behind the pipeline's
 * Detector hooks, and reports their findings through one BehaviourReporter
 * (mutes, threshold overrides, deduplication) into the shared AlertPath.
 *
 * Each sub-detector is a plain object with the hooks it needs; the hook
 * lists are built once, so a packet costs one loop over the detectors that
 * look at packets. Adding one is adding it to `subs` below (or passing it
 * in `opts.extra`).
 */
import type { Flow } from '../../flow/flow.js';
import type { Packet } from '../../decode/packet.js';
import type { AppTx, Direction } from '../../applayer/parser.js';
import type { Counters } from '../../events/stats.js';
import type { Detector } from '../detector.js';
import type { AlertPath } from '../alert.js';
import type { K8sEnricher } from '../../k8s/enrich.js';
import type { HarrierConfig } from '../../sensor/config.js';
import { BehaviourReporter, type Finding } from './report.js';
import { defaultBehaviourConfig, ruleMatches, type BehaviourConfig } from './config.js';
import type { BehaviourContext, SubDetector, SubjectInfo } from './detectors/shared.js';
import { createScan } from './detectors/scan.js';
import { createProbe } from './detectors/probe.js';
import { createWebProbe } from './detectors/web-probe.js';
import { createFlood } from './detectors/flood.js';
import { createBruteforceHttp } from './detectors/bruteforce-http.js';
import { createBruteforceSsh } from './detectors/bruteforce-ssh.js';
import { createBruteforceLogin } from './detectors/bruteforce-login.js';
import { createDnsTunnel } from './detectors/dns-tunnel.js';
import { createIcmpTunnel } from './detectors/icmp-tunnel.js';
import { createBeacon } from './detectors/beacon.js';
import { createP2p } from './detectors/p2p.js';
import { createMining } from './detectors/mining.js';
import { createExfil } from './detectors/exfil.js';
import { createBaselines } from './anomaly.js';

export type { SubDetector, BehaviourContext, SubjectInfo } from './detectors/shared.js';
export type { Finding } from './report.js';
export { SIDS } from './detectors/sids.js';

export interface BehaviourOptions {
  /** Kubernetes identity: findings name workloads instead of addresses. */
  k8s?: K8sEnricher;
  /** Domain a client resolved for a server address (the pipeline's DNS answer table): the baselines name external destinations with it. */
  resolveDomain?(clientIp: string, serverIp: string, tsSec: number): string | undefined;
  /** More sub-detectors (the baselines part, tests); they get the same context. */
  extra?: ((ctx: BehaviourContext, reporter: BehaviourReporter) => SubDetector)[];
}

/** The behaviour Detector, with its reporter exposed (tests, the baselines part). */
export interface BehaviourDetector extends Detector {
  readonly reporter: BehaviourReporter;
  readonly subs: readonly SubDetector[];
}

// ---- internal networks -----------------------------------------------------

interface Net4 {
  net: number;
  mask: number;
}
interface Net6 {
  words: Uint32Array;
  bits: number;
}

function parseV4(a: string): number {
  const p = a.split('.').map(Number);
  return (((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!) >>> 0;
}

function parseV6(a: string): Uint32Array {
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const hs = head ? head.split(':').filter((x) => x !== '') : [];
  const ts = tail ? tail.split(':').filter((x) => x !== '') : [];
  const groups = [...hs, ...new Array<string>(8 - hs.length - ts.length).fill('0'), ...ts].map((g) => parseInt(g, 16) || 0);
  const w = new Uint32Array(4);
  for (let i = 0; i < 4; i++) w[i] = ((groups[2 * i]! << 16) | groups[2 * i + 1]!) >>> 0;
  return w;
}

function internalMatchers(cidrs: readonly string[]): { v4: (ip: number) => boolean; v6: (w: Uint32Array) => boolean } {
  const n4: Net4[] = [];
  const n6: Net6[] = [];
  for (const c of cidrs) {
    const [addr, bitsText] = c.split('/');
    const bits = Number(bitsText);
    if (addr!.includes(':')) n6.push({ words: parseV6(addr!), bits });
    else {
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      n4.push({ net: (parseV4(addr!) & mask) >>> 0, mask });
    }
  }
  return {
    v4: (ip) => {
      for (const n of n4) if (((ip & n.mask) >>> 0) === n.net) return true;
      return false;
    },
    v6: (w) => {
      outer: for (const n of n6) {
        let left = n.bits;
        for (let i = 0; i < 4 && left > 0; i++) {
          const b = Math.min(32, left);
          const mask = b === 32 ? 0xffffffff : (0xffffffff << (32 - b)) >>> 0;
          if (((w[i]! & mask) >>> 0) !== ((n.words[i]! & mask) >>> 0)) continue outer;
          left -= b;
        }
        return true;
      }
      return false;
    },
  };
}

// ---- identity -----------------------------------------------------------------

function identifier(k8s: K8sEnricher | undefined): (ip: string, port: number, ts: number) => SubjectInfo {
  if (k8s === undefined) return (ip) => ({ subject: ip });
  return (ip, port, ts) => {
    const id = k8s.index.lookup(ip, port, ts);
    switch (id.kind) {
      case 'pod': {
        const w = id.workload ? id.workload.name : id.pod;
        return { subject: `${id.namespace}/${w}`, namespace: id.namespace, workload: w, kind: 'pod' };
      }
      case 'service':
        return { subject: `${id.namespace}/service/${id.service}`, namespace: id.namespace, kind: 'service' };
      case 'node':
        return { subject: `node/${id.node}`, kind: 'node' };
      default:
        return { subject: ip };
    }
  };
}

/** The mute policy from config: mutes, then threshold overrides (observed below min-observed is dropped). */
export function mutePolicy(cfg: BehaviourConfig): ((f: Finding) => boolean) | undefined {
  if (cfg.mutes.length === 0 && cfg.overrides.length === 0) return undefined;
  return (f) => {
    for (const m of cfg.mutes) if (ruleMatches(m, f)) return true;
    for (const o of cfg.overrides) {
      if (!ruleMatches(o, f)) continue;
      const v = typeof f.observed === 'number' ? f.observed : Number(f.observed);
      if (Number.isFinite(v) && v < o.minObserved) return true;
    }
    return false;
  };
}

/**
 * The behaviour Detector for a configuration. `cfg` is the whole Harrier
 * configuration (its `behaviour` block is used; defaults when absent) or a
 * behaviour block alone.
 */
export function createBehaviour(cfg: HarrierConfig | BehaviourConfig, alerts: AlertPath, opts: BehaviourOptions = {}): BehaviourDetector {
  const bc: BehaviourConfig = 'detectors' in cfg ? cfg : ((cfg as { behaviour?: BehaviourConfig }).behaviour ?? defaultBehaviourConfig());
  const reporter = new BehaviourReporter(alerts, { dedupeWindowSec: bc.dedupeWindow, mute: mutePolicy(bc) });
  const nets = internalMatchers(bc.internalNetworks);
  const ctx: BehaviourContext = {
    maxTracked: bc.maxTracked,
    identify: identifier(opts.k8s),
    report: (f) => reporter.report(f),
    isInternal4: nets.v4,
    isInternal6: nets.v6,
    beaconIgnorePorts: new Set(bc.beaconIgnorePorts),
  };
  const d = bc.detectors;
  const subs: SubDetector[] = [];
  if (bc.enabled) {
    if (d['scan.vertical'].enabled || d['scan.horizontal'].enabled) subs.push(createScan(ctx, d['scan.vertical'], d['scan.horizontal']));
    if (d['scan.probe'].enabled) subs.push(createProbe(ctx, d['scan.probe']));
    if (d['scan.web'].enabled) subs.push(createWebProbe(ctx, d['scan.web']));
    if (d['flood.syn'].enabled || d['flood.udp'].enabled || d['flood.icmp'].enabled) subs.push(createFlood(ctx, d['flood.syn'], d['flood.udp'], d['flood.icmp']));
    if (d['bruteforce.http'].enabled) subs.push(createBruteforceHttp(ctx, d['bruteforce.http']));
    if (d['bruteforce.ssh'].enabled) subs.push(createBruteforceSsh(ctx, d['bruteforce.ssh']));
    if (d['bruteforce.login'].enabled) subs.push(createBruteforceLogin(ctx, d['bruteforce.login']));
    if (d['dns.tunnel'].enabled) subs.push(createDnsTunnel(ctx, d['dns.tunnel']));
    if (d['icmp.tunnel'].enabled) subs.push(createIcmpTunnel(ctx, d['icmp.tunnel']));
    if (d.beacon.enabled) subs.push(createBeacon(ctx, d.beacon));
    if (d['p2p.bittorrent'].enabled || d['p2p.fanout'].enabled) subs.push(createP2p(ctx, d['p2p.bittorrent'], d['p2p.fanout']));
    if (d['mining.stratum'].enabled) subs.push(createMining(ctx, d['mining.stratum']));
    if (d['exfil.volume'].enabled) subs.push(createExfil(ctx, d['exfil.volume']));
    // Baselines and anomalies (anomaly.ts): settings from behaviour.baseline/anomaly/model, off with `baseline: { enabled: no }`.
    const baselines = createBaselines(ctx, bc.extra, { identity: opts.k8s?.index ?? null, resolveDomain: opts.resolveDomain });
    if (baselines !== null) subs.push(baselines);
    for (const make of opts.extra ?? []) subs.push(make(ctx, reporter));
  }

  const packetSubs = subs.filter((s) => s.packet !== undefined);
  const streamSubs = subs.filter((s) => s.stream !== undefined);
  const txSubs = subs.filter((s) => s.tx !== undefined);
  const endSubs = subs.filter((s) => s.flowEnd !== undefined);
  const tickSubs = subs.filter((s) => s.tick !== undefined);

  const det: BehaviourDetector = {
    name: 'behaviour',
    reporter,
    subs,
    packet(pkt: Packet, flow: Flow | null, dir: Direction): void {
      for (let i = 0; i < packetSubs.length; i++) packetSubs[i]!.packet!(pkt, flow, dir);
    },
    stream(flow: Flow, dir: Direction, buf: Buffer, off: number, len: number): void {
      for (let i = 0; i < streamSubs.length; i++) streamSubs[i]!.stream!(flow, dir, buf, off, len);
    },
    tx(flow: Flow, tx: AppTx): void {
      for (let i = 0; i < txSubs.length; i++) txSubs[i]!.tx!(flow, tx);
    },
    flowEnd(flow: Flow): void {
      for (let i = 0; i < endSubs.length; i++) endSubs[i]!.flowEnd!(flow);
    },
    tick(tsSec: number): void {
      for (let i = 0; i < tickSubs.length; i++) tickSubs[i]!.tick!(tsSec);
      reporter.tick(tsSec);
    },
    finish(): void {
      for (const s of subs) s.finish?.();
      reporter.finish();
    },
    counters(): Counters {
      const out: Counters = { ...reporter.counters() };
      for (const s of subs) if (s.counters) Object.assign(out, s.counters());
      return out;
    },
  };
  return det;
}
