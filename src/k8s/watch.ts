/**
 * Live Kubernetes state: list/watch of the objects the identity index needs,
 * fed into it as they change, with the time each change was received.
 *
 * Resources: pods, nodes, services, endpointslices, namespaces, replicasets
 * and jobs (ReplicaSet → Deployment and Job → CronJob resolve a pod's owners
 * up to its top workload; StatefulSet and DaemonSet own pods directly).
 *
 * Per resource, the loop Kubernetes clients use (client-go's reflector):
 *  1. a paged LIST (`limit`/`continue`) gives every object and the list's
 *     `resourceVersion`; objects known before and absent now are deleted at
 *     the list's time (that is what a re-list after a lost watch means);
 *  2. a WATCH from that resourceVersion (`allowWatchBookmarks=true`) streams
 *     ADDED/MODIFIED/DELETED; BOOKMARKs only move the resourceVersion on;
 *  3. when the stream ends (server timeout, broken connection) the watch
 *     resumes from the last resourceVersion; when the server says 410 Gone
 *     (the version was compacted away) — as a watch ERROR event or an HTTP
 *     410 on a list's expired `continue` — the resource is re-listed;
 *  4. other failures (connection refused, 5xx, 403, timeouts) retry with
 *     exponential backoff and jitter, each cause counted and logged once.
 *
 * HTTP goes through `@kubernetes/client-node` (v1: v2 needs Node 22): its
 * `KubeConfig` (kubeconfig file, KUBECONFIG, or the in-cluster service
 * account; TLS, tokens, exec plugins), its `Watch` for the streams, and its
 * generated request/HTTP layer for lists. Lists are read as raw JSON rather
 * than through the typed `CoreV1Api.list*` methods on purpose: the typed
 * deserialiser turns timestamps into Date objects and throws on a malformed
 * item (one bad object would lose the whole page), while the index reads raw
 * API JSON tolerantly and counts what is wrong per object.
 *
 * Known limit: the library's Watch drops stream lines that are not JSON
 * without telling its caller, so those cannot be counted here.
 */
import {
  KubeConfig,
  Watch,
  createConfiguration,
  ServerConfiguration,
  HttpMethod,
  type Configuration,
} from '@kubernetes/client-node';
import { HarrierError } from '../errors.js';
import type { IdentityIndex } from './identity-index.js';
import { arr, isObject, obj, str, type JsonObject } from './objects.js';

export interface WatchedResource {
  /** Plural name, as in the API path (`pods`). */
  readonly name: string;
  /** Kind of the items (filled in when an item omits it, as list items do). */
  readonly kind: string;
  /** Cluster-wide collection path. */
  readonly path: string;
}

export const WATCHED_RESOURCES: readonly WatchedResource[] = [
  { name: 'nodes', kind: 'Node', path: '/api/v1/nodes' },
  { name: 'namespaces', kind: 'Namespace', path: '/api/v1/namespaces' },
  { name: 'replicasets', kind: 'ReplicaSet', path: '/apis/apps/v1/replicasets' },
  { name: 'jobs', kind: 'Job', path: '/apis/batch/v1/jobs' },
  { name: 'services', kind: 'Service', path: '/api/v1/services' },
  { name: 'endpointslices', kind: 'EndpointSlice', path: '/apis/discovery.k8s.io/v1/endpointslices' },
  { name: 'pods', kind: 'Pod', path: '/api/v1/pods' },
];

export interface K8sWatcherOptions {
  /** A kubeconfig file; else KUBECONFIG, ~/.kube/config, or the in-cluster service account. */
  readonly kubeconfig?: string;
  /** An already loaded configuration (tests, embedding); wins over `kubeconfig`. */
  readonly kubeConfig?: KubeConfig;
  /** Items per list page (`limit`). Default 500 (client-go's). */
  readonly pageSize?: number;
  /** Clock in seconds (default wall clock): the time given to the index for each change received. */
  readonly now?: () => number;
  /** First retry delay after an error, ms (doubles per failure, with jitter). Default 500. */
  readonly backoffInitialMs?: number;
  /** Longest retry delay, ms. Default 30000. */
  readonly backoffMaxMs?: number;
  /** A watch with no event or bookmark for this long is restarted. Default 300 s. */
  readonly idleTimeoutSec?: number;
  /** `timeoutSeconds` asked of the server per watch (it ends the stream; we resume). Default 300 (randomised up to ×2 as client-go does). */
  readonly watchTimeoutSec?: number;
  /** Timeout of one list request, ms. Default 30000. */
  readonly listTimeoutMs?: number;
  /** The history horizon is enforced (index.prune) this often, seconds of the clock. Default 60. */
  readonly pruneIntervalSec?: number;
  /** Called once per distinct cause (connection refused, 410 re-list, 5xx…) with a one-line message. */
  readonly onLog?: (cause: string, message: string) => void;
  /** Only these resources (by plural name); default all of WATCHED_RESOURCES. */
  readonly resources?: readonly string[];
}

export interface ResourceWatchStats {
  synced: boolean;
  resourceVersion: string;
  objects: number;
  /** Seconds since the last list, event or bookmark (Infinity before the first). */
  staleSec: number;
  lists: number;
  relists: number;
  watches: number;
}

export interface K8sWatchStats {
  server: string;
  resources: Record<string, ResourceWatchStats>;
  /** Events received by type (added, modified, deleted, bookmark, error). */
  events: Record<string, number>;
  /** Errors by cause. */
  errors: Record<string, number>;
  /** Largest staleness over all resources, seconds. */
  maxStaleSec: number;
}

/** The server refused an old resourceVersion or continue token: re-list. */
class GoneError extends Error {}

class ResourceState {
  rv = '';
  synced = false;
  known = new Map<string, JsonObject>();
  lastSeen = -Infinity;
  failures = 0;
  lists = 0;
  relists = 0;
  watches = 0;
  abort: AbortController | null = null;
  /** Ends the open watch now (abort + settle): an aborted stream does not always report its end. */
  cancel: (() => void) | null = null;
  constructor(readonly res: WatchedResource) {}
}

function keyOf(o: JsonObject): string | undefined {
  const meta = obj(o, 'metadata');
  return str(meta, 'uid') ?? (str(meta, 'name') ? `${str(meta, 'namespace') ?? ''}/${str(meta, 'name')}` : undefined);
}

/** Loads a kubeconfig as the CLI does: the file given, else the library's defaults (KUBECONFIG, ~/.kube/config, in-cluster). */
export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (file) kc.loadFromFile(file);
    else kc.loadFromDefault();
  } catch (err) {
    throw new HarrierError('HARRIER_ERR_K8S_KUBECONFIG', `cannot load kubeconfig${file ? ` ${file}` : ''}: ${(err as Error).message.split('\n')[0]}`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster || !cluster.server) throw new HarrierError('HARRIER_ERR_K8S_KUBECONFIG', `kubeconfig${file ? ` ${file}` : ''} names no current cluster with a server`);
  return kc;
}

/** One short cause name for an error (counted, logged once). */
function causeOf(err: unknown): string {
  if (isObject(err) || err instanceof Error) {
    const e = err as { code?: unknown; statusCode?: unknown; name?: unknown; type?: unknown; cause?: unknown };
    if (typeof e.statusCode === 'number') return `http_${e.statusCode}`;
    if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) return e.code.toLowerCase();
    if (e.name === 'AbortError' || e.type === 'aborted') return 'timeout';
    if (e.cause) return causeOf(e.cause);
  }
  return 'other';
}

export class K8sWatcher {
  readonly server: string;
  private readonly kc: KubeConfig;
  private readonly config: Configuration;
  private readonly watch: Watch;
  private readonly states: ResourceState[];
  private readonly now: () => number;
  private readonly pageSize: number;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;
  private readonly idleTimeoutSec: number;
  private readonly watchTimeoutSec: number;
  private readonly listTimeoutMs: number;
  private readonly pruneIntervalSec: number;
  private readonly onLog: ((cause: string, message: string) => void) | undefined;
  private readonly logged = new Set<string>();
  private readonly events = new Map<string, number>();
  private readonly errors = new Map<string, number>();
  private readonly sleepers = new Set<() => void>();
  private stopped = false;
  private started = false;
  private lastPrune = -Infinity;
  private syncWaiters: (() => void)[] = [];
  private runs: Promise<void>[] = [];

  constructor(
    readonly index: IdentityIndex,
    opts: K8sWatcherOptions = {},
  ) {
    this.kc = opts.kubeConfig ?? loadKubeConfig(opts.kubeconfig);
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new HarrierError('HARRIER_ERR_K8S_KUBECONFIG', 'kubeconfig names no current cluster');
    this.server = cluster.server;
    // As KubeConfig.makeApiClient builds it: same server, same authentication.
    this.config = createConfiguration({ baseServer: new ServerConfiguration(cluster.server, {}), authMethods: { default: this.kc } });
    this.watch = new Watch(this.kc);
    const only = opts.resources;
    this.states = WATCHED_RESOURCES.filter((r) => !only || only.includes(r.name)).map((r) => new ResourceState(r));
    this.now = opts.now ?? (() => Date.now() / 1000);
    this.pageSize = Math.max(1, opts.pageSize ?? 500);
    this.backoffInitialMs = Math.max(1, opts.backoffInitialMs ?? 500);
    this.backoffMaxMs = Math.max(this.backoffInitialMs, opts.backoffMaxMs ?? 30_000);
    this.idleTimeoutSec = opts.idleTimeoutSec ?? 300;
    this.watchTimeoutSec = opts.watchTimeoutSec ?? 300;
    this.listTimeoutMs = opts.listTimeoutMs ?? 30_000;
    this.pruneIntervalSec = opts.pruneIntervalSec ?? 60;
    this.onLog = opts.onLog;
  }

  /** Starts every resource's list/watch loop (idempotent). */
  start(): void {
    if (this.started) return;
    this.started = true;
    if (!this.synced) this.index.complete = false;
    this.runs = this.states.map((s) => this.run(s));
  }

  /** True once every resource completed its initial list. */
  get synced(): boolean {
    return this.states.every((s) => s.synced);
  }

  /**
   * Resolves true when every resource has completed its initial list, false
   * if `timeoutMs` passes first (the loops keep retrying in the background).
   */
  waitForSync(timeoutMs: number): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.syncWaiters = this.syncWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.syncWaiters.push(done);
    });
  }

  /** Stops every loop and open stream; resolves when they have ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.states) s.cancel?.();
    for (const wake of [...this.sleepers]) wake();
    await Promise.allSettled(this.runs);
  }

  stats(): K8sWatchStats {
    const now = this.now();
    const resources: Record<string, ResourceWatchStats> = {};
    let maxStaleSec = 0;
    for (const s of this.states) {
      const staleSec = Number.isFinite(s.lastSeen) ? Math.max(0, now - s.lastSeen) : Infinity;
      if (staleSec > maxStaleSec) maxStaleSec = staleSec;
      resources[s.res.name] = { synced: s.synced, resourceVersion: s.rv, objects: s.known.size, staleSec, lists: s.lists, relists: s.relists, watches: s.watches };
    }
    return { server: this.server, resources, events: Object.fromEntries(this.events), errors: Object.fromEntries(this.errors), maxStaleSec };
  }

  /** Flat counters for `--stats` (staleness in whole seconds, -1 before the first contact). */
  counters(): Record<string, number> {
    const st = this.stats();
    const out: Record<string, number> = {};
    let relists = 0;
    for (const [name, r] of Object.entries(st.resources)) {
      out[`harrier.k8s.watch.${name}.stale_sec`] = Number.isFinite(r.staleSec) ? Math.floor(r.staleSec) : -1;
      out[`harrier.k8s.watch.${name}.objects`] = r.objects;
      relists += r.relists;
    }
    out['harrier.k8s.watch.synced'] = this.synced ? 1 : 0;
    out['harrier.k8s.watch.relists'] = relists;
    out['harrier.k8s.watch.max_stale_sec'] = Number.isFinite(st.maxStaleSec) ? Math.floor(st.maxStaleSec) : -1;
    for (const [t, n] of Object.entries(st.events)) out[`harrier.k8s.watch.events.${t}`] = n;
    for (const [c, n] of Object.entries(st.errors)) out[`harrier.k8s.watch.errors.${c}`] = n;
    return out;
  }

  private count(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }

  private error(cause: string, message: string): void {
    this.count(this.errors, cause);
    if (!this.logged.has(cause)) {
      this.logged.add(cause);
      this.onLog?.(cause, message);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  /** Exponential backoff with "equal jitter": half fixed, half random, so many sensors do not retry in step. */
  private backoffMs(failures: number): number {
    const base = Math.min(this.backoffMaxMs, this.backoffInitialMs * 2 ** Math.min(failures, 20));
    return base / 2 + Math.random() * (base / 2);
  }

  private async run(s: ResourceState): Promise<void> {
    while (!this.stopped) {
      try {
        if (s.rv === '') await this.list(s);
        if (this.stopped) break;
        const began = Date.now();
        const got = await this.watchOnce(s);
        // A stream the server ends at once with nothing in it must not become a busy loop.
        if (got === 0 && Date.now() - began < 1000) await this.sleep(this.backoffMs(s.failures++));
        else s.failures = 0;
      } catch (err) {
        if (this.stopped) break;
        if (err instanceof GoneError) {
          s.rv = '';
          s.relists++;
          this.error('gone', `k8s: ${s.res.name}: resourceVersion expired (410 Gone); re-listing`);
          continue;
        }
        const cause = causeOf(err);
        const detail = cause === 'other' && err instanceof Error ? `: ${err.message.split('\n')[0]}` : '';
        const what = cause.startsWith('http_') ? `the API server answered ${cause.slice(5)}` : `cannot reach the API server at ${this.server} (${cause}${detail})`;
        this.error(cause, `k8s: ${what}; identities may be unknown until it recovers (retrying with backoff)`);
        await this.sleep(this.backoffMs(s.failures++));
      }
    }
  }

  /** GET one page of a collection as raw JSON through the client library's HTTP layer. */
  private async getPage(path: string, cont: string): Promise<{ status: number; body: unknown }> {
    const ctx = this.config.baseServer.makeRequestContext(path, HttpMethod.GET);
    ctx.setQueryParam('limit', String(this.pageSize));
    if (cont !== '') ctx.setQueryParam('continue', cont);
    ctx.setHeaderParam('Accept', 'application/json');
    ctx.setSignal(AbortSignal.timeout(this.listTimeoutMs));
    await this.kc.applySecurityAuthentication(ctx);
    const resp = await this.config.httpApi.send(ctx).toPromise();
    const text = await resp.body.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: resp.httpStatusCode, body };
  }

  private async list(s: ResourceState): Promise<void> {
    const seen = new Map<string, JsonObject>();
    let cont = '';
    let rv = '';
    let expired = 0;
    for (;;) {
      if (this.stopped) return;
      const { status, body } = await this.getPage(s.res.path, cont);
      if (status === 410) {
        // The continue token expired mid-list: start the list again (a few times at once, then with backoff).
        s.relists++;
        this.error('gone', `k8s: ${s.res.name}: list continue token expired (410 Gone); re-listing`);
        if (++expired >= 3) throw Object.assign(new Error('list continue tokens keep expiring'), { statusCode: 410 });
        seen.clear();
        cont = '';
        continue;
      }
      if (status !== 200) throw Object.assign(new Error(`HTTP ${status}`), { statusCode: status });
      if (!isObject(body)) {
        this.index.problem('list.not_json', `k8s: ${s.res.name}: a list response is not a JSON object`);
        throw Object.assign(new Error('list response is not JSON'), { code: 'EBADLIST' });
      }
      const now = this.now();
      for (const item of arr(body, 'items') ?? []) {
        const o = this.withKind(item, s.res.kind);
        if (!o) continue;
        this.index.upsert(o, now);
        const k = keyOf(o);
        if (k) seen.set(k, o);
      }
      const meta = obj(body, 'metadata');
      rv = str(meta, 'resourceVersion') ?? rv;
      cont = str(meta, 'continue') ?? '';
      if (cont === '') break;
    }
    const now = this.now();
    // Known before, absent now: deleted while we were not watching.
    for (const [k, o] of s.known) if (!seen.has(k)) this.index.remove(o, now);
    s.known = seen;
    s.rv = rv === '' ? '0' : rv;
    s.lists++;
    s.lastSeen = now;
    s.failures = 0;
    if (!s.synced) {
      s.synced = true;
      if (this.synced) {
        this.index.complete = true;
        for (const w of this.syncWaiters.splice(0)) w();
      }
    }
    this.maybePrune(now);
  }

  /** A list item or watch object with its kind (typed lists omit it on items). */
  private withKind(item: unknown, kind: string): JsonObject | undefined {
    if (!isObject(item)) {
      this.index.upsert(item); // counted as not an object
      return undefined;
    }
    return str(item, 'kind') ? item : { ...item, kind };
  }

  private maybePrune(now: number): void {
    if (now - this.lastPrune < this.pruneIntervalSec) return;
    this.lastPrune = now;
    this.index.prune(now);
  }

  /** One watch stream from s.rv; resolves with the number of events when it ends, rejects on error or 410. */
  private watchOnce(s: ResourceState): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      let events = 0;
      let settled = false;
      let lastEvent = Date.now();
      let gone = false;
      let streamError: Error | null = null;
      const idle = setInterval(() => {
        if (Date.now() - lastEvent > this.idleTimeoutSec * 1000) {
          this.error('watch_idle', `k8s: ${s.res.name}: no event or bookmark for ${this.idleTimeoutSec} s; restarting the watch`);
          s.abort?.abort();
          finish(null);
        }
      }, Math.min(5000, Math.max(100, this.idleTimeoutSec * 250)));
      const finish = (err: unknown): void => {
        if (settled) return;
        settled = true;
        clearInterval(idle);
        s.abort = null;
        s.cancel = null;
        if (gone) reject(new GoneError());
        else if (streamError) reject(streamError);
        else if (err && !this.stopped) reject(err);
        else resolve(events);
      };
      const onEvent = (type: string, object: unknown): void => {
        if (settled) return;
        lastEvent = Date.now();
        events++;
        const now = this.now();
        s.lastSeen = now;
        this.count(this.events, typeof type === 'string' ? type.toLowerCase() : 'invalid');
        if (type === 'BOOKMARK') {
          const rv = str(obj(object, 'metadata'), 'resourceVersion');
          if (rv) s.rv = rv;
          return;
        }
        if (type === 'ERROR') {
          const code = isObject(object) ? object.code : undefined;
          if (code === 410) gone = true;
          else streamError = Object.assign(new Error(`watch error ${String(code)}`), { statusCode: typeof code === 'number' ? code : 0 });
          s.abort?.abort();
          finish(null);
          return;
        }
        if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') {
          this.index.problem('watch.bad_event_type', `k8s: ${s.res.name}: a watch event of unknown type ${String(type).slice(0, 40)}`);
          return;
        }
        const o = this.withKind(object, s.res.kind);
        if (!o) return;
        const rv = str(obj(o, 'metadata'), 'resourceVersion');
        if (rv) s.rv = rv;
        const k = keyOf(o);
        if (type === 'DELETED') {
          this.index.remove(o, now);
          if (k) s.known.delete(k);
        } else {
          this.index.upsert(o, now);
          if (k) s.known.set(k, o);
        }
        this.maybePrune(now);
      };
      s.cancel = (): void => {
        s.abort?.abort();
        finish(null);
      };
      s.watches++;
      // client-go randomises the server-side timeout in [t, 2t) so watches do not all end together.
      const timeoutSeconds = Math.floor(this.watchTimeoutSec * (1 + Math.random()));
      this.watch
        .watch(s.res.path, { allowWatchBookmarks: true, resourceVersion: s.rv, timeoutSeconds }, onEvent, finish)
        .then((ctrl) => {
          // Cancelled (stop, idle, error) before the response headers came: close it now.
          if (settled || this.stopped) ctrl.abort();
          else s.abort = ctrl;
        })
        .catch(finish);
    });
  }
}
