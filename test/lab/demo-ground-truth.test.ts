/**
 * The committed demo input (examples/demo, made by `lab/run.sh --demo`): its
 * ground truth must match its capture (each scenario's window holds packets
 * between the named workloads; the reused IP is seen for both pods in their own
 * lifetimes), and its Kubernetes snapshot must be consistent with both.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, skipWithoutProgram } from '../support/shared.js';
import { checkGroundTruth, loadGroundTruth, readPackets, type GroundTruth } from './gt-check.js';

const DEMO = join(REPO_ROOT, 'examples', 'demo');

interface Meta { name: string; namespace?: string; uid: string; creationTimestamp: string; deletionTimestamp?: string; ownerReferences?: { kind: string; name: string; uid: string }[] }
interface Item { apiVersion: string; kind: string; metadata: Meta; spec: Record<string, unknown>; status?: Record<string, unknown>; endpoints?: { addresses: string[]; targetRef?: { uid: string } }[] }
interface List { apiVersion: string; kind: string; items: Item[] }

function snap(name: string): List {
  return JSON.parse(readFileSync(join(DEMO, 'snapshot', `${name}.json`), 'utf8')) as List;
}

test('demo files exist and are small', () => {
  for (const f of ['demo.pcap', 'ground-truth.json', 'snapshot/pods.json']) assert.ok(existsSync(join(DEMO, f)), `examples/demo/${f} is missing`);
  // The demo is committed: it must stay a few MB.
  assert.ok(statSync(join(DEMO, 'demo.pcap')).size < 6 * 1024 * 1024, 'demo.pcap is larger than 6 MB');
});

test('demo ground truth matches the demo capture', { skip: skipWithoutProgram('tshark') }, () => {
  const gt = loadGroundTruth(DEMO);
  assert.ok(gt.scenarios.length >= 5, 'too few scenarios in the demo ground truth');
  assert.ok(gt.scenarios.some((s) => s.stage !== 'benign'), 'no attack in the demo');
  assert.ok(gt.ipReuse.length >= 1, 'the demo must contain a reused pod IP');
  const packets = readPackets(join(DEMO, 'demo.pcap'));
  assert.deepEqual(checkGroundTruth(gt, packets), []);
});

test('demo snapshot: List documents with consistent owners, pods and endpoints', () => {
  const gt: GroundTruth = loadGroundTruth(DEMO);
  const docs = ['namespaces', 'nodes', 'pods', 'services', 'endpointslices', 'replicasets', 'deployments'].map((n) => [n, snap(n)] as const);
  for (const [n, d] of docs) {
    assert.equal(d.apiVersion, 'v1', n);
    assert.equal(d.kind, 'List', n);
    assert.ok(d.items.length > 0, `${n} is empty`);
  }
  const byName = Object.fromEntries(docs);
  const pods = byName.pods!.items;
  const uids = new Set<string>();
  for (const d of docs) for (const it of d[1].items) {
    assert.ok(!uids.has(it.metadata.uid), `duplicate uid ${it.metadata.uid}`);
    uids.add(it.metadata.uid);
  }
  // Owners exist with the referenced uid.
  const rsUid = new Map(byName.replicasets!.items.map((r) => [`${r.metadata.namespace}/${r.metadata.name}`, r.metadata.uid]));
  const depUid = new Map(byName.deployments!.items.map((r) => [`${r.metadata.namespace}/${r.metadata.name}`, r.metadata.uid]));
  for (const p of pods) {
    const o = p.metadata.ownerReferences?.[0];
    assert.ok(o, `${p.metadata.name} has no owner`);
    if (o.kind === 'ReplicaSet') assert.equal(rsUid.get(`${p.metadata.namespace}/${o.name}`), o.uid, p.metadata.name);
  }
  for (const r of byName.replicasets!.items) {
    const o = r.metadata.ownerReferences![0]!;
    assert.equal(depUid.get(`${r.metadata.namespace}/${o.name}`), o.uid, r.metadata.name);
  }
  // Endpoints point at live pods with that IP.
  const podByUid = new Map(pods.map((p) => [p.metadata.uid, p]));
  for (const s of byName.endpointslices!.items) for (const e of s.endpoints ?? []) {
    if (!e.targetRef) continue;
    const p = podByUid.get(e.targetRef.uid);
    assert.ok(p, `${s.metadata.name}: endpoint names an unknown pod`);
    assert.equal(p.metadata.deletionTimestamp, undefined, `${s.metadata.name}: endpoint is a deleted pod`);
    assert.equal((p.status as { podIP: string }).podIP, e.addresses[0]);
  }
  // Ground-truth pods are in the snapshot with the same IP and node.
  for (const s of gt.scenarios) for (const e of [s.src, s.dst]) {
    if (e.kind !== 'pod') continue;
    const p = pods.find((x) => x.metadata.namespace === e.namespace && x.metadata.name === e.pod);
    assert.ok(p, `${s.name}: pod ${e.namespace}/${e.pod} not in the snapshot`);
    assert.equal((p.status as { podIP: string }).podIP, e.ip, `${s.name}: ${e.pod}`);
    assert.equal(p.spec.nodeName, e.node, `${s.name}: ${e.pod}`);
  }
  // The reused IP: both pods present, the first deleted before the second was created.
  for (const r of gt.ipReuse) {
    const holders = r.holders.map((h) => pods.find((p) => p.metadata.name === h.pod && p.metadata.namespace === h.namespace)!);
    assert.ok(holders.every(Boolean), `reused ${r.ip}: a holder is missing from pods.json`);
    for (const h of holders) assert.equal((h.status as { podIP: string }).podIP, r.ip);
    const [a, b] = holders as [Item, Item];
    assert.ok(a.metadata.deletionTimestamp, `reused ${r.ip}: first holder has no deletionTimestamp`);
    assert.ok(Date.parse(a.metadata.deletionTimestamp) <= Date.parse(b.metadata.creationTimestamp), `reused ${r.ip}: lifetimes overlap`);
  }
  // A rescheduled pod: same ReplicaSet, other node, the old one deleted.
  const byRs = new Map<string, Item[]>();
  for (const p of pods) {
    const o = p.metadata.ownerReferences?.[0];
    if (o?.kind === 'ReplicaSet') byRs.set(o.uid, [...(byRs.get(o.uid) ?? []), p]);
  }
  const moved = [...byRs.values()].filter((ps) => ps.length > 1 && new Set(ps.map((p) => p.spec.nodeName)).size > 1);
  assert.ok(moved.length >= 1, 'no pod was rescheduled onto the other node');
  for (const ps of moved) assert.equal(ps.filter((p) => !p.metadata.deletionTimestamp).length, 1);
});
