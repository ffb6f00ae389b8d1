/**
 * `harrier analyze --workers N`: the same signature alerts and flows as one
 * thread (flows are kept whole per worker by the address-pair dispatch),
 * every EVE line whole, alert pcaps written, bad values refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/shared.js';

const DEMO = join(REPO_ROOT, 'examples', 'demo');

function run(dir: string, extra: string[]): { records: Record<string, unknown>[]; stdout: string } {
  const eve = join(dir, 'eve.json');
  const r = spawnSync(process.execPath, [
    join(REPO_ROOT, 'bin', 'harrier.js'), 'analyze', join(DEMO, 'demo.pcap'), '--rules', join(REPO_ROOT, 'rules', 'harrier-k8s.rules'),
    '--config', join(REPO_ROOT, 'lab', 'harrier.yaml'), '--k8s', join(DEMO, 'snapshot'), '--no-behaviour', '--eve', eve, ...extra,
  ], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  // JSON.parse of every line: a line cut by a concurrent write would throw here.
  const records = readFileSync(eve, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  return { records, stdout: r.stdout };
}

function alertKeys(recs: Record<string, unknown>[]): string[] {
  return recs
    .filter((r) => r.event_type === 'alert')
    .map((r) => `${(r.alert as { signature_id: number }).signature_id} ${String(r.src_ip)}:${String(r.src_port)} ${String(r.dest_ip)}:${String(r.dest_port)} ${String(r.timestamp)}`)
    .sort();
}

test('two workers raise the same alerts and flows as one thread', () => {
  const one = mkdtempSync(join(tmpdir(), 'harrier-w1-'));
  const two = mkdtempSync(join(tmpdir(), 'harrier-w2-'));
  try {
    const a = run(one, []);
    const b = run(two, ['--workers', '2']);
    assert.deepEqual(alertKeys(b.records), alertKeys(a.records));
    assert.ok(alertKeys(a.records).length >= 20);
    const flows = (x: Record<string, unknown>[]) => x.filter((r) => r.event_type === 'flow').length;
    assert.equal(flows(b.records), flows(a.records));
    // Stats records: one per worker; every flow id unique across workers.
    const ids = b.records.filter((r) => r.event_type === 'flow').map((r) => r.flow_id);
    assert.equal(new Set(ids).size, ids.length);
    assert.match(b.stdout, /flows: 5,964/);
    assert.ok(readdirSync(join(two, 'pcap')).length >= 10, 'alert pcaps from the workers');
  } finally {
    rmSync(one, { recursive: true, force: true });
    rmSync(two, { recursive: true, force: true });
  }
});

test('--workers takes a whole number from 1 to 64', () => {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'harrier.js'), 'analyze', join(DEMO, 'demo.pcap'), '--workers', 'x'], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--workers takes a whole number/);
});
