/**
 * What `harrier analyze` runs, in one place: the pipeline with Kubernetes
 * identity, the responder-context tracker, threat intelligence, the
 * signature engine and behaviour detection, configured from the config file
 * and the command line. The single-threaded command and each worker thread
 * of the parallel mode (sensor/analysis-worker.ts) build it the same way, so
 * the two cannot drift apart.
 */
import { dirname, join } from 'node:path';
import type { EveSink } from '../output/eve-writer.js';
import type { HarrierConfig } from './config.js';
import { Pipeline } from './pipeline.js';
import { setupIdentity } from '../k8s/setup.js';
import { attachIntel } from '../detect/intel/load.js';
import { loadSignatureEngine, loadSummaryLine } from '../detect/engine/load.js';
import { createBehaviour } from '../detect/behaviour/index.js';

/** The plain (structured-cloneable) settings of one analysis; worker threads receive them as they are. */
export interface AnalysisSettings {
  /** Path of the config file (intel paths are resolved against it). */
  configPath?: string;
  /** Kubernetes snapshot files or folders. */
  k8s: string[];
  /** Live identity: a kubeconfig file, or true for the default lookup. */
  kubeconfig?: string | boolean;
  /** Intel feed files, folders or compiled stores (empty: the config's store). */
  intel: string[];
  /** Rule files or folders. */
  rules: string[];
  /** Folder of alert pcaps; undefined: none. */
  pcapDir?: string;
  /** Behaviour detection on (and the config's `behaviour.enabled`). */
  behaviour: boolean;
}

export interface AnalysisLog {
  /** One line of information (load summaries). */
  info(line: string): void;
  /** One warning line. */
  warn(line: string): void;
}

export interface Analysis {
  pipeline: Pipeline;
  /** Stops what runs beside the pipeline (a live Kubernetes watch). */
  close(): Promise<void>;
}

/** Alert pcaps: beside a file EVE by default, an explicit folder, or none. */
export function alertPcapDir(eve: string | undefined, pcapDir: string | undefined, pcap: boolean | undefined): string | undefined {
  if (pcap === false) return undefined;
  if (pcapDir !== undefined) return pcapDir;
  return eve && eve !== '-' ? join(dirname(eve), 'pcap') : undefined;
}

export async function buildAnalysis(cfg: HarrierConfig, s: AnalysisSettings, eve: EveSink | undefined, log: AnalysisLog): Promise<Analysis> {
  // The enricher asks the pipeline's DNS answer table for egress domains; the pipeline is made just below.
  let dnsOf: Pipeline | undefined;
  // Snapshots and/or a live watch whose initial list completes (or times out with a warning) before any packet.
  const identity = await setupIdentity(cfg, {
    snapshots: s.k8s,
    kubeconfig: s.kubeconfig,
    dnsAnswers: () => dnsOf?.dnsAnswers,
    warn: log.warn,
  });
  const k8s = identity?.enricher;
  const pipeline = new Pipeline(cfg, { eve, k8s, ...(s.pcapDir !== undefined ? { alertPcap: { dir: s.pcapDir } } : {}) });
  dnsOf = pipeline;
  // First detector: the others' alerts then carry the flow's original client and domain.
  if (identity) pipeline.addDetector(identity.context);
  attachIntel(pipeline, cfg.intel, s.intel, { configPath: s.configPath, identity: k8s?.index ?? null, log: log.info });
  if (s.rules.length > 0) {
    const sigs = loadSignatureEngine(s.rules, cfg, pipeline.alerts);
    log.info(loadSummaryLine(sigs));
    pipeline.addDetector(sigs.engine);
  }
  // Behaviour detectors (scans, floods, brute force, tunnels, beacons, p2p, mining, exfiltration; baselines).
  if (s.behaviour && cfg.behaviour.enabled) {
    pipeline.addDetector(createBehaviour(cfg, pipeline.alerts, { k8s, resolveDomain: (c, sv, ts) => pipeline.dnsAnswers.lookup(c, sv, ts)?.name }));
  }
  return { pipeline, close: async () => identity?.close() };
}
