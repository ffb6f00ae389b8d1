/**
 * Turns a lab run's logs into its outputs:
 *  - snapshot/{namespaces,nodes,pods,services,endpointslices,replicasets,deployments}.json,
 *    each a `kubectl get … -o json` List document, from cluster-events.jsonl;
 *  - ground-truth.json, from ground-truth.jsonl plus the pod lifecycle and IP reuse.
 *
 * The snapshot is the accumulated state of a watch over the whole run, not one
 * instant: a pod deleted mid-run stays in pods.json with its deletionTimestamp,
 * so that an identity lookup at a packet's time can tell the two owners of a
 * reused IP apart. Kubernetes timestamps have whole seconds; creation is rounded
 * down and deletion up so that each pod's interval covers all of its packets
 * (the lab waits long enough between a deletion and the IP's reuse that the
 * rounded intervals do not overlap).
 *
 * Usage: node dist/lab/finalize.js --run DIR --out DIR [--mode NAME]
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

export interface ContainerPort { name?: string; containerPort: number; protocol: string }
export interface NodeEvent { type: 'node'; t: string; name: string; ip: string; podCIDR: string; vtepMAC: string }
export interface PodStartEvent {
  type: 'pod-start'; t: string; key: string; namespace: string; name: string;
  ownerKind: string; ownerName: string; app: string; serviceAccount: string; node: string; ip: string;
  hostNetwork: boolean; image: string; ports: ContainerPort[];
}
export interface PodDeleteEvent { type: 'pod-delete'; t: string; namespace: string; name: string; ip: string }
export interface ServiceEvent {
  type: 'service'; t: string; namespace: string; name: string; clusterIP: string; protocol: string;
  port: number; targetPort: number; selectorKey: string; nodePort: number | null; portName: string;
}
export type ClusterEvent = NodeEvent | PodStartEvent | PodDeleteEvent | ServiceEvent;

/** One pod's life in the run (ground truth's `pods` list). */
export interface PodLife {
  namespace: string; pod: string; ip: string; node: string; hostNetwork: boolean;
  start: string; end: string | null;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const CLUSTER_START_OFFSET_S = 86400 * 12; // namespaces/nodes "existed" 12 days before the run

/** Deterministic UUID (version-5 layout) from a name, so reruns give stable uids. */
export function uidOf(...parts: string[]): string {
  const h = createHash('sha1').update(parts.join('/')).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** RFC 3339 with whole seconds, as the API server writes timestamps. */
export function k8sTime(iso: string, round: 'down' | 'up'): string {
  const ms = Date.parse(iso);
  const s = round === 'down' ? Math.floor(ms / 1000) : Math.ceil(ms / 1000);
  return new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function readJsonl<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as T);
}

function list(items: Obj[]): Obj {
  return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items };
}

export interface Outputs { snapshot: Record<string, Obj>; pods: PodLife[] }

/** Builds every snapshot document from the cluster events of one run. */
export function buildSnapshot(events: ClusterEvent[], runEnd: string): Outputs {
  let rv = 41000;
  const nextRv = (): string => String(++rv);
  const first = events.length > 0 ? events[0]!.t : runEnd;
  const clusterBorn = new Date(Date.parse(first) - CLUSTER_START_OFFSET_S * 1000).toISOString();
  const nodes = events.filter((e): e is NodeEvent => e.type === 'node');
  const starts = events.filter((e): e is PodStartEvent => e.type === 'pod-start');
  const deletes = events.filter((e): e is PodDeleteEvent => e.type === 'pod-delete');
  const services = events.filter((e): e is ServiceEvent => e.type === 'service');
  const deleted = new Map(deletes.map((d) => [`${d.namespace}/${d.name}`, d]));
  const nodeUid = (n: string): string => uidOf('Node', n);

  const namespaces = new Set<string>(['default', 'kube-system', 'kube-public', 'kube-node-lease']);
  for (const p of starts) namespaces.add(p.namespace);
  for (const s of services) namespaces.add(s.namespace);
  const nsItems: Obj[] = [...namespaces].sort().map((n) => ({
    apiVersion: 'v1', kind: 'Namespace',
    metadata: { name: n, uid: uidOf('Namespace', n), resourceVersion: nextRv(), creationTimestamp: k8sTime(clusterBorn, 'down'),
      labels: { 'kubernetes.io/metadata.name': n } },
    spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' },
  }));

  const nodeItems: Obj[] = nodes.map((n) => ({
    apiVersion: 'v1', kind: 'Node',
    metadata: {
      name: n.name, uid: nodeUid(n.name), resourceVersion: nextRv(), creationTimestamp: k8sTime(clusterBorn, 'down'),
      labels: {
        'beta.kubernetes.io/arch': 'amd64', 'beta.kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux',
        ...(n.name === 'node-1' ? { 'node-role.kubernetes.io/control-plane': '' } : {}),
      },
      annotations: {
        'flannel.alpha.coreos.com/backend-data': JSON.stringify({ VNI: 1, VtepMAC: n.vtepMAC }),
        'flannel.alpha.coreos.com/backend-type': 'vxlan',
        'flannel.alpha.coreos.com/kube-subnet-manager': 'true',
        'flannel.alpha.coreos.com/public-ip': n.ip,
        'node.alpha.kubernetes.io/ttl': '0',
      },
    },
    spec: { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR] },
    status: {
      addresses: [{ type: 'InternalIP', address: n.ip }, { type: 'Hostname', address: n.name }],
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status',
        lastHeartbeatTime: k8sTime(runEnd, 'down'), lastTransitionTime: k8sTime(clusterBorn, 'down') }],
      nodeInfo: { architecture: 'amd64', containerRuntimeVersion: 'containerd://1.7.13', kernelVersion: '6.1.0-18-amd64',
        kubeProxyVersion: 'v1.29.4', kubeletVersion: 'v1.29.4', operatingSystem: 'linux', osImage: 'Debian GNU/Linux 12 (bookworm)',
        machineID: createHash('md5').update(n.name).digest('hex'), systemUUID: uidOf('system', n.name), bootID: uidOf('boot', n.name) },
      capacity: { cpu: '2', memory: '8148440Ki', pods: '110' },
      allocatable: { cpu: '2', memory: '8046040Ki', pods: '110' },
    },
  }));

  // Workloads: ReplicaSet "<deploy>-<hash>" owned by Deployment "<deploy>".
  interface Rs { ns: string; name: string; deploy: string; hash: string; app: string; sa: string; image: string; ports: ContainerPort[]; born: string; live: number }
  const rsMap = new Map<string, Rs>();
  for (const p of starts) {
    if (p.ownerKind !== 'ReplicaSet') continue;
    const key = `${p.namespace}/${p.ownerName}`;
    const cut = p.ownerName.lastIndexOf('-');
    let rs = rsMap.get(key);
    if (!rs) {
      rs = { ns: p.namespace, name: p.ownerName, deploy: p.ownerName.slice(0, cut), hash: p.ownerName.slice(cut + 1), app: p.app,
        sa: p.serviceAccount, image: p.image, ports: p.ports, born: p.t, live: 0 };
      rsMap.set(key, rs);
    }
    if (!deleted.has(`${p.namespace}/${p.name}`)) rs.live++;
  }
  const template = (rs: Rs): Obj => ({
    metadata: { creationTimestamp: null, labels: { app: rs.app, 'pod-template-hash': rs.hash } },
    spec: { serviceAccountName: rs.sa, containers: [containerSpec(rs.app, rs.image, rs.ports)], restartPolicy: 'Always', dnsPolicy: 'ClusterFirst' },
  });
  const deployBorn = (rs: Rs): string => new Date(Date.parse(rs.born) - 3 * 86400 * 1000).toISOString();
  const deployItems: Obj[] = [...rsMap.values()].map((rs) => ({
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: rs.deploy, namespace: rs.ns, uid: uidOf('Deployment', rs.ns, rs.deploy), resourceVersion: nextRv(), generation: 1,
      creationTimestamp: k8sTime(deployBorn(rs), 'down'), labels: { app: rs.app },
      annotations: { 'deployment.kubernetes.io/revision': '1' } },
    spec: { replicas: 1, selector: { matchLabels: { app: rs.app } }, template: { ...template(rs), metadata: { creationTimestamp: null, labels: { app: rs.app } } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } }, revisionHistoryLimit: 10, progressDeadlineSeconds: 600 },
    status: { observedGeneration: 1, replicas: rs.live, readyReplicas: rs.live, availableReplicas: rs.live, updatedReplicas: rs.live },
  }));
  const rsItems: Obj[] = [...rsMap.values()].map((rs) => ({
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: { name: rs.name, namespace: rs.ns, uid: uidOf('ReplicaSet', rs.ns, rs.name), resourceVersion: nextRv(), generation: 1,
      creationTimestamp: k8sTime(deployBorn(rs), 'down'), labels: { app: rs.app, 'pod-template-hash': rs.hash },
      annotations: { 'deployment.kubernetes.io/desired-replicas': '1', 'deployment.kubernetes.io/max-replicas': '2', 'deployment.kubernetes.io/revision': '1' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: rs.deploy, uid: uidOf('Deployment', rs.ns, rs.deploy), controller: true, blockOwnerDeletion: true }] },
    spec: { replicas: 1, selector: { matchLabels: { app: rs.app, 'pod-template-hash': rs.hash } }, template: template(rs) },
    status: { observedGeneration: 1, replicas: rs.live, fullyLabeledReplicas: rs.live, readyReplicas: rs.live, availableReplicas: rs.live },
  }));

  const podUid = (p: PodStartEvent): string => uidOf('Pod', p.namespace, p.name, p.t);
  const nodeIp = new Map(nodes.map((n) => [n.name, n.ip]));
  const pods: PodLife[] = [];
  const podItems: Obj[] = starts.map((p): Obj => {
    const del = deleted.get(`${p.namespace}/${p.name}`);
    pods.push({ namespace: p.namespace, pod: p.name, ip: p.ip, node: p.node, hostNetwork: p.hostNetwork, start: p.t, end: del ? del.t : null });
    const created = k8sTime(p.t, 'down');
    const labels: Obj = { app: p.app };
    let owner: Obj;
    let generateName: string | undefined;
    switch (p.ownerKind) {
      case 'ReplicaSet':
        labels['pod-template-hash'] = p.ownerName.slice(p.ownerName.lastIndexOf('-') + 1);
        owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: p.ownerName, uid: uidOf('ReplicaSet', p.namespace, p.ownerName), controller: true, blockOwnerDeletion: true };
        generateName = `${p.ownerName}-`;
        break;
      case 'Job':
        labels['batch.kubernetes.io/job-name'] = p.ownerName;
        labels['job-name'] = p.ownerName;
        labels['batch.kubernetes.io/controller-uid'] = uidOf('Job', p.namespace, p.ownerName);
        owner = { apiVersion: 'batch/v1', kind: 'Job', name: p.ownerName, uid: uidOf('Job', p.namespace, p.ownerName), controller: true, blockOwnerDeletion: true };
        generateName = `${p.ownerName}-`;
        break;
      case 'DaemonSet':
        labels['controller-revision-hash'] = '6c5b8d7f9';
        labels['pod-template-generation'] = '1';
        owner = { apiVersion: 'apps/v1', kind: 'DaemonSet', name: p.ownerName, uid: uidOf('DaemonSet', p.namespace, p.ownerName), controller: true, blockOwnerDeletion: true };
        generateName = `${p.ownerName}-`;
        break;
      default: // static (mirror) pod owned by its Node
        labels.component = p.app;
        labels.tier = 'control-plane';
        owner = { apiVersion: 'v1', kind: 'Node', name: p.ownerName, uid: nodeUid(p.ownerName), controller: true };
    }
    const metadata: Obj = { name: p.name, namespace: p.namespace, uid: podUid(p), resourceVersion: nextRv(), creationTimestamp: created, labels, ownerReferences: [owner] };
    if (generateName) metadata.generateName = generateName;
    if (del) {
      metadata.deletionTimestamp = k8sTime(del.t, 'up');
      metadata.deletionGracePeriodSeconds = 30;
    }
    const hostIP = nodeIp.get(p.node) ?? '';
    const containerId = `containerd://${createHash('sha256').update(podUid(p)).digest('hex')}`;
    const startedAt = k8sTime(new Date(Date.parse(p.t) + 1000).toISOString(), 'down');
    const spec: Obj = {
      containers: [containerSpec(p.app, p.image, p.ports)], nodeName: p.node, serviceAccountName: p.serviceAccount, serviceAccount: p.serviceAccount,
      restartPolicy: p.ownerKind === 'Job' ? 'OnFailure' : 'Always', dnsPolicy: p.hostNetwork ? 'ClusterFirstWithHostNet' : 'ClusterFirst',
      schedulerName: 'default-scheduler', terminationGracePeriodSeconds: 30, enableServiceLinks: true, priority: 0,
    };
    if (p.hostNetwork) spec.hostNetwork = true;
    const phase = del && p.ownerKind === 'Job' ? 'Succeeded' : 'Running';
    return {
      apiVersion: 'v1', kind: 'Pod', metadata, spec,
      status: {
        phase, hostIP, hostIPs: [{ ip: hostIP }], podIP: p.ip, podIPs: [{ ip: p.ip }], startTime: created, qosClass: 'BestEffort',
        conditions: [
          { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: created },
          { type: 'Ready', status: del ? 'False' : 'True', lastProbeTime: null, lastTransitionTime: del ? k8sTime(del.t, 'up') : startedAt },
          { type: 'ContainersReady', status: del ? 'False' : 'True', lastProbeTime: null, lastTransitionTime: del ? k8sTime(del.t, 'up') : startedAt },
          { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: created },
        ],
        containerStatuses: [{
          name: p.app, image: p.image, imageID: `${p.image.split(':')[0]}@sha256:${createHash('sha256').update(p.image).digest('hex')}`,
          containerID: containerId, ready: !del, restartCount: 0, started: !del,
          state: del
            ? { terminated: { exitCode: p.ownerKind === 'Job' ? 0 : 137, reason: p.ownerKind === 'Job' ? 'Completed' : 'Error', startedAt, finishedAt: k8sTime(del.t, 'up'), containerID: containerId } }
            : { running: { startedAt } },
        }],
      },
    };
  });

  // Services: one per name; ports merged (kube-dns has udp and tcp 53).
  const svcGroups = new Map<string, ServiceEvent[]>();
  for (const s of services) {
    const k = `${s.namespace}/${s.name}`;
    svcGroups.set(k, [...(svcGroups.get(k) ?? []), s]);
  }
  // Which pod is each service's endpoint at the end: the last live pod started under that key.
  const liveByKey = new Map<string, PodStartEvent>();
  for (const p of starts) if (!deleted.has(`${p.namespace}/${p.name}`)) liveByKey.set(p.key, p);
  const svcItems: Obj[] = [];
  const sliceItems: Obj[] = [];
  for (const [k, group] of svcGroups) {
    const s0 = group[0]!;
    const svcUid = uidOf('Service', k);
    const backend = liveByKey.get(s0.selectorKey);
    const selectorApp = backend?.app ?? s0.selectorKey;
    const hasNodePort = group.some((s) => s.nodePort !== null);
    const ports: Obj[] = group.map((s) => {
      const o: Obj = { name: s.portName || null, protocol: s.protocol.toUpperCase(), port: s.port, targetPort: s.targetPort };
      if (s.nodePort !== null) o.nodePort = s.nodePort;
      if (!s.portName) delete o.name;
      return o;
    });
    const isApi = k === 'default/kubernetes';
    const labels: Obj = isApi ? { component: 'apiserver', provider: 'kubernetes' } : k === 'kube-system/kube-dns'
      ? { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' } : { app: selectorApp };
    const spec: Obj = {
      type: hasNodePort ? 'NodePort' : 'ClusterIP', clusterIP: s0.clusterIP, clusterIPs: [s0.clusterIP], ports,
      sessionAffinity: 'None', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', internalTrafficPolicy: 'Cluster',
    };
    if (!isApi) spec.selector = { app: selectorApp };
    if (hasNodePort) spec.externalTrafficPolicy = 'Cluster';
    svcItems.push({
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: s0.name, namespace: s0.namespace, uid: svcUid, resourceVersion: nextRv(), creationTimestamp: k8sTime(clusterBorn, 'down'), labels },
      spec, status: { loadBalancer: {} },
    });
    const sliceName = isApi ? 'kubernetes' : `${s0.name}-${createHash('sha1').update(k).digest('hex').slice(0, 5)}`;
    const endpoints: Obj[] = backend ? [{
      addresses: [backend.ip], conditions: { ready: true, serving: true, terminating: false }, nodeName: backend.node,
      ...(isApi ? {} : { targetRef: { kind: 'Pod', namespace: backend.namespace, name: backend.name, uid: podUid(backend) } }),
    }] : [];
    sliceItems.push({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
      metadata: {
        name: sliceName, namespace: s0.namespace, uid: uidOf('EndpointSlice', k), resourceVersion: nextRv(), generation: 1,
        generateName: isApi ? null : `${s0.name}-`, creationTimestamp: k8sTime(clusterBorn, 'down'),
        labels: { 'kubernetes.io/service-name': s0.name,
          'endpointslice.kubernetes.io/managed-by': isApi ? 'endpointslice-mirroring-controller.k8s.io' : 'endpointslice-controller.k8s.io', ...(typeof labels === 'object' ? labels : {}) },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: s0.name, uid: svcUid, controller: true, blockOwnerDeletion: true }],
      },
      endpoints,
      ports: group.map((s) => ({ name: s.portName || '', port: s.targetPort, protocol: s.protocol.toUpperCase() })),
    });
  }
  for (const item of sliceItems) {
    const md = item.metadata as Obj;
    if (md.generateName === null) delete md.generateName;
  }

  return {
    snapshot: {
      namespaces: list(nsItems), nodes: list(nodeItems), pods: list(podItems), services: list(svcItems),
      endpointslices: list(sliceItems), replicasets: list(rsItems), deployments: list(deployItems),
    },
    pods,
  };
}

function containerSpec(name: string, image: string, ports: ContainerPort[]): Obj {
  const c: Obj = { name, image, imagePullPolicy: 'IfNotPresent', resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' };
  if (ports.length > 0) c.ports = ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), containerPort: p.containerPort, protocol: p.protocol }));
  return c;
}

/** IPs held by more than one pod during the run, with each holder's interval. */
export function ipReuse(pods: PodLife[]): { ip: string; holders: PodLife[] }[] {
  const byIp = new Map<string, PodLife[]>();
  for (const p of pods) if (!p.hostNetwork) byIp.set(p.ip, [...(byIp.get(p.ip) ?? []), p]);
  return [...byIp].filter(([, h]) => h.length > 1).map(([ip, holders]) => ({ ip, holders: holders.sort((a, b) => a.start.localeCompare(b.start)) }));
}

function main(): void {
  const { values } = parseArgs({ options: { run: { type: 'string' }, out: { type: 'string' }, mode: { type: 'string', default: 'full' } } });
  if (!values.run || !values.out) {
    process.stderr.write('usage: finalize --run DIR --out DIR [--mode NAME]\n');
    process.exit(2);
  }
  const events = readJsonl<ClusterEvent>(join(values.run, 'cluster-events.jsonl'));
  const scenarios = readJsonl<Obj>(join(values.run, 'ground-truth.jsonl'));
  const runEnd = new Date().toISOString();
  const { snapshot, pods } = buildSnapshot(events, runEnd);
  const snapDir = join(values.out, 'snapshot');
  mkdirSync(snapDir, { recursive: true });
  for (const [name, doc] of Object.entries(snapshot)) writeFileSync(join(snapDir, `${name}.json`), JSON.stringify(doc, null, 2) + '\n');
  const capDir = join(values.out, 'captures');
  const captures = existsSync(capDir)
    ? readdirSync(capDir).filter((f) => f.endsWith('.pcap')).sort().map((f) => ({ point: f.replace(/\.pcap$/, ''), file: `captures/${f}`, bytes: statSync(join(capDir, f)).size }))
    : [];
  const nodes = events.filter((e): e is NodeEvent => e.type === 'node');
  const gt = {
    version: 1,
    mode: values.mode,
    start: events[0]?.t ?? runEnd,
    end: runEnd,
    cluster: { nodes: nodes.map((n) => ({ name: n.name, ip: n.ip, podCIDR: n.podCIDR })), serviceCIDR: '10.96.0.0/12', clusterCIDR: '10.244.0.0/16' },
    captures,
    scenarios: scenarios.sort((a, b) => String(a.start).localeCompare(String(b.start))),
    pods,
    ipReuse: ipReuse(pods),
  };
  writeFileSync(join(values.out, 'ground-truth.json'), JSON.stringify(gt, null, 2) + '\n');
  process.stdout.write(`finalize: ${scenarios.length} ground-truth entries, ${pods.length} pods, ${gt.ipReuse.length} reused IPs, ${captures.length} captures\n`);
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) main();
