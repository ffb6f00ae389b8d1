/**
 * Loading `kubectl get -o json` documents: List and typed lists, a folder of
 * them, a folder of timestamped snapshots (deletion inferred between two
 * snapshots), and the clear errors for unreadable paths and non-JSON files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentityIndex } from '../../src/k8s/identity-index.js';
import { loadSnapshots, snapshotTime } from '../../src/k8s/snapshot.js';
import { HarrierError } from '../../src/errors.js';
import { REPO_ROOT } from '../support/shared.js';

const T0 = Date.parse('2026-11-28T10:00:00Z') / 1000;

const podItem = (name: string, ip: string, created: string, withKind = true): object => ({
  ...(withKind ? { apiVersion: 'v1', kind: 'Pod' } : {}),
  metadata: { name, namespace: 'ns', uid: `uid-${name}`, creationTimestamp: created },
  spec: { nodeName: 'node-1' },
  status: { phase: 'Running', podIP: ip },
});

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-k8s-snap-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const who = (idx: IdentityIndex, ip: string, t: number): string => {
  const id = idx.lookup(ip, -1, t);
  return id.kind === 'pod' ? id.pod : id.kind;
};

test('snapshot names: RFC 3339 UTC prefixes, with : or -', () => {
  assert.equal(snapshotTime('2026-11-28T10:00:00Z'), T0);
  assert.equal(snapshotTime('2026-11-28T10-00-05Z-pods.json'), T0 + 5);
  assert.equal(snapshotTime('2026-11-28T10:00:00.5Z'), T0 + 0.5);
  assert.ok(Number.isNaN(snapshotTime('pods.json')));
});

test('a List file, a typed PodList file, and a folder of them', () => {
  withDir((dir) => {
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ kind: 'List', apiVersion: 'v1', items: [podItem('a', '10.0.0.1', '2026-11-28T10:00:00Z'), 'junk'] }));
    writeFileSync(join(dir, 'b.json'), JSON.stringify({ kind: 'PodList', apiVersion: 'v1', items: [podItem('b', '10.0.0.2', '2026-11-28T10:00:00Z', false)] }));
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    const one = new IdentityIndex();
    const r1 = loadSnapshots([join(dir, 'b.json')], one);
    assert.deepEqual(r1, { files: 1, objects: 1, timedSnapshots: 0 });
    assert.equal(who(one, '10.0.0.2', T0 + 1), 'b');
    const all = new IdentityIndex();
    const r2 = loadSnapshots([dir], all);
    assert.equal(r2.files, 2);
    assert.equal(who(all, '10.0.0.1', T0 + 1), 'a');
    assert.equal(who(all, '10.0.0.2', T0 + 1), 'b');
    assert.equal(all.stats().problems['object.not_an_object'], 1);
  });
});

test('a folder of timestamped snapshots: a pod missing from the next snapshot is deleted at its time', () => {
  withDir((dir) => {
    mkdirSync(join(dir, '2026-11-28T10:00:00Z'));
    writeFileSync(join(dir, '2026-11-28T10:00:00Z', 'pods.json'), JSON.stringify({ kind: 'List', items: [podItem('old', '10.0.0.9', '2026-11-28T09:59:00Z')] }));
    // The second snapshot is a single file; the pod is gone, nobody has its IP yet.
    writeFileSync(join(dir, '2026-11-28T10-01-00Z-pods.json'), JSON.stringify({ kind: 'List', items: [podItem('other', '10.0.0.8', '2026-11-28T10:00:30Z')] }));
    writeFileSync(join(dir, '2026-11-28T10:02:00Z.json'), JSON.stringify({ kind: 'List', items: [podItem('other', '10.0.0.8', '2026-11-28T10:00:30Z'), podItem('new', '10.0.0.9', '2026-11-28T10:01:50Z')] }));
    const idx = new IdentityIndex({ graceSec: 10 });
    const r = loadSnapshots([dir], idx);
    assert.equal(r.timedSnapshots, 3);
    assert.equal(r.files, 3);
    assert.equal(who(idx, '10.0.0.9', T0 + 30), 'old');
    assert.equal(who(idx, '10.0.0.9', T0 + 65), 'old', 'within grace after the snapshot that no longer lists it');
    assert.equal(who(idx, '10.0.0.9', T0 + 80), 'external');
    assert.equal(who(idx, '10.0.0.9', T0 + 115), 'new');
    assert.equal(who(idx, '10.0.0.8', T0 + 115), 'other');
  });
});

test('unreadable paths and non-JSON files are one clear HarrierError', () => {
  withDir((dir) => {
    const isSnap = (e: unknown): boolean => e instanceof HarrierError && e.code === 'HARRIER_ERR_K8S_SNAPSHOT' && !e.message.includes('\n');
    assert.throws(() => loadSnapshots([join(dir, 'missing')], new IdentityIndex()), isSnap);
    writeFileSync(join(dir, 'bad.json'), '{"kind":"List","items":[');
    assert.throws(() => loadSnapshots([dir], new IdentityIndex()), isSnap);
    writeFileSync(join(dir, 'bad.json'), '[1,2]');
    const idx = new IdentityIndex();
    loadSnapshots([dir], idx);
    assert.equal(idx.stats().problems['document.not_an_object'], 1);
  });
});

test('the demo snapshot loads without problems', () => {
  const idx = new IdentityIndex();
  const r = loadSnapshots([join(REPO_ROOT, 'examples', 'demo', 'snapshot')], idx);
  assert.equal(r.files, 7);
  const st = idx.stats();
  assert.deepEqual(st.problems, {});
  assert.equal(st.pods, 14);
  assert.equal(st.nodes, 2);
  assert.equal(st.hostNetworkPods, 2);
});

test('harrier analyze --k8s with a missing path: exit 1, one line with the code', () => {
  withDir((dir) => {
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'harrier.js'), 'analyze', join(REPO_ROOT, 'examples', 'demo', 'demo.pcap'), '--k8s', join(dir, 'nope'), '--quiet'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^harrier: cannot read Kubernetes snapshot .*nope: ENOENT \[HARRIER_ERR_K8S_SNAPSHOT\]\n$/);
  });
});
