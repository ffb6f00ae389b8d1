/**
 * End to end on the lab's committed demo: `harrier analyze demo.pcap --k8s
 * snapshot/` must name, on every flow record of every ground-truth scenario,
 * the workloads the lab says were talking — the reused IP 10.244.2.5 for the
 * report job's pod before the reuse and the thumbnailer after it, the cart pod
 * before and after its rescheduling, node-2 → node-1 traffic that crossed the
 * VXLAN overlay, ClusterIP destinations as services, internet destinations as
 * external with the domain the pod resolved. Expectations come from
 * ground-truth.json (its own pod lifetimes), never from the product.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, skipWithoutShared } from '../support/shared.js';
import { eveSchemaErrors, EVE_SCHEMA } from '../support/eve-schema.js';

const DEMO = join(REPO_ROOT, 'examples', 'demo');

interface GtEndpoint {
  kind: 'pod' | 'external' | 'range';
  namespace?: string;
  pod?: string;
  ip?: string;
  node?: string;
  service?: string;
  clusterIP?: string;
  domain?: string;
  cidr?: string;
}
interface GtScenario {
  name: string;
  start: string;
  end: string;
  src: GtEndpoint;
  dst: GtEndpoint;
}
interface GtPod {
  namespace: string;
  pod: string;
  ip: string;
  node: string;
  hostNetwork: boolean;
  start: string;
  end: string | null;
}
interface Gt {
  scenarios: GtScenario[];
  pods: GtPod[];
  ipReuse: { ip: string; holders: GtPod[] }[];
}
interface Ident {
  kind: string;
  namespace?: string;
  pod?: string;
  node?: string;
  service?: string;
  domain?: string;
  workload?: { kind: string; name: string };
}
interface Rec {
  timestamp: string;
  event_type: string;
  src_ip?: string;
  dest_ip?: string;
  dest_port?: number;
  k8s?: { cluster: string; src: Ident; dest: Ident };
  [k: string]: unknown;
}

const sec = (t: string): number => Date.parse(t.replace(/\+0000$/, 'Z')) / 1000;

function inCidr(ip: string, cidr: string): boolean {
  const n = (s: string): number => s.split('.').reduce((a, b) => a * 256 + Number(b), 0);
  const [base, len] = cidr.split('/');
  const size = 2 ** (32 - Number(len));
  return Math.floor(n(ip) / size) === Math.floor(n(base) / size);
}

let cache: { gt: Gt; records: Rec[] } | null = null;
function run(): { gt: Gt; records: Rec[] } {
  if (cache) return cache;
  const dir = mkdtempSync(join(tmpdir(), 'harrier-k8s-'));
  try {
    const out = join(dir, 'eve.json');
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'harrier.js'), 'analyze', join(DEMO, 'demo.pcap'), '--k8s', join(DEMO, 'snapshot'), '--eve', out, '--quiet'], {
      encoding: 'utf8',
      timeout: 50_000,
    });
    assert.equal(r.status, 0, `harrier analyze failed: ${r.stderr}`);
    const records = readFileSync(out, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Rec);
    const gt = JSON.parse(readFileSync(join(DEMO, 'ground-truth.json'), 'utf8')) as Gt;
    cache = { gt, records };
    return cache;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const skipDemo = existsSync(join(DEMO, 'demo.pcap')) ? false : 'examples/demo is missing';

/** What ground truth says `ip` should be named at time t, seen as a scenario endpoint; undefined = not checkable. */
function expectPodAt(gt: Gt, ip: string, t: number): GtPod | 'none' | undefined {
  const holders = gt.pods.filter((p) => !p.hostNetwork && p.ip === ip);
  if (holders.length === 0) return undefined;
  const at = holders.filter((p) => sec(p.start) <= t && (p.end === null || t < sec(p.end)));
  return at.length === 1 ? at[0] : 'none';
}

function podMismatch(id: Ident, want: GtPod | GtEndpoint): string | null {
  if (id.kind !== 'pod') return `kind ${id.kind}, want pod ${want.namespace}/${want.pod}`;
  if (id.namespace !== want.namespace || id.pod !== want.pod) return `pod ${id.namespace}/${id.pod}, want ${want.namespace}/${want.pod}`;
  if (want.node && id.node !== want.node) return `node ${id.node}, want ${want.node}`;
  // The lab's pods are named <workload>-<hash>-<suffix> or <job>-<suffix>: the workload must be the prefix.
  // Static (mirror) pods are named <name>-<node> and have no controller.
  if (!id.workload && want.node && want.pod?.endsWith(`-${want.node}`)) return null;
  if (!id.workload || !want.pod?.startsWith(`${id.workload.name}-`)) return `workload ${JSON.stringify(id.workload)} does not own ${want.pod}`;
  return null;
}

/** Mismatch text for endpoint `ep` named `id` on a record with address `ip`, or null when right. */
function endpointMismatch(ep: GtEndpoint, id: Ident, ip: string, expectDomain: boolean): string | null {
  if (ep.kind === 'pod') {
    if (ep.clusterIP && ip === ep.clusterIP) {
      const [ns, name] = (ep.service ?? '/').split('/');
      return id.kind === 'service' && id.namespace === ns && id.service === name ? null : `${JSON.stringify(id)}, want service ${ep.service}`;
    }
    return podMismatch(id, ep);
  }
  if (ep.kind === 'external') {
    if (id.kind !== 'external') return `kind ${id.kind}, want external`;
    if (expectDomain && id.domain !== ep.domain) return `domain ${id.domain}, want ${ep.domain}`;
    return null;
  }
  return null;
}

test('demo: every ground-truth scenario names the right workloads', { skip: skipDemo }, () => {
  const { gt, records } = run();
  const flows = records.filter((r) => r.event_type === 'flow');
  const failures: string[] = [];
  const rows: string[] = [];
  let crossNode = 0;
  for (const s of gt.scenarios) {
    const t0 = sec(s.start) - 1;
    const t1 = sec(s.end) + 1;
    const srcIps = [s.src.ip!];
    const dstMatch = (ip: string): boolean =>
      s.dst.kind === 'range' ? inCidr(ip, s.dst.cidr!) : ip === s.dst.ip || (s.dst.clusterIP !== undefined && ip === s.dst.clusterIP);
    // A pod resolved the external name itself (a resolver's upstream is its configuration, not a lookup).
    const expectDomain = s.dst.kind === 'external' && s.src.kind === 'pod' && (s.dst.domain ?? '').endsWith('.lab.test') && !s.src.pod?.startsWith('coredns-');
    let n = 0;
    let bad = 0;
    for (const r of flows) {
      const t = sec(r.timestamp);
      if (t < t0 || t > t1 || !r.src_ip || !r.dest_ip) continue;
      let srcId: Ident | undefined;
      let dstId: Ident | undefined;
      let dstIp = '';
      if (srcIps.includes(r.src_ip) && dstMatch(r.dest_ip)) {
        srcId = r.k8s?.src;
        dstId = r.k8s?.dest;
        dstIp = r.dest_ip;
      } else if (srcIps.includes(r.dest_ip) && dstMatch(r.src_ip)) {
        // A flow first seen from its reply (e.g. a service answer on the other node's bridge).
        srcId = r.k8s?.dest;
        dstId = r.k8s?.src;
        dstIp = r.src_ip;
      } else continue;
      n++;
      const problems: string[] = [];
      if (!srcId || !dstId) problems.push('no k8s block');
      else {
        const a = endpointMismatch(s.src, srcId, s.src.ip!, false);
        if (a) problems.push(`src ${a}`);
        if (s.dst.kind === 'range') {
          const want = expectPodAt(gt, dstIp, t);
          if (want && want !== 'none') {
            const b = podMismatch(dstId, want);
            if (b) problems.push(`dest ${dstIp} ${b}`);
          } else if (want === undefined && dstId.kind !== 'unknown' && dstId.kind !== 'node') problems.push(`dest ${dstIp} ${dstId.kind}, want unknown`);
        } else {
          const b = endpointMismatch(s.dst, dstId, dstIp, expectDomain);
          if (b) problems.push(`dest ${b}`);
        }
      }
      if (problems.length > 0) {
        bad++;
        if (failures.length < 30) failures.push(`${s.name} ${r.timestamp} ${r.src_ip}->${r.dest_ip}:${r.dest_port}: ${problems.join('; ')}`);
      }
    }
    if (n === 0) failures.push(`${s.name}: no flow record between its endpoints in its window`);
    if (n > 0 && bad === 0 && s.dst.node && s.src.node && s.dst.node !== s.src.node) crossNode++;
    const show = (e: GtEndpoint): string => (e.kind === 'pod' ? `${e.namespace}/${e.pod}` : e.kind === 'external' ? `ext ${e.domain}` : e.cidr ?? '');
    rows.push(`${s.name.padEnd(28)} ${String(n).padStart(5)} ${String(bad).padStart(4)}  ${show(s.src)} -> ${show(s.dst)}${expectDomain ? ' (domain)' : ''}`);
  }
  console.log(`${'scenario'.padEnd(28)} flows  bad  endpoints\n${rows.join('\n')}`);
  assert.deepEqual(failures, []);
  assert.ok(crossNode >= 3, `only ${crossNode} cross-node (VXLAN) scenarios attributed`);
});

test('demo: the reused IP names each holder within its own lifetime', { skip: skipDemo }, () => {
  const { gt, records } = run();
  assert.ok(gt.ipReuse.length >= 1);
  for (const reuse of gt.ipReuse) {
    const seen = new Map<string, number>();
    for (const r of records) {
      if (!r.k8s || r.event_type === 'stats') continue;
      const t = sec(r.timestamp);
      for (const [ip, id] of [
        [r.src_ip, r.k8s.src],
        [r.dest_ip, r.k8s.dest],
      ] as const) {
        if (ip !== reuse.ip) continue;
        const want = expectPodAt(gt, ip, t);
        if (!want || want === 'none') continue;
        const m = podMismatch(id, want);
        assert.equal(m, null, `${r.event_type} at ${r.timestamp}: ${m}`);
        seen.set(want.pod, (seen.get(want.pod) ?? 0) + 1);
      }
    }
    for (const h of reuse.holders) assert.ok((seen.get(h.pod) ?? 0) > 0, `no record names ${h.pod} on ${reuse.ip}`);
    console.log(`${reuse.ip}: ${[...seen].map(([p, n]) => `${p} ×${n}`).join(', ')}`);
  }
});

test('demo: every pod address on every record names the pod that held it then', { skip: skipDemo }, () => {
  const { gt, records } = run();
  let checked = 0;
  const failures: string[] = [];
  for (const r of records) {
    if (!r.k8s || !r.src_ip || !r.dest_ip) continue;
    const t = sec(r.timestamp);
    for (const [ip, id] of [
      [r.src_ip, r.k8s.src],
      [r.dest_ip, r.k8s.dest],
    ] as const) {
      const want = expectPodAt(gt, ip, t);
      if (!want || want === 'none') continue;
      checked++;
      const m = podMismatch(id, want);
      if (m && failures.length < 20) failures.push(`${r.event_type} ${r.timestamp} ${ip}: ${m}`);
    }
  }
  assert.deepEqual(failures, []);
  assert.ok(checked > 1000, `only ${checked} pod endpoints checked`);
});

test('demo: records with k8s still validate against the EVE schema', { skip: skipDemo || skipWithoutShared(EVE_SCHEMA) }, () => {
  const { records } = run();
  let withK8s = 0;
  const errors: string[] = [];
  for (const r of records) {
    if (r.event_type === 'stats') assert.equal(r.k8s, undefined, 'stats records carry no k8s block');
    else if (r.src_ip !== undefined) {
      assert.ok(r.k8s, `${r.event_type} record without k8s`);
      assert.equal(r.k8s.cluster, 'default');
      withK8s++;
    }
    if (errors.length < 5) for (const e of eveSchemaErrors(r)) errors.push(`${r.event_type}: ${e}`);
  }
  assert.deepEqual(errors, []);
  assert.ok(withK8s > 1000);
});
