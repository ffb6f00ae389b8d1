/**
 * Kubernetes identity index at cluster scale (src/k8s/identity-index.ts):
 * 100k pods (each owned by a ReplicaSet of one of 2k Deployments, spread over
 * 200 nodes), 5k services; then
 *  - pod events applied at a paced 1,000/s for a few seconds (create a pod on
 *    a freed IP, update, delete — the churn of a busy cluster), reporting the
 *    rate achieved and the CPU share it took, and the unpaced maximum;
 *  - single-thread lookups in random order over pod, service, node and
 *    outside addresses at random times, through the numeric fast path
 *    (`lookupV4`, what a flow's uint32 addresses use) and the text path
 *    (`lookup`, what EVE records use), beside a bare `Map<string>.get` of the
 *    same keys as the yardstick the issue started from;
 *  - memory: RSS and heap after building.
 * Output: Markdown table rows.
 */
import { IdentityIndex } from '../src/k8s/identity-index.js';
import { peakRssMb } from './corpus.js';

const PODS = 100_000;
const SERVICES = 5_000;
const NODES = 200;
const DEPLOYMENTS = 2_000;
const LOOKUPS = 10_000_000;
const T0 = 1_800_000_000;
const iso = (s: number): string => new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>>= 0);
  };
}

const ipText = (v: number): string => `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
/** Pod i's address: node n's /22 inside 10.244.0.0/14 style space (10.64.0.0/10 here, 200 × 1024). */
const podIp = (i: number): number => ((10 << 24) | (64 << 16)) + (i % NODES) * 1024 + 2 + Math.floor(i / NODES);
const svcIp = (i: number): number => ((10 << 24) | (96 << 16)) + 10 + i;
const nodeIp = (n: number): number => ((172 << 24) | (30 << 16)) + 10 + n;

function podObj(i: number, uid: string, ip: number, created: number, extra: Record<string, unknown> = {}): object {
  const dep = `app-${i % DEPLOYMENTS}`;
  return {
    kind: 'Pod',
    metadata: {
      name: `${dep}-7c9f8d-${uid}`,
      namespace: `ns-${i % 50}`,
      uid,
      creationTimestamp: iso(created),
      labels: { app: dep, 'pod-template-hash': '7c9f8d' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${dep}-7c9f8d`, uid: `rs-${dep}`, controller: true }],
      ...extra,
    },
    spec: { nodeName: `node-${i % NODES}`, serviceAccountName: dep, containers: [{ name: 'main', ports: [{ containerPort: 8080 }] }] },
    status: { phase: 'Running', podIP: ipText(ip), podIPs: [{ ip: ipText(ip) }], hostIP: ipText(nodeIp(i % NODES)) },
  };
}

function build(): { index: IdentityIndex; ms: number } {
  const index = new IdentityIndex({ maxPods: 200_000 });
  const t = cpuSec();
  for (let n = 0; n < NODES; n++) {
    index.upsert({
      kind: 'Node',
      metadata: { name: `node-${n}`, uid: `node-${n}` },
      spec: { podCIDR: `${ipText(((10 << 24) | (64 << 16)) + n * 1024)}/22` },
      status: { addresses: [{ type: 'InternalIP', address: ipText(nodeIp(n)) }] },
    });
  }
  for (let d = 0; d < DEPLOYMENTS; d++) {
    index.upsert({
      kind: 'ReplicaSet',
      metadata: { name: `app-${d}-7c9f8d`, namespace: `ns-${d % 50}`, uid: `rs-app-${d}`, ownerReferences: [{ kind: 'Deployment', name: `app-${d}`, controller: true }] },
    });
  }
  for (let s = 0; s < SERVICES; s++) {
    index.upsert({ kind: 'Service', metadata: { name: `svc-${s}`, namespace: `ns-${s % 50}`, uid: `svc-${s}`, creationTimestamp: iso(T0 - 86400) }, spec: { clusterIP: ipText(svcIp(s)) } });
  }
  for (let i = 0; i < PODS; i++) index.upsert(podObj(i, `p${i}`, podIp(i), T0 - 3600), T0 - 3600);
  return { index, ms: (cpuSec() - t) * 1000 };
}

/** Churn: delete a pod, create its replacement on the same IP, update it (3 events per step). */
function churnStep(index: IdentityIndex, r: () => number, now: number, gen: { n: number }): void {
  const i = r() % PODS;
  const uidOld = gen.n === 0 ? `p${i}` : `c${i}-${gen.n}`;
  index.remove({ kind: 'Pod', metadata: { uid: uidOld } }, now);
  const uid = `c${i}-${++gen.n}`;
  index.upsert(podObj(i, uid, podIp(i), now), now);
  index.upsert(podObj(i, uid, podIp(i), now, { annotations: { restarted: String(gen.n) } }), now);
}

async function pacedEvents(index: IdentityIndex, seconds: number, perSec: number): Promise<{ rate: number; cpuPct: number }> {
  const r = rng(7);
  const gen = { n: 0 };
  let applied = 0;
  const start = Date.now();
  const cpu0 = process.cpuUsage();
  for (let s = 0; s < seconds; s++) {
    // 1,000 events per second in 10 bursts of 100 (watch events arrive in small bursts).
    for (let b = 0; b < 10; b++) {
      for (let k = 0; k < perSec / 10; k += 3) {
        churnStep(index, r, T0 + s, gen);
        applied += 3;
      }
      const due = start + s * 1000 + (b + 1) * 100;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    }
  }
  const wall = (Date.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { rate: applied / wall, cpuPct: ((cpu.user + cpu.system) / 1e6 / wall) * 100 };
}

function maxEvents(index: IdentityIndex, steps: number): number {
  const r = rng(11);
  const gen = { n: 1_000_000 };
  const t = cpuSec();
  for (let k = 0; k < steps; k++) churnStep(index, r, T0 + 10, gen);
  return (steps * 3) / (cpuSec() - t);
}

function queries(): { ips: Uint32Array; texts: string[]; times: Float64Array } {
  const r = rng(42);
  const ips = new Uint32Array(1 << 20);
  const texts: string[] = [];
  const times = new Float64Array(1 << 20);
  for (let k = 0; k < ips.length; k++) {
    const x = r() % 100;
    // 70% pods, 15% services, 5% nodes, 10% outside.
    const ip = x < 70 ? podIp(r() % PODS) : x < 85 ? svcIp(r() % SERVICES) : x < 90 ? nodeIp(r() % NODES) : ((93 << 24) + (r() % 65536)) >>> 0;
    ips[k] = ip >>> 0;
    texts.push(ipText(ip >>> 0));
    times[k] = T0 + (r() % 20);
  }
  return { ips, texts, times };
}

/** CPU seconds of this process (user + system): on the shared machine wall time mostly measures the neighbours. */
const cpuSec = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function timeIt(fn: () => number): { perSec: number; perCpuSec: number; sink: number } {
  fn(); // warm-up (JIT)
  const c = cpuSec();
  const t = process.hrtime.bigint();
  const sink = fn();
  const wall = Number(process.hrtime.bigint() - t) / 1e9;
  return { perSec: LOOKUPS / wall, perCpuSec: LOOKUPS / (cpuSec() - c), sink };
}

async function main(): Promise<void> {
  const { index, ms } = build();
  (globalThis as { gc?: () => void }).gc?.();
  const mem = process.memoryUsage();
  const st = index.stats();
  console.log('| measure | value |');
  console.log('| --- | --- |');
  console.log(`| index built: ${st.pods} pods, ${st.services} services, ${st.nodes} nodes, ${st.owners} owners | ${ms.toFixed(0)} ms CPU (${((PODS + SERVICES) / (ms / 1000) / 1000).toFixed(0)}k objects/s) |`);
  console.log(`| memory after build: RSS / heap used | ${(mem.rss / 1048576).toFixed(0)} MB / ${(mem.heapUsed / 1048576).toFixed(0)} MB (stats().approxBytes ${(st.approxBytes / 1048576).toFixed(0)} MB) |`);

  const q = queries();
  const mask = q.ips.length - 1;
  const fast = timeIt(() => {
    let pods = 0;
    for (let k = 0; k < LOOKUPS; k++) if (index.lookupV4(q.ips[k & mask], -1, q.times[k & mask]).kind === 'pod') pods++;
    return pods;
  });
  const text = timeIt(() => {
    let pods = 0;
    for (let k = 0; k < LOOKUPS; k++) if (index.lookup(q.texts[k & mask], -1, q.times[k & mask]).kind === 'pod') pods++;
    return pods;
  });
  const map = new Map<string, number>();
  for (let i = 0; i < PODS; i++) map.set(ipText(podIp(i)), i);
  const bare = timeIt(() => {
    let hits = 0;
    for (let k = 0; k < LOOKUPS; k++) if (map.get(q.texts[k & mask]) !== undefined) hits++;
    return hits;
  });
  const podShare = fast.sink / LOOKUPS;
  const f = (x: { perSec: number; perCpuSec: number }): string => `${(x.perCpuSec / 1e6).toFixed(2)} M per CPU-second (${(x.perSec / 1e6).toFixed(2)} M/s wall)`;
  console.log(`| lookups, numeric IPv4 (lookupV4), random order, single thread | ${f(fast)}; ${(podShare * 100).toFixed(0)}% resolve to pods |`);
  console.log(`| lookups, address text (lookup), random order | ${f(text)} |`);
  console.log(`| yardstick: bare Map<string>.get of the same texts | ${f(bare)} |`);
  if (fast.sink !== text.sink) console.log(`| MISMATCH numeric vs text path | ${fast.sink} vs ${text.sink} |`);

  const paced = await pacedEvents(index, 5, 1000);
  console.log(`| pod events applied, paced at 1,000/s for 5 s (delete + create on the freed IP + update) | ${paced.rate.toFixed(0)} events/s achieved, ${paced.cpuPct.toFixed(1)}% of one core |`);
  const max = maxEvents(index, 20_000);
  console.log(`| pod events applied, unpaced | ${(max / 1000).toFixed(0)}k events per CPU-second |`);
  const after = index.stats();
  (globalThis as { gc?: () => void }).gc?.();
  const mem2 = process.memoryUsage();
  console.log(`| after churn: pods kept / evicted / intervals dropped | ${after.pods} / ${after.evicted} / ${after.intervalsDropped} |`);
  console.log(`| after churn: RSS / heap used; peak RSS | ${(mem2.rss / 1048576).toFixed(0)} MB / ${(mem2.heapUsed / 1048576).toFixed(0)} MB; ${peakRssMb().toFixed(0)} MB |`);
}

await main();
