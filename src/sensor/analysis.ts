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
import { loadConfig, type HarrierConfig } from './config.js';
import { Pipeline } from './pipeline.js';
import { setupIdentity } from '../k8s/setup.js';
import { attachIntel } from '../detect/intel/load.js';
import { loadSummaryLine } from '../detect/engine/load.js';
import { SignatureReloader, type DetectEngineInfo } from '../detect/engine/reload.js';
import { IntelReloader } from './intel-reload.js';
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
  /**
   * Re-read the rules (and the config's vars) and the intel inputs, and swap
   * the new engine / matchers in between packets when they load
   * (detect/engine/reload.ts, sensor/intel-reload.ts); null with neither
   * rules nor intel. Never throws.
   */
  reload(): AnalysisReload | null;
  /** Suricata's `detect.engines` entries (empty without --rules). */
  engines(): DetectEngineInfo[];
}

/** Outcome of one reload: `ok` false when any part kept its old state; one line per part. */
export interface AnalysisReload {
  ok: boolean;
  lines: string[];
}

export interface AnalysisBuildOptions {
  /** `detect.engines[].id` (the worker index with --workers). */
  engineId?: number;
}

/** Alert pcaps: beside a file EVE by default, an explicit folder, or none. */
export function alertPcapDir(eve: string | undefined, pcapDir: string | undefined, pcap: boolean | undefined): string | undefined {
  if (pcap === false) return undefined;
  if (pcapDir !== undefined) return pcapDir;
  return eve && eve !== '-' ? join(dirname(eve), 'pcap') : undefined;
}

export async function buildAnalysis(cfg: HarrierConfig, s: AnalysisSettings, eve: EveSink | undefined, log: AnalysisLog, opts: AnalysisBuildOptions = {}): Promise<Analysis> {
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
  const intelOpts = { configPath: s.configPath, identity: k8s?.index ?? null };
  const matchers = attachIntel(pipeline, cfg.intel, s.intel, { ...intelOpts, log: log.info });
  // Intel reload reads the config's intel block (store, allow-lists) anew, as the rules reload reads vars.
  const intel = matchers.length === 0 ? null : new IntelReloader(matchers, pipeline, (sink, say) => attachIntel(sink, loadConfig(s.configPath).intel, s.intel, { ...intelOpts, log: say }));
  let sigs: SignatureReloader | null = null;
  if (s.rules.length > 0) {
    // Reloads re-read the config file too: Suricata's reload takes the variables anew.
    sigs = new SignatureReloader(s.rules, cfg, pipeline, { id: opts.engineId ?? 0, reloadConfig: () => loadConfig(s.configPath) });
    log.info(loadSummaryLine(sigs.loaded));
    const r = sigs;
    pipeline.detectEngines = () => [r.info()];
  }
  // Behaviour detectors (scans, floods, brute force, tunnels, beacons, p2p, mining, exfiltration; baselines).
  if (s.behaviour && cfg.behaviour.enabled) {
    pipeline.addDetector(createBehaviour(cfg, pipeline.alerts, { k8s, resolveDomain: (c, sv, ts) => pipeline.dnsAnswers.lookup(c, sv, ts)?.name }));
  }
  return {
    pipeline,
    close: async () => identity?.close(),
    reload: () => {
      if (sigs === null && intel === null) return null;
      const parts = [sigs?.reload(), intel?.reload()].filter((r) => r !== undefined);
      return { ok: parts.every((r) => r.ok), lines: parts.map((r) => r.line) };
    },
    engines: () => (sigs === null ? [] : [sigs.info()]),
  };
}
