/**
 * A fake Kubernetes API server speaking the real list/watch protocol over
 * HTTP (node:http), for tests of the live watcher through the same client
 * library it uses against a real cluster (a kubeconfig pointing here).
 *
 * What it implements, as the API concepts document describes:
 *  - collections at the real paths (/api/v1/{pods,nodes,services,namespaces},
 *    /apis/apps/v1/replicasets, /apis/batch/v1/jobs,
 *    /apis/discovery.k8s.io/v1/endpointslices) answering typed Lists
 *    (`PodList`, items without kind) with `metadata.resourceVersion`;
 *  - paging: `limit` and opaque `continue` tokens; a token older than the
 *    compaction point is answered HTTP 410 with a `Status` (Expired);
 *  - watch (`watch=true|1`, `resourceVersion`, `allowWatchBookmarks`,
 *    `timeoutSeconds`): a chunked stream of one JSON event per line,
 *    `{"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":…}`, replaying
 *    every change after the given version, then live changes; a version older
 *    than the compaction point gets an ERROR event with a 410 `Status`;
 *  - bearer-token authentication (401 otherwise).
 * Faults on demand: break every open watch, fail the next N requests with a
 * status, delay responses, go down (close the port) and come back.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const TOKEN = 'harrier-test-token';

export const PATHS: Record<string, { kind: string; apiVersion: string }> = {
  '/api/v1/pods': { kind: 'Pod', apiVersion: 'v1' },
  '/api/v1/nodes': { kind: 'Node', apiVersion: 'v1' },
  '/api/v1/services': { kind: 'Service', apiVersion: 'v1' },
  '/api/v1/namespaces': { kind: 'Namespace', apiVersion: 'v1' },
  '/apis/apps/v1/replicasets': { kind: 'ReplicaSet', apiVersion: 'apps/v1' },
  '/apis/batch/v1/jobs': { kind: 'Job', apiVersion: 'batch/v1' },
  '/apis/discovery.k8s.io/v1/endpointslices': { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1' },
};

/** The collection path of a kind. */
export function pathOf(kind: string): string {
  for (const [p, v] of Object.entries(PATHS)) if (v.kind === kind) return p;
  throw new Error(`no collection for kind ${kind}`);
}

type Obj = Record<string, unknown> & { metadata?: Record<string, unknown> };

interface Change {
  rv: number;
  path: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Obj;
}

interface Watcher {
  path: string;
  res: ServerResponse;
  bookmarks: boolean;
}

export interface RequestLog {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
}

const status = (code: number, reason: string, message: string): Obj => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  code,
});

export class FakeApiServer {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly store = new Map<string, Map<string, Obj>>();
  private readonly history: Change[] = [];
  private readonly watchers = new Set<Watcher>();
  private rv = 1000;
  /** Versions at or below this are compacted away (410). */
  private compactedRv = 0;
  port = 0;
  /** Fail the next N requests with `failStatus`. */
  failNext = 0;
  failStatus = 500;
  /** Compact (and make one change) when the next `continue` request arrives: its token is then expired. */
  expireNextContinue = false;
  /** Delay before answering any request, ms. */
  delayMs = 0;
  /** Every request answered, in order. */
  readonly requests: RequestLog[] = [];

  constructor() {
    for (const p of Object.keys(PATHS)) this.store.set(p, new Map());
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Listens (on `port`, or any free port the first time); resolves the port. */
  async start(port = this.port): Promise<number> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  /** Closes the port and every connection (the API server is down). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const w of this.watchers) w.res.destroy();
    this.watchers.clear();
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** A kubeconfig file pointing at this server with its bearer token. */
  writeKubeconfig(dir: string): string {
    const file = join(dir, 'kubeconfig.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: fake',
        '  cluster:',
        `    server: ${this.url}`,
        // client-node refuses plain http unless TLS verification is explicitly off.
        '    insecure-skip-tls-verify: true',
        'users:',
        '- name: harrier',
        '  user:',
        `    token: ${TOKEN}`,
        'contexts:',
        '- name: fake',
        '  context:',
        '    cluster: fake',
        '    user: harrier',
        'current-context: fake',
        '',
      ].join('\n'),
    );
    return file;
  }

  private key(o: Obj): string {
    const m = o.metadata ?? {};
    return String(m.uid ?? `${String(m.namespace ?? '')}/${String(m.name ?? '')}`);
  }

  private change(type: Change['type'], o: Obj): number {
    const path = pathOf(String(o.kind));
    const rv = ++this.rv;
    const meta = { ...(o.metadata ?? {}), resourceVersion: String(rv) };
    const object: Obj = { ...o, metadata: meta };
    const coll = this.store.get(path)!;
    if (type === 'DELETED') coll.delete(this.key(object));
    else coll.set(this.key(object), object);
    this.history.push({ rv, path, type, object });
    for (const w of this.watchers) if (w.path === path) this.send(w, type, object);
    return rv;
  }

  /** Creates or replaces an object (ADDED if new, else MODIFIED); returns its resourceVersion. */
  apply(o: Obj): number {
    const path = pathOf(String(o.kind));
    return this.change(this.store.get(path)!.has(this.key(o)) ? 'MODIFIED' : 'ADDED', o);
  }

  /** Deletes an object (DELETED event carrying its last state). */
  remove(o: Obj): number {
    const path = pathOf(String(o.kind));
    const cur = this.store.get(path)!.get(this.key(o)) ?? o;
    return this.change('DELETED', cur);
  }

  /** Puts an object in the store without a watch event (as if created while nobody watched). */
  putSilently(o: Obj): void {
    const path = pathOf(String(o.kind));
    const rv = ++this.rv;
    this.store.get(path)!.set(this.key(o), { ...o, metadata: { ...(o.metadata ?? {}), resourceVersion: String(rv) } });
  }

  /** Raw item pushed as-is into a collection's list (malformed objects). */
  putRaw(path: string, key: string, item: unknown): void {
    this.store.get(path)!.set(key, item as Obj);
  }

  /** Forgets history up to now: older resourceVersions and continue tokens get 410. */
  compact(): void {
    this.compactedRv = this.rv;
    this.history.length = 0;
  }

  /** Sends a BOOKMARK with the current version to every watch that asked for them. */
  bookmark(): void {
    for (const w of this.watchers) {
      if (!w.bookmarks) continue;
      const { kind, apiVersion } = PATHS[w.path];
      this.send(w, 'BOOKMARK', { kind, apiVersion, metadata: { resourceVersion: String(this.rv) } });
    }
  }

  /** Cuts every open watch connection mid-stream (no clean end). */
  breakWatches(): void {
    for (const w of this.watchers) w.res.socket?.destroy();
    this.watchers.clear();
  }

  /** Ends every open watch cleanly (as a server-side timeout does). */
  endWatches(): void {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  private send(w: Watcher, type: string, object: unknown): void {
    w.res.write(JSON.stringify({ type, object }) + '\n');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams);
    const log: RequestLog = { method: req.method ?? 'GET', path: url.pathname, query, status: 0 };
    this.requests.push(log);
    const reply = (code: number, body: unknown): void => {
      log.status = code;
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return reply(401, status(401, 'Unauthorized', 'Unauthorized'));
    if (this.failNext > 0) {
      this.failNext--;
      return reply(this.failStatus, status(this.failStatus, 'InternalError', 'injected failure'));
    }
    const meta = PATHS[url.pathname];
    if (!meta || req.method !== 'GET') return reply(404, status(404, 'NotFound', 'the server could not find the requested resource'));
    const coll = this.store.get(url.pathname)!;
    if (query.watch === 'true' || query.watch === '1') return this.watch(url.pathname, query, res, log);

    // LIST, paged.
    const limit = Number(query.limit ?? '0');
    let offset = 0;
    let listRv = this.rv;
    if (query.continue && this.expireNextContinue) {
      this.expireNextContinue = false;
      this.rv++;
      this.compact();
    }
    if (query.continue) {
      let tok: { rv: number; off: number };
      try {
        tok = JSON.parse(Buffer.from(query.continue, 'base64url').toString()) as { rv: number; off: number };
      } catch {
        return reply(400, status(400, 'BadRequest', 'invalid continue token'));
      }
      if (tok.rv < this.compactedRv) {
        return reply(410, status(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result.'));
      }
      offset = tok.off;
      listRv = tok.rv;
    }
    const all = [...coll.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((e) => e[1]);
    const end = limit > 0 ? Math.min(all.length, offset + limit) : all.length;
    const items = all.slice(offset, end).map((o) => {
      if (o === null || typeof o !== 'object' || Array.isArray(o)) return o;
      // Typed lists carry no kind/apiVersion on their items.
      const { kind: _k, apiVersion: _a, ...rest } = o;
      return rest;
    });
    const listMeta: Record<string, unknown> = { resourceVersion: String(listRv) };
    if (end < all.length) listMeta.continue = Buffer.from(JSON.stringify({ rv: listRv, off: end })).toString('base64url');
    reply(200, { kind: `${meta.kind}List`, apiVersion: meta.apiVersion, metadata: listMeta, items });
  }

  private watch(path: string, query: Record<string, string>, res: ServerResponse, log: RequestLog): void {
    log.status = 200;
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    // The real API server sends the headers at once, before any event.
    res.flushHeaders();
    const from = Number(query.resourceVersion ?? '0');
    const w: Watcher = { path, res, bookmarks: query.allowWatchBookmarks === 'true' };
    if (from > 0 && from < this.compactedRv) {
      this.send(w, 'ERROR', status(410, 'Expired', `too old resource version: ${from} (${this.compactedRv})`));
      res.end();
      return;
    }
    if (!query.resourceVersion || from === 0) {
      // "Any" version: synthetic ADDED for the current state.
      for (const o of this.store.get(path)!.values()) this.send(w, 'ADDED', o);
    } else {
      for (const c of this.history) if (c.path === path && c.rv > from) this.send(w, c.type, c.object);
    }
    this.watchers.add(w);
    const timeout = Number(query.timeoutSeconds ?? '0');
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : null;
    res.on('close', () => {
      if (timer) clearTimeout(timer);
      this.watchers.delete(w);
    });
  }
}

// ---- real-shaped objects --------------------------------------------------

export const iso = (sec: number): string => new Date(sec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

export interface PodSpec {
  name: string;
  ns?: string;
  uid?: string;
  ip?: string;
  node?: string;
  hostIP?: string;
  created: number;
  phase?: string;
  deleted?: number;
  finished?: number;
  owner?: { kind: string; name: string; apiVersion?: string };
  hostNetwork?: boolean;
  ports?: { containerPort: number; hostPort?: number }[];
  labels?: Record<string, string>;
  serviceAccount?: string;
}

export function pod(p: PodSpec): Obj {
  const running = (p.phase ?? 'Running') === 'Running';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: p.name,
      namespace: p.ns ?? 'shop',
      uid: p.uid ?? `0000-${p.name}`,
      creationTimestamp: iso(p.created),
      labels: p.labels ?? { app: p.name.split('-')[0] },
      ...(p.deleted !== undefined ? { deletionTimestamp: iso(p.deleted), deletionGracePeriodSeconds: 30 } : {}),
      ...(p.owner
        ? { ownerReferences: [{ apiVersion: p.owner.apiVersion ?? 'apps/v1', kind: p.owner.kind, name: p.owner.name, uid: `0000-${p.owner.name}`, controller: true, blockOwnerDeletion: true }] }
        : {}),
    },
    spec: {
      nodeName: p.node ?? 'node-1',
      serviceAccountName: p.serviceAccount ?? 'default',
      ...(p.hostNetwork ? { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' } : {}),
      containers: [{ name: 'main', image: 'registry.example/app:1', ports: (p.ports ?? []).map((x) => ({ ...x, protocol: 'TCP' })) }],
    },
    status: {
      phase: p.phase ?? 'Running',
      hostIP: p.hostIP ?? '172.30.0.11',
      ...(p.ip ? { podIP: p.ip, podIPs: [{ ip: p.ip }] } : {}),
      startTime: iso(p.created),
      conditions: [{ type: 'Ready', status: running ? 'True' : 'False', lastTransitionTime: iso(p.finished ?? p.created) }],
      containerStatuses: [
        {
          name: 'main',
          ready: running,
          restartCount: 0,
          state: p.finished !== undefined ? { terminated: { exitCode: 0, reason: 'Completed', startedAt: iso(p.created), finishedAt: iso(p.finished) } } : { running: { startedAt: iso(p.created) } },
        },
      ],
    },
  };
}

export function node(name: string, ip: string, podCidr: string): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, uid: `0000-${name}`, creationTimestamp: '2025-01-01T00:00:00Z', labels: { 'kubernetes.io/hostname': name } },
    spec: { podCIDR: podCidr, podCIDRs: [podCidr] },
    status: { addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }] },
  };
}

export function service(name: string, clusterIP: string, ns = 'shop'): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, uid: `0000-svc-${name}`, creationTimestamp: '2025-01-01T00:00:00Z' },
    spec: { type: 'ClusterIP', clusterIP, clusterIPs: [clusterIP], ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }], selector: { app: name } },
  };
}

export function replicaSet(name: string, deployment: string, ns = 'shop'): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      namespace: ns,
      uid: `0000-${name}`,
      creationTimestamp: '2025-01-01T00:00:00Z',
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment, uid: `0000-${deployment}`, controller: true }],
    },
    spec: { replicas: 1 },
  };
}

export function job(name: string, cronJob: string | null, ns = 'batch'): Obj {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: ns,
      uid: `0000-${name}`,
      creationTimestamp: '2025-01-01T00:00:00Z',
      ...(cronJob ? { ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: cronJob, uid: `0000-${cronJob}`, controller: true }] } : {}),
    },
    spec: { completions: 1 },
  };
}

export function namespace(name: string): Obj {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, uid: `0000-ns-${name}`, creationTimestamp: '2025-01-01T00:00:00Z' }, status: { phase: 'Active' } };
}
