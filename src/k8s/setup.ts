/**
 * Kubernetes identity for one run, as the CLI wires it: an IdentityIndex
 * configured from the `k8s:` block, filled from offline snapshots and/or a
 * live list/watch, the enricher that writes the `k8s` block, and the
 * per-flow context tracker (original client IP, SNI/Host) the enricher asks.
 *
 * The live watch is started and its initial list awaited (up to
 * `k8s.sync-timeout`) before the caller processes packets; if the API server
 * is down or slow, one warning line says so and the run goes on with
 * `unknown` identities while the watcher keeps retrying in the background.
 */
import type { HarrierConfig } from '../sensor/config.js';
import type { DnsAnswerTable } from '../applayer/dns/index.js';
import { IdentityIndex } from './identity-index.js';
import { loadSnapshots } from './snapshot.js';
import { K8sEnricher } from './enrich.js';
import { FlowContextTracker } from './flow-context.js';
import { K8sWatcher, loadKubeConfig } from './watch.js';

export interface IdentitySetupOptions {
  /** `--k8s` snapshot paths. */
  readonly snapshots?: readonly string[];
  /** `--kubeconfig`: a file, `true` for the defaults (KUBECONFIG, ~/.kube/config, in-cluster), undefined for the config's `k8s.kubeconfig`. */
  readonly kubeconfig?: string | boolean;
  /** The pipeline's DNS answer table, once the pipeline exists (egress domains). */
  readonly dnsAnswers?: () => DnsAnswerTable | undefined;
  /** One line per warning (without the `harrier: warning: ` prefix). */
  readonly warn: (line: string) => void;
}

export interface IdentitySetup {
  readonly index: IdentityIndex;
  readonly enricher: K8sEnricher;
  /** Add to the pipeline (`pipeline.addDetector`) before other detectors, so their alerts see the context. */
  readonly context: FlowContextTracker;
  readonly watcher: K8sWatcher | null;
  /** Stops the watcher (if any). */
  close(): Promise<void>;
}

/** Builds identity for a run, or returns null when neither snapshots nor a kubeconfig were asked for. */
export async function setupIdentity(cfg: HarrierConfig, opts: IdentitySetupOptions): Promise<IdentitySetup | null> {
  const snapshots = opts.snapshots ?? [];
  const kube = opts.kubeconfig ?? cfg.k8s.kubeconfig ?? undefined;
  if (snapshots.length === 0 && kube === undefined) return null;
  const index = new IdentityIndex({
    graceSec: cfg.k8s.gracePeriod,
    internalCidrs: cfg.k8s.podCidrs,
    serviceCidrs: cfg.k8s.serviceCidrs,
    maxPods: cfg.k8s.maxPods,
    horizonSec: cfg.k8s.historyHorizon,
    onProblem: (_cause, msg) => opts.warn(`k8s: ${msg.replace(/^k8s: /, '')}`),
  });
  if (snapshots.length > 0) loadSnapshots(snapshots, index);
  let watcher: K8sWatcher | null = null;
  if (kube !== undefined && kube !== false) {
    const kc = loadKubeConfig(typeof kube === 'string' ? kube : undefined);
    watcher = new K8sWatcher(index, { kubeConfig: kc, onLog: (_cause, msg) => opts.warn(msg) });
    watcher.start();
    const ok = await watcher.waitForSync(cfg.k8s.syncTimeout * 1000);
    if (!ok) {
      opts.warn(`k8s: the initial list from ${watcher.server} did not complete within ${cfg.k8s.syncTimeout} s; identities are unknown until it does (still trying)`);
    }
  }
  const context = new FlowContextTracker({ trustedProxies: cfg.k8s.trustedProxies, trustedProxyHops: cfg.k8s.trustedProxyHops });
  const w = watcher;
  const enricher = new K8sEnricher(index, {
    cluster: cfg.cluster,
    resolveDomain: (client, server, ts) => opts.dnsAnswers?.()?.lookup(client, server, ts)?.name,
    flowContext: (id) => context.get(id),
    ...(w ? { extraCounters: () => w.counters() } : {}),
  });
  return {
    index,
    enricher,
    context,
    watcher,
    close: async () => {
      await w?.stop();
    },
  };
}
