/**
 * The `behaviour:` block of the configuration file: which behaviour
 * detectors run, their thresholds, deduplication, mutes and per-namespace /
 * per-workload threshold overrides.
 *
 * ```yaml
 * behaviour:
 *   enabled: yes
 *   dedupe-window: 300          # seconds one incident stays one alert
 *   max-tracked: 65536          # entries per detector table (oldest evicted, counted)
 *   internal-networks: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, …]
 *   detectors:
 *     scan.vertical: { enabled: yes, ports: 20, window: 60 }
 *     dns.tunnel: { min-queries: 10 }
 *   mutes:                      # a finding matching every given field is dropped
 *     - { namespace: kube-system }
 *     - { namespace: shop, workload: cart, detector: beacon }
 *     - { subject: 10.0.0.7, detector: "scan.*" }
 *   overrides:                  # raise one threshold for some subjects
 *     - { namespace: batch, detector: exfil.volume, min-observed: 2147483648 }
 * ```
 *
 * Every value is checked once here (a bad one is a one-line
 * HARRIER_ERR_CONFIG naming the key); unknown keys are warnings. Detector
 * thresholds are declared with their defaults in DETECTOR_DEFAULTS, so the
 * parser, the documentation (docs/reference/behaviour.md) and the detectors
 * agree on the names. Keys `baseline`, `model` and `features` are kept raw in
 * `extra` for the baselines part, which parses its own settings.
 */
import { HarrierError } from '../../errors.js';

/** Thresholds per detector (numbers), plus `enabled`. Names are the YAML keys. */
export const DETECTOR_DEFAULTS = {
  'scan.vertical': { window: 60, ports: 20 },
  'scan.horizontal': { window: 60, hosts: 20 },
  'scan.probe': { window: 60, probes: 3 },
  'scan.web': { window: 60, uris: 5, traversals: 3 },
  'flood.syn': { window: 10, 'syn-rate': 200, 'half-open-ratio': 0.8 },
  'flood.udp': { 'packet-rate': 10000 },
  'flood.icmp': { 'packet-rate': 1000 },
  'bruteforce.http': { window: 60, failures: 10 },
  'bruteforce.ssh': { window: 60, sessions: 5, 'max-client-packets': 40, 'max-duration': 20 },
  'bruteforce.login': { window: 60, failures: 5 },
  'dns.tunnel': { window: 300, 'min-queries': 10, 'unique-ratio': 0.6, 'suspicious-ratio': 0.3, 'record-ratio': 0.5, 'long-subdomain': 24, 'min-entropy': 3.3, volume: 500 },
  'icmp.tunnel': { window: 60, packets: 10, 'min-payload': 16, 'min-entropy': 0.6 },
  beacon: { 'min-intervals': 8, 'min-period': 5, 'max-jitter': 0.1 },
  'p2p.bittorrent': { window: 300, flows: 1 },
  'p2p.fanout': { window: 60, peers: 30 },
  'mining.stratum': { window: 300 },
  'exfil.volume': { window: 600, bytes: 100 * 1024 * 1024 },
} as const satisfies Record<string, Record<string, number>>;

export type DetectorName = keyof typeof DETECTOR_DEFAULTS;
export const DETECTOR_NAMES = Object.keys(DETECTOR_DEFAULTS) as DetectorName[];

export interface DetectorSettings {
  enabled: boolean;
  /** Threshold values by YAML key (defaults filled in). */
  t: Record<string, number>;
}

/** One mute: every field given must match (detector accepts a trailing `*`). */
export interface MuteRule {
  namespace?: string;
  workload?: string;
  subject?: string;
  detector?: string;
}

/** A raised threshold for some subjects: findings whose observed value is below `minObserved` are dropped. */
export interface OverrideRule extends MuteRule {
  minObserved: number;
}

export interface BehaviourConfig {
  enabled: boolean;
  dedupeWindow: number;
  maxTracked: number;
  /** CIDRs counted as inside (exfiltration looks at traffic leaving them). */
  internalNetworks: string[];
  /** UDP/TCP server ports beaconing ignores (periodic by design: DNS, NTP, mDNS). */
  beaconIgnorePorts: number[];
  detectors: Record<DetectorName, DetectorSettings>;
  mutes: MuteRule[];
  overrides: OverrideRule[];
  /** Raw sub-blocks for the baselines part (`baseline`, `model`, `features`). */
  extra: Record<string, unknown>;
}

export function defaultBehaviourConfig(): BehaviourConfig {
  const detectors = {} as Record<DetectorName, DetectorSettings>;
  for (const n of DETECTOR_NAMES) detectors[n] = { enabled: true, t: { ...DETECTOR_DEFAULTS[n] } };
  return {
    enabled: true,
    dedupeWindow: 300,
    maxTracked: 65536,
    internalNetworks: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16', '127.0.0.0/8', 'fc00::/7', 'fe80::/10', '::1/128'],
    beaconIgnorePorts: [53, 123, 5353, 5355, 137, 138],
    detectors,
    mutes: [],
    overrides: [],
    extra: {},
  };
}

function fail(key: string, what: string, v: unknown): never {
  throw new HarrierError('HARRIER_ERR_CONFIG', `config: behaviour.${key} must be ${what}, got ${JSON.stringify(v)}`);
}

function num(v: unknown, key: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) fail(key, `a number between ${min} and ${max}`, v);
  return n;
}

function bool(v: unknown, key: string): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'yes' || v === 'true') return true;
  if (v === 'no' || v === 'false') return false;
  return fail(key, 'yes/no or true/false', v);
}

function mapping(v: unknown, key: string): Record<string, unknown> {
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) fail(key, 'a mapping', v);
  return v as Record<string, unknown>;
}

function list(v: unknown, key: string): unknown[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) fail(key, 'a list', v);
  return v;
}

const CIDR4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

function cidr(v: unknown, key: string): string {
  if (typeof v !== 'string') fail(key, 'a CIDR such as 10.0.0.0/8', v);
  const m = CIDR4.exec(v.trim());
  if (m) {
    if ([m[1], m[2], m[3], m[4]].some((o) => Number(o) > 255) || Number(m[5]) > 32) fail(key, 'a CIDR such as 10.0.0.0/8', v);
    return v.trim();
  }
  const six = /^([0-9a-fA-F:]+)\/(\d{1,3})$/.exec(v.trim());
  if (six && six[1].includes(':') && Number(six[2]) <= 128) return v.trim();
  return fail(key, 'a CIDR such as 10.0.0.0/8', v);
}

function str(v: unknown, key: string): string {
  if (typeof v !== 'string' || v === '') fail(key, 'a non-empty string', v);
  return v;
}

function rule(v: unknown, key: string, warnings: string[], extraKeys: string[] = []): MuteRule {
  const o = mapping(v, key);
  const r: MuteRule = {};
  for (const k of Object.keys(o)) {
    if (k === 'namespace' || k === 'workload' || k === 'subject' || k === 'detector') r[k] = str(o[k], `${key}.${k}`);
    else if (!extraKeys.includes(k)) warnings.push(`config: ignoring unknown key behaviour.${key}.${k}`);
  }
  if (r.namespace === undefined && r.workload === undefined && r.subject === undefined && r.detector === undefined) {
    fail(key, 'a mapping with at least one of namespace, workload, subject, detector', v);
  }
  return r;
}

const KNOWN = new Set(['enabled', 'dedupe-window', 'max-tracked', 'internal-networks', 'beacon-ignore-ports', 'detectors', 'mutes', 'overrides']);
const EXTRA = new Set(['baseline', 'baselines', 'model', 'features', 'anomaly', 'anomalies']);

/** Parse the `behaviour:` block on top of the defaults; warnings are appended to `warnings`. */
export function parseBehaviourConfig(doc: unknown, warnings: string[], base = defaultBehaviourConfig()): BehaviourConfig {
  const cfg = base;
  const root = mapping(doc, '(block)');
  for (const k of Object.keys(root)) {
    if (EXTRA.has(k)) cfg.extra[k] = root[k];
    else if (!KNOWN.has(k)) warnings.push(`config: ignoring unknown key behaviour.${k}`);
  }
  if ('enabled' in root) cfg.enabled = bool(root.enabled, 'enabled');
  if ('dedupe-window' in root) cfg.dedupeWindow = num(root['dedupe-window'], 'dedupe-window', 0, 86400);
  if ('max-tracked' in root) cfg.maxTracked = num(root['max-tracked'], 'max-tracked', 16, 10_000_000);
  if ('internal-networks' in root) cfg.internalNetworks = list(root['internal-networks'], 'internal-networks').map((c, i) => cidr(c, `internal-networks[${i}]`));
  if ('beacon-ignore-ports' in root) cfg.beaconIgnorePorts = list(root['beacon-ignore-ports'], 'beacon-ignore-ports').map((p, i) => num(p, `beacon-ignore-ports[${i}]`, 0, 65535));

  const dets = mapping(root.detectors, 'detectors');
  for (const name of Object.keys(dets)) {
    if (!(name in DETECTOR_DEFAULTS)) {
      warnings.push(`config: ignoring unknown detector behaviour.detectors.${name}`);
      continue;
    }
    const d = cfg.detectors[name as DetectorName];
    const raw = dets[name];
    if (typeof raw === 'boolean' || raw === 'yes' || raw === 'no') {
      d.enabled = bool(raw, `detectors.${name}`);
      continue;
    }
    const o = mapping(raw, `detectors.${name}`);
    for (const k of Object.keys(o)) {
      if (k === 'enabled') d.enabled = bool(o[k], `detectors.${name}.enabled`);
      else if (k in d.t) d.t[k] = num(o[k], `detectors.${name}.${k}`, 0);
      else warnings.push(`config: ignoring unknown key behaviour.detectors.${name}.${k}`);
    }
  }
  cfg.mutes = list(root.mutes, 'mutes').map((m, i) => rule(m, `mutes[${i}]`, warnings));
  cfg.overrides = list(root.overrides, 'overrides').map((m, i) => {
    const r = rule(m, `overrides[${i}]`, warnings, ['min-observed']);
    const o = mapping(m, `overrides[${i}]`);
    if (!('min-observed' in o)) fail(`overrides[${i}]`, 'a mapping with min-observed', m);
    return { ...r, minObserved: num(o['min-observed'], `overrides[${i}].min-observed`, 0) };
  });
  return cfg;
}

/** What a rule is matched against. */
export interface RuleTarget {
  detector: string;
  subject: string;
  namespace?: string;
  workload?: string;
}

/** Whether every field the rule gives matches the target (`detector: scan.*` matches by prefix). */
export function ruleMatches(r: MuteRule, f: RuleTarget): boolean {
  if (r.detector !== undefined) {
    if (r.detector.endsWith('*')) {
      if (!f.detector.startsWith(r.detector.slice(0, -1))) return false;
    } else if (r.detector !== f.detector) return false;
  }
  if (r.namespace !== undefined && r.namespace !== f.namespace) return false;
  if (r.workload !== undefined && r.workload !== f.workload) return false;
  if (r.subject !== undefined && r.subject !== f.subject) return false;
  return true;
}
