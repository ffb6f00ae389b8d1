/**
 * The lab tests' check (test/intel/lab-intel*.test.ts): the lab's captures analysed by the CLI with their Kubernetes
 * snapshots and the lab's own intel feed (lab/intel: the lab's C2, mining
 * and exfiltration endpoints). Every ground-truth contact of a
 * command-and-control (incl. mining) or exfiltration scenario with an
 * outside endpoint must raise an intel alert, during the scenario, naming
 * the scenario's pod as `k8s.src.pod` and one of the scenario's endpoints as
 * the indicator; no benign scenario's endpoint may; every alert validates
 * against the EVE schema.
 *
 * Captures: examples/demo (lab/make-demo.sh: reverse shell, crypto-mining,
 * iodine), examples/rulepack (lab/make-rulepack.sh: stratum-v1 mining) and
 * examples/exfil (lab/make-exfil.sh: the exfiltration scenario, which the
 * demo run does not include).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, skipWithoutShared } from '../support/shared.js';
import { eveSchemaErrors } from '../support/eve-schema.js';

const FEED = join(REPO_ROOT, 'lab', 'intel');

interface GtEndpoint {
  kind: string;
  namespace?: string;
  pod?: string;
  ip?: string;
  domain?: string;
}
interface GtScenario {
  name: string;
  stage: string;
  start: string;
  end: string;
  src: GtEndpoint;
  dst: GtEndpoint;
  upstream?: { domain?: string; ip?: string };
}
interface Alert {
  timestamp: string;
  event_type: string;
  src_ip?: string;
  dest_ip?: string;
  alert: { gid: number; signature: string; metadata: Record<string, string[]> };
  k8s?: { src: { kind: string; namespace?: string; pod?: string } };
}

const ms = (ts: string): number => Date.parse(ts.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));

/** Checks one capture; returns the stages of the contacts it checked (C2/mining/exfiltration). */
export function checkCapture(name: string, pcap: string): string[] {
  const DEMO = join(REPO_ROOT, 'examples', name);
  if (!existsSync(join(DEMO, pcap))) return [];
  const out = mkdtempSync(join(tmpdir(), 'harrier-lab-intel-'));
  try {
    const eve = join(out, 'eve.json');
    const r = spawnSync(
      process.execPath,
      [join(REPO_ROOT, 'bin', 'harrier.js'), 'analyze', join(DEMO, pcap), '--k8s', join(DEMO, 'snapshot'), '--intel', FEED, '--eve', eve, '--quiet'],
      { encoding: 'utf8', timeout: 50_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /intel: 3 feeds, \d+ indicators; malformed lines: 0/);
    const recs = readFileSync(eve, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Alert);
    const intel = recs.filter((x) => x.event_type === 'alert' && x.alert.gid === 9000001);
    assert.ok(intel.length > 0);

    const gt = JSON.parse(readFileSync(join(DEMO, 'ground-truth.json'), 'utf8')) as { scenarios: GtScenario[] };
    // Contacts with an outside endpoint (directly, or through kube-dns as the iodine tunnel's upstream).
    const bad = gt.scenarios.filter((s) => (s.stage === 'command-and-control' || s.stage === 'exfiltration') && s.src.kind === 'pod' && (s.dst.kind === 'external' || s.upstream));
    assert.ok(bad.length >= 1, `${name}: ground truth lists no C2/mining/exfiltration contact`);
    const seen: string[] = [];
    for (const s of bad) {
      const endpoints = [s.dst.kind === 'external' ? s.dst.domain : undefined, s.dst.kind === 'external' ? s.dst.ip : undefined, s.upstream?.domain, s.upstream?.ip].filter(
        (x): x is string => x !== undefined,
      );
      const t0 = ms(s.start) - 2000;
      const t1 = ms(s.end) + 2000;
      const hits = intel.filter((a) => {
        const t = ms(a.timestamp);
        const ind = a.alert.metadata.harrier_indicator[0];
        return (
          t >= t0 &&
          t <= t1 &&
          a.k8s?.src.kind === 'pod' &&
          a.k8s.src.pod === s.src.pod &&
          a.k8s.src.namespace === s.src.namespace &&
          endpoints.some((e) => e === ind || e.endsWith('.' + ind))
        );
      });
      assert.ok(hits.length > 0, `${s.name}: no intel alert naming ${s.src.namespace}/${s.src.pod} for ${endpoints.join(', ')}`);
      const cats = new Set(hits.flatMap((h) => h.alert.metadata.harrier_category));
      if (/mining|stratum/.test(s.name)) assert.ok(cats.has('mining'), `${s.name}: ${[...cats]}`);
      else if (s.stage === 'exfiltration') assert.ok(cats.has('exfiltration'), `${s.name}: ${[...cats]}`);
      else assert.ok(cats.has('c2'), `${s.name}: ${[...cats]}`);
      seen.push(`${s.name}: ${hits.length} alerts (${[...new Set(hits.map((h) => h.alert.metadata.harrier_field[0]))].join(', ')})`);
    }
    console.log(`# ${name}: ${seen.join('; ')}`);

    // Benign external endpoints are never the indicator (the upstream resolver is a record's
    // dest_ip when kube-dns forwards a listed name: that alert is about the name).
    for (const s of gt.scenarios.filter((x) => x.stage === 'benign' && x.dst.kind === 'external')) {
      const fp = intel.filter((a) => [s.dst.ip, s.dst.domain].includes(a.alert.metadata.harrier_indicator[0]));
      assert.equal(fp.length, 0, `${s.name}: ${fp.map((a) => a.alert.signature).join('; ')}`);
    }
    if (skipWithoutShared('eve-schema') === false) {
      for (const a of intel) assert.deepEqual(eveSchemaErrors(a as unknown as Record<string, unknown>), [], JSON.stringify(a));
    }
    return bad.map((s) => (/mining|stratum/.test(s.name) ? 'mining' : s.stage));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

