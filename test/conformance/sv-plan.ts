/**
 * From one suricata-verify test folder to a plan: either "skip, because …"
 * (one line naming what Harrier lacks) or the `harrier analyze` run to do and
 * the checks to evaluate on its EVE.
 *
 * What is out of scope, and why each rule is here:
 *  - the test's own requirements (`requires`, `skip`) evaluated against what
 *    Harrier emulates (Suricata 7.0.4 behaviour, the build features below);
 *  - custom `command`s, `script`/`shell`/`file-compare` checks, filters on
 *    files other than eve.json: they examine Suricata's process, not alerts;
 *  - IPS/inline mode (`ips` in the name, `--simulate-ips`, stream.inline),
 *    Lua, engine analysis, test mode, expected non-zero exit codes (those test
 *    Suricata's `--init-errors-fatal` start-up, while Harrier loads what it can);
 *  - rules and checks on protocols whose transactions Harrier does not parse;
 *  - settings (command-line `--set` and the test's suricata.yaml) that have no
 *    Harrier counterpart. Settings that do are translated into a Harrier
 *    config file: address/port variables, stream.midstream, checksum
 *    validation (`-k none`), HTTP body limits and extended logging, TLS JA4.
 *
 * Tests run with Suricata's default suricata.yaml unless they bring their own,
 * so the translated config starts from Suricata 7's defaults (HOME_NET is the
 * RFC 1918 space, HTTP_PORTS is 80, midstream off, checksums checked, HTTP
 * extended logging on), not Harrier's cluster defaults.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { unmetRequirement, type Capabilities, type Json, type Version } from './sv-check.js';
import { APP_PARSERS } from '../../src/applayer/registry.js';

/** What Harrier produces and parses, as seen by the planner. */
export interface HarrierProfile {
  caps: Capabilities;
  /** EVE event types Harrier writes. */
  eventTypes: ReadonlySet<string>;
  /** Rule-header protocols whose rules can work (packet protocols and parsed app layers). */
  ruleProtocols: ReadonlySet<string>;
  /** Options `harrier analyze --help` lists (`--rules`, `--threshold-file`, …). */
  analyzeOptions: ReadonlySet<string>;
  /** `app_proto` values Harrier can write (its parsers and recognisers, and `failed`). */
  appProtos: ReadonlySet<string>;
}

/** Suricata 7's default variables (suricata.yaml as shipped). */
export const SURICATA_DEFAULT_VARS = {
  'address-groups': {
    HOME_NET: '[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]',
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
  } as Record<string, string>,
  'port-groups': {
    HTTP_PORTS: '80',
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
  } as Record<string, string>,
};

/** The default Harrier profile: Suricata 7.0.4 behaviour, the parsers in src/applayer/registry.ts. */
export function defaultProfile(analyzeOptions: Iterable<string> = [], version: Version = { major: 7, minor: 0, patch: 4 }): HarrierProfile {
  return {
    caps: {
      version,
      features: new Set(['HAVE_JA3', 'HAVE_JA4', 'HAVE_LIBJANSSON', 'RUST']),
      os: process.platform,
      arch: process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch,
    },
    eventTypes: new Set(['alert', 'anomaly', 'flow', 'stats', 'http', 'dns', 'tls', 'ssh']),
    ruleProtocols: new Set([
      'ip', 'ipv4', 'ip4', 'ipv6', 'ip6', 'tcp', 'udp', 'icmp', 'icmpv4', 'icmpv6', 'tcp-pkt', 'tcp-stream', 'pkthdr',
      'http', 'http1', 'http2', 'dns', 'tls', 'ssh',
    ]),
    analyzeOptions: new Set(analyzeOptions),
    appProtos: new Set(['failed', ...APP_PARSERS.map((p) => p.name)]),
  };
}

/**
 * Keywords that need a protocol parser or a subsystem Harrier does not have.
 * Matched on the keyword name (prefix before the first `.` or `_` group).
 */
const UNSUPPORTED_KEYWORDS: readonly [RegExp, string][] = [
  [/^(lua|luajit|luaxform)$/, 'Lua'],
  [/^(smb|dcerpc|dce_)/, 'SMB/DCERPC'],
  [/^nfs/, 'NFS'],
  [/^krb5/, 'Kerberos'],
  [/^ike/, 'IKE'],
  [/^snmp/, 'SNMP'],
  [/^sip/, 'SIP'],
  [/^rfb/, 'RFB'],
  [/^mqtt/, 'MQTT'],
  [/^modbus/, 'Modbus'],
  [/^dnp3/, 'DNP3'],
  [/^(enip|cip)/, 'ENIP/CIP'],
  [/^(ftp|ftpbounce|ftpdata)/, 'FTP'],
  [/^(smtp|imap|pop3|email)/, 'mail protocols'],
  [/^pgsql/, 'PostgreSQL'],
  [/^tftp/, 'TFTP'],
  [/^ldap/, 'LDAP'],
  [/^websocket/, 'WebSocket'],
  [/^mdns/, 'mDNS'],
  [/^rdp/, 'RDP'],
  [/^bittorrent/, 'BitTorrent DHT'],
  [/^dhcp/, 'DHCP'],
  [/^quic/, 'QUIC'],
  [/^(frame)$/, 'frames'],
  [/^(geoip)$/, 'GeoIP'],
  [/^(iprep|datarep)$/, 'IP reputation'],
  [/^(xbits|hostbits)$/, 'host/ip-pair bits'],
  [/^(filestore|filename|fileext|filemagic|filemd5|filesha1|filesha256|filesize|file\.name|file\.magic|file\.size|file\.mime)$/, 'file tracking'],
];

/** Event types of protocols Harrier does not parse, named for the skip line. */
function describeType(t: string): string {
  return t === 'fileinfo' ? 'file logging' : t === 'frame' ? 'frame logging' : t === 'drop' ? 'IPS drop records' : t;
}

/** Options of a rule, split on `;` outside quotes (a light lexer: enough to list keyword names). */
export function ruleKeywords(rule: string): { proto: string; keywords: string[] } | null {
  const open = rule.indexOf('(');
  if (open < 0) return null;
  const header = rule.slice(0, open).trim().split(/\s+/);
  const proto = (header[1] ?? '').toLowerCase();
  const keywords: string[] = [];
  let i = open + 1;
  let start = i;
  let quoted = false;
  for (; i < rule.length; i++) {
    const c = rule[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    else if (c === ';' && !quoted) {
      const opt = rule.slice(start, i).trim();
      const name = /^([A-Za-z0-9_.\-]+)/.exec(opt);
      if (name) keywords.push(name[1].toLowerCase());
      start = i + 1;
    }
  }
  return { proto, keywords };
}

/** Rules of a file with continuation lines joined; comments and blanks dropped. */
export function rulesOf(text: string): string[] {
  const out: string[] = [];
  let acc = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (line.endsWith('\\')) {
      acc += line.slice(0, -1);
      continue;
    }
    const full = (acc + line).trim();
    acc = '';
    if (full === '' || full.startsWith('#')) continue;
    out.push(full);
  }
  return out;
}

/** Why a rule set is out of scope, or null. */
export function rulesOutOfScope(text: string, profile: HarrierProfile): string | null {
  for (const r of rulesOf(text)) {
    const k = ruleKeywords(r);
    if (!k) continue;
    if (!profile.ruleProtocols.has(k.proto)) return `rules on ${k.proto} (protocol not parsed by Harrier)`;
    for (const kw of k.keywords) {
      for (const [re, what] of UNSUPPORTED_KEYWORDS) if (re.test(kw)) return `rule keyword ${kw} (${what} not in Harrier)`;
    }
  }
  return null;
}

/** Record objects of protocols and subsystems Harrier does not log (a check on their fields is out of scope). */
const UNLOGGED_OBJECTS = new Set([
  'fileinfo', 'files', 'smtp', 'email', 'ftp', 'ftp_data', 'smb', 'dcerpc', 'nfs', 'krb5', 'ike', 'ikev2', 'snmp', 'sip', 'rfb', 'mqtt',
  'modbus', 'dnp3', 'enip', 'cip', 'pgsql', 'tftp', 'ldap', 'websocket', 'mdns', 'rdp', 'bittorrent_dht', 'dhcp', 'quic', 'netflow',
  'frame', 'drop', 'packet', 'arp', 'template', 'telnet', 'pop3', 'imap', 'mysql', 'redis', 'kafka', 'verdict', 'pgsql', 'doh2',
]);

/** Stats sections Harrier keeps under Suricata's names. */
const STATS_SECTIONS = new Set(['decoder', 'flow', 'tcp', 'detect', 'app_layer', 'defrag', 'flow_bypassed', 'capture']);

/**
 * Why one check is beyond what Harrier logs (records of a protocol it does
 * not parse, an app_proto it does not recognise, counters it does not keep),
 * or null. Such a check is skipped on its own; the test's others still count.
 */
export function checkOutOfScope(kind: 'filter' | 'stats', spec: Record<string, Json>, profile: HarrierProfile): string | null {
  const statsKey = (key: string): string | null => {
    const parts = key.split('.');
    if (!STATS_SECTIONS.has(parts[0])) return `checks ${parts[0]} counters (not kept by Harrier)`;
    if (parts[0] === 'app_layer' && parts.length > 2 && !profile.appProtos.has(parts[2].replace(/_/g, '-')) && !profile.appProtos.has(parts[2])) {
      return `checks ${parts[2]} counters (protocol not recognised by Harrier)`;
    }
    return null;
  };
  if (kind === 'stats') {
    for (const k of Object.keys(spec)) {
      const why = statsKey(k);
      if (why) return why;
    }
    return null;
  }
  const match = asObj(spec.match);
  const et = match.event_type;
  if (typeof et === 'string' && !profile.eventTypes.has(et)) return `checks ${describeType(et)} records (not produced by Harrier)`;
  for (const [k, v] of Object.entries(match)) {
    const field = (k === 'has-key' || k === 'not-has-key' ? String(v) : k).split('.')[0].replace(/\[\d+\]$/, '');
    if (UNLOGGED_OBJECTS.has(field) && k !== 'not-has-key') return `checks ${field} fields (not produced by Harrier)`;
    if (/(^|\.)app_proto(_ts|_tc|_orig|_expected)?$/.test(k) && typeof v === 'string' && !profile.appProtos.has(v)) {
      return `checks app_proto ${v} (not recognised by Harrier)`;
    }
    if (k.startsWith('stats.')) {
      const why = statsKey(k.slice('stats.'.length));
      if (why) return why;
    }
  }
  return null;
}

/** One check of test.yaml as the runner will evaluate it. */
export interface PlannedCheck {
  kind: 'filter' | 'stats';
  spec: Record<string, Json>;
  /** Reason the check is skipped (its own requires), or null. */
  skip: string | null;
}

export interface RunPlan {
  kind: 'run';
  name: string;
  dir: string;
  pcap: string;
  rules: string | null;
  /** Harrier configuration (YAML text) translated from the test's settings. */
  config: string;
  /** Event types the test's eve-log writes (null: all); others are dropped before checking. */
  eveTypes: ReadonlySet<string> | null;
  checks: PlannedCheck[];
  /** Extra analyze options (threshold file…). */
  extraArgs: string[];
  /** Whether some evaluated filter is on `event_type: alert`. */
  onAlerts: boolean;
}

export interface SkipPlan {
  kind: 'skip';
  name: string;
  dir: string;
  reason: string;
}

export type Plan = RunPlan | SkipPlan;

/** The test folders under `root`: a folder holding test.yaml is a test (its sub-folders are not searched). */
export function findTests(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    if (dir !== root && names.includes('test.yaml')) {
      out.push(dir);
      return;
    }
    for (const n of names) {
      const p = join(dir, n);
      try {
        if (statSync(p).isDirectory()) walk(p);
      } catch {
        /* vanished: not a test */
      }
    }
  };
  walk(root);
  return out.sort();
}

/** PyYAML reads test.yaml as YAML 1.1 (`yes` is true); so do we. */
export function parseTestYaml(text: string): Record<string, Json> {
  const doc = parseYaml(text, { version: '1.1', uniqueKeys: false }) as unknown;
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error('test.yaml is not a mapping');
  return doc as Record<string, Json>;
}

function asObj(v: Json | undefined): Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : {};
}

function truthy(v: Json | undefined): boolean {
  return v === true || v === 'yes' || v === 'true' || v === 'on' || v === 1;
}

/** Settings gathered from args and suricata.yaml, to become a Harrier config. */
interface Settings {
  vars: { 'address-groups': Record<string, string>; 'port-groups': Record<string, string> };
  midstream: boolean;
  checksums: boolean;
  httpExtended: boolean;
  requestBodyLimit?: string;
  responseBodyLimit?: string;
  decompressLayerLimit?: string;
  ja4?: boolean;
  thresholdFile?: string;
}

/** `--set key=value` settings: apply a supported one, or return why the test is out of scope. */
function applySet(key: string, value: string, s: Settings, dir: string): string | null {
  const v = value.replace(/^"(.*)"$/, '$1');
  switch (key) {
    case 'stream.midstream':
      s.midstream = truthy(v);
      return null;
    case 'app-layer.protocols.tls.ja4-fingerprints':
      s.ja4 = truthy(v);
      return null;
    case 'threshold-file':
      s.thresholdFile = v.replace('${TEST_DIR}', dir);
      return null;
    // Harmless here: rule/config file locations (the runner passes them itself),
    // logging and stats cadence, a decompression layer limit above the default.
    case 'default-rule-path':
    case 'classification-file':
    case 'reference-config-file':
    case 'logging.default-log-level':
    case 'logging.outputs.1.file.type':
    case 'stats.interval':
    case 'pcap-file.checksum-checks':
      if (key === 'pcap-file.checksum-checks') s.checksums = v !== 'no';
      return null;
    case 'app-layer.protocols.http.libhtp.default-config.response-body-decompress-layer-limit':
      s.decompressLayerLimit = v;
      return null;
    default:
      if (/^app-layer\.protocols\.[a-z0-9_-]+\.enabled$/.test(key)) {
        const proto = key.split('.')[2];
        return ['http', 'tls', 'dns', 'ssh', 'http2'].includes(proto) && !truthy(v) ? `--set ${key}=${v} (cannot disable a parser)` : null;
      }
      return `--set ${key} (no Harrier setting)`;
  }
}

/** Command-line args of test.yaml → settings, or the reason they are out of scope. */
function applyArgs(args: Json | undefined, s: Settings, dir: string): string | null {
  if (args === undefined || args === null) return null;
  const list = Array.isArray(args) ? args : [args];
  const tokens = list.flatMap((a) => String(a).split(/\s+/)).filter((t) => t !== '');
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === '-k') {
      const v = tokens[++i];
      s.checksums = v !== 'none';
    } else if (t === '--set') {
      const kv = tokens[++i] ?? '';
      const eq = kv.indexOf('=');
      const why = applySet(eq < 0 ? kv : kv.slice(0, eq), eq < 0 ? '' : kv.slice(eq + 1), s, dir);
      if (why) return why;
    } else if (t === '--runmode') {
      i++;
    } else if (t.startsWith('--runmode=')) {
      /* threading model: no effect on results */
    } else if (t.startsWith('--set=')) {
      tokens.splice(i + 1, 0, t.slice('--set='.length));
      tokens[i] = '--set';
      i--;
    } else if (/^-v+$/.test(t)) {
      /* verbosity */
    } else if (t === '--simulate-ips') {
      return 'IPS mode (--simulate-ips)';
    } else {
      return `Suricata option ${t} (no Harrier counterpart)`;
    }
  }
  return null;
}

const HARMLESS_TOP = new Set([
  '%YAML', 'outputs', 'logging', 'stats', 'default-log-dir', 'profiling', 'run-as', 'threading', 'vars', 'classification-file',
  'reference-config-file', 'unix-command', 'action-order', 'engine-analysis', 'mpm-algo', 'spm-algo', 'pcre', 'default-rule-path',
  'rule-files', 'pcap-file', 'app-layer', 'stream', 'detect', 'include', 'max-pending-packets', 'coredump', 'plugins', 'capture',
  'af-packet', 'pcap', 'pfring', 'nfq', 'nflog', 'netmap', 'napatech', 'ipfw', 'legacy', 'asn1-max-frames', 'sensor-name',
]);

/** eve-log keys that change nothing Harrier's records are checked on. */
const EVE_LOG_HARMLESS = new Set(['enabled', 'filetype', 'filename', 'types', 'append', 'level', 'threaded', 'buffer-size', 'rotate-interval', 'pcap-file', 'metadata', 'filemode']);
/** Options of eve-log record types Harrier honours (or that only add fields); others make the test out of scope. */
const EVE_TYPE_OPTIONS: Record<string, ReadonlySet<string>> = {
  alert: new Set(['enabled', 'payload', 'payload-printable', 'payload-buffer-size', 'packet', 'metadata', 'http-body', 'http-body-printable', 'tagged-packets', 'http', 'tls', 'ssh', 'dns', 'app-layer', 'flow', 'rule', 'verdict']),
  dns: new Set(['enabled', 'version']),
  http: new Set(['enabled', 'extended']),
  tls: new Set(['enabled', 'extended']),
  ssh: new Set(['enabled']),
  flow: new Set(['enabled']),
};

/** The test's suricata.yaml → settings and eve types, or the reason it is out of scope. */
function applySuricataYaml(doc: Record<string, Json>, s: Settings): { why: string | null; eveTypes: Set<string> | null } {
  for (const k of Object.keys(doc)) if (!HARMLESS_TOP.has(k)) return { why: `suricata.yaml: ${k} (no Harrier setting)`, eveTypes: null };
  if (doc.include !== undefined) {
    for (const inc of Array.isArray(doc.include) ? doc.include : [doc.include]) {
      if (!/etc\/suricata-[0-9.]+\.yaml$/.test(String(inc))) return { why: `suricata.yaml includes ${String(inc)}`, eveTypes: null };
    }
  }
  const vars = asObj(doc.vars);
  for (const g of ['address-groups', 'port-groups'] as const) {
    for (const [k, v] of Object.entries(asObj(vars[g]))) s.vars[g][k] = String(v);
  }
  const stream = asObj(doc.stream);
  for (const k of Object.keys(stream)) {
    if (k === 'midstream') s.midstream = truthy(stream[k]);
    else if (!['memcap', 'checksum-validation'].includes(k)) return { why: `suricata.yaml: stream.${k} (no Harrier setting)`, eveTypes: null };
    else if (k === 'checksum-validation') s.checksums = truthy(stream[k]);
  }
  const detect = asObj(doc.detect);
  for (const k of Object.keys(detect)) {
    if (!['profile', 'custom-values', 'sgh-mpm-context', 'inspection-recursion-limit', 'prefilter', 'grouping', 'profiling'].includes(k)) {
      return { why: `suricata.yaml: detect.${k} (no Harrier setting)`, eveTypes: null };
    }
  }
  const pf = asObj(doc['pcap-file']);
  if ('checksum-checks' in pf) s.checksums = pf['checksum-checks'] !== false && pf['checksum-checks'] !== 'no';
  const al = asObj(doc['app-layer']);
  for (const k of Object.keys(al)) if (k !== 'protocols') return { why: `suricata.yaml: app-layer.${k} (no Harrier setting)`, eveTypes: null };
  for (const [proto, raw] of Object.entries(asObj(al.protocols))) {
    const p = asObj(raw);
    const parsed = ['http', 'tls', 'dns', 'ssh', 'http2'].includes(proto);
    if (!parsed) continue; // settings of protocols Harrier does not parse change nothing it does
    for (const [k, v] of Object.entries(p)) {
      if (k === 'enabled' || k === 'detection-enabled') {
        if (!truthy(v) && v !== 'detection-only') return { why: `suricata.yaml disables the ${proto} parser`, eveTypes: null };
      } else if (k === 'detection-ports' || k === 'ja3-fingerprints') {
        /* detection ports only choose which probe runs first; JA3 is always computed */
      } else if (proto === 'tls' && k === 'ja4-fingerprints') {
        s.ja4 = truthy(v);
      } else if (proto === 'http' && k === 'libhtp') {
        for (const [lk, lv] of Object.entries(asObj(v))) {
          if (lk !== 'default-config') return { why: `suricata.yaml: libhtp.${lk} (no Harrier setting)`, eveTypes: null };
          for (const [ck, cv] of Object.entries(asObj(lv))) {
            if (ck === 'request-body-limit') s.requestBodyLimit = String(cv);
            else if (ck === 'response-body-limit') s.responseBodyLimit = String(cv);
            else if (!['personality', 'request-body-minimal-inspect-size', 'request-body-inspect-window', 'response-body-minimal-inspect-size', 'response-body-inspect-window', 'response-body-decompress-layer-limit', 'http-body-inline'].includes(ck)) {
              return { why: `suricata.yaml: libhtp default-config.${ck} (no Harrier setting)`, eveTypes: null };
            }
          }
        }
      } else {
        return { why: `suricata.yaml: app-layer.protocols.${proto}.${k} (no Harrier setting)`, eveTypes: null };
      }
    }
  }
  // Which records the test's eve.json holds: the eve-log writing eve.json.
  let eveTypes: Set<string> | null = null;
  for (const out of Array.isArray(doc.outputs) ? doc.outputs : []) {
    const eve = asObj(asObj(out)['eve-log']);
    if (Object.keys(eve).length === 0 || !truthy(eve.enabled ?? true)) continue;
    const fname = eve.filename === undefined ? 'eve.json' : String(eve.filename);
    if (fname !== 'eve.json') continue;
    for (const [k, v] of Object.entries(eve)) {
      if (!EVE_LOG_HARMLESS.has(k) && !(k === 'community-id' && !truthy(v)) && !(k === 'ethernet' && !truthy(v))) {
        return { why: `suricata.yaml: eve-log ${k} (no Harrier setting)`, eveTypes: null };
      }
    }
    if (!Array.isArray(eve.types)) continue;
    eveTypes ??= new Set();
    let httpExtended = false;
    for (const t of eve.types) {
      if (typeof t === 'string') eveTypes.add(t);
      else {
        for (const [name, opts] of Object.entries(asObj(t))) {
          const o = asObj(opts);
          if (o.enabled !== undefined && !truthy(o.enabled)) continue;
          for (const ok of Object.keys(o)) {
            const allowed = EVE_TYPE_OPTIONS[name];
            if (allowed && !allowed.has(ok)) return { why: `suricata.yaml: eve-log ${name}.${ok} (no Harrier setting)`, eveTypes: null };
          }
          if (name === 'dns' && o.version !== undefined && Number(o.version) !== 2) return { why: `suricata.yaml: eve-log dns version ${String(o.version)}`, eveTypes: null };
          eveTypes.add(name);
          if (name === 'http' && truthy(o.extended)) httpExtended = true;
        }
      }
    }
    s.httpExtended = httpExtended;
  }
  return { why: null, eveTypes };
}

function yamlScalar(v: string): string {
  return JSON.stringify(v);
}

/** The Harrier config file for the settings (YAML; keys as src/sensor/config.ts reads them). */
export function harrierConfigText(s: Settings): string {
  const lines = ['# generated by scripts/conformance.mjs from a suricata-verify test', 'vars:'];
  for (const g of ['address-groups', 'port-groups'] as const) {
    lines.push(`  ${g}:`);
    for (const [k, v] of Object.entries(s.vars[g])) lines.push(`    ${k}: ${yamlScalar(v)}`);
  }
  lines.push('stream:', `  midstream: ${s.midstream ? 'yes' : 'no'}`);
  lines.push('decoder:', `  checksum-validation: ${s.checksums ? 'yes' : 'no'}`);
  lines.push('app-layer:', '  http:', `    extended: ${s.httpExtended ? 'yes' : 'no'}`);
  if (s.requestBodyLimit) lines.push(`    request-body-limit: ${yamlScalar(s.requestBodyLimit)}`);
  if (s.responseBodyLimit) lines.push(`    response-body-limit: ${yamlScalar(s.responseBodyLimit)}`);
  if (s.decompressLayerLimit) lines.push(`    response-body-decompress-layer-limit: ${yamlScalar(s.decompressLayerLimit)}`);
  if (s.ja4 !== undefined) lines.push('  tls:', `    ja4: ${s.ja4 ? 'yes' : 'no'}`);
  return lines.join('\n') + '\n';
}

function globIn(dir: string, exts: string[]): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => exts.some((e) => n.endsWith(e)))
      .sort()
      .map((n) => join(dir, n));
  } catch {
    return [];
  }
}

/** Plan one test folder. Never throws: a broken test.yaml is a skip with the parse error. */
export function planTest(dir: string, root: string, profile: HarrierProfile): Plan {
  const name = dir.startsWith(root + '/') ? dir.slice(root.length + 1) : dir;
  const skip = (reason: string): SkipPlan => ({ kind: 'skip', name, dir, reason });
  let cfg: Record<string, Json>;
  try {
    cfg = parseTestYaml(readFileSync(join(dir, 'test.yaml'), 'utf8'));
  } catch (err) {
    return skip(`test.yaml unreadable: ${String((err as Error).message).split('\n')[0]}`);
  }
  const requires = asObj(cfg.requires);
  const unmet = unmetRequirement(requires, profile.caps);
  if (unmet) return skip(unmet);
  if (cfg.skip !== undefined) {
    if (cfg.skip === true) return skip('skipped by default (test.yaml)');
    for (const sk of Array.isArray(cfg.skip) ? cfg.skip : []) {
      const o = asObj(sk);
      if (o.feature !== undefined && profile.caps.features.has(String(o.feature))) return skip(String(o.msg ?? `not for feature ${String(o.feature)}`));
      if (o.uid !== undefined && process.getuid?.() === o.uid) return skip(String(o.msg ?? `not for uid ${String(o.uid)}`));
    }
  }
  if (cfg.command !== undefined) return skip('custom command (runs Suricata its own way)');
  if (/ips/.test(name.split('/').pop() ?? '')) return skip('IPS mode (test name contains "ips")');
  if (cfg['exit-code'] !== undefined && cfg['exit-code'] !== 0) return skip(`expects exit code ${String(cfg['exit-code'])} (Suricata start-up failure; Harrier loads what it can)`);
  if (cfg.setup !== undefined || cfg['pre-check'] !== undefined) return skip('setup/pre-check script');

  // Input capture.
  let pcap: string | null = null;
  const pcapRequired = !(requires.pcap === false || cfg.pcap === false || cfg.pcap === null || cfg.pcap === '');
  if (typeof cfg.pcap === 'string' && cfg.pcap !== '') {
    const p = resolve(dir, cfg.pcap);
    if (!existsSync(p)) return skip(`pcap ${cfg.pcap} not available (shared data left out files of 4 MiB and more)`);
    pcap = p;
  } else {
    const found = globIn(dir, ['.pcap', '.pcapng']);
    if (found.length > 1) return skip('more than one pcap in the folder');
    pcap = found[0] ?? null;
  }
  if (!pcap) return skip(pcapRequired ? 'no pcap file (not in shared data: files of 4 MiB and more were left out)' : 'no pcap: a rule-loading or start-up test');

  // Rules.
  let rules: string | null = null;
  if (typeof cfg.rules === 'string') rules = resolve(dir, cfg.rules);
  else {
    const found = globIn(dir, ['.rules']);
    if (found.length > 1) return skip('several rule files (firewall mode)');
    if (found.length === 1) {
      const base = found[0].split('/').pop() ?? '';
      if (base === 'firewall.rules') return skip('firewall rules (Suricata 8 firewall mode)');
      rules = found[0];
    }
  }
  if (rules) {
    let text: string;
    try {
      text = readFileSync(rules, 'latin1');
    } catch {
      return skip(`rule file ${rules} not readable`);
    }
    const why = rulesOutOfScope(text, profile);
    if (why) return skip(why);
  }

  // Settings.
  const s: Settings = {
    vars: { 'address-groups': { ...SURICATA_DEFAULT_VARS['address-groups'] }, 'port-groups': { ...SURICATA_DEFAULT_VARS['port-groups'] } },
    midstream: false,
    checksums: true,
    httpExtended: true,
  };
  const argWhy = applyArgs(cfg.args, s, dir);
  if (argWhy) return skip(argWhy);
  let eveTypes: Set<string> | null = null;
  const yamlPath = join(dir, 'suricata.yaml');
  if (existsSync(yamlPath)) {
    let doc: Record<string, Json>;
    try {
      doc = parseTestYaml(readFileSync(yamlPath, 'utf8'));
    } catch (err) {
      return skip(`suricata.yaml unreadable: ${String((err as Error).message).split('\n')[0]}`);
    }
    // A test's own suricata.yaml replaces the default one: without an eve-log
    // http entry there is no extended HTTP logging.
    s.httpExtended = false;
    const r = applySuricataYaml(doc, s);
    if (r.why) return skip(r.why);
    eveTypes = r.eveTypes;
  }
  const extraArgs: string[] = [];
  if (s.thresholdFile) {
    const opt = ['--threshold-file', '--threshold'].find((o) => profile.analyzeOptions.has(o));
    // The rule loader reads a threshold.config found beside the rule files.
    const beside = rules !== null && resolve(s.thresholdFile) === join(dirname(rules), 'threshold.config');
    if (opt) extraArgs.push(opt, s.thresholdFile);
    else if (!beside) return skip('threshold file elsewhere than beside the rules (harrier analyze has no threshold option)');
  }

  // Checks.
  const checks: PlannedCheck[] = [];
  let onAlerts = false;
  for (const c of Array.isArray(cfg.checks) ? cfg.checks : []) {
    for (const [kind, raw] of Object.entries(asObj(c))) {
      if (kind === 'shell') return skip('shell check (inspects Suricata output files with scripts)');
      if (kind === 'file-compare') return skip('file-compare check');
      if (kind !== 'filter' && kind !== 'stats') return skip(`unknown check type ${kind}`);
      const spec = asObj(raw);
      if (kind === 'stats') {
        checks.push({ kind, spec, skip: checkOutOfScope(kind, spec, profile) });
        continue;
      }
      if (spec.filename !== undefined && spec.filename !== 'eve.json') return skip(`filter on ${String(spec.filename)} (not EVE)`);
      const req: Record<string, Json> = { ...asObj(spec.requires) };
      for (const k of ['version', 'min-version', 'lt-version'] as const) if (spec[k] !== undefined) req[k] = spec[k];
      if (spec.feature !== undefined) req.features = [spec.feature];
      // A check beyond what Harrier logs is skipped on its own (as a
      // check-level requirement would be); the test's other checks still
      // count, and the result line says how many were skipped.
      const checkSkip = unmetRequirement(req, profile.caps) ?? checkOutOfScope(kind, spec, profile);
      if (!checkSkip && asObj(spec.match).event_type === 'alert') onAlerts = true;
      checks.push({ kind, spec, skip: checkSkip });
    }
  }
  // A filter without event_type counts records of every type: where the test
  // also checks records Harrier does not write, that count includes them.
  const unlogged = checks.find((c) => c.skip && /\(not produced by Harrier\)$/.test(c.skip));
  if (unlogged) {
    for (const c of checks) {
      if (!c.skip && c.kind === 'filter' && asObj(c.spec.match).event_type === undefined) c.skip = `counts records of all types, and the test ${unlogged.skip}`;
    }
    onAlerts = checks.some((c) => !c.skip && c.kind === 'filter' && asObj(c.spec.match).event_type === 'alert');
  }
  if (checks.length > 0 && checks.every((c) => c.skip)) return skip(checks[0].skip ?? '');
  return { kind: 'run', name, dir, pcap, rules, config: harrierConfigText(s), eveTypes, checks, extraArgs, onAlerts };
}
