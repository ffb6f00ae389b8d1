/**
 * Time-aware identity index: IP (+ server port) at time t → who held it.
 *
 * In a cluster an address means something only for a while: a pod holds its
 * IP from creation until deletion, a completed Job pod gives it back without
 * ever being deleted, and the address is soon handed to another pod. So the
 * index keeps, per IP, the holders sorted by start time, and a lookup takes
 * the LAST holder that started at or before t — a later pod with the same IP
 * takes over from its own start, whatever grace the earlier one still had —
 * and checks t against that holder's end.
 *
 * It is fed with the same events a watch delivers (`upsert(obj, at)`,
 * `remove(obj, at)`, `at` in seconds), so the offline snapshot loader
 * (snapshot.ts) and a live watcher share it. Objects are Kubernetes JSON as
 * the API serves it; malformed ones are counted per cause (`problems`), the
 * first of each cause reported through `onProblem`, and never throw.
 *
 * Resolution order for (ip, port, t): pod (not hostNetwork) → service
 * ClusterIP → hostNetwork pod listening on `port` on that address → node
 * address (also a hostNetwork pod's address when its Node object is absent)
 * → kind `service` without a name inside a configured service CIDR →
 * `unknown` if the address lies inside the cluster's ranges (node podCIDRs,
 * configured `internalCidrs`) or the index is not `complete` (a live source
 * still listing), else `external`.
 *
 * Cost: IPv4 addresses live in an open-addressing table over typed arrays
 * (ipv4-table.ts) whose slot holds the address, the interval of its single
 * holder and that holder's cached frozen identity, so most lookups are one
 * probe, a time check on the same cache line and no allocation; addresses
 * with several holders take a binary search over their holders. Measured on
 * the shared 2-core machine under load average 7–23 (bench/k8s.bench.ts;
 * 100k pods, 5k services, 200 nodes, random order, answer's `.kind` read):
 * before, with a Map<string> per kind, 0.6 M lookups per CPU-second; now
 * 3.3–4.8 M per CPU-second through `lookupV4`, 1.1–1.4× a bare
 * Map<string>.get of the same keys measured alongside (2.4–4.2 M); a
 * pods-only probe reaches 5.2–6.3 M, and 14–18 M without touching the
 * answer (the remaining cost is the cache miss on the identity object).
 * Pod identities share one hidden class (see podIdentity). Memory: ~1.1 KB per pod (labels
 * and the kept JSON included); `maxPods` bounds it — beyond it the
 * longest-ended pods are evicted (counted) — and `stats()` reports an
 * estimate.
 */
import { canonicalIp } from '../applayer/dns/address.js';
import { Ipv4Table, parseIpv4 } from './ipv4-table.js';
import { arr, controllerRef, isObject, obj, parseTime, str, stringMap, type JsonObject, type OwnerRef } from './objects.js';

export interface WorkloadRef {
  readonly kind: string;
  readonly name: string;
  /** Present (true) when the name was inferred (e.g. a ReplicaSet's Deployment from its name and pod-template-hash). */
  readonly inferred?: boolean;
}

export interface PodIdentity {
  readonly kind: 'pod';
  readonly namespace: string;
  readonly pod: string;
  readonly uid: string;
  /** Top controller (Deployment, StatefulSet, DaemonSet, CronJob, Job, ReplicaSet…); absent for a bare or static pod. */
  readonly workload?: WorkloadRef;
  readonly labels: Readonly<Record<string, string>>;
  readonly service_account?: string;
  readonly node?: string;
  readonly host_network: boolean;
}
export interface NodeIdentity {
  readonly kind: 'node';
  readonly node: string;
}
export interface ServiceIdentity {
  readonly kind: 'service';
  /** Absent (with `service`) for an address inside a configured service CIDR that no Service explains. */
  readonly namespace?: string;
  readonly service?: string;
}
export interface ExternalIdentity {
  readonly kind: 'external';
  readonly domain?: string;
}
export interface UnknownIdentity {
  readonly kind: 'unknown';
}
export type Identity = PodIdentity | NodeIdentity | ServiceIdentity | ExternalIdentity | UnknownIdentity;

export const EXTERNAL: ExternalIdentity = Object.freeze({ kind: 'external' });
export const UNKNOWN: UnknownIdentity = Object.freeze({ kind: 'unknown' });
/** An address in a service CIDR that no known Service holds (a Service created before the watch started and missed, or a deleted one). */
export const UNKNOWN_SERVICE: ServiceIdentity = Object.freeze({ kind: 'service' });

export interface IdentityIndexOptions {
  /** Seconds a deleted (or completed) pod still holds its IP unless a new pod takes it. Default 30. */
  readonly graceSec?: number;
  /** CIDRs inside the cluster besides node podCIDRs (e.g. the service range `10.96.0.0/12`): unexplained addresses there are `unknown`, not `external`. IPv4 only. */
  readonly internalCidrs?: readonly string[];
  /** Service CIDRs (e.g. `10.96.0.0/12`): an unexplained address there is kind `service` without a name, not `external`. IPv4 only. */
  readonly serviceCidrs?: readonly string[];
  /** Most pods kept; beyond it the pods that ended longest ago are evicted. Default 200000. */
  readonly maxPods?: number;
  /** Most holders kept per address; beyond it the earliest-ended pod interval is dropped. Default 16. */
  readonly maxIntervalsPerIp?: number;
  /** `prune(now)` drops pods that ended more than this many seconds before `now`. Default 3600. */
  readonly horizonSec?: number;
  /** Called once per distinct problem cause with a one-line message. */
  readonly onProblem?: (cause: string, message: string) => void;
}

/** Fast-slot tag of a service or node (identity never rebuilt). */
const FAST_STATIC = -1;

/** Kinds whose objects are kept to resolve a pod's owners up the chain. */
const OWNER_KINDS = new Set(['ReplicaSet', 'Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob']);
/** Kinds accepted and ignored (nothing to index yet). */
const PASSIVE_KINDS = new Set(['Namespace', 'EndpointSlice', 'Endpoints']);

/** One holder of an address: a pod, a service or a node, over [start, end). */
class Holder {
  identity: Identity;
  gen = -1;
  constructor(
    readonly uid: string,
    public start: number,
    public end: number,
    identity: Identity,
    public ips: string[],
    /** hostNetwork pods: the ports they listen on (containerPort and hostPort). */
    public ports: number[] | null,
    /** Pods: the object, to (re)build the identity when owners change. */
    public src: JsonObject | null,
  ) {
    this.identity = identity;
  }
}

function sortedInsert(list: Holder[], h: Holder): void {
  let i = list.length;
  while (i > 0 && list[i - 1].start > h.start) i--;
  list.splice(i, 0, h);
}

/** Everything held on one address, by kind (null: none). */
class AddrEntry {
  pods: Holder[] | null = null;
  hostPods: Holder[] | null = null;
  services: Holder[] | null = null;
  nodes: Holder[] | null = null;
  empty(): boolean {
    return this.pods === null && this.hostPods === null && this.services === null && this.nodes === null;
  }
}
type ListKey = 'pods' | 'hostPods' | 'services' | 'nodes';

/** The last holder with start <= t, if t is before its end. */
function findAt(list: Holder[], t: number): Holder | undefined {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid].start <= t) lo = mid + 1;
    else hi = mid;
  }
  if (lo === 0) return undefined;
  const h = list[lo - 1];
  return t < h.end ? h : undefined;
}

const ipv4Number = parseIpv4;

interface Cidr4 {
  base: number;
  size: number;
}

function parseCidr4(text: string): Cidr4 | undefined {
  const [ip, lenText] = text.split('/');
  const base = ipv4Number(ip);
  const len = Number(lenText);
  if (base < 0 || !Number.isInteger(len) || len < 0 || len > 32) return undefined;
  const size = 2 ** (32 - len);
  return { base: base - (base % size), size };
}

function normIp(ip: string): string {
  return ip.includes(':') ? canonicalIp(ip) : ip;
}

export interface IdentityIndexStats {
  pods: number;
  hostNetworkPods: number;
  services: number;
  nodes: number;
  owners: number;
  addresses: number;
  evicted: number;
  /** Pod intervals dropped by the per-address cap (`maxIntervalsPerIp`). */
  intervalsDropped: number;
  /** Pods dropped by `prune` (history horizon). */
  pruned: number;
  /** Rough bytes held (measured average per object, see the module comment). */
  approxBytes: number;
  problems: Record<string, number>;
}

export class IdentityIndex {
  readonly graceSec: number;
  readonly maxPods: number;
  private readonly onProblem: ((cause: string, message: string) => void) | undefined;
  /** IPv4 addresses by number (the fast path), IPv6 by canonical text. */
  private readonly v4 = new Ipv4Table<AddrEntry, Identity>(4096);
  private readonly v6 = new Map<string, AddrEntry>();
  private readonly pods = new Map<string, Holder>();
  private readonly services = new Map<string, Holder>();
  private readonly nodes = new Map<string, Holder>();
  /** `ns/Kind/name` → owner object's own controller reference (or null: top). */
  private readonly owners = new Map<string, OwnerRef | null>();
  private readonly ownerUids = new Map<string, string>();
  private readonly cidrs: Cidr4[] = [];
  private readonly serviceCidrs: Cidr4[] = [];
  /** Flattened [base, size, base, size, …] of internal, node and service ranges for the lookup's range checks. */
  private internalRanges: Float64Array = new Float64Array(0);
  private serviceRanges: Float64Array = new Float64Array(0);
  readonly maxIntervalsPerIp: number;
  readonly horizonSec: number;
  private intervalsDropped = 0;
  private pruned = 0;
  private readonly nodeCidrs = new Map<string, Cidr4[]>();
  private readonly nodeIdentities = new Map<string, NodeIdentity>();
  /** Bumped when owners change; pod identities are rebuilt lazily. */
  private ownerGen = 0;
  private evicted = 0;
  /** Problems by cause (malformed objects, missing fields). */
  readonly problems = new Map<string, number>();
  /** Bumped on every change (the enricher's cache is valid for one generation). */
  generation = 0;
  /**
   * False while a live source has not completed its initial list (API server
   * down or slow): an address nothing explains is then `unknown`, not
   * `external` — the index cannot tell it is not a pod.
   */
  complete = true;

  constructor(opts: IdentityIndexOptions = {}) {
    this.graceSec = opts.graceSec ?? 30;
    this.maxPods = Math.max(1, opts.maxPods ?? 200_000);
    this.maxIntervalsPerIp = Math.max(2, opts.maxIntervalsPerIp ?? 16);
    this.horizonSec = Math.max(0, opts.horizonSec ?? 3600);
    this.onProblem = opts.onProblem;
    for (const c of opts.internalCidrs ?? []) {
      const p = parseCidr4(c);
      if (p) this.cidrs.push(p);
      else this.problem('config.bad_cidr', `not an IPv4 CIDR: ${c}`);
    }
    for (const c of opts.serviceCidrs ?? []) {
      const p = parseCidr4(c);
      if (p) this.serviceCidrs.push(p);
      else this.problem('config.bad_cidr', `not an IPv4 CIDR: ${c}`);
    }
    this.rebuildRanges();
  }

  private rebuildRanges(): void {
    const internal: Cidr4[] = [...this.cidrs];
    for (const list of this.nodeCidrs.values()) internal.push(...list);
    this.internalRanges = mergeRanges(internal);
    this.serviceRanges = mergeRanges(this.serviceCidrs);
  }

  private entry(ip: string, create: true): AddrEntry;
  private entry(ip: string, create: false): AddrEntry | undefined;
  private entry(ip: string, create: boolean): AddrEntry | undefined {
    const n = ipv4Number(ip);
    let e = n >= 0 ? this.v4.get(n) : this.v6.get(ip);
    if (!e && create) {
      e = new AddrEntry();
      if (n >= 0) this.v4.set(n, e);
      else this.v6.set(ip, e);
    }
    return e;
  }

  private addTo(key: ListKey, ip: string, h: Holder): void {
    const e = this.entry(ip, true);
    let list = e[key];
    if (list === null) e[key] = list = [];
    sortedInsert(list, h);
    this.refreshFast(ip, e);
    if (key === 'pods' && list.length > this.maxIntervalsPerIp) {
      // Bound per address: drop the interval that ended earliest (never a still-running pod).
      let victim = -1;
      for (let i = 0; i < list.length; i++) if (Number.isFinite(list[i].end) && (victim < 0 || list[i].end < list[victim].end)) victim = i;
      if (victim >= 0) {
        list.splice(victim, 1);
        this.intervalsDropped++;
        this.refreshFast(ip, e);
      }
    }
  }

  private removeFrom(key: ListKey, ip: string, h: Holder): void {
    const e = this.entry(ip, false);
    if (!e) return;
    const list = e[key];
    if (list === null) return;
    const i = list.indexOf(h);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) e[key] = null;
    if (e.empty()) {
      const n = ipv4Number(ip);
      if (n >= 0) this.v4.delete(n);
      else this.v6.delete(ip);
    } else this.refreshFast(ip, e);
  }

  /**
   * Keeps the IPv4 table's single-holder summary of `ip` in step with its
   * entry: when exactly one pod (not hostNetwork), service or node holds the
   * address, lookups answer from the summary's [start, end) without walking
   * the entry. Called after every change to an entry or a holder's interval.
   */
  private refreshFast(ip: string, e: AddrEntry, num = -1): void {
    const n = num >= 0 ? num : ipv4Number(ip);
    if (n < 0) return;
    let single: Holder | null = null;
    let lists = 0;
    if (e.pods !== null) (lists++, (single = e.pods.length === 1 ? e.pods[0] : null));
    if (e.services !== null) (lists++, (single = e.services.length === 1 ? e.services[0] : null));
    if (e.nodes !== null) (lists++, (single = e.nodes.length === 1 ? e.nodes[0] : null));
    if (e.hostPods !== null) lists++;
    if (lists !== 1 || single === null) this.v4.setFast(n, null, 0, 0, 0);
    // Services and nodes: a fixed identity (tag -1). Pods: tag 1 + the owner generation their identity was built at.
    else if (single.src === null) this.v4.setFast(n, single.identity, single.start, single.end, FAST_STATIC);
    else this.v4.setFast(n, this.podIdentity(single), single.start, single.end, this.ownerGen + 1);
  }

  /** After a holder's end moved (a deletion): re-summarise its addresses. */
  private intervalChanged(h: Holder): void {
    for (const ip of h.ips) {
      const e = this.entry(ip, false);
      if (e) this.refreshFast(ip, e);
    }
  }

  private unindexPod(h: Holder): void {
    for (const ip of h.ips) {
      this.removeFrom('pods', ip, h);
      this.removeFrom('hostPods', ip, h);
    }
  }

  /**
   * Drops pods that ended more than `horizonSec` before `now` (seconds): the
   * history a live sensor keeps to attribute late-processed packets. Returns
   * how many were dropped (also counted in stats().pruned).
   */
  prune(now: number): number {
    const limit = now - this.horizonSec;
    let n = 0;
    for (const h of this.pods.values()) {
      if (h.end < limit) {
        this.pods.delete(h.uid);
        this.unindexPod(h);
        n++;
      }
    }
    if (n > 0) this.generation++;
    this.pruned += n;
    return n;
  }

  /** Counts a problem; the first of each cause goes to `onProblem`. */
  problem(cause: string, message: string): void {
    const n = (this.problems.get(cause) ?? 0) + 1;
    this.problems.set(cause, n);
    if (n === 1) this.onProblem?.(cause, message);
  }

  /** Adds or updates one object (watch ADDED/MODIFIED; a snapshot item) observed at `at` seconds (NaN: unknown). */
  upsert(o: unknown, at: number = NaN): void {
    if (!isObject(o)) return this.problem('object.not_an_object', 'a list item is not a JSON object');
    const kind = str(o, 'kind');
    if (!kind) return this.problem('object.no_kind', 'an object has no kind');
    this.generation++;
    switch (kind) {
      case 'Pod':
        return this.upsertPod(o, at);
      case 'Service':
        return this.upsertService(o);
      case 'Node':
        return this.upsertNode(o);
      default:
        if (OWNER_KINDS.has(kind)) return this.upsertOwner(o, kind);
        if (!PASSIVE_KINDS.has(kind)) this.problem(`object.kind_ignored.${kind}`, `objects of kind ${kind} are ignored`);
    }
  }

  /** Removes one object (watch DELETED) at `at` seconds: a pod keeps its IP until at + grace unless taken over. */
  remove(o: unknown, at: number): void {
    if (!isObject(o)) return this.problem('object.not_an_object', 'a deleted item is not a JSON object');
    const kind = str(o, 'kind');
    const uid = str(obj(o, 'metadata'), 'uid');
    this.generation++;
    if (kind === 'Pod' && uid) {
      const h = this.pods.get(uid);
      if (h) {
        h.end = Math.min(h.end, (Number.isFinite(at) ? at : h.start) + this.graceSec);
        this.intervalChanged(h);
      }
    } else if (kind === 'Service' && uid) {
      const h = this.services.get(uid);
      if (h && Number.isFinite(at)) {
        h.end = Math.min(h.end, at);
        this.intervalChanged(h);
      }
    } else if (kind === 'Node') {
      const name = str(obj(o, 'metadata'), 'name');
      const h = name ? this.nodes.get(name) : undefined;
      if (h && Number.isFinite(at)) {
        h.end = Math.min(h.end, at);
        this.intervalChanged(h);
      }
    }
    // Owners stay known after deletion: a pod that outlived its ReplicaSet still belongs to the Deployment.
  }

  private upsertPod(o: JsonObject, at: number): void {
    const meta = obj(o, 'metadata');
    const spec = obj(o, 'spec');
    const status = obj(o, 'status');
    const uid = str(meta, 'uid');
    const name = str(meta, 'name');
    const namespace = str(meta, 'namespace');
    if (!uid || !name || !namespace) return this.problem('pod.no_identity', 'a pod lacks metadata.uid, name or namespace');
    const ips: string[] = [];
    for (const e of arr(status, 'podIPs') ?? []) {
      const ip = str(e, 'ip');
      if (ip) ips.push(normIp(ip));
    }
    const single = str(status, 'podIP');
    if (single && !ips.includes(normIp(single))) ips.push(normIp(single));
    const hostNetwork = isObject(spec) && spec.hostNetwork === true;

    let start = parseTime(str(meta, 'creationTimestamp'));
    if (!Number.isFinite(start)) start = parseTime(str(status, 'startTime'));
    if (!Number.isFinite(start)) {
      this.problem('pod.no_start_time', `pod ${namespace}/${name} has no creationTimestamp or startTime`);
      start = Number.isFinite(at) ? at : -Infinity;
    }
    let end = Infinity;
    const deletion = parseTime(str(meta, 'deletionTimestamp'));
    if (Number.isFinite(deletion)) end = deletion + this.graceSec;
    const phase = str(status, 'phase');
    if (phase === 'Succeeded' || phase === 'Failed') {
      const stopped = terminalTime(status, at);
      if (Number.isFinite(stopped)) end = Math.min(end, stopped + this.graceSec);
      else this.problem('pod.no_terminal_time', `completed pod ${namespace}/${name} says nothing of when it stopped; it holds its IP until taken over`);
    }

    const ports: number[] = [];
    if (hostNetwork) {
      for (const c of [...(arr(spec, 'containers') ?? []), ...(arr(spec, 'initContainers') ?? [])]) {
        for (const p of arr(c, 'ports') ?? []) {
          if (!isObject(p)) continue;
          for (const k of ['containerPort', 'hostPort']) {
            const v = p[k];
            if (typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 65536 && !ports.includes(v)) ports.push(v);
          }
        }
      }
    }

    let h = this.pods.get(uid);
    const byIp: ListKey = hostNetwork ? 'hostPods' : 'pods';
    if (h) {
      this.unindexPod(h);
      // IPs are kept once learned: a later update of a terminated pod may drop status.podIP.
      const keep = ips.length > 0 ? ips : h.ips;
      h.start = Math.min(h.start, start);
      h.end = end;
      h.ips = keep;
      h.ports = hostNetwork ? ports : null;
      h.src = o;
      h.gen = -1;
    } else {
      if (this.pods.size >= this.maxPods) this.evict();
      h = new Holder(uid, start, end, UNKNOWN, ips, hostNetwork ? ports : null, o);
      this.pods.set(uid, h);
    }
    if (h.ips.length === 0 && phase === 'Running') this.problem('pod.no_ip', `running pod ${namespace}/${name} has no podIP`);
    for (const ip of h.ips) this.addTo(byIp, ip, h);
  }

  /** Drops the tenth of pods that ended longest ago (memory bound). */
  private evict(): void {
    const ended = [...this.pods.values()].filter((h) => Number.isFinite(h.end)).sort((a, b) => a.end - b.end);
    const n = Math.max(1, Math.floor(this.maxPods / 10));
    const victims = ended.length > 0 ? ended.slice(0, n) : [...this.pods.values()].slice(0, 1);
    for (const h of victims) {
      this.pods.delete(h.uid);
      this.unindexPod(h);
      this.evicted++;
    }
  }

  private upsertService(o: JsonObject): void {
    const meta = obj(o, 'metadata');
    const spec = obj(o, 'spec');
    const uid = str(meta, 'uid') ?? `${str(meta, 'namespace')}/${str(meta, 'name')}`;
    const name = str(meta, 'name');
    const namespace = str(meta, 'namespace');
    if (!name || !namespace) return this.problem('service.no_identity', 'a service lacks metadata.name or namespace');
    const ips: string[] = [];
    for (const ip of arr(spec, 'clusterIPs') ?? []) if (typeof ip === 'string' && ip !== 'None' && ip !== '') ips.push(normIp(ip));
    const one = str(spec, 'clusterIP');
    if (one && one !== 'None' && !ips.includes(normIp(one))) ips.push(normIp(one));
    let start = parseTime(str(meta, 'creationTimestamp'));
    if (!Number.isFinite(start)) start = -Infinity;
    const deletion = parseTime(str(meta, 'deletionTimestamp'));
    const ident: ServiceIdentity = Object.freeze({ kind: 'service', namespace, service: name });
    const old = this.services.get(uid);
    if (old) for (const ip of old.ips) this.removeFrom('services', ip, old);
    const h = new Holder(uid, start, Number.isFinite(deletion) ? deletion : Infinity, ident, ips, null, null);
    this.services.set(uid, h);
    for (const ip of ips) this.addTo('services', ip, h);
  }

  private upsertNode(o: JsonObject): void {
    const meta = obj(o, 'metadata');
    const name = str(meta, 'name');
    if (!name) return this.problem('node.no_name', 'a node lacks metadata.name');
    const ips: string[] = [];
    for (const a of arr(obj(o, 'status'), 'addresses') ?? []) {
      const type = str(a, 'type');
      const ip = str(a, 'address');
      if (ip && (type === 'InternalIP' || type === 'ExternalIP')) ips.push(normIp(ip));
    }
    if (ips.length === 0) this.problem('node.no_address', `node ${name} has no InternalIP/ExternalIP address`);
    const cidrs: Cidr4[] = [];
    const spec = obj(o, 'spec');
    const texts = (arr(spec, 'podCIDRs') ?? []).filter((x): x is string => typeof x === 'string');
    const single = str(spec, 'podCIDR');
    if (single && !texts.includes(single)) texts.push(single);
    for (const t of texts) {
      const c = parseCidr4(t);
      if (c) cidrs.push(c);
    }
    this.nodeCidrs.set(name, cidrs);
    this.rebuildRanges();
    const old = this.nodes.get(name);
    if (old) for (const ip of old.ips) this.removeFrom('nodes', ip, old);
    // Node addresses are taken as valid for all time: nodes outlive captures, and their creation time says nothing about the address.
    const h = new Holder(name, -Infinity, Infinity, this.nodeIdentity(name), ips, null, null);
    this.nodes.set(name, h);
    for (const ip of ips) this.addTo('nodes', ip, h);
  }

  private nodeIdentity(name: string): NodeIdentity {
    let n = this.nodeIdentities.get(name);
    if (!n) this.nodeIdentities.set(name, (n = Object.freeze({ kind: 'node', node: name })));
    return n;
  }

  private upsertOwner(o: JsonObject, kind: string): void {
    const meta = obj(o, 'metadata');
    const name = str(meta, 'name');
    const namespace = str(meta, 'namespace');
    if (!name || !namespace) return this.problem('owner.no_identity', `a ${kind} lacks metadata.name or namespace`);
    const key = `${namespace}/${kind}/${name}`;
    this.owners.set(key, controllerRef(o) ?? null);
    const uid = str(meta, 'uid');
    if (uid) this.ownerUids.set(key, uid);
    this.ownerGen++;
  }

  /** Walks a pod's controller chain to its top workload. */
  private workloadOf(namespace: string, pod: JsonObject): WorkloadRef | undefined {
    let ref = controllerRef(pod);
    if (!ref || ref.kind === 'Node') return undefined; // bare pod, or a static (mirror) pod
    for (let depth = 0; depth < 8; depth++) {
      const key = `${namespace}/${ref.kind}/${ref.name}`;
      const up = this.owners.get(key);
      if (up === undefined) {
        // Owner object absent: a ReplicaSet named <deployment>-<pod-template-hash> belongs to that Deployment.
        if (ref.kind === 'ReplicaSet') {
          const hash = stringMap(obj(obj(pod, 'metadata'), 'labels'))['pod-template-hash'];
          if (hash && ref.name.endsWith(`-${hash}`)) {
            return { kind: 'Deployment', name: ref.name.slice(0, -hash.length - 1), inferred: true };
          }
        }
        break;
      }
      if (up === null) break;
      ref = up;
    }
    return { kind: ref.kind, name: ref.name };
  }

  private podIdentity(h: Holder): PodIdentity | UnknownIdentity {
    if (h.gen === this.ownerGen) return h.identity as PodIdentity;
    const o = h.src;
    const meta = obj(o, 'metadata');
    const spec = obj(o, 'spec');
    const namespace = str(meta, 'namespace') ?? '';
    const pod = str(meta, 'name') ?? '';
    const workload = o ? this.workloadOf(namespace, o) : undefined;
    // Every pod identity has the same keys in the same order (absent ones undefined, which
    // JSON leaves out): one hidden class, so readers of `.kind` stay monomorphic — measured
    // 5.5 → see bench/k8s.bench.ts; with optional spreads each combination was its own shape.
    const ident: PodIdentity = {
      kind: 'pod',
      namespace,
      pod,
      uid: h.uid,
      workload,
      labels: stringMap(obj(meta, 'labels')),
      service_account: str(spec, 'serviceAccountName') ?? str(spec, 'serviceAccount'),
      node: str(spec, 'nodeName'),
      host_network: isObject(spec) && spec.hostNetwork === true,
    };
    h.identity = Object.freeze(ident);
    h.gen = this.ownerGen;
    return h.identity as PodIdentity;
  }

  /**
   * Who held `ip` at `t` (seconds). `port` is the flow's server port when `ip`
   * is the server (it picks the hostNetwork pod listening there), else -1.
   * `ip` as EVE writes it (IPv6 in any spelling).
   */
  lookup(ip: string, port: number, t: number): Identity {
    const n = ipv4Number(ip);
    if (n >= 0) return this.lookupV4(n, port, t);
    if (ip.includes(':')) return this.resolve(this.v6.get(canonicalIp(ip)), -1, port, t);
    return EXTERNAL;
  }

  /**
   * The fast path: `ip` an IPv4 address as an unsigned 32-bit number (as the
   * flow table holds it). One typed-array probe, a binary search over that
   * address's few holders, a cached frozen identity: no allocation.
   */
  lookupV4(ip: number, port: number, t: number): Identity {
    const v4 = this.v4;
    const slot = v4.slotOf(ip);
    if (slot < 0) return this.outside(ip);
    const m = slot * 4;
    const meta = v4.meta;
    const tag = meta[m + 3];
    if (tag !== 0) {
      // Single holder: the time check reads the slot's own cache line; the answer is the slot's own identity.
      if (t < meta[m + 1] || t >= meta[m + 2]) return this.outside(ip);
      if (tag === FAST_STATIC || tag === this.ownerGen + 1) return v4.fast[slot] as Identity;
      // Owners changed since: rebuild this pod's identity once and re-stamp the slot.
      const e = v4.vals[slot] as AddrEntry;
      this.refreshFast('', e, ip);
      return v4.fast[slot] as Identity;
    }
    return this.resolve(v4.vals[slot], ip, port, t);
  }

  /** An address no holder explains at that time. */
  private outside(n: number): Identity {
    if (!this.complete) return UNKNOWN;
    if (inRanges(this.serviceRanges, n)) return UNKNOWN_SERVICE;
    return inRanges(this.internalRanges, n) ? UNKNOWN : EXTERNAL;
  }

  private resolve(e: AddrEntry | undefined, n: number, port: number, t: number): Identity {
    let nodeName: string | undefined;
    if (e !== undefined) {
      if (e.pods !== null) {
        const h = findAt(e.pods, t);
        if (h) return this.podIdentity(h);
      }
      if (e.services !== null) {
        const h = findAt(e.services, t);
        if (h) return h.identity;
      }
      const hostPods = e.hostPods;
      if (hostPods !== null) {
        for (let i = hostPods.length - 1; i >= 0; i--) {
          const h = hostPods[i];
          if (t < h.start || t >= h.end) continue;
          if (port > 0 && h.ports !== null && h.ports.includes(port)) return this.podIdentity(h);
          nodeName ??= str(obj(h.src, 'spec'), 'nodeName');
        }
      }
      if (e.nodes !== null) {
        const h = findAt(e.nodes, t);
        if (h) return h.identity;
      }
    }
    if (nodeName) return this.nodeIdentity(nodeName);
    if (!this.complete) return UNKNOWN;
    if (n < 0) return EXTERNAL;
    if (inRanges(this.serviceRanges, n)) return UNKNOWN_SERVICE;
    return inRanges(this.internalRanges, n) ? UNKNOWN : EXTERNAL;
  }

  /** Inside a node's podCIDR, a configured internal range or a service CIDR. */
  isInternal(ip: string): boolean {
    const n = ipv4Number(ip);
    if (n < 0) return false;
    return inRanges(this.internalRanges, n) || inRanges(this.serviceRanges, n);
  }

  stats(): IdentityIndexStats {
    let hostNetworkPods = 0;
    for (const h of this.pods.values()) if (h.ports !== null) hostNetworkPods++;
    const addresses = this.v4.size + this.v6.size;
    return {
      pods: this.pods.size,
      hostNetworkPods,
      services: this.services.size,
      nodes: this.nodes.size,
      owners: this.owners.size,
      addresses,
      evicted: this.evicted,
      intervalsDropped: this.intervalsDropped,
      pruned: this.pruned,
      // Measured (bench probe, Node 20): 100k small pods + 5k services → 113 MB of heap, ~1.1 KB per pod
      // including the JSON kept to rebuild identities; real pods with big specs cost more.
      approxBytes: this.pods.size * 1100 + (this.services.size + this.nodes.size + this.owners.size) * 300 + addresses * 100,
      problems: Object.fromEntries(this.problems),
    };
  }
}

/** Sorted, coalesced [base, size, …]: 200 adjacent node podCIDRs become one range for the miss path. */
function mergeRanges(list: readonly Cidr4[]): Float64Array {
  const sorted = [...list].sort((a, b) => a.base - b.base);
  const out: number[] = [];
  for (const c of sorted) {
    const n = out.length;
    if (n > 0 && c.base <= out[n - 2] + out[n - 1]) out[n - 1] = Math.max(out[n - 1], c.base + c.size - out[n - 2]);
    else out.push(c.base, c.size);
  }
  return Float64Array.from(out);
}

function inRanges(r: Float64Array, n: number): boolean {
  for (let i = 0; i < r.length; i += 2) {
    const d = n - r[i];
    if (d >= 0 && d < r[i + 1]) return true;
  }
  return false;
}

/** When a Succeeded/Failed pod stopped: the latest container finishedAt, else the Ready=False transition, else the latest time in its status, else the observation time. */
function terminalTime(status: JsonObject | undefined, at: number): number {
  let t = -Infinity;
  for (const key of ['containerStatuses', 'initContainerStatuses', 'ephemeralContainerStatuses']) {
    for (const cs of arr(status, key) ?? []) {
      const f = parseTime(str(obj(obj(cs, 'state'), 'terminated'), 'finishedAt'));
      if (f > t) t = f;
    }
  }
  if (Number.isFinite(t)) return t;
  for (const c of arr(status, 'conditions') ?? []) {
    if (str(c, 'type') === 'Ready' && str(c, 'status') === 'False') {
      const f = parseTime(str(c, 'lastTransitionTime'));
      if (f > t) t = f;
    }
  }
  if (Number.isFinite(t)) return t;
  return Number.isFinite(at) ? at : parseTime(str(status, 'startTime'));
}
