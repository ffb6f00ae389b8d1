/**
 * Behaviour features: who a flow's endpoints are (as baseline subjects and as
 * peers), the HTTP route of a request, and the flow feature vector the
 * unsupervised model scores.
 *
 * Subjects. A pod is judged as its owner (the Deployment `shop/cart` over all
 * its pods, so a rescheduled or scaled pod inherits the workload's baseline),
 * and also counted in its namespace (`ns:shop`) and node (`node:node-1`)
 * aggregates. A bare pod is `ns/pod:name`; a hostNetwork pod or a node's own
 * address `node:NAME`. Without Kubernetes identity every internal address is
 * its own subject `ip:ADDR`. External addresses are never subjects (they are
 * destinations); for the external side a name is used when one is known:
 * the domain the client resolved (DNS answer table), else the TLS SNI or
 * HTTP Host seen on the flow, else the address.
 */
import type { Identity } from '../../k8s/identity-index.js';

/** Subject keys of one endpoint; workload null when the endpoint is not a subject (external). */
export interface EndpointKeys {
  /** Workload-level subject (or `ip:…` without identity), null for external endpoints. */
  workload: string | null;
  namespace: string | null;
  node: string | null;
  /** How this endpoint is named as somebody's peer. */
  peer: string;
  external: boolean;
  /** Kubernetes namespace and workload name (top controller, or the pod) for mutes; absent without identity. */
  ns?: string;
  name?: string;
}

/** Keys for an endpoint from its identity (or none) and address. `internal` says whether an address without identity is inside the cluster/private. */
export function endpointKeys(id: Identity | null, ip: string, internal: boolean): EndpointKeys {
  if (id === null) {
    if (!internal) return { workload: null, namespace: null, node: null, peer: ip, external: true };
    const k = `ip:${ip}`;
    return { workload: k, namespace: null, node: null, peer: k, external: false };
  }
  switch (id.kind) {
    case 'pod': {
      const name = id.workload !== undefined ? workloadName(id.workload.kind, id.workload.name) : `pod:${id.pod}`;
      const k = `${id.namespace}/${name}`;
      return { workload: k, namespace: `ns:${id.namespace}`, node: id.node !== undefined ? `node:${id.node}` : null, peer: k, external: false, ns: id.namespace, name: id.workload?.name ?? id.pod };
    }
    case 'node': {
      const k = `node:${id.node}`;
      return { workload: k, namespace: null, node: k, peer: k, external: false };
    }
    case 'service':
      // A ClusterIP is a destination only (traffic to it is seen before DNAT); it is a peer, not a subject.
      return { workload: null, namespace: null, node: null, peer: `svc:${id.namespace}/${id.service}`, external: false };
    case 'external':
      return { workload: null, namespace: null, node: null, peer: id.domain ?? ip, external: true };
    default:
      // Inside the cluster but held by nothing known (a scan's empty addresses): a peer, never a subject.
      return { workload: null, namespace: null, node: null, peer: `ip:${ip}`, external: false };
  }
}

/** Deployments are the common case and read best bare (`shop/cart`); other kinds are named (`batch/CronJob:report`). */
function workloadName(kind: string, name: string): string {
  return kind === 'Deployment' ? name : `${kind}:${name}`;
}

/** isPrivateIp for an IPv4 address as its unsigned 32-bit value. */
export function isPrivate4(n: number): boolean {
  const a = n >>> 24;
  const b = (n >>> 16) & 255;
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
}

/** Private, loopback, link-local, CGNAT and ULA addresses: treated as internal when there is no Kubernetes identity. */
export function isPrivateIp(ip: string): boolean {
  if (ip.includes(':')) {
    const l = ip.toLowerCase();
    return l === '::1' || l.startsWith('fc') || l.startsWith('fd') || l.startsWith('fe80');
  }
  const p = ip.split('.');
  const a = Number(p[0]);
  const b = Number(p[1]);
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEXID_RE = /^[0-9a-f]{16,}$/i;
const NUM_RE = /^[0-9]+$/;

/**
 * The route of a request target: the path without query or fragment, each
 * segment that is an id (digits, a UUID, a long hex string) replaced by
 * `:id`, at most 8 segments (deeper paths end in `/…`), lowercased
 * percent-escapes left as sent. Absolute-form targets lose scheme and host.
 */
export function routeOf(target: string): string {
  let p = target;
  const q = p.search(/[?#]/);
  if (q >= 0) p = p.slice(0, q);
  const scheme = p.indexOf('://');
  if (scheme >= 0) {
    const slash = p.indexOf('/', scheme + 3);
    p = slash >= 0 ? p.slice(slash) : '/';
  }
  if (p === '' || p[0] !== '/') return p === '*' ? '*' : '/';
  const segs = p.split('/');
  const out: string[] = [];
  for (let i = 1; i < segs.length; i++) {
    if (out.length === 8) {
      out.push('…');
      break;
    }
    const s = segs[i];
    out.push(NUM_RE.test(s) || UUID_RE.test(s) || HEXID_RE.test(s) ? ':id' : s.length > 64 ? ':long' : s);
  }
  return '/' + out.join('/');
}

/** Names of the flow feature vector's dimensions (the model's input), in order. */
export const FLOW_FEATURES = [
  'log_bytes_out',
  'log_bytes_in',
  'log_pkts_out',
  'log_pkts_in',
  'log_duration',
  'dst_port_class',
  'app_proto',
  'hour',
  'is_external',
  'new_peer',
  'inbound',
  'ip_proto',
] as const;
export const FLOW_DIMS = FLOW_FEATURES.length;

const APP_IDS = new Map<string, number>([
  ['http', 1], ['tls', 2], ['dns', 3], ['ssh', 4], ['http2', 5], ['redis', 6], ['pgsql', 7], ['mysql', 8], ['smtp', 9],
  ['ftp', 10], ['smb', 11], ['kafka', 12], ['mqtt', 13], ['quic', 14], ['rdp', 15], ['bittorrent', 16], ['stratum', 17],
]);

/** A small stable number per app protocol (0 unknown); the forest splits on it like any value, isolating rare ones. */
export function appProtoId(p: string | null): number {
  if (p === null) return 0;
  const id = APP_IDS.get(p);
  if (id !== undefined) return id;
  let h = 0;
  for (let i = 0; i < p.length; i++) h = (h * 31 + p.charCodeAt(i)) >>> 0;
  return 20 + (h % 40);
}

/** 0 well-known (<1024), 1 registered, 2 dynamic (≥49152), 3 none (ICMP…). */
export function portClass(port: number, proto: number): number {
  if (proto !== 6 && proto !== 17) return 3;
  return port < 1024 ? 0 : port < 49152 ? 1 : 2;
}

export interface FlowVectorInput {
  bytesOut: number;
  bytesIn: number;
  pktsOut: number;
  pktsIn: number;
  durationSec: number;
  dstPort: number;
  proto: number;
  appProto: string | null;
  hour: number;
  external: boolean;
  newPeer: boolean;
  inbound: boolean;
}

/** Fill `out` (length FLOW_DIMS) with the flow's features as seen by the subject. */
export function flowVector(f: FlowVectorInput, out: Float64Array): Float64Array {
  out[0] = Math.log1p(f.bytesOut);
  out[1] = Math.log1p(f.bytesIn);
  out[2] = Math.log1p(f.pktsOut);
  out[3] = Math.log1p(f.pktsIn);
  out[4] = Math.log1p(Math.max(0, f.durationSec));
  out[5] = portClass(f.dstPort, f.proto);
  out[6] = appProtoId(f.appProto);
  out[7] = f.hour;
  out[8] = f.external ? 1 : 0;
  out[9] = f.newPeer ? 1 : 0;
  out[10] = f.inbound ? 1 : 0;
  out[11] = f.proto === 6 ? 0 : f.proto === 17 ? 1 : f.proto === 1 || f.proto === 58 ? 2 : 3;
  return out;
}

/**
 * The other name a peer commonly goes by: a Service `svc:ns/name` and the
 * workload `ns/name` behind it. Traffic to a Service is seen before DNAT on
 * the client's node and after it on the server's, so one logical peer shows
 * up under both names; a value is only new when neither name is known. A
 * heuristic (Services usually carry their Deployment's name); where the
 * names differ both are learned separately.
 */
export function peerAlias(peer: string): string | null {
  if (peer.startsWith('svc:')) return peer.slice(4);
  if (peer.includes('/') && !peer.includes(':')) return `svc:${peer}`;
  return null;
}

/** "a → b" text of a feature value for explanations. */
export function describeFeature(j: number, v: number): string {
  const name = FLOW_FEATURES[j];
  if (name.startsWith('log_')) {
    const raw = Math.expm1(v);
    return `${name.slice(4)}=${raw >= 10_000 ? raw.toExponential(1) : Math.round(raw * 10) / 10}`;
  }
  if (name === 'dst_port_class') return `${name}=${['well-known', 'registered', 'dynamic', 'none'][v] ?? v}`;
  return `${name}=${Math.round(v * 100) / 100}`;
}
