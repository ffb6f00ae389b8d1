/**
 * Harrier's configuration file (YAML).
 *
 * Keys use Suricata's spelling where Suricata has the setting (hyphenated,
 * sizes such as `128mb`), and Suricata's `vars:` block (`address-groups`,
 * `port-groups`) is accepted as it stands, so a Suricata configuration's
 * variables can be reused unchanged. Every value is checked here, once, and a
 * bad one is a one-line HARRIER_ERR_CONFIG naming the key; stages receive
 * typed option objects and never read YAML themselves.
 *
 * Keys Harrier does not know are reported as warnings, not errors: a real
 * suricata.yaml carries many settings that do not apply to Harrier.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { HarrierError } from '../errors.js';
import type { AppLayerSettings } from '../applayer/registry.js';
import { defaultK8sSettings, parseK8sConfig, type K8sSettings } from '../k8s/config.js';
import { defaultIntelConfig, parseIntelConfig, type IntelConfig } from '../detect/intel/config.js';
import { defaultBehaviourConfig, parseBehaviourConfig, type BehaviourConfig } from '../detect/behaviour/config.js';
import { defaultRulesUpdateConfig, parseRulesUpdateConfig, type RulesUpdateConfig } from '../detect/rules/update.js';

export type OverlapPolicy = 'first' | 'last' | 'linux' | 'bsd' | 'windows';

export interface HarrierConfig {
  decoder: {
    checksumValidation: boolean;
    vxlanPorts: number[];
    genevePorts: number[];
  };
  defrag: { timeout: number; memcap: number; maxTrackers: number };
  flow: {
    memcap: number;
    maxFlows: number;
    hashSize: number;
    emergencyRecovery: number;
    timeouts: FlowTimeouts;
    emergencyTimeouts: FlowTimeouts;
  };
  stream: { memcap: number; overlapPolicy: OverlapPolicy; maxBufferedPerStream: number; midstream: boolean };
  eve: { statsInterval: number };
  appLayer: AppLayerSettings;
  /** Suricata `vars`: address and port groups, raw strings as written. */
  vars: { addressGroups: Record<string, string>; portGroups: Record<string, string> };
  /** Name of this cluster in `k8s.cluster`. */
  cluster: string;
  /** The `k8s:` block: live identity and responder context (src/k8s/config.ts). */
  k8s: K8sSettings;
  /** Threat intelligence: feeds, compiled store, allow-lists, update settings (src/detect/intel/config.ts). */
  intel: IntelConfig;
  /** The `behaviour:` block: behaviour detectors, thresholds, mutes, dedupe (src/detect/behaviour/config.ts). */
  behaviour: BehaviourConfig;
  /** `rules:` sources, folder and limits of `harrier rules update` (src/detect/rules/update.ts). */
  rulesUpdate: RulesUpdateConfig;
  warnings: string[];
}

/** Per-protocol flow timeouts in seconds, by flow state. */
export interface FlowTimeouts {
  default: { new: number; established: number; closed: number; bypassed: number };
  tcp: { new: number; established: number; closed: number; bypassed: number };
  udp: { new: number; established: number; bypassed: number };
  icmp: { new: number; established: number; bypassed: number };
}

/**
 * Defaults. Flow timeouts are Suricata 7's suricata.yaml defaults, so flow
 * records end when Suricata's would. HOME_NET defaults to what a cluster uses:
 * RFC 1918 space (pod and service CIDRs live there) and the link-local range
 * that holds the cloud metadata address.
 */
export function defaultConfig(): HarrierConfig {
  return {
    decoder: { checksumValidation: false, vxlanPorts: [4789, 8472], genevePorts: [6081] },
    defrag: { timeout: 60, memcap: 32 * 1024 * 1024, maxTrackers: 65535 },
    flow: {
      memcap: 128 * 1024 * 1024,
      maxFlows: 1_000_000,
      hashSize: 65536,
      emergencyRecovery: 30,
      timeouts: {
        default: { new: 30, established: 300, closed: 0, bypassed: 100 },
        tcp: { new: 60, established: 600, closed: 60, bypassed: 100 },
        udp: { new: 30, established: 300, bypassed: 100 },
        icmp: { new: 30, established: 300, bypassed: 100 },
      },
      emergencyTimeouts: {
        default: { new: 10, established: 100, closed: 0, bypassed: 50 },
        tcp: { new: 5, established: 100, closed: 10, bypassed: 50 },
        udp: { new: 10, established: 100, bypassed: 50 },
        icmp: { new: 10, established: 100, bypassed: 50 },
      },
    },
    stream: { memcap: 256 * 1024 * 1024, overlapPolicy: 'bsd', maxBufferedPerStream: 1024 * 1024, midstream: true },
    eve: { statsInterval: 0 },
    appLayer: {
      http: { requestBodyLimit: 100 * 1024, responseBodyLimit: 100 * 1024, extended: false },
      tls: { ja4: false, alpn: false },
    },
    vars: {
      addressGroups: {
        HOME_NET: '[10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,169.254.0.0/16,fd00::/8]',
        EXTERNAL_NET: '!$HOME_NET',
        HTTP_SERVERS: '$HOME_NET',
        SMTP_SERVERS: '$HOME_NET',
        SQL_SERVERS: '$HOME_NET',
        DNS_SERVERS: '$HOME_NET',
        TELNET_SERVERS: '$HOME_NET',
        AIM_SERVERS: '$EXTERNAL_NET',
        DC_SERVERS: '$HOME_NET',
        DNP3_SERVER: '$HOME_NET',
        DNP3_CLIENT: '$HOME_NET',
        MODBUS_CLIENT: '$HOME_NET',
        MODBUS_SERVER: '$HOME_NET',
        ENIP_CLIENT: '$HOME_NET',
        ENIP_SERVER: '$HOME_NET',
        // Harrier's rule pack (rules/harrier-k8s.rules): the `kubernetes` service's
        // ClusterIP as kubeadm (10.96.0.1) and EKS (10.100.0.1, 172.20.0.1) allot it;
        // set it to the cluster's own service IP and API server addresses.
        K8S_API_SERVERS: '[10.96.0.1,10.100.0.1,172.20.0.1]',
        // Cloud instance metadata: AWS/GCP/Azure/OpenStack, AWS IPv6, ECS task metadata, Alibaba.
        METADATA_SERVERS: '[169.254.169.254,fd00:ec2::254,169.254.170.2,100.100.100.200]',
      },
      portGroups: {
        HTTP_PORTS: '[80,8080,8000,8443,3000,5000,9090]',
        SHELLCODE_PORTS: '!80',
        ORACLE_PORTS: '1521',
        SSH_PORTS: '22',
        DNP3_PORTS: '20000',
        MODBUS_PORTS: '502',
        FILE_DATA_PORTS: '[$HTTP_PORTS,110,143]',
        FTP_PORTS: '21',
        GENEVE_PORTS: '6081',
        VXLAN_PORTS: '4789',
        TEREDO_PORTS: '3544',
      },
    },
    cluster: 'default',
    k8s: defaultK8sSettings(),
    intel: defaultIntelConfig(),
    behaviour: defaultBehaviourConfig(),
    rulesUpdate: defaultRulesUpdateConfig(),
    warnings: [],
  };
}

/** Parse a size: a number of bytes or `64kb`, `128mb`, `2gb` (Suricata's units). */
export function parseSize(v: unknown, key: string): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.floor(v);
  if (typeof v === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$/i.exec(v);
    if (m) {
      const unit = (m[2] ?? 'b').toLowerCase();
      const mult = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 ** 2 : unit.startsWith('g') ? 1024 ** 3 : 1;
      return Math.floor(Number(m[1]) * mult);
    }
  }
  throw new HarrierError('HARRIER_ERR_CONFIG', `config: ${key} must be a size such as 64mb, got ${JSON.stringify(v)}`);
}

function num(v: unknown, key: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) {
    throw new HarrierError('HARRIER_ERR_CONFIG', `config: ${key} must be a number between ${min} and ${max}, got ${JSON.stringify(v)}`);
  }
  return n;
}

function bool(v: unknown, key: string): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'yes' || v === 'true') return true;
  if (v === 'no' || v === 'false') return false;
  throw new HarrierError('HARRIER_ERR_CONFIG', `config: ${key} must be yes/no or true/false, got ${JSON.stringify(v)}`);
}

function portList(v: unknown, key: string): number[] {
  const items = Array.isArray(v) ? v : [v];
  return items.map((p, i) => num(p, `${key}[${i}]`, 1, 65535));
}

function obj(v: unknown, key: string): Record<string, unknown> {
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new HarrierError('HARRIER_ERR_CONFIG', `config: ${key} must be a mapping`);
  }
  return v as Record<string, unknown>;
}

function strMap(v: unknown, key: string): Record<string, string> {
  const o = obj(v, key);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(o)) {
    if (typeof val !== 'string' && typeof val !== 'number') {
      throw new HarrierError('HARRIER_ERR_CONFIG', `config: ${key}.${k} must be a string`);
    }
    out[k] = String(val);
  }
  return out;
}

const KNOWN_TOP = new Set(['decoder', 'defrag', 'flow', 'flow-timeouts', 'stream', 'outputs', 'eve', 'vars', 'cluster', 'app-layer', 'intel', 'k8s', 'behaviour', 'rules', '%YAML']);

/** Apply a parsed YAML document on top of the defaults. */
export function applyConfig(doc: unknown, base = defaultConfig()): HarrierConfig {
  const cfg = base;
  const root = obj(doc, '(top level)');
  for (const k of Object.keys(root)) if (!KNOWN_TOP.has(k)) cfg.warnings.push(`config: ignoring unknown key ${k}`);

  const dec = obj(root.decoder, 'decoder');
  if ('checksum-validation' in dec) cfg.decoder.checksumValidation = bool(dec['checksum-validation'], 'decoder.checksum-validation');
  if ('vxlan-ports' in dec) cfg.decoder.vxlanPorts = portList(dec['vxlan-ports'], 'decoder.vxlan-ports');
  if ('geneve-ports' in dec) cfg.decoder.genevePorts = portList(dec['geneve-ports'], 'decoder.geneve-ports');

  const df = obj(root.defrag, 'defrag');
  if ('timeout' in df) cfg.defrag.timeout = num(df.timeout, 'defrag.timeout', 1, 3600);
  if ('memcap' in df) cfg.defrag.memcap = parseSize(df.memcap, 'defrag.memcap');
  if ('max-trackers' in df) cfg.defrag.maxTrackers = num(df['max-trackers'], 'defrag.max-trackers', 1);

  const fl = obj(root.flow, 'flow');
  if ('memcap' in fl) cfg.flow.memcap = parseSize(fl.memcap, 'flow.memcap');
  if ('max-flows' in fl) cfg.flow.maxFlows = num(fl['max-flows'], 'flow.max-flows', 1);
  if ('hash-size' in fl) cfg.flow.hashSize = num(fl['hash-size'], 'flow.hash-size', 1);
  if ('emergency-recovery' in fl) cfg.flow.emergencyRecovery = num(fl['emergency-recovery'], 'flow.emergency-recovery', 0, 100);

  // Suricata's `flow-timeouts:` block: {default|tcp|udp|icmp: {new, established, closed, bypassed, emergency-*}}
  const ft = obj(root['flow-timeouts'], 'flow-timeouts');
  for (const proto of Object.keys(ft)) {
    if (!['default', 'tcp', 'udp', 'icmp'].includes(proto)) {
      cfg.warnings.push(`config: ignoring unknown key flow-timeouts.${proto}`);
      continue;
    }
    const p = proto as keyof FlowTimeouts;
    const t = obj(ft[proto], `flow-timeouts.${proto}`);
    for (const [k, v] of Object.entries(t)) {
      const emerg = k.startsWith('emergency-');
      const state = emerg ? k.slice('emergency-'.length) : k;
      const target = (emerg ? cfg.flow.emergencyTimeouts : cfg.flow.timeouts)[p] as Record<string, number>;
      if (!(state in target)) {
        cfg.warnings.push(`config: ignoring unknown key flow-timeouts.${proto}.${k}`);
        continue;
      }
      target[state] = num(v, `flow-timeouts.${proto}.${k}`, 0, 86400 * 7);
    }
  }

  const st = obj(root.stream, 'stream');
  if ('memcap' in st) cfg.stream.memcap = parseSize(st.memcap, 'stream.memcap');
  if ('midstream' in st) cfg.stream.midstream = bool(st.midstream, 'stream.midstream');
  const re = obj(st.reassembly, 'stream.reassembly');
  if ('memcap' in re) cfg.stream.memcap = parseSize(re.memcap, 'stream.reassembly.memcap');
  if ('overlap-policy' in re) {
    const p = re['overlap-policy'];
    if (p !== 'first' && p !== 'last' && p !== 'linux' && p !== 'bsd' && p !== 'windows') {
      throw new HarrierError('HARRIER_ERR_CONFIG', `config: stream.reassembly.overlap-policy must be first, last, linux, bsd or windows, got ${JSON.stringify(p)}`);
    }
    cfg.stream.overlapPolicy = p;
  }
  if ('max-buffered' in re) cfg.stream.maxBufferedPerStream = parseSize(re['max-buffered'], 'stream.reassembly.max-buffered');

  const eve = obj(root.eve, 'eve');
  if ('stats-interval' in eve) cfg.eve.statsInterval = num(eve['stats-interval'], 'eve.stats-interval', 0, 86400);

  const al = obj(root['app-layer'], 'app-layer');
  const http = obj(al.http, 'app-layer.http');
  if ('request-body-limit' in http) cfg.appLayer.http.requestBodyLimit = parseSize(http['request-body-limit'], 'app-layer.http.request-body-limit');
  if ('response-body-limit' in http) cfg.appLayer.http.responseBodyLimit = parseSize(http['response-body-limit'], 'app-layer.http.response-body-limit');
  if ('extended' in http) cfg.appLayer.http.extended = bool(http.extended, 'app-layer.http.extended');
  if ('response-body-decompress-layer-limit' in http) {
    cfg.appLayer.http.decompressLayerLimit = parseSize(http['response-body-decompress-layer-limit'], 'app-layer.http.response-body-decompress-layer-limit');
  }
  const tls = obj(al.tls, 'app-layer.tls');
  if ('ja4' in tls) cfg.appLayer.tls.ja4 = bool(tls.ja4, 'app-layer.tls.ja4');
  if ('alpn' in tls) cfg.appLayer.tls.alpn = bool(tls.alpn, 'app-layer.tls.alpn');

  const vars = obj(root.vars, 'vars');
  if ('address-groups' in vars) Object.assign(cfg.vars.addressGroups, strMap(vars['address-groups'], 'vars.address-groups'));
  if ('port-groups' in vars) Object.assign(cfg.vars.portGroups, strMap(vars['port-groups'], 'vars.port-groups'));

  if ('cluster' in root) {
    if (typeof root.cluster !== 'string' || root.cluster === '') throw new HarrierError('HARRIER_ERR_CONFIG', 'config: cluster must be a non-empty string');
    cfg.cluster = root.cluster;
  }
  if ('k8s' in root) {
    cfg.k8s = parseK8sConfig(root.k8s, cfg.warnings);
    if (cfg.k8s.cluster !== null) cfg.cluster = cfg.k8s.cluster;
  }
  if ('intel' in root) cfg.intel = parseIntelConfig(root.intel, cfg.warnings);
  if ('behaviour' in root) cfg.behaviour = parseBehaviourConfig(root.behaviour, cfg.warnings, cfg.behaviour);
  if ('rules' in root) cfg.rulesUpdate = parseRulesUpdateConfig(root.rules, parseSize);
  return cfg;
}

/** Load a configuration file (YAML; JSON is YAML too). */
export function loadConfig(path?: string): HarrierConfig {
  if (!path) return defaultConfig();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new HarrierError('HARRIER_ERR_CONFIG', `cannot read config ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const first = String((err as Error).message).split('\n')[0];
    throw new HarrierError('HARRIER_ERR_CONFIG', `config ${path}: invalid YAML: ${first}`);
  }
  try {
    return applyConfig(doc ?? {});
  } catch (err) {
    if (err instanceof HarrierError) throw new HarrierError(err.code, `${path}: ${err.message}`);
    throw err;
  }
}
