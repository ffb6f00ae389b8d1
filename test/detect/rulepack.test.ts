/**
 * Harrier's own rule pack (rules/harrier-k8s.rules) on the lab's captures:
 * every rule fires on the scenario made for it, against the right pod, and
 * nothing in the pack fires outside the attack scenarios (the benign
 * workloads run throughout both captures).
 *
 * Captures: examples/demo (lab/make-demo.sh) and examples/rulepack
 * (lab/make-rulepack.sh), each with its Kubernetes snapshot and ground truth.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/shared.js';

interface Endpoint { kind: string; pod?: string; ip?: string; clusterIP?: string }
interface Scenario { name: string; stage: string; start: string; end: string; src: Endpoint; dst: Endpoint }

/** The sids each scenario must raise (all of them), by capture. */
const EXPECTED: Record<string, Record<string, number[]>> = {
  demo: {
    log4shell: [9100070, 9100071, 9100072],
    shellshock: [9100073],
    'path-traversal': [9100076, 9100077],
    spring4shell: [9100075],
    sqlmap: [9100090, 9100078],
    'hydra-http-basic': [9100095],
    'cloud-metadata': [9100030, 9100031, 9100032],
    'k8s-api-token': [9100010],
    'crypto-mining': [9100050, 9100052],
    'reverse-shell': [9100060, 9100061],
  },
  rulepack: {
    'kubelet-api': [9100001, 9100002, 9100003],
    'etcd-access': [9100020, 9100021, 9100022],
    'docker-api': [9100040, 9100041],
    'k8s-api-insecure': [9100011, 9100012],
    'web-scan': [9100093],
    'cloud-metadata-clouds': [9100033, 9100034],
    'scanner-agents': [9100091, 9100092, 9100094],
    'rce-payloads': [9100062, 9100074],
    'stratum-v1': [9100051],
  },
};

const SLACK_MS = 2000;

function analyze(capture: string): Record<string, unknown>[] {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-rulepack-'));
  try {
    const eve = join(dir, 'eve.json');
    const r = spawnSync(process.execPath, [
      join(REPO_ROOT, 'bin', 'harrier.js'), 'analyze', join(REPO_ROOT, 'examples', capture, `${capture}.pcap`),
      '--rules', join(REPO_ROOT, 'rules', 'harrier-k8s.rules'), '--k8s', join(REPO_ROOT, 'examples', capture, 'snapshot'),
      '--config', join(REPO_ROOT, 'lab', 'harrier.yaml'), '--eve', eve, '--no-pcap', '--quiet',
    ], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, `harrier analyze failed: ${r.stderr}`);
    // Only the pack's alerts: behaviour and intel detectors raise theirs under other gids.
    return readFileSync(eve, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((x) => {
      const al = x.alert as { gid?: number; signature_id?: number } | undefined;
      return x.event_type === 'alert' && al?.gid === 1 && (al.signature_id ?? 0) >= 9100000 && (al.signature_id ?? 0) <= 9100999;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function eveMs(ts: string): number {
  return Date.parse(ts.replace(/(\d\d)(\d\d)$/, '$1:$2'));
}

function podOf(side: unknown): string | undefined {
  return (side as { pod?: string } | undefined)?.pod;
}

for (const capture of Object.keys(EXPECTED)) {
  test(`rule pack on examples/${capture}: every scenario raises its rules against the right pod, and nothing else fires`, () => {
    const gt = JSON.parse(readFileSync(join(REPO_ROOT, 'examples', capture, 'ground-truth.json'), 'utf8')) as { scenarios: Scenario[] };
    const alerts = analyze(capture);
    const attacks = gt.scenarios.filter((s) => s.stage !== 'benign');
    const unexplained: string[] = [];
    const fired = new Map<string, Set<number>>();
    for (const a of alerts) {
      const al = a.alert as { signature_id: number; signature: string };
      const k8s = a.k8s as { src?: unknown; dest?: unknown } | undefined;
      const t = eveMs(String(a.timestamp));
      const pods = [podOf(k8s?.src), podOf(k8s?.dest)];
      // The scenario this alert belongs to: in its time window, between its endpoints.
      const s = attacks.find((x) => t >= Date.parse(x.start) - SLACK_MS && t <= Date.parse(x.end) + SLACK_MS && pods.includes(x.src.pod));
      if (!s) {
        unexplained.push(`${al.signature_id} ${al.signature} at ${String(a.timestamp)} ${String(a.src_ip)} -> ${String(a.dest_ip)}`);
        continue;
      }
      let set = fired.get(s.name);
      if (!set) fired.set(s.name, (set = new Set()));
      set.add(al.signature_id);
    }
    const missing: string[] = [];
    for (const [name, sids] of Object.entries(EXPECTED[capture])) {
      assert.ok(attacks.some((s) => s.name === name), `scenario ${name} is not in examples/${capture}`);
      for (const sid of sids) if (!fired.get(name)?.has(sid)) missing.push(`${name}: sid ${sid}`);
    }
    process.stdout.write(`# ${capture}: ${alerts.length} alerts; by scenario ${JSON.stringify(Object.fromEntries([...fired].map(([k, v]) => [k, [...v].sort()])))}\n`);
    assert.deepEqual(missing, [], 'rules that did not fire on their scenario');
    assert.deepEqual(unexplained, [], 'alerts outside the attack scenarios (false positives)');
  });
}

test('every rule of the pack is covered by a lab scenario above', () => {
  const text = readFileSync(join(REPO_ROOT, 'rules', 'harrier-k8s.rules'), 'utf8');
  const sids = [...text.matchAll(/^alert .*\bsid:(\d+);/gm)].map((m) => Number(m[1]));
  const covered = new Set(Object.values(EXPECTED).flatMap((c) => Object.values(c).flat()));
  assert.ok(sids.length >= 30);
  assert.deepEqual(sids.filter((s) => !covered.has(s)), []);
  for (const capture of Object.keys(EXPECTED)) assert.ok(existsSync(join(REPO_ROOT, 'examples', capture, `${capture}.pcap`)));
});
