/**
 * The live watcher against a fake API server speaking the real list/watch
 * protocol (test/k8s/fake-apiserver.ts), reached through a kubeconfig file
 * and @kubernetes/client-node exactly as against a real cluster. Packets are
 * driven through the real Pipeline with the enricher backed by the watched
 * index; expectations are the scenario's own facts (who held which IP when).
 *
 * The watcher's clock is the test's: each change is applied "at" a chosen
 * second, so flows before and after a change can be placed exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeApiServer, PATHS, job, namespace, node, pod, replicaSet, service } from './fake-apiserver.js';
import { feed, tcpSession, udpFrame } from './packets.js';
import { IdentityIndex, type Identity } from '../../src/k8s/identity-index.js';
import { K8sEnricher } from '../../src/k8s/enrich.js';
import { K8sWatcher, loadKubeConfig } from '../../src/k8s/watch.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { defaultConfig } from '../../src/sensor/config.js';

const T0 = 1_800_000_000;

interface Env {
  server: FakeApiServer;
  index: IdentityIndex;
  watcher: K8sWatcher;
  clock: { t: number };
  logs: string[];
  dir: string;
  close(): Promise<void>;
}

async function env(opts: { pageSize?: number; startServer?: boolean; seed?: (s: FakeApiServer) => void; serviceCidrs?: string[] } = {}): Promise<Env> {
  const server = new FakeApiServer();
  await server.start();
  opts.seed?.(server);
  if (opts.startServer === false) await server.stop();
  const dir = mkdtempSync(join(tmpdir(), 'harrier-k8s-watch-'));
  const kc = loadKubeConfig(server.writeKubeconfig(dir));
  const index = new IdentityIndex({ graceSec: 30, serviceCidrs: opts.serviceCidrs });
  const clock = { t: T0 };
  const logs: string[] = [];
  const watcher = new K8sWatcher(index, {
    kubeConfig: kc,
    now: () => clock.t,
    pageSize: opts.pageSize ?? 500,
    backoffInitialMs: 20,
    backoffMaxMs: 200,
    onLog: (cause, msg) => logs.push(`${cause}: ${msg}`),
  });
  watcher.start();
  return {
    server,
    index,
    watcher,
    clock,
    logs,
    dir,
    close: async () => {
      await watcher.stop();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `cond` holds (watch events arrive asynchronously); fails after `ms`. */
async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const totalEvents = (w: K8sWatcher): number => Object.values(w.stats().events).reduce((a, b) => a + b, 0);

/**
 * Makes `n` changes "at" second `t` of the watcher's clock and waits until the
 * watcher has received them, so the next clock step cannot overtake them.
 */
async function at(e: Env, t: number, change: () => void, n = 1): Promise<void> {
  e.clock.t = t;
  const before = totalEvents(e.watcher);
  change();
  await until(() => totalEvents(e.watcher) >= before + n, `${n} event(s) at +${t - T0}`);
}

/** Waits until the pods watch is open (the initial list resolves before the watch starts). */
const podsWatchOpen = (e: Env): Promise<void> =>
  until(() => e.server.requests.some((r) => r.path === '/api/v1/pods' && r.query.watch === 'true') && e.server.openWatches >= 7, 'pods watch');

const name = (id: Identity): string => {
  switch (id.kind) {
    case 'pod':
      return `pod:${id.namespace}/${id.pod}`;
    case 'service':
      return `service:${id.namespace ?? '?'}/${id.service ?? '?'}`;
    case 'node':
      return `node:${id.node}`;
    default:
      return id.kind;
  }
};

interface K8sRec {
  event_type: string;
  src_ip: string;
  dest_ip: string;
  dest_port: number;
  timestamp: string;
  k8s?: { cluster: string; src: Identity & { workload?: { kind: string; name: string } }; dest: Identity };
}

/** Runs frames through a real Pipeline enriched from `index`; returns the flow records. */
function runFlows(index: IdentityIndex, frames: ReturnType<typeof tcpSession>): K8sRec[] {
  const out: K8sRec[] = [];
  const sink = { write: (r: object) => void out.push(r as K8sRec), close: () => {}, records: 0 };
  const enricher = new K8sEnricher(index, { cluster: 'test' });
  const p = new Pipeline(defaultConfig(), { eve: sink, k8s: enricher });
  feed(p, frames);
  p.finish();
  return out.filter((r) => r.event_type === 'flow');
}

const seedCluster = (s: FakeApiServer): void => {
  s.apply(node('node-1', '172.30.0.11', '10.244.1.0/24'));
  s.apply(node('node-2', '172.30.0.12', '10.244.2.0/24'));
  s.apply(namespace('shop'));
  s.apply(service('cart', '10.96.0.10'));
  s.apply(replicaSet('cart-5d8c7', 'cart'));
  s.apply(job('report-29000000', 'nightly-report'));
};

test('pod created → running → deleted → IP reused by a new pod: flows before and after attributed through the Pipeline', async () => {
  const e = await env({ seed: seedCluster });
  try {
    assert.equal(await e.watcher.waitForSync(10_000), true, 'initial lists complete');
    await podsWatchOpen(e);
    const ip = '10.244.1.9';
    await at(e, T0 + 10, () => {
      e.server.apply(pod({ name: 'cart-5d8c7-aaaaa', uid: 'uid-a', created: T0 + 10, phase: 'Pending', owner: { kind: 'ReplicaSet', name: 'cart-5d8c7' } }));
      e.server.apply(pod({ name: 'cart-5d8c7-aaaaa', uid: 'uid-a', ip, created: T0 + 10, owner: { kind: 'ReplicaSet', name: 'cart-5d8c7' } }));
    }, 2);
    assert.equal(name(e.index.lookup(ip, -1, T0 + 20)), 'pod:shop/cart-5d8c7-aaaaa');
    // Deleted at T0+100: graceful deletion sets deletionTimestamp, then the object goes.
    await at(e, T0 + 100, () => {
      e.server.apply(pod({ name: 'cart-5d8c7-aaaaa', uid: 'uid-a', ip, created: T0 + 10, deleted: T0 + 100, owner: { kind: 'ReplicaSet', name: 'cart-5d8c7' } }));
      e.server.remove(pod({ name: 'cart-5d8c7-aaaaa', uid: 'uid-a', ip, created: T0 + 10 }));
    }, 2);
    await at(e, T0 + 200, () => e.server.apply(pod({ name: 'thumbnailer-x1', ns: 'media', uid: 'uid-b', ip, created: T0 + 200 })));

    const flows = runFlows(e.index, [
      ...tcpSession(ip, 40001, '10.96.0.10', 80, T0 + 50, 'GET / HTTP/1.1\r\nHost: cart\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'),
      ...tcpSession(ip, 40002, '10.96.0.10', 80, T0 + 160),
      ...tcpSession(ip, 40003, '10.96.0.10', 80, T0 + 250),
    ]);
    const by = new Map(flows.map((f) => [Math.floor(Date.parse(f.timestamp.replace('+0000', 'Z')) / 1000) - T0, f]));
    assert.deepEqual([...by.keys()].sort((a, b) => a - b), [50, 160, 250]);
    assert.equal(name(by.get(50)!.k8s!.src), 'pod:shop/cart-5d8c7-aaaaa');
    assert.deepEqual(by.get(50)!.k8s!.src.kind === 'pod' ? by.get(50)!.k8s!.src.workload : null, { kind: 'Deployment', name: 'cart' });
    assert.equal(name(by.get(50)!.k8s!.dest), 'service:shop/cart');
    assert.equal(name(by.get(160)!.k8s!.src), 'unknown', 'after deletion + grace and before the reuse: inside node-1 podCIDR, nobody');
    assert.equal(name(by.get(250)!.k8s!.src), 'pod:media/thumbnailer-x1');
    const st = e.watcher.stats();
    assert.ok(st.events.added >= 1 && st.events.modified >= 1 && st.events.deleted === 1, JSON.stringify(st.events));
  } finally {
    await e.close();
  }
});

test("a Deployment's pod rescheduled on another node; hostNetwork pods by port; Job pods completing without DELETE", async () => {
  const e = await env({ seed: seedCluster });
  try {
    assert.equal(await e.watcher.waitForSync(10_000), true);
    await podsWatchOpen(e);
    // Rescheduling: cart-…-old on node-1 deleted at +300, cart-…-new on node-2 from +305.
    await at(e, T0 + 1, () => e.server.apply(pod({ name: 'cart-5d8c7-old', uid: 'uid-old', ip: '10.244.1.20', node: 'node-1', created: T0 + 1, owner: { kind: 'ReplicaSet', name: 'cart-5d8c7' } })));
    await at(e, T0 + 300, () => e.server.remove(pod({ name: 'cart-5d8c7-old', uid: 'uid-old', ip: '10.244.1.20', node: 'node-1', created: T0 + 1 })));
    await at(e, T0 + 305, () => {
      e.server.apply(pod({ name: 'cart-5d8c7-new', uid: 'uid-new', ip: '10.244.2.30', node: 'node-2', hostIP: '172.30.0.12', created: T0 + 305, owner: { kind: 'ReplicaSet', name: 'cart-5d8c7' } }));
      // hostNetwork DaemonSet pod on node-1 listening on 9100.
      e.server.apply(pod({ name: 'node-exporter-abcde', ns: 'monitoring', uid: 'uid-ne', ip: '172.30.0.11', node: 'node-1', hostNetwork: true, created: T0 - 1000, owner: { kind: 'DaemonSet', name: 'node-exporter' }, ports: [{ containerPort: 9100, hostPort: 9100 }] }));
    }, 2);
    // A CronJob's Job pod that runs from +400 and succeeds at +450 (never deleted).
    const jobPod = { name: 'report-29000000-zzzzz', ns: 'batch', uid: 'uid-job', ip: '10.244.2.40', node: 'node-2', created: T0 + 400, owner: { kind: 'Job', name: 'report-29000000', apiVersion: 'batch/v1' } };
    await at(e, T0 + 400, () => e.server.apply(pod(jobPod)));
    await at(e, T0 + 451, () => e.server.apply(pod({ ...jobPod, phase: 'Succeeded', finished: T0 + 450 })));

    const flows = runFlows(e.index, [
      ...tcpSession('10.244.1.20', 41000, '10.96.0.10', 80, T0 + 100),
      ...tcpSession('10.244.2.30', 41001, '10.96.0.10', 80, T0 + 320),
      ...tcpSession('10.244.1.20', 41002, '172.30.0.11', 9100, T0 + 330), // old IP after grace → unknown; server → hostNetwork pod by port
      ...tcpSession('10.244.2.30', 41003, '172.30.0.11', 22, T0 + 340), // node-1 on another port
      ...tcpSession('10.244.2.40', 41004, '10.96.0.10', 80, T0 + 420),
      ...tcpSession('10.244.2.40', 41005, '10.96.0.10', 80, T0 + 500), // completed at 450 + grace 30
    ]);
    const flowAt = (s: number): K8sRec => flows.find((f) => f.timestamp.startsWith(new Date((T0 + s) * 1000).toISOString().slice(0, 19)))!;
    const old = flowAt(100).k8s!.src;
    const moved = flowAt(320).k8s!.src;
    assert.equal(name(old), 'pod:shop/cart-5d8c7-old');
    assert.equal(name(moved), 'pod:shop/cart-5d8c7-new');
    assert.ok(old.kind === 'pod' && moved.kind === 'pod');
    if (old.kind === 'pod' && moved.kind === 'pod') {
      assert.equal(old.node, 'node-1');
      assert.equal(moved.node, 'node-2');
      assert.deepEqual(old.workload, { kind: 'Deployment', name: 'cart' });
      assert.deepEqual(moved.workload, { kind: 'Deployment', name: 'cart' });
    }
    assert.equal(name(flowAt(330).k8s!.src), 'unknown');
    const ne = flowAt(330).k8s!.dest;
    assert.equal(name(ne), 'pod:monitoring/node-exporter-abcde');
    assert.ok(ne.kind === 'pod' && ne.host_network === true);
    assert.equal(name(flowAt(340).k8s!.dest), 'node:node-1');
    const jp = flowAt(420).k8s!.src;
    assert.equal(name(jp), 'pod:batch/report-29000000-zzzzz');
    assert.deepEqual(jp.kind === 'pod' ? jp.workload : null, { kind: 'CronJob', name: 'nightly-report' });
    assert.equal(name(flowAt(500).k8s!.src), 'unknown', 'Succeeded released the IP without a DELETE');
  } finally {
    await e.close();
  }
});

test('a watch that breaks resumes from its resourceVersion; a 410 Gone forces a re-list that also finds deletions missed', async () => {
  const e = await env({ seed: seedCluster });
  try {
    assert.equal(await e.watcher.waitForSync(10_000), true);
    await podsWatchOpen(e);
    e.server.apply(pod({ name: 'a', uid: 'uid-a', ip: '10.244.1.5', created: T0 }));
    await until(() => e.index.lookup('10.244.1.5', -1, T0 + 1).kind === 'pod', 'pod a');
    const podsWatches = e.watcher.stats().resources.pods.watches;
    // Connection cut mid-stream; a change made while disconnected is replayed on resume.
    e.server.breakWatches();
    e.server.apply(pod({ name: 'b', uid: 'uid-b', ip: '10.244.1.6', created: T0 }));
    await until(() => e.index.lookup('10.244.1.6', -1, T0 + 1).kind === 'pod', 'pod b after resume');
    const st1 = e.watcher.stats().resources.pods;
    assert.ok(st1.watches > podsWatches, 'watch restarted');
    assert.equal(st1.relists, 0, 'resumed, not re-listed');
    // A bookmark moves the resourceVersion on without an object.
    e.server.bookmark();
    await until(() => (e.watcher.stats().events.bookmark ?? 0) > 0, 'bookmark');

    // History compacted while disconnected, and pod a deleted meanwhile: the resume gets 410 → re-list.
    e.server.breakWatches();
    e.clock.t = T0 + 500;
    e.server.putSilently(pod({ name: 'c', uid: 'uid-c', ip: '10.244.1.7', created: T0 + 400 }));
    e.server.compact();
    (e.server as unknown as { store: Map<string, Map<string, unknown>> }).store.get('/api/v1/pods')!.delete('uid-a');
    await until(() => e.watcher.stats().resources.pods.relists >= 1 && e.index.lookup('10.244.1.7', -1, T0 + 450).kind === 'pod', 're-list');
    assert.equal(e.index.lookup('10.244.1.5', -1, T0 + 100).kind, 'pod', 'a held its IP before the re-list');
    assert.equal(e.index.lookup('10.244.1.5', -1, T0 + 600).kind, 'unknown', 'a missing from the re-list: deleted at the re-list time (+ grace)');
    assert.ok(e.logs.some((l) => l.startsWith('gone:')), e.logs.join('\n'));
  } finally {
    await e.close();
  }
});

test('paged initial list with limit/continue, an expired continue token (HTTP 410) restarts the list, 500s back off', async () => {
  const e = await env({
    pageSize: 2,
    seed: (s) => {
      seedCluster(s);
      for (let i = 0; i < 7; i++) s.apply(pod({ name: `p${i}`, uid: `uid-p${i}`, ip: `10.244.1.${100 + i}`, created: T0 }));
    },
  });
  try {
    assert.equal(await e.watcher.waitForSync(10_000), true);
    await podsWatchOpen(e);
    const podLists = e.server.requests.filter((r) => r.path === '/api/v1/pods' && r.query.watch === undefined);
    assert.equal(podLists.length, 4, '7 pods in pages of 2');
    assert.ok(podLists.every((r) => r.query.limit === '2'));
    assert.equal(podLists.filter((r) => r.query.continue).length, 3);
    for (let i = 0; i < 7; i++) assert.equal(name(e.index.lookup(`10.244.1.${100 + i}`, -1, T0 + 1)), `pod:shop/p${i}`);
    const w = e.server.requests.find((r) => r.path === '/api/v1/pods' && r.query.watch === 'true')!;
    assert.equal(w.query.allowWatchBookmarks, 'true');
    assert.ok(Number(w.query.resourceVersion) > 0, 'watch starts from the list version');
  } finally {
    await e.close();
  }

  // An expired continue token: compaction between pages.
  const f = await env({
    pageSize: 3,
    startServer: true,
    seed: (s) => {
      for (let i = 0; i < 7; i++) s.apply(pod({ name: `q${i}`, uid: `uid-q${i}`, ip: `10.244.1.${120 + i}`, created: T0 }));
      s.expireNextContinue = true;
    },
  });
  try {
    assert.equal(await f.watcher.waitForSync(10_000), true);
    assert.ok(f.server.requests.some((r) => r.status === 410 && r.query.continue), 'a continue token was refused with 410');
    assert.ok(f.watcher.stats().resources.pods.relists >= 1);
    for (let i = 0; i < 7; i++) assert.equal(f.index.lookup(`10.244.1.${120 + i}`, -1, T0 + 1).kind, 'pod');
  } finally {
    await f.close();
  }

  // 500s: counted, logged once, retried with backoff until the server answers.
  const g = await env({ seed: (s) => ((s.failNext = 5), seedCluster(s)) });
  try {
    assert.equal(await g.watcher.waitForSync(10_000), true);
    assert.equal(g.watcher.stats().errors.http_500, 5);
    assert.equal(g.logs.filter((l) => l.startsWith('http_500')).length, 1, 'logged once per cause');
  } finally {
    await g.close();
  }
});

test('API server down at start: unknown identities and one warning, then it comes up and identities appear', async () => {
  const e = await env({ startServer: false });
  try {
    assert.equal(await e.watcher.waitForSync(300), false);
    assert.ok(e.logs.some((l) => l.startsWith('econnrefused:')), e.logs.join('\n'));
    assert.equal(e.logs.filter((l) => l.startsWith('econnrefused:')).length, 1);
    assert.equal(e.index.lookup('10.244.1.9', -1, T0 + 5).kind, 'unknown', 'no list yet: nothing can be called external');
    assert.equal(e.index.lookup('93.184.216.34', -1, T0 + 5).kind, 'unknown');
    seedCluster(e.server);
    e.server.apply(pod({ name: 'late', uid: 'uid-late', ip: '10.244.1.9', created: T0 }));
    await e.server.start();
    assert.equal(await e.watcher.waitForSync(10_000), true);
    assert.equal(name(e.index.lookup('10.244.1.9', -1, T0 + 5)), 'pod:shop/late');
    assert.equal(e.index.lookup('93.184.216.34', -1, T0 + 5).kind, 'external');
    assert.ok((e.watcher.stats().errors.econnrefused ?? 0) >= 1);
    const c = e.watcher.counters();
    assert.equal(c['harrier.k8s.watch.synced'], 1);
    assert.ok(c['harrier.k8s.watch.pods.stale_sec'] >= 0);
  } finally {
    await e.close();
  }
});

test('malformed objects and events are counted, never crash, and valid objects still resolve; service CIDR → kind service', async () => {
  const e = await env({
    serviceCidrs: ['10.96.0.0/12'],
    seed: (s) => {
      seedCluster(s);
      s.putRaw('/api/v1/pods', 'zz-1', 42);
      s.putRaw('/api/v1/pods', 'zz-2', { metadata: { name: 'no-uid', namespace: 'shop' }, status: { podIP: '10.244.1.77' } });
      s.putRaw('/api/v1/pods', 'zz-3', { metadata: { name: 'bad-ips', namespace: 'shop', uid: 'u3', creationTimestamp: 'yesterday' }, spec: 'x', status: { podIPs: 'garbage', phase: 'Running' } });
      s.putRaw('/api/v1/nodes', 'zz-4', { metadata: {} });
      s.apply(pod({ name: 'good', uid: 'uid-good', ip: '10.244.1.8', created: T0 }));
    },
  });
  try {
    assert.equal(await e.watcher.waitForSync(10_000), true);
    await podsWatchOpen(e);
    // A malformed watch event object too.
    (e.server as unknown as { watchers: Set<{ path: string; res: { write(s: string): void } }> }).watchers.forEach((w) => {
      if (w.path === '/api/v1/pods') w.res.write(JSON.stringify({ type: 'ADDED', object: 'not an object' }) + '\n' + JSON.stringify({ type: 'WEIRD', object: {} }) + '\n');
    });
    await until(() => (e.index.problems.get('object.not_an_object') ?? 0) >= 2, 'malformed event counted');
    const p = Object.fromEntries(e.index.problems);
    assert.ok(p['pod.no_identity'] >= 1, JSON.stringify(p));
    assert.ok(p['node.no_name'] >= 1, JSON.stringify(p));
    assert.ok(p['watch.bad_event_type'] >= 1, JSON.stringify(p));
    assert.equal(name(e.index.lookup('10.244.1.8', -1, T0 + 1)), 'pod:shop/good');
    assert.equal(name(e.index.lookup('10.96.0.10', 80, T0 + 1)), 'service:shop/cart');
    assert.equal(name(e.index.lookup('10.96.3.3', 80, T0 + 1)), 'service:?/?', 'inside the service CIDR, no Service known: kind service, no name');
    assert.ok(Object.keys(PATHS).length === 7);
  } finally {
    await e.close();
  }
});

test('UDP flows and services through the Pipeline (DNS to the cluster DNS service)', async () => {
  const e = await env({ seed: (s) => (seedCluster(s), s.apply(service('kube-dns', '10.96.0.53', 'kube-system'))) });
  try {
    assert.equal(await e.watcher.waitForSync(10_000), true);
    e.server.apply(pod({ name: 'web-1', uid: 'uid-web', ip: '10.244.2.9', node: 'node-2', created: T0 }));
    await until(() => e.index.lookup('10.244.2.9', -1, T0 + 1).kind === 'pod', 'web pod');
    const q = Buffer.from('abcd01000001000000000000076578616d706c6503636f6d0000010001', 'hex');
    const out: K8sRec[] = [];
    const p = new Pipeline(defaultConfig(), { eve: { write: (r: object) => void out.push(r as K8sRec), close: () => {}, records: 0 }, k8s: new K8sEnricher(e.index, { cluster: 'test' }) });
    feed(p, [{ frame: udpFrame('10.244.2.9', 5353, '10.96.0.53', 53, q), t: T0 + 10 }]);
    p.finish();
    const dns = out.find((r) => r.event_type === 'dns')!;
    assert.equal(name(dns.k8s!.src), 'pod:shop/web-1');
    assert.equal(name(dns.k8s!.dest), 'service:kube-system/kube-dns');
  } finally {
    await e.close();
  }
});
