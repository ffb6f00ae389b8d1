/**
 * The time-aware identity index on hand-made objects shaped like the API's:
 * pod churn and IP reuse, completed Job pods, rescheduling, hostNetwork pods
 * by port, services, nodes, external/unknown, malformed objects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdentityIndex, type Identity } from '../../src/k8s/identity-index.js';
import { K8sEnricher, eveTimeSec, enrichRecord } from '../../src/k8s/enrich.js';

const T0 = Date.parse('2026-01-01T00:00:00Z') / 1000;
const iso = (s: number): string => new Date((T0 + s) * 1000).toISOString().replace('.000', '');

interface PodOpts {
  name: string;
  ns?: string;
  uid?: string;
  ip?: string;
  created: number;
  deleted?: number;
  phase?: string;
  finished?: number;
  owner?: { kind: string; name: string };
  node?: string;
  hostNetwork?: boolean;
  ports?: number[];
  labels?: Record<string, string>;
}

function pod(o: PodOpts): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: o.name,
      namespace: o.ns ?? 'shop',
      uid: o.uid ?? `uid-${o.name}`,
      creationTimestamp: iso(o.created),
      ...(o.deleted !== undefined ? { deletionTimestamp: iso(o.deleted) } : {}),
      labels: o.labels ?? {},
      ...(o.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: o.owner.kind, name: o.owner.name, uid: 'x', controller: true }] } : {}),
    },
    spec: {
      nodeName: o.node ?? 'node-1',
      serviceAccountName: 'sa',
      ...(o.hostNetwork ? { hostNetwork: true } : {}),
      containers: [{ name: 'c', ports: (o.ports ?? []).map((p) => ({ containerPort: p, protocol: 'TCP' })) }],
    },
    status: {
      phase: o.phase ?? 'Running',
      ...(o.ip ? { podIP: o.ip, podIPs: [{ ip: o.ip }] } : {}),
      ...(o.finished !== undefined ? { containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 0, finishedAt: iso(o.finished) } } }] } : {}),
    },
  };
}

const owner = (kind: string, name: string, up?: { kind: string; name: string }, ns = 'shop'): object => ({
  kind,
  metadata: { name, namespace: ns, uid: `uid-${name}`, ...(up ? { ownerReferences: [{ kind: up.kind, name: up.name, uid: 'u', controller: true }] } : {}) },
});

const node = (name: string, ip: string, cidr: string): object => ({
  kind: 'Node',
  metadata: { name, uid: `uid-${name}`, creationTimestamp: iso(-1e6) },
  spec: { podCIDR: cidr, podCIDRs: [cidr] },
  status: { addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }] },
});

const podName = (id: Identity): string => (id.kind === 'pod' ? `${id.namespace}/${id.pod}` : id.kind);

test('pod created → running → deleted → IP reused by a new pod', () => {
  const idx = new IdentityIndex({ graceSec: 30 });
  idx.upsert(node('node-1', '172.30.0.11', '10.244.1.0/24'));
  idx.upsert(pod({ name: 'a', ip: '10.244.1.9', created: 10 }), T0 + 10);
  assert.equal(podName(idx.lookup('10.244.1.9', -1, T0 + 5)), 'unknown', 'before creation: inside the podCIDR, nobody');
  assert.equal(podName(idx.lookup('10.244.1.9', -1, T0 + 20)), 'shop/a');
  // Deleted at 100: it keeps the IP through the grace period…
  idx.upsert(pod({ name: 'a', ip: '10.244.1.9', created: 10, deleted: 100 }), T0 + 100);
  assert.equal(podName(idx.lookup('10.244.1.9', -1, T0 + 120)), 'shop/a');
  assert.equal(podName(idx.lookup('10.244.1.9', -1, T0 + 131)), 'unknown');
  // …unless a new pod takes the IP first: it owns it from its own start.
  idx.upsert(pod({ name: 'b', ns: 'media', ip: '10.244.1.9', created: 110 }), T0 + 110);
  assert.equal(podName(idx.lookup('10.244.1.9', -1, T0 + 105)), 'shop/a');
  assert.equal(podName(idx.lookup('10.244.1.9', -1, T0 + 110)), 'media/b');
  assert.equal(podName(idx.lookup('10.244.1.9', -1, T0 + 1000)), 'media/b');
  // A watch DELETE of b at 2000.
  idx.remove(pod({ name: 'b', ns: 'media', ip: '10.244.1.9', created: 110 }), T0 + 2000);
  assert.equal(podName(idx.lookup('10.244.1.9', -1, T0 + 2029)), 'media/b');
  assert.equal(podName(idx.lookup('10.244.1.9', -1, T0 + 2031)), 'unknown');
});

test('a completed Job pod (Succeeded, never deleted) gives its IP back at finishedAt', () => {
  const idx = new IdentityIndex({ graceSec: 5 });
  idx.upsert(owner('Job', 'report-28391050', { kind: 'CronJob', name: 'report' }, 'batch'));
  idx.upsert(pod({ name: 'report-28391050-abcde', ns: 'batch', ip: '10.244.2.5', created: 0, phase: 'Succeeded', finished: 50, owner: { kind: 'Job', name: 'report-28391050' } }));
  const id = idx.lookup('10.244.2.5', -1, T0 + 20);
  assert.equal(id.kind, 'pod');
  assert.deepEqual(id.kind === 'pod' ? id.workload : null, { kind: 'CronJob', name: 'report' });
  assert.equal(idx.lookup('10.244.2.5', -1, T0 + 54).kind, 'pod');
  assert.equal(idx.lookup('10.244.2.5', -1, T0 + 56).kind, 'external', 'no podCIDR known here: outside every cluster range');
});

test('owners: Pod → ReplicaSet → Deployment; missing ReplicaSet inferred from pod-template-hash; StatefulSet; DaemonSet; Job without object', () => {
  const idx = new IdentityIndex();
  idx.upsert(owner('ReplicaSet', 'cart-5d8c7b9f6', { kind: 'Deployment', name: 'cart' }));
  idx.upsert(owner('Deployment', 'cart'));
  idx.upsert(pod({ name: 'cart-5d8c7b9f6-x2x9q', ip: '10.0.0.1', created: 0, owner: { kind: 'ReplicaSet', name: 'cart-5d8c7b9f6' } }));
  idx.upsert(pod({ name: 'web-7c9-abcde', ip: '10.0.0.2', created: 0, owner: { kind: 'ReplicaSet', name: 'web-7c9' }, labels: { 'pod-template-hash': '7c9' } }));
  idx.upsert(pod({ name: 'db-0', ip: '10.0.0.3', created: 0, owner: { kind: 'StatefulSet', name: 'db' } }));
  idx.upsert(pod({ name: 'agent-x1', ip: '10.0.0.4', created: 0, owner: { kind: 'DaemonSet', name: 'agent' } }));
  idx.upsert(pod({ name: 'once-q', ip: '10.0.0.5', created: 0, owner: { kind: 'Job', name: 'once' } }));
  idx.upsert(pod({ name: 'bare', ip: '10.0.0.6', created: 0 }));
  const wl = (ip: string): unknown => {
    const id = idx.lookup(ip, -1, T0 + 1);
    return id.kind === 'pod' ? id.workload : id.kind;
  };
  assert.deepEqual(wl('10.0.0.1'), { kind: 'Deployment', name: 'cart' });
  assert.deepEqual(wl('10.0.0.2'), { kind: 'Deployment', name: 'web', inferred: true });
  assert.deepEqual(wl('10.0.0.3'), { kind: 'StatefulSet', name: 'db' });
  assert.deepEqual(wl('10.0.0.4'), { kind: 'DaemonSet', name: 'agent' });
  assert.deepEqual(wl('10.0.0.5'), { kind: 'Job', name: 'once' });
  assert.equal(wl('10.0.0.6'), undefined);
  // An owner arriving later (watch order) is picked up: identities rebuild lazily.
  idx.upsert(owner('Job', 'once', { kind: 'CronJob', name: 'nightly' }));
  assert.deepEqual(wl('10.0.0.5'), { kind: 'CronJob', name: 'nightly' });
});

test('a rescheduled pod: the old pod on node-2 until deleted, the new one on node-1 with its own IP', () => {
  const idx = new IdentityIndex({ graceSec: 0 });
  idx.upsert(pod({ name: 'cart-1', ip: '10.244.2.2', node: 'node-2', created: 0, deleted: 60 }));
  idx.upsert(pod({ name: 'cart-2', ip: '10.244.1.7', node: 'node-1', created: 61 }));
  const at = (ip: string, s: number): string => {
    const id = idx.lookup(ip, -1, T0 + s);
    return id.kind === 'pod' ? `${id.pod}@${id.node}` : id.kind;
  };
  assert.equal(at('10.244.2.2', 30), 'cart-1@node-2');
  assert.equal(at('10.244.2.2', 70), 'external');
  assert.equal(at('10.244.1.7', 30), 'external');
  assert.equal(at('10.244.1.7', 70), 'cart-2@node-1');
});

test('hostNetwork pods by listening port, else the node; services; node addresses; external vs unknown', () => {
  const idx = new IdentityIndex({ internalCidrs: ['10.96.0.0/12'] });
  idx.upsert(node('node-1', '172.30.0.11', '10.244.1.0/24'));
  idx.upsert(pod({ name: 'kube-apiserver-node-1', ns: 'kube-system', ip: '172.30.0.11', created: 0, hostNetwork: true, ports: [6443], owner: { kind: 'Node', name: 'node-1' } }));
  idx.upsert({ kind: 'Service', metadata: { name: 'kubernetes', namespace: 'default', uid: 's1', creationTimestamp: iso(-100) }, spec: { clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'] } });
  idx.upsert({ kind: 'Service', metadata: { name: 'headless', namespace: 'default', uid: 's2' }, spec: { clusterIP: 'None' } });
  const api = idx.lookup('172.30.0.11', 6443, T0 + 10);
  assert.equal(api.kind === 'pod' ? `${api.pod} hn=${api.host_network} wl=${api.workload}` : api.kind, 'kube-apiserver-node-1 hn=true wl=undefined');
  assert.deepEqual(idx.lookup('172.30.0.11', 22, T0 + 10), { kind: 'node', node: 'node-1' });
  assert.deepEqual(idx.lookup('172.30.0.11', -1, T0 + 10), { kind: 'node', node: 'node-1' }, 'a client port never names a hostNetwork pod');
  assert.deepEqual(idx.lookup('10.96.0.1', 443, T0 + 10), { kind: 'service', namespace: 'default', service: 'kubernetes' });
  assert.equal(idx.lookup('10.96.0.99', 443, T0 + 10).kind, 'unknown', 'service range, no service');
  assert.equal(idx.lookup('10.244.1.200', 80, T0 + 10).kind, 'unknown', 'podCIDR, no pod');
  assert.equal(idx.lookup('203.0.113.30', 3333, T0 + 10).kind, 'external');
  // Node object absent: the hostNetwork pod's address still names its node.
  const idx2 = new IdentityIndex();
  idx2.upsert(pod({ name: 'exporter', ip: '172.30.0.12', node: 'node-2', created: 0, hostNetwork: true, ports: [9100] }));
  assert.equal(podName(idx2.lookup('172.30.0.12', 9100, T0 + 1)), 'shop/exporter');
  assert.deepEqual(idx2.lookup('172.30.0.12', 22, T0 + 1), { kind: 'node', node: 'node-2' });
});

test('IPv6 addresses match in any spelling', () => {
  const idx = new IdentityIndex();
  idx.upsert(pod({ name: 'v6', ip: 'fd00:10:244::5', created: 0 }));
  assert.equal(podName(idx.lookup('fd00:0010:0244:0000:0000:0000:0000:0005', -1, T0 + 1)), 'shop/v6');
});

test('malformed objects are counted per cause, reported once, never thrown', () => {
  const reported: string[] = [];
  const idx = new IdentityIndex({ onProblem: (cause) => reported.push(cause) });
  const bad: unknown[] = [
    null,
    42,
    'pod',
    [],
    {},
    { kind: 'Pod' },
    { kind: 'Pod', metadata: { name: 'x' } },
    { kind: 'Pod', metadata: { name: 'x', namespace: 'n', uid: 'u1' } },
    { kind: 'Pod', metadata: { name: 'y', namespace: 'n', uid: 'u2', creationTimestamp: 'yesterday' }, status: { phase: 'Running', podIP: 7, podIPs: 'no' } },
    { kind: 'Pod', metadata: { name: 'z', namespace: 'n', uid: 'u3', ownerReferences: [null, { kind: 5 }] }, spec: { containers: [{ ports: [{ containerPort: 'x' }] }], hostNetwork: 'yes' }, status: { phase: 'Succeeded', podIP: '10.1.1.1' } },
    { kind: 'Service', metadata: {}, spec: {} },
    { kind: 'Node', metadata: { name: 'n1' }, status: { addresses: 'none' } },
    { kind: 'Node' },
    { kind: 'ReplicaSet', metadata: { name: 'r' } },
    { kind: 'ConfigMap', metadata: { name: 'c' } },
  ];
  for (const o of bad) idx.upsert(o, NaN);
  for (const o of bad) idx.remove(o, T0);
  for (const o of bad) idx.upsert(o, T0);
  const st = idx.stats();
  assert.ok(Object.keys(st.problems).length >= 8, JSON.stringify(st.problems));
  assert.equal(new Set(reported).size, reported.length, 'each cause reported once');
  assert.ok((st.problems['object.not_an_object'] ?? 0) >= 4);
  assert.ok((st.problems['pod.no_identity'] ?? 0) >= 2);
  idx.lookup('10.1.1.1', 80, T0);
});

test('memory is bounded: beyond maxPods the longest-ended pods are evicted', () => {
  const idx = new IdentityIndex({ maxPods: 100, graceSec: 0 });
  for (let i = 0; i < 300; i++) idx.upsert(pod({ name: `p${i}`, ip: `10.1.${i >> 8}.${i & 255}`, created: i, deleted: i + 1 }));
  const st = idx.stats();
  assert.ok(st.pods <= 100, `${st.pods} pods kept`);
  assert.ok(st.evicted >= 200);
  assert.equal(podName(idx.lookup('10.1.1.43', -1, T0 + 299.5)), 'shop/p299', 'the newest pod is kept');
});

test('enricher: block shape, domain for external destinations, per-flow cache, EVE timestamps', () => {
  const idx = new IdentityIndex();
  idx.upsert(pod({ name: 'miner', ns: 'media', ip: '10.244.2.5', created: 0 }));
  const asked: string[] = [];
  const e = new K8sEnricher(idx, {
    cluster: 'prod-eu',
    resolveDomain: (client, server) => {
      asked.push(`${client}>${server}`);
      return server === '203.0.113.30' ? 'pool.minexmr.com' : undefined;
    },
  });
  const b = e.block('10.244.2.5', 40000, '203.0.113.30', 3333, T0 + 10);
  assert.equal(b.cluster, 'prod-eu');
  assert.equal(podName(b.src), 'media/miner');
  assert.deepEqual(b.dest, { kind: 'external', domain: 'pool.minexmr.com' });
  assert.equal(e.block('10.244.2.5', 40000, '203.0.113.30', 3333, T0 + 11), b, 'same flow, same block');
  assert.deepEqual(e.block('10.244.2.5', 40001, '203.0.113.31', 443, T0 + 10).dest, { kind: 'external' });
  assert.deepEqual(asked, ['10.244.2.5>203.0.113.30', '10.244.2.5>203.0.113.31']);

  assert.equal(eveTimeSec('2026-01-01T00:00:10.250000+0000'), T0 + 10.25);
  assert.ok(Number.isNaN(eveTimeSec('not a time')));
  const rec: Record<string, unknown> = { timestamp: '2026-01-01T00:00:10.000000+0000', event_type: 'flow', src_ip: '10.244.2.5', src_port: 40000, dest_ip: '203.0.113.30', dest_port: 3333 };
  enrichRecord(e, rec);
  assert.equal((rec.k8s as { cluster: string }).cluster, 'prod-eu');
  const stats: Record<string, unknown> = { timestamp: '2026-01-01T00:00:10.000000+0000', event_type: 'stats' };
  enrichRecord(e, stats);
  assert.equal(stats.k8s, undefined);
});
