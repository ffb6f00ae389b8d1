/**
 * The configuration file's `k8s:` block (read by src/sensor/config.ts):
 *
 * ```yaml
 * k8s:
 *   cluster: prod-eu              # k8s.cluster (same as top-level cluster:)
 *   kubeconfig: /etc/harrier/kubeconfig   # live watch; --kubeconfig wins
 *   service-cidrs: [10.96.0.0/12] # unexplained address here → kind service
 *   pod-cidrs: [10.244.0.0/16]    # unexplained address here → unknown
 *   trusted-proxies: [10.244.0.0/16]   # believe XFF/Forwarded/X-Real-IP/PROXY from these
 *   trusted-proxy-hops: 0         # …and from this many nearest hops whatever their address
 *   sync-timeout: 10              # seconds the CLI waits for the initial list
 *   grace-period: 30              # a deleted/completed pod keeps its IP this long
 *   history-horizon: 3600         # ended pods kept by a live watch
 *   max-pods: 200000
 * ```
 * Every value is checked here; a bad one is a one-line HARRIER_ERR_CONFIG.
 */
import { HarrierError } from '../errors.js';

export interface K8sSettings {
  /** Overrides the top-level `cluster:` when set. */
  cluster: string | null;
  /** kubeconfig file for the live watch (the CLI's --kubeconfig wins); null: none configured. */
  kubeconfig: string | null;
  /** Service CIDRs: an unexplained address there is kind `service` (name unknown), not `external`. */
  serviceCidrs: string[];
  /** Pod CIDRs besides the nodes' podCIDRs: an unexplained address there is `unknown`, not `external`. */
  podCidrs: string[];
  /** Proxies whose forwarding headers and PROXY protocol headers are believed. */
  trustedProxies: string[];
  /** Also believe this many nearest proxy hops whatever their address (0: only `trustedProxies`). */
  trustedProxyHops: number;
  /** Seconds the CLI waits for the initial list before going on with unknown identities. */
  syncTimeout: number;
  /** Seconds a deleted or completed pod keeps its IP unless another pod takes it. */
  gracePeriod: number;
  /** Seconds of ended pods kept by a live watch (older ones are pruned). */
  historyHorizon: number;
  /** Most pods kept in the index. */
  maxPods: number;
}

export function defaultK8sSettings(): K8sSettings {
  return {
    cluster: null,
    kubeconfig: null,
    serviceCidrs: [],
    podCidrs: [],
    trustedProxies: [],
    trustedProxyHops: 0,
    syncTimeout: 10,
    gracePeriod: 30,
    historyHorizon: 3600,
    maxPods: 200_000,
  };
}

const KNOWN = new Set(['cluster', 'kubeconfig', 'service-cidrs', 'pod-cidrs', 'trusted-proxies', 'trusted-proxy-hops', 'sync-timeout', 'grace-period', 'history-horizon', 'max-pods']);

const bad = (msg: string): HarrierError => new HarrierError('HARRIER_ERR_CONFIG', `config: ${msg}`);

function cidrList(v: unknown, key: string): string[] {
  const items = Array.isArray(v) ? v : [v];
  return items.map((c, i) => {
    const m = typeof c === 'string' ? /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(c.trim()) : null;
    if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || (m[5] !== undefined && Number(m[5]) > 32)) {
      throw bad(`${key}[${i}] must be an IPv4 CIDR such as 10.96.0.0/12, got ${JSON.stringify(c)}`);
    }
    return m[5] === undefined ? `${(c as string).trim()}/32` : (c as string).trim();
  });
}

function num(v: unknown, key: string, min: number, max: number): number {
  const n = typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) throw bad(`${key} must be a number between ${min} and ${max}, got ${JSON.stringify(v)}`);
  return n;
}

/** Parses the `k8s:` value; unknown keys become warnings. */
export function parseK8sConfig(v: unknown, warnings: string[]): K8sSettings {
  const out = defaultK8sSettings();
  if (v === null || v === undefined) return out;
  if (typeof v !== 'object' || Array.isArray(v)) throw bad('k8s must be a mapping');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) warnings.push(`config: ignoring unknown key k8s.${k}`);
  if ('cluster' in o) {
    if (typeof o.cluster !== 'string' || o.cluster === '') throw bad('k8s.cluster must be a non-empty string');
    out.cluster = o.cluster;
  }
  if ('kubeconfig' in o) {
    if (typeof o.kubeconfig !== 'string' || o.kubeconfig === '') throw bad('k8s.kubeconfig must be a file path');
    out.kubeconfig = o.kubeconfig;
  }
  if ('service-cidrs' in o) out.serviceCidrs = cidrList(o['service-cidrs'], 'k8s.service-cidrs');
  if ('pod-cidrs' in o) out.podCidrs = cidrList(o['pod-cidrs'], 'k8s.pod-cidrs');
  if ('trusted-proxies' in o) out.trustedProxies = cidrList(o['trusted-proxies'], 'k8s.trusted-proxies');
  if ('trusted-proxy-hops' in o) out.trustedProxyHops = Math.floor(num(o['trusted-proxy-hops'], 'k8s.trusted-proxy-hops', 0, 64));
  if ('sync-timeout' in o) out.syncTimeout = num(o['sync-timeout'], 'k8s.sync-timeout', 0, 3600);
  if ('grace-period' in o) out.gracePeriod = num(o['grace-period'], 'k8s.grace-period', 0, 86400);
  if ('history-horizon' in o) out.historyHorizon = num(o['history-horizon'], 'k8s.history-horizon', 0, 86400 * 30);
  if ('max-pods' in o) out.maxPods = Math.floor(num(o['max-pods'], 'k8s.max-pods', 1, 10_000_000));
  return out;
}
