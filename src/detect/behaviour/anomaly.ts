/**
 * Baseline anomalies: learns what each subject (workload, namespace, node, or
 * source IP without Kubernetes identity) normally does and reports, once the
 * learning period is over, what departs from it — as Findings with the
 * observed value beside the baseline:
 *
 * - categorical firsts (at the first packet of a flow, or when the app layer
 *   names it): new internal peer (lateral movement), new external
 *   destination (domain from the DNS answer table, else TLS SNI / HTTP Host,
 *   else the address), new destination or listening port, new app protocol,
 *   new TLS version or JA3;
 * - rate spikes per bucket: connections, bytes out, HTTP requests served,
 *   HTTP 4xx/5xx served (with the worst route), DNS queries and NXDOMAIN
 *   answers. The threshold of a bucket is fixed when it opens (expected
 *   value + max(z·scale, floor)), so a spike is reported the moment the
 *   count crosses it, on the flow or transaction that crossed it, and once
 *   per bucket;
 * - exfiltration: at flow end, outbound bytes to a destination that was new
 *   when the flow started, far above the subject's usual bytes out per bucket;
 * - flow outliers: every ended flow of a subject with a trained model is
 *   scored by its isolation forest (model/); above the threshold the finding
 *   names the features that made it unusual.
 *
 * Learning is global and in packet time: the first `learningSec` seconds the
 * sensor observes (summed over restarts through the state file) only learn.
 * A subject first seen after that is judged at once against its (empty)
 * baseline — a pod that never spoke and starts scanning is exactly what this
 * is for — unless `subjectLearningSec` gives new subjects their own period.
 *
 * Cost: nothing per packet except on a flow's first packet (two identity
 * lookups, a few map probes); per transaction and per flow end a few counter
 * increments and set probes; strings are built per flow, never per packet.
 */
import type { Detector } from '../detector.js';
import type { Flow } from '../../flow/flow.js';
import type { Packet } from '../../decode/packet.js';
import type { AppTx, Direction } from '../../applayer/parser.js';
import type { Counters } from '../../events/stats.js';
import type { AlertSite } from '../alert.js';
import type { Finding } from './report.js';
import type { Identity } from '../../k8s/identity-index.js';
import { HttpTx } from '../../applayer/http/tx.js';
import { DnsTx } from '../../applayer/dns/parser.js';
import { TlsTx } from '../../applayer/tls/tx.js';
import { flowClientIp, flowServerIp } from '../../events/flow-event.js';
import { Cat, CATEGORY_NAMES, CategorySet, hourCounts, NRATES, Rate, RATE_NAMES, RateStat, RouteStat, SubjectBaseline, type SubjectLevel } from './baseline.js';
import { defaultBaselineSettings, parseBaselineSettings, type BaselineSettings } from './baseline-config.js';
import { describeFeature, endpointKeys, peerAlias, FLOW_DIMS, FLOW_FEATURES, flowVector, isPrivate4, isPrivateIp, routeOf, type EndpointKeys } from './features.js';
import { FlowModel } from './model/flow-model.js';
import { readBaselineState, STATE_FORMAT, STATE_VERSION, writeBaselineState, type BaselineStateFile, type SubjectState } from './baseline-store.js';
import { HarrierError } from '../../errors.js';

/** Signature ids (gid HARRIER_GID.BEHAVIOUR, range 100–199 per detectors/sids.ts) and texts of the baseline anomalies. */
export const ANOMALY_SIDS = {
  'anomaly.new_external_destination': { sid: 100, signature: 'HARRIER ANOMALY new external destination for workload', category: 'Potentially Bad Traffic', severity: 3 },
  'anomaly.new_app_protocol': { sid: 101, signature: 'HARRIER ANOMALY new application protocol for workload', category: 'Potentially Bad Traffic', severity: 3 },
  'anomaly.new_port': { sid: 102, signature: 'HARRIER ANOMALY new port for workload', category: 'Potentially Bad Traffic', severity: 3 },
  'anomaly.new_internal_peer': { sid: 103, signature: 'HARRIER ANOMALY new internal peer (possible lateral movement)', category: 'Potentially Bad Traffic', severity: 2 },
  'anomaly.new_tls_fingerprint': { sid: 104, signature: 'HARRIER ANOMALY new TLS version or JA3 for workload', category: 'Potentially Bad Traffic', severity: 3 },
  'anomaly.http_error_rate': { sid: 110, signature: 'HARRIER ANOMALY HTTP error rate above baseline', category: 'Potentially Bad Traffic', severity: 2 },
  'anomaly.http_request_rate': { sid: 111, signature: 'HARRIER ANOMALY HTTP request rate above baseline', category: 'Potentially Bad Traffic', severity: 3 },
  'anomaly.nxdomain_rate': { sid: 112, signature: 'HARRIER ANOMALY DNS NXDOMAIN rate above baseline', category: 'Potentially Bad Traffic', severity: 2 },
  'anomaly.dns_query_rate': { sid: 113, signature: 'HARRIER ANOMALY DNS query rate above baseline', category: 'Potentially Bad Traffic', severity: 3 },
  'anomaly.connection_rate': { sid: 114, signature: 'HARRIER ANOMALY connection rate above baseline', category: 'Potentially Bad Traffic', severity: 3 },
  'anomaly.bytes_out': { sid: 115, signature: 'HARRIER ANOMALY outbound volume above baseline', category: 'Potentially Bad Traffic', severity: 2 },
  'anomaly.exfiltration': { sid: 120, signature: 'HARRIER ANOMALY possible exfiltration (large upload to a new destination)', category: 'Potentially Bad Traffic', severity: 1 },
  'model.flow_outlier': { sid: 130, signature: 'HARRIER ANOMALY flow unlike the workload\'s history (isolation forest)', category: 'Potentially Bad Traffic', severity: 3 },
} as const;
export type AnomalyName = keyof typeof ANOMALY_SIDS;

export interface AnomalyDeps {
  /** Where findings go (the behaviour reporter: mutes, dedupe, alert path). */
  report(f: Finding): void;
  /** Kubernetes identity at a time; without it every internal address is its own subject. */
  identity?: { lookup(ip: string, port: number, t: number): Identity } | null;
  /** Domain the client resolved for the server address (the pipeline's DNS answer table). */
  resolveDomain?(clientIp: string, serverIp: string, tsSec: number): string | undefined;
  /** Address inside the cluster, for addresses without identity (default: private ranges). */
  isInternal?(ip: string): boolean;
}

/** Per-minute floors of the rate alarms (an increase smaller than this never alarms). Infinity: never alarms. */
const FLOOR_PER_MIN: Record<number, number> = {
  [Rate.CONN_OUT]: 30,
  [Rate.CONN_IN]: 60,
  [Rate.BYTES_OUT]: 10_000_000,
  [Rate.BYTES_IN]: Infinity,
  [Rate.HTTP_REQ_OUT]: Infinity,
  [Rate.HTTP_REQ_IN]: 60,
  [Rate.HTTP_4XX]: 10,
  [Rate.HTTP_5XX]: 5,
  [Rate.DNS_QUERY]: 30,
  [Rate.DNS_NXDOMAIN]: 10,
  [Rate.CONN_EXTERNAL]: Infinity,
};
const RATE_DETECTOR: Record<number, AnomalyName> = {
  [Rate.CONN_OUT]: 'anomaly.connection_rate',
  [Rate.CONN_IN]: 'anomaly.connection_rate',
  [Rate.BYTES_OUT]: 'anomaly.bytes_out',
  [Rate.HTTP_REQ_IN]: 'anomaly.http_request_rate',
  [Rate.HTTP_4XX]: 'anomaly.http_error_rate',
  [Rate.HTTP_5XX]: 'anomaly.http_error_rate',
  [Rate.DNS_QUERY]: 'anomaly.dns_query_rate',
  [Rate.DNS_NXDOMAIN]: 'anomaly.nxdomain_rate',
};
const RATE_TEXT: Record<number, string> = {
  [Rate.CONN_OUT]: 'outbound connections',
  [Rate.CONN_IN]: 'inbound connections',
  [Rate.BYTES_OUT]: 'bytes out',
  [Rate.HTTP_REQ_IN]: 'HTTP requests served',
  [Rate.HTTP_4XX]: 'HTTP 4xx',
  [Rate.HTTP_5XX]: 'HTTP 5xx',
  [Rate.DNS_QUERY]: 'DNS queries',
  [Rate.DNS_NXDOMAIN]: 'DNS NXDOMAIN',
};

/** Categorical findings per subject and bucket at most (a scan would otherwise raise one per target); the rest are counted. */
const MAX_NEW_PER_BUCKET = 8;

interface FlowFeat {
  c: EndpointKeys;
  s: EndpointKeys;
  /** Subjects of the client and of the server: [workload, namespace, node], absent ones skipped. */
  cs: SubjectBaseline[];
  ss: SubjectBaseline[];
  extName: string | null;
  extChecked: boolean;
  /** The external destination was new when this flow first used it. */
  newExt: boolean;
  newPeer: boolean;
  protoChecked: boolean;
  portKey: string;
  /** Recent DNS ids per direction (id | qr<<16): a message seen twice (duplicate frames, retransmission) counts once. */
  dnsIds: number[] | null;
}

function copyStat(into: RateStat, a: unknown): void {
  const r = RateStat.fromJSON(a);
  into.n = r.n;
  into.mean = r.mean;
  into.var = r.var;
  into.hourly.set(r.hourly);
}

function hourOf(ts: number): number {
  return Math.floor(ts / 3600) % 24;
}

function fmtRate(perBucket: number, bucketSec: number, bytes: boolean): string {
  const perMin = (perBucket * 60) / bucketSec;
  if (bytes) return perMin >= 1e6 ? `${(perMin / 1e6).toFixed(1)} MB/min` : perMin >= 1e3 ? `${(perMin / 1e3).toFixed(1)} kB/min` : `${Math.round(perMin)} B/min`;
  return `${perMin >= 10 ? Math.round(perMin) : Math.round(perMin * 10) / 10}/min`;
}

function fmtBytes(b: number): string {
  return b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : b >= 1e3 ? `${(b / 1e3).toFixed(1)} kB` : `${b} B`;
}

export class AnomalyEngine implements Detector {
  readonly name = 'behaviour.baseline';
  readonly settings: BaselineSettings;
  private readonly subjects = new Map<string, SubjectBaseline>();
  private readonly flows = new Map<Flow, FlowFeat>();
  /** Subjects with an open bucket. */
  private readonly active = new Set<SubjectBaseline>();
  private readonly vec = new Float64Array(FLOW_DIMS);
  private readonly hourScratch = new Float64Array(24);
  private readonly alpha: number;
  learnedSec = 0;
  learning = true;
  learnEndedAt = -1;
  private lastTick = -1;
  private nextSave = -1;
  private nextRetrain = -1;
  private retrainQueue: FlowModel[] = [];
  private readonly c = {
    flows: 0,
    subjectsDropped: 0,
    newSuppressed: 0,
    flowsScored: 0,
    outliers: 0,
    modelsTrained: 0,
    modelsRefused: 0,
    saves: 0,
    saveErrors: 0,
    stateBytes: 0,
    lateEvents: 0,
  };
  private readonly findings = new Map<string, number>();
  /** Last error writing the state (the sensor keeps running; the counter and this say why). */
  lastSaveError: string | null = null;

  constructor(
    private readonly deps: AnomalyDeps,
    settings: Partial<BaselineSettings> = {},
  ) {
    this.settings = { ...defaultBaselineSettings(), ...settings, model: { ...defaultBaselineSettings().model, ...(settings.model ?? {}) } };
    const s = this.settings;
    this.alpha = 1 - Math.pow(2, -s.bucketSec / s.halfLifeSec);
    if (s.learningSec <= 0) {
      this.learning = false;
      this.learnEndedAt = 0;
    }
    if (s.statePath !== null) {
      const st = readBaselineState(s.statePath);
      if (st !== null) this.restore(st, s.statePath);
    }
  }

  // ---- hooks ---------------------------------------------------------------

  packet(_pkt: Packet, flow: Flow | null, _dir: Direction): void {
    // Only a flow's first packet does work here (pkts is 1 once, for one packet).
    if (flow !== null && flow.pktsToServer + flow.pktsToClient === 1) this.begin(flow);
  }

  tx(flow: Flow, tx: AppTx): void {
    const ff = this.flows.get(flow) ?? this.begin(flow);
    if (ff === null) return;
    const ts = flow.lastSec;
    if (tx instanceof HttpTx) this.httpTx(flow, ff, tx, ts);
    else if (tx instanceof DnsTx) this.dnsTx(flow, ff, tx, ts);
    else if (tx instanceof TlsTx) this.tlsTx(flow, ff, tx, ts);
    if (!ff.protoChecked && flow.appProto !== null) this.checkProto(flow, ff, ts, tx);
  }

  flowEnd(flow: Flow): void {
    const ff = this.flows.get(flow) ?? this.begin(flow);
    if (ff === null) return;
    this.flows.delete(flow);
    const ts = flow.lastSec;
    const site = this.site(flow, ts);
    if (!ff.extChecked) this.checkExternal(flow, ff, ff.s.peer, ts, null);
    if (!ff.protoChecked && flow.appProto !== null) this.checkProto(flow, ff, ts, null);
    const answered = flow.proto === 6 ? (flow.tcpFlagsToClient & 0x12) === 0x12 : (flow.seenDirs & 2) !== 0;
    // Inbound firsts only for connections the server accepted: a scan's refused SYNs do not teach a workload new listening ports.
    if (answered && ff.ss.length > 0) {
      const w = ff.ss[0];
      for (const sb of ff.ss) sb.cats[Cat.PORT_IN].touch(ff.portKey, ts);
      // Inbound peers are learned (features, UI) but not reported: the same first contact is the client's new outbound peer.
      if (!ff.c.external && ff.c.peer !== w.key) for (const sb of ff.ss) sb.cats[Cat.PEER_IN].touch(ff.c.peer, ts);
    }
    for (const sb of ff.cs) {
      this.bump(sb, Rate.BYTES_OUT, flow.bytesToServer, ts, site);
      this.bump(sb, Rate.BYTES_IN, flow.bytesToClient, ts, site);
    }
    for (const sb of ff.ss) {
      this.bump(sb, Rate.BYTES_OUT, flow.bytesToClient, ts, site);
      this.bump(sb, Rate.BYTES_IN, flow.bytesToServer, ts, site);
    }
    if (ff.cs.length > 0 && ff.s.external && ff.newExt) this.checkExfil(flow, ff, ts, site);
    // Only flows the server answered are modelled: refused scan probes and reply-only UDP flows (a DNS answer
    // from a ClusterIP seen without its query) are not a service's traffic.
    if (this.settings.model.enabled && answered) {
      if (ff.cs.length > 0) this.scoreFlow(flow, ff, ff.cs[0], false, ts, site);
      if (ff.ss.length > 0) this.scoreFlow(flow, ff, ff.ss[0], true, ts, site);
    }
  }

  tick(tsSec: number): void {
    const s = this.settings;
    if (this.lastTick >= 0 && tsSec > this.lastTick && this.learning) {
      // A gap (capture paused, files from different days) counts at most one bucket of learning.
      this.learnedSec += Math.min(tsSec - this.lastTick, s.bucketSec);
      if (this.learnedSec >= s.learningSec) this.endLearning(tsSec);
    }
    this.lastTick = tsSec;
    const bucket = Math.floor(tsSec / s.bucketSec);
    for (const sb of this.active) {
      if (sb.curBucket < bucket) {
        this.fold(sb);
        this.active.delete(sb);
      }
    }
    if (!this.learning && this.settings.model.enabled) {
      if (this.nextRetrain < 0) this.nextRetrain = tsSec + s.model.retrainSec;
      else if (tsSec >= this.nextRetrain) {
        this.nextRetrain = tsSec + s.model.retrainSec;
        this.retrainQueue = [];
        for (const sb of this.subjects.values()) for (const m of sb.models.values()) if (m.seen !== m.trainedSeen) this.retrainQueue.push(m);
      }
      // A few models per second: retraining all at once would stall packet processing.
      for (let i = 0; i < 4 && this.retrainQueue.length > 0; i++) {
        if (this.retrainQueue.pop()!.train()) this.c.modelsTrained++;
      }
    }
    if (s.statePath !== null) {
      if (this.nextSave < 0) this.nextSave = tsSec + s.saveIntervalSec;
      else if (tsSec >= this.nextSave) {
        this.nextSave = tsSec + s.saveIntervalSec;
        this.saveQuietly();
      }
    }
  }

  finish(): void {
    for (const sb of this.active) this.fold(sb);
    this.active.clear();
    if (this.settings.statePath !== null) this.saveQuietly();
  }

  // ---- flows -----------------------------------------------------------------

  private begin(flow: Flow): FlowFeat | null {
    this.c.flows++;
    const ts = flow.startSec;
    const cip = flowClientIp(flow);
    const sip = flowServerIp(flow);
    const id = this.deps.identity ?? null;
    const custom = this.deps.isInternal;
    // Only needed without identity; IPv4 is checked on the number (no string split per flow).
    const cin = id !== null ? false : custom ? custom(cip) : flow.ipVersion === 4 ? isPrivate4(flow.client4) : isPrivateIp(cip);
    const sin = id !== null ? false : custom ? custom(sip) : flow.ipVersion === 4 ? isPrivate4(flow.server4) : isPrivateIp(sip);
    const c = endpointKeys(id ? id.lookup(cip, -1, ts) : null, cip, cin);
    const s = endpointKeys(id ? id.lookup(sip, flow.serverPort, ts) : null, sip, sin);
    const proto = flow.proto === 6 ? 'tcp' : flow.proto === 17 ? 'udp' : flow.proto === 1 ? 'icmp' : flow.proto === 58 ? 'icmp6' : `ip${flow.proto}`;
    const ff: FlowFeat = {
      c,
      s,
      cs: this.subjectsOf(c, ts),
      ss: this.subjectsOf(s, ts),
      extName: null,
      extChecked: false,
      newExt: false,
      newPeer: false,
      protoChecked: false,
      portKey: flow.proto === 6 || flow.proto === 17 ? `${proto}/${flow.serverPort}` : proto,
      dnsIds: null,
    };
    if (ff.cs.length === 0 && ff.ss.length === 0) return null;
    this.flows.set(flow, ff);
    const site = this.site(flow, ts);
    for (const sb of ff.cs) {
      this.bump(sb, Rate.CONN_OUT, 1, ts, site);
      if (s.external) this.bump(sb, Rate.CONN_EXTERNAL, 1, ts, site);
    }
    for (const sb of ff.ss) this.bump(sb, Rate.CONN_IN, 1, ts, site);
    if (ff.cs.length > 0) {
      const w = ff.cs[0];
      for (const sb of ff.cs) {
        const fresh = sb.cats[Cat.PORT_OUT].touch(ff.portKey, ts);
        if (fresh && sb === w) this.newValue(w, 'anomaly.new_port', w.key, ts, site, `${w.key}: new destination port ${ff.portKey} (to ${s.peer})`, ff.portKey, sb.cats[Cat.PORT_OUT]);
      }
      if (!s.external && s.peer !== w.key) {
        const alias = peerAlias(s.peer);
        for (const sb of ff.cs) {
          const set = sb.cats[Cat.PEER_OUT];
          const fresh = set.touch(s.peer, ts) && (alias === null || !set.has(alias));
          if (sb === w) ff.newPeer = fresh;
          if (fresh && sb === w) this.newValue(w, 'anomaly.new_internal_peer', `${w.key} -> ${s.peer}`, ts, site, `${w.key}: new internal peer ${s.peer} (${ff.portKey})`, s.peer, sb.cats[Cat.PEER_OUT]);
        }
      }
      if (s.external) {
        const dom = this.deps.resolveDomain?.(cip, sip, ts);
        if (dom !== undefined) this.checkExternal(flow, ff, dom, ts, null);
      }
    }
    return ff;
  }

  private subjectsOf(k: EndpointKeys, ts: number): SubjectBaseline[] {
    const out: SubjectBaseline[] = [];
    if (k.workload === null) return out;
    const lvl: SubjectLevel = k.workload.startsWith('ip:') ? 'ip' : 'workload';
    const w = this.subject(k.workload, lvl, ts);
    if (w === null) return out;
    if (w.ns === undefined && k.ns !== undefined) {
      w.ns = k.ns;
      w.name = k.name;
    }
    out.push(w);
    if (k.namespace !== null) {
      const n = this.subject(k.namespace, 'namespace', ts);
      if (n !== null) out.push(n);
    }
    if (k.node !== null && k.node !== k.workload) {
      const n = this.subject(k.node, 'node', ts);
      if (n !== null) out.push(n);
    }
    return out;
  }

  private subject(key: string, level: SubjectLevel, ts: number): SubjectBaseline | null {
    let sb = this.subjects.get(key);
    if (sb === undefined) {
      if (this.subjects.size >= this.settings.maxSubjects) {
        this.c.subjectsDropped++;
        return null;
      }
      sb = new SubjectBaseline(key, level, this.settings.maxSet);
      sb.firstSeen = ts;
      this.subjects.set(key, sb);
    }
    if (ts > sb.lastSeen) sb.lastSeen = ts;
    return sb;
  }

  private site(flow: Flow, ts: number, tx: AppTx | null = null): AlertSite {
    return { flow, dir: 0, tsSec: ts, tsNsec: 0, tx };
  }

  // ---- app layer -------------------------------------------------------------

  private httpTx(flow: Flow, ff: FlowFeat, tx: HttpTx, ts: number): void {
    const site = this.site(flow, ts, tx);
    if (tx.hasRequest) for (const sb of ff.cs) this.bump(sb, Rate.HTTP_REQ_OUT, 1, ts, site);
    if (ff.s.external && !ff.extChecked && tx.hasRequest) {
      const h = tx.host;
      if (h !== null && h.length > 0) this.checkExternal(flow, ff, h.toString('latin1'), ts, tx);
    }
    if (ff.ss.length === 0) return;
    const w = ff.ss[0];
    let route: RouteStat | null = null;
    if (tx.hasRequest) route = this.route(w, routeOf(tx.uriRaw.toString('latin1')), ts);
    const cls = tx.hasResponse ? Math.floor(tx.status / 100) : 0;
    if (route !== null) {
      route.cur[0]++;
      if (cls === 4) route.cur[1]++;
      else if (cls === 5) route.cur[2]++;
    }
    for (const sb of ff.ss) {
      if (tx.hasRequest) this.bump(sb, Rate.HTTP_REQ_IN, 1, ts, site);
      if (cls === 4) this.bump(sb, Rate.HTTP_4XX, 1, ts, site);
      else if (cls === 5) this.bump(sb, Rate.HTTP_5XX, 1, ts, site);
    }
  }

  private route(sb: SubjectBaseline, r: string, ts: number): RouteStat {
    let rs = sb.routes.get(r);
    const bucket = Math.floor(ts / this.settings.bucketSec);
    if (rs === undefined) {
      if (sb.routes.size >= this.settings.maxRoutes) {
        // Evict the route touched longest ago (a linear scan, only when a new route arrives at a full table).
        let oldK = '';
        let oldT = Infinity;
        for (const [k, v] of sb.routes) if (v.touched < oldT) ((oldT = v.touched), (oldK = k));
        sb.routes.delete(oldK);
        sb.routesEvicted++;
      }
      rs = new RouteStat();
      sb.routes.set(r, rs);
    }
    if (rs.touched !== bucket && rs.touched !== 0) this.foldRoute(rs, sb);
    rs.touched = bucket;
    return rs;
  }

  private foldRoute(rs: RouteStat, sb: SubjectBaseline): void {
    if (rs.touched <= rs.lastBucket) return;
    const a = this.subjectLearning(sb, rs.touched * this.settings.bucketSec) ? 0 : this.alpha;
    const h = hourOf(rs.touched * this.settings.bucketSec);
    rs.req.update(rs.cur[0], a, h);
    rs.e4.update(rs.cur[1], a, h);
    rs.e5.update(rs.cur[2], a, h);
    rs.cur.fill(0);
    rs.lastBucket = rs.touched;
  }

  private dnsTx(flow: Flow, ff: FlowFeat, tx: DnsTx, ts: number): void {
    // The querier is the side a query comes from / an answer goes to.
    const querierIsClient = tx.isResponse ? tx.direction === 1 : tx.direction === 0;
    const subs = querierIsClient ? ff.cs : ff.ss;
    if (subs.length === 0) return;
    const key = tx.message.id | (tx.isResponse ? 0x10000 : 0);
    const ids = (ff.dnsIds ??= []);
    if (ids.includes(key)) return;
    if (ids.length >= 8) ids.shift();
    ids.push(key);
    const site = this.site(flow, ts, tx);
    if (!tx.isResponse) for (const sb of subs) this.bump(sb, Rate.DNS_QUERY, Math.max(1, tx.message.questions.length), ts, site);
    else if (tx.message.rcode === 3) for (const sb of subs) this.bump(sb, Rate.DNS_NXDOMAIN, 1, ts, site);
  }

  private tlsTx(flow: Flow, ff: FlowFeat, tx: TlsTx, ts: number): void {
    if (ff.s.external && !ff.extChecked && tx.data.sni !== null && tx.data.sni !== '') this.checkExternal(flow, ff, tx.data.sni.toLowerCase(), ts, tx);
    if (ff.cs.length === 0) return;
    const w = ff.cs[0];
    const site = this.site(flow, ts, tx);
    if (tx.data.version !== 0) {
      const v = tx.versionString;
      if (w.cats[Cat.TLS_VERSION].touch(v, ts)) this.newValue(w, 'anomaly.new_tls_fingerprint', w.key, ts, site, `${w.key}: new TLS version ${v} (to ${ff.extName ?? ff.s.peer})`, v, w.cats[Cat.TLS_VERSION]);
    }
    const ja3 = tx.ja3Hash;
    if (ja3 !== null && w.cats[Cat.JA3].touch(ja3, ts)) this.newValue(w, 'anomaly.new_tls_fingerprint', w.key, ts, site, `${w.key}: new JA3 ${ja3} (to ${ff.extName ?? ff.s.peer})`, ja3, w.cats[Cat.JA3]);
  }

  private checkExternal(flow: Flow, ff: FlowFeat, name: string, ts: number, tx: AppTx | null): void {
    ff.extChecked = true;
    if (!ff.s.external || ff.cs.length === 0) return;
    ff.extName = name;
    const w = ff.cs[0];
    let fresh = false;
    for (const sb of ff.cs) {
      const f = sb.cats[Cat.EXTERNAL].touch(name, ts);
      if (sb === w) fresh = f;
    }
    ff.newExt = fresh;
    if (fresh) {
      const ip = flowServerIp(flow);
      const shown = name === ip ? name : `${name} (${ip})`;
      this.newValue(w, 'anomaly.new_external_destination', `${w.key} -> ${name}`, ts, this.site(flow, ts, tx), `${w.key}: new external destination ${shown} ${ff.portKey}`, name, w.cats[Cat.EXTERNAL]);
    }
  }

  private checkProto(flow: Flow, ff: FlowFeat, ts: number, tx: AppTx | null): void {
    ff.protoChecked = true;
    const p = flow.appProto;
    if (p === null || p === 'failed' || ff.cs.length === 0) return;
    const w = ff.cs[0];
    let fresh = false;
    for (const sb of ff.cs) {
      const f = sb.cats[Cat.APP_PROTO].touch(p, ts);
      if (sb === w) fresh = f;
    }
    if (fresh) this.newValue(w, 'anomaly.new_app_protocol', w.key, ts, this.site(flow, ts, tx), `${w.key}: new app protocol ${p} (to ${ff.extName ?? ff.s.peer} ${ff.portKey})`, p, w.cats[Cat.APP_PROTO]);
  }

  private checkExfil(flow: Flow, ff: FlowFeat, ts: number, site: AlertSite): void {
    const w = ff.cs[0];
    if (!this.judging(w, ts)) return;
    const out = flow.bytesToServer;
    const s = this.settings;
    const e = w.rates[Rate.BYTES_OUT].expected(hourOf(ts), this.useHour(w), s.minHourSamples);
    const limit = Math.max(s.exfilMinBytes, s.exfilFactor * (e.mean + e.sd));
    if (out < limit) return;
    const dest = ff.extName ?? ff.s.peer;
    this.emit(w, 'anomaly.exfiltration', `${w.key} -> ${dest}`, site, {
      explanation: `${w.key}: ${fmtBytes(out)} sent to new destination ${dest}, baseline ${fmtBytes(Math.round(e.mean))} out per ${s.bucketSec}s`,
      observed: out,
      baseline: Math.round(e.mean),
      unit: 'bytes',
      score: out / Math.max(1, e.mean + e.sd),
      extra: { level: w.level, destination: dest },
    });
  }

  // ---- model -----------------------------------------------------------------

  private scoreFlow(flow: Flow, ff: FlowFeat, w: SubjectBaseline, inbound: boolean, ts: number, site: AlertSite): void {
    if (w.level !== 'workload' && w.level !== 'ip') return;
    // One model per service (direction + transport port): "is this flow unusual for this service?". A
    // workload's flows are multi-modal (DNS, database, HTTP…), and an isolation forest over the mix calls
    // every minority mode an outlier; per service the modes are few and the question is sharper.
    // A new service has no model: the categorical firsts (new port, peer, destination) report it.
    const m = this.model(w, `${inbound ? 'in' : 'out'} ${ff.portKey}`);
    if (m === null) return;
    const v = flowVector(
      {
        bytesOut: inbound ? flow.bytesToClient : flow.bytesToServer,
        bytesIn: inbound ? flow.bytesToServer : flow.bytesToClient,
        pktsOut: inbound ? flow.pktsToClient : flow.pktsToServer,
        pktsIn: inbound ? flow.pktsToServer : flow.pktsToClient,
        durationSec: flow.lastSec - flow.startSec + (flow.lastNsec - flow.startNsec) / 1e9,
        dstPort: flow.serverPort,
        proto: flow.proto,
        appProto: flow.appProto,
        hour: hourOf(ts),
        external: inbound ? ff.c.external : ff.s.external,
        newPeer: !inbound && ff.newPeer,
        inbound,
      },
      this.vec,
    );
    if (m.trained && this.judging(w, ts)) {
      this.c.flowsScored++;
      const score = m.score(v);
      const threshold = Math.max(this.settings.model.threshold, m.calibration + this.settings.model.margin);
      if (score >= threshold) {
        this.c.outliers++;
        const contrib = m.explain(v).filter((x) => x.delta > 0).slice(0, 3);
        const why = contrib.map((x) => `${describeFeature(x.feature, v[x.feature])} (typical ${describeFeature(x.feature, m.median(x.feature)).split('=')[1]}, +${x.delta.toFixed(2)})`);
        const extra: Record<string, string> = { level: w.level };
        for (const x of contrib) extra[`contrib_${FLOW_FEATURES[x.feature]}`] = x.delta.toFixed(3);
        this.emit(w, 'model.flow_outlier', w.key, site, {
          explanation: `${w.key}: unusual ${inbound ? 'inbound' : 'outbound'} flow ${ff.portKey} ${inbound ? 'from' : 'to'} ${inbound ? ff.c.peer : ff.extName ?? ff.s.peer}, score ${score.toFixed(2)} (threshold ${threshold.toFixed(2)}): ${why.join('; ') || 'no single feature'}`,
          observed: Number(score.toFixed(3)),
          baseline: Number(threshold.toFixed(3)),
          unit: 'isolation score',
          score,
          extra,
        });
        return; // an outlier is not learned as normal
      }
    }
    m.add(v);
  }

  private model(sb: SubjectBaseline, service: string): FlowModel | null {
    let m = sb.models.get(service);
    if (m === undefined) {
      const s = this.settings.model;
      if (sb.models.size >= s.maxPerSubject) {
        this.c.modelsRefused++;
        return null;
      }
      m = new FlowModel(FLOW_DIMS, { reservoir: s.reservoir, trees: s.trees, sampleSize: s.sampleSize, seed: s.seed, minTrain: s.minTrain });
      sb.models.set(service, m);
    }
    return m;
  }

  // ---- rates -----------------------------------------------------------------

  private subjectLearning(sb: SubjectBaseline, ts: number): boolean {
    if (this.learning) return true;
    const s = this.settings;
    return s.subjectLearningSec > 0 && sb.firstSeen >= this.learnEndedAt && ts - sb.firstSeen < s.subjectLearningSec;
  }

  private judging(sb: SubjectBaseline, ts: number): boolean {
    return !this.subjectLearning(sb, ts);
  }

  private useHour(sb: SubjectBaseline): boolean {
    return sb.lastSeen - sb.firstSeen >= this.settings.hourlyAfterSec;
  }

  private bump(sb: SubjectBaseline, r: Rate, amount: number, ts: number, site: AlertSite): void {
    const s = this.settings;
    const bucket = Math.floor(ts / s.bucketSec);
    if (sb.curBucket !== bucket) {
      if (sb.curBucket > bucket) this.c.lateEvents++; // counted into the open bucket
      else this.open(sb, bucket, ts);
    }
    const v = (sb.cur[r] += amount);
    if (sb.judged && (sb.fired & (1 << r)) === 0 && v >= sb.thr[r] && s.levels.includes(sb.level)) {
      sb.fired |= 1 << r;
      this.raiseRate(sb, r, v, site);
    }
  }

  private open(sb: SubjectBaseline, bucket: number, ts: number): void {
    if (sb.curBucket >= 0) this.fold(sb);
    const s = this.settings;
    sb.curBucket = bucket;
    sb.cur.fill(0);
    sb.fired = 0;
    sb.newInBucket = 0;
    sb.judged = this.judging(sb, ts);
    this.active.add(sb);
    if (!sb.judged) return;
    const hour = hourOf(ts);
    const useHour = this.useHour(sb);
    for (let i = 0; i < NRATES; i++) {
      const floor = FLOOR_PER_MIN[i];
      if (floor === Infinity) {
        sb.thr[i] = Infinity;
        continue;
      }
      const e = sb.rates[i].expected(hour, useHour, s.minHourSamples);
      const scale = Math.max(e.sd, Math.sqrt(Math.max(0, e.mean)), 1);
      // Floors never drop below a quarter of the per-minute floor, however short the bucket.
      const minDelta = Math.max((floor * s.bucketSec) / 60, floor / 4);
      sb.base[i] = e.mean;
      sb.sd[i] = scale;
      sb.thr[i] = e.mean + Math.max(s.z * scale, minDelta);
    }
  }

  /** Learn the open bucket (and the silent buckets before it). */
  private fold(sb: SubjectBaseline): void {
    const b = sb.curBucket;
    if (b < 0) return;
    const s = this.settings;
    const learn = this.subjectLearning(sb, b * s.bucketSec);
    const a = learn ? 0 : this.alpha;
    if (sb.lastBucket >= 0 && b - sb.lastBucket > 1) {
      const hc = hourCounts(sb.lastBucket + 1, b, s.bucketSec, this.hourScratch);
      for (let i = 0; i < NRATES; i++) sb.rates[i].zeros(b - sb.lastBucket - 1, a, hc);
    }
    const h = hourOf(b * s.bucketSec);
    for (let i = 0; i < NRATES; i++) sb.rates[i].update(sb.cur[i], a, h);
    for (const rs of sb.routes.values()) if (rs.touched === b) this.foldRoute(rs, sb);
    sb.lastBucket = b;
    sb.curBucket = -1;
    sb.cur.fill(0);
  }

  private raiseRate(sb: SubjectBaseline, r: Rate, v: number, site: AlertSite): void {
    const s = this.settings;
    const det = RATE_DETECTOR[r];
    if (det === undefined) return;
    const bytes = r === Rate.BYTES_OUT;
    let extraText = '';
    const extra: Record<string, string> = { level: sb.level, feature: RATE_NAMES[r] };
    if (r === Rate.HTTP_4XX || r === Rate.HTTP_5XX) {
      // Name the route with most errors of this class in the open bucket.
      const k = r === Rate.HTTP_4XX ? 1 : 2;
      let best = '';
      let bestN = 0;
      let bestRs: RouteStat | null = null;
      for (const [route, rs] of sb.routes) if (rs.touched === sb.curBucket && rs.cur[k] > bestN) ((bestN = rs.cur[k]), (best = route), (bestRs = rs));
      if (bestRs !== null) {
        const rb = (k === 1 ? bestRs.e4 : bestRs.e5).mean;
        extraText = ` (route ${best}: ${fmtRate(bestN, s.bucketSec, false)}, baseline ${fmtRate(rb, s.bucketSec, false)})`;
        extra.route = best;
      }
    }
    const z = (v - sb.base[r]) / sb.sd[r];
    const perMin = 60 / s.bucketSec;
    this.emit(sb, det, r === Rate.HTTP_4XX || r === Rate.HTTP_5XX || r === Rate.CONN_IN || r === Rate.CONN_OUT ? `${sb.key} ${RATE_NAMES[r]}` : sb.key, site, {
      explanation: `${sb.key}: ${RATE_TEXT[r]} ${fmtRate(v, s.bucketSec, bytes)}, baseline ${fmtRate(sb.base[r], s.bucketSec, bytes)}${extraText}`,
      observed: Math.round(v * perMin * 10) / 10,
      baseline: Math.round(sb.base[r] * perMin * 100) / 100,
      unit: bytes ? 'bytes/min' : 'per min',
      score: z,
      extra,
    });
  }

  private newValue(sb: SubjectBaseline, det: AnomalyName, subject: string, ts: number, site: AlertSite, explanation: string, value: string, set: CategorySet): void {
    if (!this.judging(sb, ts) || (sb.level !== 'workload' && sb.level !== 'ip')) return;
    if (sb.curBucket === Math.floor(ts / this.settings.bucketSec) && sb.newInBucket >= MAX_NEW_PER_BUCKET) {
      this.c.newSuppressed++;
      return;
    }
    sb.newInBucket++;
    const known = set.map.size - 1;
    this.emit(sb, det, subject, site, {
      explanation: `${explanation}; ${known} known before`,
      observed: value,
      baseline: `${known} known`,
      unit: CATEGORY_NAMES[sb.cats.indexOf(set)] ?? 'value',
      // A first among few known values is more surprising than one among many.
      score: 1 / (1 + Math.log1p(known) / 5),
      extra: { level: sb.level },
    });
  }

  private emit(sb: SubjectBaseline, det: AnomalyName, subject: string, site: AlertSite, f: Pick<Finding, 'explanation' | 'observed' | 'baseline' | 'unit' | 'score' | 'extra'>): void {
    const d = ANOMALY_SIDS[det];
    this.findings.set(det, (this.findings.get(det) ?? 0) + 1);
    const who = sb.ns !== undefined ? { namespace: sb.ns, workload: sb.name } : sb.level === 'namespace' ? { namespace: sb.key.slice(3) } : {};
    this.deps.report({ detector: det, sid: d.sid, signature: d.signature, category: d.category, severity: d.severity, subject, site, ...who, ...f });
  }

  // ---- learning and persistence ----------------------------------------------

  private endLearning(ts: number): void {
    this.learning = false;
    this.learnEndedAt = ts;
    if (this.settings.model.enabled) for (const sb of this.subjects.values()) for (const m of sb.models.values()) if (m.train()) this.c.modelsTrained++;
    this.nextRetrain = ts + this.settings.model.retrainSec;
  }

  /** Whether the subject key has a baseline (tests, API). */
  baselineOf(key: string): SubjectBaseline | undefined {
    return this.subjects.get(key);
  }

  /** A subject's model of one service (`out tcp/5432`). */
  modelOf(key: string, service: string): FlowModel | undefined {
    return this.subjects.get(key)?.models.get(service);
  }

  get subjectCount(): number {
    return this.subjects.size;
  }

  /** The whole state as the file stores it. */
  snapshot(now: number): BaselineStateFile {
    const subjects: SubjectState[] = [];
    for (const sb of this.subjects.values()) {
      const rates: Record<string, number[]> = {};
      for (let i = 0; i < NRATES; i++) rates[RATE_NAMES[i]] = sb.rates[i].toJSON();
      const sets: Record<string, unknown> = {};
      for (let i = 0; i < CATEGORY_NAMES.length; i++) sets[CATEGORY_NAMES[i]] = sb.cats[i].toJSON();
      const st: SubjectState = { key: sb.key, level: sb.level, first_seen: sb.firstSeen, last_seen: sb.lastSeen, last_bucket: sb.lastBucket, rates, sets };
      if (sb.routes.size > 0) {
        st.routes = {};
        for (const [r, rs] of sb.routes) st.routes[r] = { req: rs.req.toJSON(), e4: rs.e4.toJSON(), e5: rs.e5.toJSON(), last_bucket: rs.lastBucket };
      }
      if (sb.models.size > 0) {
        st.models = {};
        for (const [svc, m] of sb.models) if (m.rows > 0) st.models[svc] = { ...m.toJSON(), trained: m.trained };
      }
      subjects.push(st);
    }
    return {
      format: STATE_FORMAT,
      version: STATE_VERSION,
      saved_at: now,
      bucket_sec: this.settings.bucketSec,
      learning: { learned_sec: this.learnedSec, done: !this.learning, ended_at: this.learnEndedAt },
      subjects,
    };
  }

  /** Write the state file now (throws HARRIER_ERR_OUTPUT on failure). */
  save(path = this.settings.statePath): number {
    if (path === null) throw new HarrierError('HARRIER_ERR_USAGE', 'no behaviour state path configured');
    // Open buckets are not folded here (that would split a bucket in two observations at every periodic
    // save); finish() folds them before its save. A crash loses at most the open bucket.
    const n = writeBaselineState(path, this.snapshot(this.lastTick));
    this.c.saves++;
    this.c.stateBytes = n;
    return n;
  }

  private saveQuietly(): void {
    try {
      this.save();
    } catch (err) {
      this.c.saveErrors++;
      this.lastSaveError = err instanceof Error ? err.message : String(err);
    }
  }

  private restore(st: BaselineStateFile, path: string): void {
    if (st.bucket_sec !== this.settings.bucketSec) {
      throw new HarrierError('HARRIER_ERR_BEHAVIOUR_STATE', `behaviour state ${path}: learned with ${st.bucket_sec}s buckets, configured ${this.settings.bucketSec}s (remove the file to relearn)`);
    }
    this.learnedSec = st.learning.learned_sec;
    this.learning = !st.learning.done && this.learnedSec < this.settings.learningSec;
    this.learnEndedAt = this.learning ? -1 : Number.isFinite(st.learning.ended_at) && st.learning.ended_at >= 0 ? st.learning.ended_at : 0;
    const levels: SubjectLevel[] = ['workload', 'namespace', 'node', 'ip'];
    for (const o of st.subjects) {
      if (typeof o !== 'object' || o === null || typeof o.key !== 'string') continue;
      if (this.subjects.size >= this.settings.maxSubjects) {
        this.c.subjectsDropped++;
        continue;
      }
      const lvl = levels.includes(o.level as SubjectLevel) ? (o.level as SubjectLevel) : 'workload';
      const sb = new SubjectBaseline(o.key, lvl, this.settings.maxSet);
      sb.firstSeen = Number(o.first_seen) || 0;
      sb.lastSeen = Number(o.last_seen) || 0;
      sb.lastBucket = Number.isFinite(o.last_bucket) ? o.last_bucket : -1;
      for (let i = 0; i < NRATES; i++) {
        const a = o.rates?.[RATE_NAMES[i]];
        if (a !== undefined) sb.rates[i] = RateStat.fromJSON(a);
      }
      for (let i = 0; i < CATEGORY_NAMES.length; i++) {
        const set = CategorySet.fromJSON(o.sets?.[CATEGORY_NAMES[i]], this.settings.maxSet);
        for (const [k, v] of set.map) sb.cats[i].map.set(k, v);
        sb.cats[i].evicted = set.evicted;
      }
      if (o.routes !== undefined && typeof o.routes === 'object') {
        for (const [r, rs] of Object.entries(o.routes)) {
          if (sb.routes.size >= this.settings.maxRoutes) break;
          const x = new RouteStat();
          copyStat(x.req, rs.req);
          copyStat(x.e4, rs.e4);
          copyStat(x.e5, rs.e5);
          x.lastBucket = Number(rs.last_bucket) || -1;
          x.touched = x.lastBucket;
          sb.routes.set(r, x);
        }
      }
      this.subjects.set(o.key, sb);
      if (o.models !== undefined && typeof o.models === 'object') {
        for (const [svc, ms] of Object.entries(o.models)) {
          if (typeof ms !== 'object' || ms === null || !Array.isArray(ms.rows)) continue;
          const m = this.model(sb, svc);
          if (m === null) break;
          m.load(ms, ms.trained === true && this.settings.model.enabled);
          if (m.trained) this.c.modelsTrained++;
        }
      }
    }
  }

  counters(): Counters {
    let evicted = 0;
    let mem = 0;
    for (const sb of this.subjects.values()) {
      for (const c of sb.cats) evicted += c.evicted;
      mem += sb.memoryBytes;
    }
    let modelMem = 0;
    let models = 0;
    for (const sb of this.subjects.values()) {
      models += sb.models.size;
      for (const m of sb.models.values()) modelMem += m.memoryBytes;
    }
    const out: Counters = {
      'harrier.behaviour.baseline.learning': this.learning ? 1 : 0,
      'harrier.behaviour.baseline.learned_sec': this.learnedSec,
      'harrier.behaviour.baseline.subjects': this.subjects.size,
      'harrier.behaviour.baseline.subjects_dropped': this.c.subjectsDropped,
      'harrier.behaviour.baseline.set_evictions': evicted,
      'harrier.behaviour.baseline.new_suppressed': this.c.newSuppressed,
      'harrier.behaviour.baseline.flows': this.c.flows,
      'harrier.behaviour.baseline.late_events': this.c.lateEvents,
      'harrier.behaviour.baseline.memory_bytes': mem,
      'harrier.behaviour.model.models': models,
      'harrier.behaviour.model.refused': this.c.modelsRefused,
      'harrier.behaviour.model.trained': this.c.modelsTrained,
      'harrier.behaviour.model.flows_scored': this.c.flowsScored,
      'harrier.behaviour.model.outliers': this.c.outliers,
      'harrier.behaviour.model.memory_bytes': modelMem,
      'harrier.behaviour.baseline.state_saves': this.c.saves,
      'harrier.behaviour.baseline.state_save_errors': this.c.saveErrors,
      'harrier.behaviour.baseline.state_bytes': this.c.stateBytes,
    };
    for (const [d, n] of this.findings) out[`harrier.behaviour.baseline.findings.${d}`] = n;
    return out;
  }
}

/**
 * The baselines part as a behaviour sub-detector: settings from the raw
 * `behaviour.baseline` / `anomaly` / `model` blocks (`extra` of config.ts),
 * findings through the behaviour context (mutes, overrides, dedupe).
 * `baseline: { enabled: no }` turns it off (returns null).
 */
export function createBaselines(
  ctx: { report(f: Finding): void },
  extra: Record<string, unknown>,
  deps: Omit<AnomalyDeps, 'report'> = {},
  warnings: string[] = [],
): AnomalyEngine | null {
  const raw = (extra.baseline ?? extra.baselines) as Record<string, unknown> | undefined;
  if (raw !== undefined && raw !== null && typeof raw === 'object' && (raw.enabled === false || raw.enabled === 'no')) return null;
  const rest = raw !== undefined && raw !== null && typeof raw === 'object' ? Object.fromEntries(Object.entries(raw).filter(([k]) => k !== 'enabled')) : raw;
  const settings = parseBaselineSettings({ ...extra, baseline: rest, baselines: undefined }, warnings);
  return new AnomalyEngine({ ...deps, report: (f) => ctx.report(f) }, settings);
}
