/**
 * Harrier's protocol identification, SNI and JA3 against nDPI's expectations
 * on nDPI's own test captures (pcaps/ndpi/tests/cfgs/default: pcap/<file> and
 * result/<file>.out). Used by test/applayer/ndpi-agreement.test.ts (which
 * asserts the issue's thresholds) and by scripts/ndpi-report.mjs (which writes
 * docs/ndpi-agreement.md).
 *
 * What is compared, and why:
 *   - Only flows nDPI identified by content ("Confidence: DPI…"); flows it
 *     guessed by port or IP say nothing about the bytes, and Harrier never
 *     decides by port.
 *   - Only nDPI protocols in issue 4's scope. nDPI names an application on top
 *     of its transport protocol as `Master.App` (`TLS.Google`, `QUIC.YouTube`,
 *     `HTTP.OCSP`, `DNS.Apple`): the master is what is compared.
 *   - A flow matches Harrier's flow records by protocol and both endpoints,
 *     in either orientation (nDPI prints the first packet's direction).
 *   - SNI: nDPI's `Hostname/SNI` on TLS and QUIC flows against the `sni` of
 *     Harrier's `tls`/`quic` record of that flow; JA3: nDPI's `JA3C` against
 *     `tls.ja3.hash` / `quic.ja3.hash`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertSupportedLinkType, readCaptureFile } from '../../src/capture/reader.js';
import { HarrierError } from '../../src/errors.js';
import { EveCollector } from '../../src/output/eve-writer.js';
import { defaultConfig } from '../../src/sensor/config.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { AppLayer } from '../../src/applayer/stage.js';
import { APP_PARSERS } from '../../src/applayer/registry.js';
import { RECOGNISERS } from '../../src/applayer/recognisers.js';

export const NDPI_REL = 'pcaps/ndpi/tests/cfgs/default';

/**
 * nDPI master protocol name → the Harrier app_proto names that count as the
 * same answer. BitTorrent over UDP is uTP or DHT in nDPI; Harrier recognises
 * DHT (Suricata's `bittorrent-dht`), so either name is accepted.
 */
const NDPI_TO_HARRIER: Readonly<Record<string, { tcp?: readonly string[]; udp?: readonly string[] }>> = {
  HTTP: { tcp: ['http'] },
  HTTP_Proxy: { tcp: ['http'] },
  HTTP_Connect: { tcp: ['http'] },
  TLS: { tcp: ['tls'] },
  DNS: { tcp: ['dns'], udp: ['dns'] },
  SSH: { tcp: ['ssh'] },
  QUIC: { udp: ['quic'] },
  SMTP: { tcp: ['smtp'] },
  FTP_CONTROL: { tcp: ['ftp'] },
  Redis: { tcp: ['redis'] },
  PostgreSQL: { tcp: ['pgsql'] },
  MySQL: { tcp: ['mysql'] },
  MQTT: { tcp: ['mqtt'] },
  Kafka: { tcp: ['kafka'] },
  Mining: { tcp: ['stratum'] },
  BitTorrent: { tcp: ['bittorrent'], udp: ['bittorrent-dht', 'bittorrent'] },
  SMBv1: { tcp: ['smb'] },
  SMBv23: { tcp: ['smb'] },
  RDP: { tcp: ['rdp'] },
};

export interface NdpiFlow {
  file: string;
  transport: 'TCP' | 'UDP';
  a: string;
  b: string;
  /** nDPI's full protocol name (`TLS.Google`) and its master (`TLS`). */
  name: string;
  master: string;
  confidence: string;
  sni: string | null;
  ja3: string | null;
}

/** What `normEndpoint` returns for an address that is not one. */
export const INVALID = '(invalid)';

/** `ip:port` or `[ip6]:port` as nDPI prints it → Harrier's text form. */
export function normEndpoint(ep: string): string {
  const m = /^\[(.*)\]:(\d+)$/.exec(ep) ?? /^(.*):(\d+)$/.exec(ep);
  if (m === null) return ep;
  if (!m[1]!.includes(':')) return `${m[1]}:${m[2]}`;
  try {
    return `[${new URL(`http://[${m[1]}]/`).hostname.slice(1, -1)}]:${m[2]}`;
  } catch {
    return INVALID; // nDPI sometimes prints an invalid IPv6 address ("2600:1901::7a0b::")
  }
}

const flowKey = (transport: string, a: string, b: string): string => `${transport} ${[a, b].sort().join(' ')}`;

/** The flow lines of one nDPI .out file. */
export function parseNdpiOut(file: string, text: string): NdpiFlow[] {
  const flows: NdpiFlow[] = [];
  for (const line of text.split('\n')) {
    const f = /^\s+\d+\s+(TCP|UDP) (\S+) (?:<->|->|<-) (\S+) .*?\[proto: [\d.]+\/([^\]]+)\]/.exec(line);
    if (f === null) continue;
    const g = (re: RegExp): string | null => re.exec(line)?.[1] ?? null;
    const name = f[4]!;
    flows.push({
      file,
      transport: f[1] as 'TCP' | 'UDP',
      a: normEndpoint(f[2]!),
      b: normEndpoint(f[3]!),
      name,
      master: name.split('.')[0]!,
      confidence: g(/\[Confidence: ([^\]]*)\]/) ?? 'Unknown',
      sni: g(/\[Hostname\/SNI: ([^\]]*)\]/),
      ja3: g(/[[(]JA3C: ([0-9a-f]{32})/),
    });
  }
  return flows;
}

/** Harrier's answer for one flow key. */
export interface HarrierAnswer {
  /** app_proto of the flow records; for a connection upgraded in-protocol (STARTTLS, SSLRequest), also its app_proto_orig. */
  appProtos: string[];
  snis: string[];
  ja3s: string[];
}

/** Runs one capture through the product pipeline; null when the capture is refused (link type, format). */
export function runCapture(path: string, makePipeline: (eve: EveCollector) => Pipeline = defaultPipeline): Map<string, HarrierAnswer> | null {
  const eve = new EveCollector();
  const p = makePipeline(eve);
  try {
    readCaptureFile(path, p, { onLinkType: (lt) => assertSupportedLinkType(lt, path) });
  } catch (err) {
    if (err instanceof HarrierError) return null;
    throw err;
  }
  p.finish();
  const out = new Map<string, HarrierAnswer>();
  const at = (rec: Record<string, unknown>): HarrierAnswer | null => {
    const proto = rec.proto;
    if (proto !== 'TCP' && proto !== 'UDP') return null;
    // Harrier writes IPv6 in full (as Suricata does), nDPI compressed: both go through the same normalisation.
    const ep = (ip: unknown, port: unknown): string => normEndpoint(String(ip).includes(':') ? `[${String(ip)}]:${String(port)}` : `${String(ip)}:${String(port)}`);
    const key = flowKey(proto, ep(rec.src_ip, rec.src_port), ep(rec.dest_ip, rec.dest_port));
    let a = out.get(key);
    if (a === undefined) out.set(key, (a = { appProtos: [], snis: [], ja3s: [] }));
    return a;
  };
  for (const rec of eve.out) {
    const type = rec.event_type;
    if (type === 'flow') {
      const a = at(rec);
      if (a !== null) {
        a.appProtos.push(typeof rec.app_proto === 'string' ? rec.app_proto : '(none)');
        // nDPI names an upgraded connection by the protocol it started as
        // (MySQL, PostgreSQL, SMTP before their TLS); Harrier keeps that name
        // in app_proto_orig and the TLS inside in app_proto: both count.
        if (rec.app_proto === 'tls' && typeof rec.app_proto_orig === 'string') a.appProtos.push(rec.app_proto_orig);
      }
    } else if (type === 'tls' || type === 'quic') {
      const a = at(rec);
      const body = rec[type] as { sni?: unknown; ja3?: { hash?: unknown } } | undefined;
      if (a === null || body === undefined) continue;
      if (typeof body.sni === 'string') a.snis.push(body.sni);
      if (typeof body.ja3?.hash === 'string') a.ja3s.push(body.ja3.hash);
    }
  }
  return out;
}

function defaultPipeline(eve: EveCollector): Pipeline {
  const cfg = defaultConfig();
  // Bucket count changes no result; a small table makes ~540 fresh pipelines cheap.
  cfg.flow.hashSize = 4096;
  return new Pipeline(cfg, { eve });
}

/**
 * For development before the registry lists the recognisers: the product
 * pipeline with its app-layer stage rebuilt over APP_PARSERS + RECOGNISERS
 * (those not already registered). The test never uses this.
 */
export function pipelineWithRecognisers(eve: EveCollector): Pipeline {
  const p = defaultPipeline(eve);
  const extra = RECOGNISERS.filter((r) => !APP_PARSERS.some((a) => a.name === r.name && a.transport === r.transport));
  (p as unknown as { app: AppLayer }).app = new AppLayer([...APP_PARSERS, ...extra], (rec) => eve.write(rec));
  return p;
}

export interface Mismatch {
  file: string;
  flow: string;
  what: 'proto' | 'sni' | 'ja3';
  ndpi: string;
  harrier: string;
}

export interface Tally {
  total: number;
  agree: number;
}

export interface AgreementReport {
  captures: number;
  refused: string[];
  /** In-scope nDPI flows left out because nDPI printed an invalid address (no flow can match them). */
  unmatchable: string[];
  proto: Tally;
  sni: Tally;
  ja3: Tally;
  /** Per nDPI master protocol: identification, SNI and JA3 tallies. */
  perProto: Map<string, { proto: Tally; sni: Tally; ja3: Tally }>;
  mismatches: Mismatch[];
  elapsedSec: number;
}

/** An empty report to accumulate into. */
export function emptyReport(): AgreementReport {
  return {
    captures: 0,
    refused: [],
    unmatchable: [],
    proto: { total: 0, agree: 0 },
    sni: { total: 0, agree: 0 },
    ja3: { total: 0, agree: 0 },
    perProto: new Map(),
    mismatches: [],
    elapsedSec: 0,
  };
}

/**
 * Compare one capture (its in-scope flows; `only`: just these nDPI masters)
 * into `r`. Returns false when the capture has no such flow (not run).
 */
export function compareFile(
  base: string,
  capture: string,
  r: AgreementReport,
  makePipeline?: (eve: EveCollector) => Pipeline,
  only?: readonly string[],
): boolean {
  const flows = parseNdpiOut(capture, readFileSync(join(base, 'result', `${capture}.out`), 'utf8')).filter(
    (f) =>
      f.confidence.startsWith('DPI') &&
      NDPI_TO_HARRIER[f.master]?.[f.transport === 'TCP' ? 'tcp' : 'udp'] !== undefined &&
      (only === undefined || only.includes(f.master)),
  );
  if (flows.length === 0) return false;
  const harrier = runCapture(join(base, 'pcap', capture), makePipeline);
  if (harrier === null) r.refused.push(capture);
  for (const f of flows) {
    if (f.a === INVALID || f.b === INVALID) {
      r.unmatchable.push(`${f.file} ${f.transport} ${f.name}`);
      continue;
    }
    let pp = r.perProto.get(f.master);
    if (pp === undefined) r.perProto.set(f.master, (pp = { proto: { total: 0, agree: 0 }, sni: { total: 0, agree: 0 }, ja3: { total: 0, agree: 0 } }));
    const expected = NDPI_TO_HARRIER[f.master]![f.transport === 'TCP' ? 'tcp' : 'udp']!;
    const ans = harrier?.get(flowKey(f.transport, f.a, f.b));
    const flow = `${f.transport} ${f.a} <-> ${f.b}`;
    const miss = (what: Mismatch['what'], ndpi: string, ours: string): void => {
      r.mismatches.push({ file: f.file, flow, what, ndpi, harrier: ours });
    };
    r.proto.total++;
    pp.proto.total++;
    const got = ans === undefined ? (harrier === null ? '(capture refused)' : '(no such flow)') : [...new Set(ans.appProtos)].join(',') || '(no flow record)';
    if (ans !== undefined && ans.appProtos.some((p) => expected.includes(p))) {
      r.proto.agree++;
      pp.proto.agree++;
    } else {
      miss('proto', f.name, got);
    }
    if (f.sni !== null && (f.master === 'TLS' || f.master === 'QUIC')) {
      r.sni.total++;
      pp.sni.total++;
      if (ans?.snis.includes(f.sni)) {
        r.sni.agree++;
        pp.sni.agree++;
      } else miss('sni', f.sni, ans?.snis.join(',') || '(none)');
    }
    if (f.ja3 !== null && (f.master === 'TLS' || f.master === 'QUIC')) {
      r.ja3.total++;
      pp.ja3.total++;
      if (ans?.ja3s.includes(f.ja3)) {
        r.ja3.agree++;
        pp.ja3.agree++;
      } else miss('ja3', f.ja3, ans?.ja3s.join(',') || '(none)');
    }
  }
  return true;
}

/** Every nDPI capture with a result file, compared. */
export function compareAll(base: string, makePipeline?: (eve: EveCollector) => Pipeline): AgreementReport {
  const t0 = process.hrtime.bigint();
  const r = emptyReport();
  const pcaps = new Set(readdirSync(join(base, 'pcap')));
  for (const outName of readdirSync(join(base, 'result')).sort()) {
    if (!outName.endsWith('.out')) continue;
    const capture = outName.slice(0, -4);
    if (!pcaps.has(capture)) continue;
    if (compareFile(base, capture, r, makePipeline)) r.captures++;
  }
  r.elapsedSec = Number(process.hrtime.bigint() - t0) / 1e9;
  return r;
}

export const pct = (t: Tally): number => (t.total === 0 ? 100 : (100 * t.agree) / t.total);
const fmt = (t: Tally): string => (t.total === 0 ? '—' : `${t.agree}/${t.total} (${pct(t).toFixed(1)}%)`);

/** The generated Markdown report. */
export function renderReport(r: AgreementReport, parsers = 'the product registry (APP_PARSERS)'): string {
  const lines: string[] = [];
  lines.push('# Agreement with nDPI on its test captures');
  lines.push('');
  lines.push('Generated by `node scripts/ndpi-report.mjs` (after the build) from `../shared/data/pcaps/ndpi/tests/cfgs/default`; do not edit by hand.');
  lines.push('Compared: flows nDPI identified by content (`Confidence: DPI…`) whose master protocol is in issue 4\'s scope, matched to Harrier\'s');
  lines.push('flow records by transport and both endpoints. SNI and JA3 are compared on TLS and QUIC flows where nDPI reports them.');
  lines.push('A connection upgraded to TLS inside its protocol (STARTTLS, PostgreSQL/MySQL SSL requests) has `app_proto` `tls` and');
  lines.push('`app_proto_orig` the protocol it started as, which is the name nDPI gives it: either agrees.');
  lines.push('');
  lines.push(`Parsers: ${parsers}.`);
  lines.push('');
  lines.push(`Captures run: ${r.captures}${r.refused.length ? ` (refused by Harrier: ${r.refused.join(', ')})` : ''}; time ${r.elapsedSec.toFixed(1)} s.`);
  lines.push('');
  if (r.unmatchable.length > 0) {
    lines.push(`Left out: ${r.unmatchable.length} flow(s) whose address nDPI printed invalid (${r.unmatchable.join('; ')}).`);
    lines.push('');
  }
  lines.push('| | agree | threshold |');
  lines.push('|---|---|---|');
  lines.push(`| protocol | ${fmt(r.proto)} | 95% |`);
  lines.push(`| SNI | ${fmt(r.sni)} | 99% |`);
  lines.push(`| JA3 | ${fmt(r.ja3)} | 99% |`);
  lines.push('');
  lines.push('## Per protocol (nDPI master name)');
  lines.push('');
  lines.push('| nDPI | protocol | SNI | JA3 |');
  lines.push('|---|---|---|---|');
  for (const [name, t] of [...r.perProto].sort((x, y) => y[1].proto.total - x[1].proto.total)) {
    lines.push(`| ${name} | ${fmt(t.proto)} | ${fmt(t.sni)} | ${fmt(t.ja3)} |`);
  }
  lines.push('');
  lines.push(`## Mismatches (${r.mismatches.length})`);
  lines.push('');
  lines.push('| file | flow | field | nDPI | Harrier |');
  lines.push('|---|---|---|---|---|');
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  for (const m of r.mismatches) lines.push(`| ${esc(m.file)} | ${esc(m.flow)} | ${m.what} | ${esc(m.ndpi)} | ${esc(m.harrier)} |`);
  lines.push('');
  return lines.join('\n');
}
