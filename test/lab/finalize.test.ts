/**
 * lab/finalize.ts on a hand-written event log: kubectl-shaped documents, the
 * pod deleted and its IP reused, the reschedule, and the timestamp rounding
 * that keeps the two holders of a reused IP apart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSnapshot, ipReuse, k8sTime, uidOf, type ClusterEvent } from '../../lab/finalize.js';

const pod = (t: string, key: string, ns: string, name: string, rs: string, node: string, ip: string): ClusterEvent => ({
  type: 'pod-start', t, key, namespace: ns, name, ownerKind: 'ReplicaSet', ownerName: rs, app: rs.slice(0, rs.lastIndexOf('-')),
  serviceAccount: 'default', node, ip, hostNetwork: false, image: 'img:1', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
});

const events: ClusterEvent[] = [
  { type: 'node', t: '2026-01-01T10:00:00.100Z', name: 'node-1', ip: '172.30.0.11', podCIDR: '10.244.1.0/24', vtepMAC: '0e:4c:00:00:01:01' },
  { type: 'node', t: '2026-01-01T10:00:00.100Z', name: 'node-2', ip: '172.30.0.12', podCIDR: '10.244.2.0/24', vtepMAC: '0e:4c:00:00:02:01' },
  pod('2026-01-01T10:00:01.500Z', 'cart', 'shop', 'cart-5d8c7b9f6-aaaaa', 'cart-5d8c7b9f6', 'node-2', '10.244.2.2'),
  pod('2026-01-01T10:00:01.700Z', 'job', 'batch', 'job-1-bbbbb', 'job-7f7f7f7f7', 'node-2', '10.244.2.5'),
  { type: 'service', t: '2026-01-01T10:00:02Z', namespace: 'shop', name: 'cart', clusterIP: '10.96.20.20', protocol: 'tcp', port: 80, targetPort: 8080, selectorKey: 'cart', nodePort: null, portName: 'http' },
  { type: 'pod-delete', t: '2026-01-01T10:00:10.200Z', namespace: 'batch', name: 'job-1-bbbbb', ip: '10.244.2.5' },
  pod('2026-01-01T10:00:12.300Z', 'thumb', 'media', 'thumb-6c6c6c6c6-ccccc', 'thumb-6c6c6c6c6', 'node-2', '10.244.2.5'),
  { type: 'pod-delete', t: '2026-01-01T10:00:20.000Z', namespace: 'shop', name: 'cart-5d8c7b9f6-aaaaa', ip: '10.244.2.2' },
  pod('2026-01-01T10:00:21.000Z', 'cart', 'shop', 'cart-5d8c7b9f6-ddddd', 'cart-5d8c7b9f6', 'node-1', '10.244.1.7'),
];

test('k8sTime rounds to whole seconds in the asked direction; uids are stable UUIDs', () => {
  assert.equal(k8sTime('2026-01-01T10:00:10.200Z', 'down'), '2026-01-01T10:00:10Z');
  assert.equal(k8sTime('2026-01-01T10:00:10.200Z', 'up'), '2026-01-01T10:00:11Z');
  assert.equal(k8sTime('2026-01-01T10:00:10.000Z', 'up'), '2026-01-01T10:00:10Z');
  assert.equal(uidOf('Pod', 'a'), uidOf('Pod', 'a'));
  assert.notEqual(uidOf('Pod', 'a'), uidOf('Pod', 'b'));
  assert.match(uidOf('x'), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test('snapshot documents: pods with lifetimes, owners, endpoints of the live pod', () => {
  const { snapshot, pods } = buildSnapshot(events, '2026-01-01T10:01:00Z');
  for (const d of Object.values(snapshot)) {
    assert.equal(d.apiVersion, 'v1');
    assert.equal(d.kind, 'List');
  }
  const items = (snapshot.pods!.items as { metadata: Record<string, unknown>; spec: Record<string, unknown>; status: Record<string, unknown> }[]);
  assert.equal(items.length, 4);
  const job = items.find((p) => p.metadata.name === 'job-1-bbbbb')!;
  const thumb = items.find((p) => p.metadata.name === 'thumb-6c6c6c6c6-ccccc')!;
  assert.equal(job.metadata.deletionTimestamp, '2026-01-01T10:00:11Z');
  assert.equal(thumb.metadata.creationTimestamp, '2026-01-01T10:00:12Z');
  assert.equal(thumb.metadata.deletionTimestamp, undefined);
  assert.deepEqual(thumb.status.podIPs, [{ ip: '10.244.2.5' }]);
  assert.equal(thumb.status.hostIP, '172.30.0.12');
  // The ReplicaSet of cart exists once, owns both cart pods, and has one live replica.
  const rs = (snapshot.replicasets!.items as { metadata: { name: string; uid: string }; status: { replicas: number } }[]).filter((r) => r.metadata.name === 'cart-5d8c7b9f6');
  assert.equal(rs.length, 1);
  assert.equal(rs[0]!.status.replicas, 1);
  const carts = items.filter((p) => String(p.metadata.name).startsWith('cart-'));
  assert.deepEqual(carts.map((p) => p.spec.nodeName), ['node-2', 'node-1']);
  for (const c of carts) assert.equal((c.metadata.ownerReferences as { uid: string }[])[0]!.uid, rs[0]!.metadata.uid);
  // The EndpointSlice points at the rescheduled pod.
  const slice = (snapshot.endpointslices!.items as { endpoints: { addresses: string[]; nodeName: string }[] }[])[0]!;
  assert.deepEqual(slice.endpoints.map((e) => [e.addresses[0], e.nodeName]), [['10.244.1.7', 'node-1']]);
  // Ground truth's pod lifetimes and reuse.
  const reuse = ipReuse(pods);
  assert.equal(reuse.length, 1);
  assert.equal(reuse[0]!.ip, '10.244.2.5');
  assert.deepEqual(reuse[0]!.holders.map((h) => [h.pod, h.end]), [['job-1-bbbbb', '2026-01-01T10:00:10.200Z'], ['thumb-6c6c6c6c6-ccccc', null]]);
});
