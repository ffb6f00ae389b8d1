/**
 * `harrier analyze <capture…>`: run captures through the pipeline, write EVE,
 * print a short human summary.
 *
 * Several captures are read in the order given as one continuous input (the
 * way Suricata reads a folder of pcaps): flows that span two files stay one
 * flow. `-` reads a capture from standard input, e.g. `tcpdump -w - | harrier
 * analyze -`.
 */
import { writeFileSync } from 'node:fs';
import { assertSupportedLinkType, readCaptureFile, readCaptureStream, type CaptureSummary } from '../capture/reader.js';
import { HarrierError } from '../errors.js';
import { EveWriter } from '../output/eve-writer.js';
import { loadConfig } from '../sensor/config.js';
import { Pipeline } from '../sensor/pipeline.js';
import { formatSummary } from './summary.js';
import { setupIdentity } from '../k8s/setup.js';
import { attachIntel } from '../detect/intel/load.js';
import { loadSignatureEngine, loadSummaryLine } from '../detect/engine/load.js';
import { createBehaviour } from '../detect/behaviour/index.js';
import { dirname, join } from 'node:path';

export interface AnalyzeOptions {
  eve?: string;
  config?: string;
  stats?: string;
  quiet?: boolean;
  /** Kubernetes snapshot files or folders (see docs/reference/k8s.md). */
  k8s?: string[];
  /** Live identity from the API server: a kubeconfig file, or true for KUBECONFIG / ~/.kube/config / in-cluster. */
  kubeconfig?: string | boolean;
  /** Threat-intel feed files, folders of feeds or compiled stores (default: the config's intel.store). */
  intel?: string[];
  /** Rule files or folders (Suricata language) run by the signature engine. */
  rules?: string[];
  /** Folder of the per-alert flow pcaps (default: `pcap/` beside a file --eve). */
  pcapDir?: string;
  /** false (`--no-pcap`): write no alert pcaps. */
  pcap?: boolean;
  /** false (`--no-behaviour`): no behaviour detectors (on by default, as the config's `behaviour.enabled`). */
  behaviour?: boolean;
}

export async function analyzeCommand(captures: string[], opts: AnalyzeOptions): Promise<void> {
  if (captures.filter((c) => c === '-').length > 1) {
    throw new HarrierError('HARRIER_ERR_USAGE', 'standard input (-) can be read only once');
  }
  const cfg = loadConfig(opts.config);
  for (const w of cfg.warnings) process.stderr.write(`harrier: warning: ${w}\n`);
  const eve = opts.eve ? new EveWriter(opts.eve) : undefined;
  // The enricher asks the pipeline's DNS answer table for egress domains; the pipeline is made just below.
  let dnsOf: Pipeline | undefined;
  // Snapshots and/or a live watch whose initial list completes (or times out with a warning) before any packet.
  const identity = await setupIdentity(cfg, {
    snapshots: opts.k8s ?? [],
    kubeconfig: opts.kubeconfig,
    dnsAnswers: () => dnsOf?.dnsAnswers,
    warn: (line) => process.stderr.write(`harrier: warning: ${line}\n`),
  });
  const k8s = identity?.enricher;
  // Alert pcaps: beside a file EVE by default, --pcap-dir elsewhere, --no-pcap none.
  const pcapDir = opts.pcap === false ? undefined : opts.pcapDir ?? (opts.eve && opts.eve !== '-' ? join(dirname(opts.eve), 'pcap') : undefined);
  const pipeline = new Pipeline(cfg, { eve, k8s, ...(pcapDir !== undefined ? { alertPcap: { dir: pcapDir } } : {}) });
  dnsOf = pipeline;
  // First detector: the others' alerts then carry the flow's original client and domain.
  if (identity) pipeline.addDetector(identity.context);
  attachIntel(pipeline, cfg.intel, opts.intel ?? [], {
    configPath: opts.config,
    identity: k8s?.index ?? null,
    log: (line) => process.stderr.write(`harrier: ${line}\n`),
  });
  if (opts.rules && opts.rules.length > 0) {
    const sigs = loadSignatureEngine(opts.rules, cfg, pipeline.alerts);
    process.stderr.write(`harrier: ${loadSummaryLine(sigs)}\n`);
    pipeline.addDetector(sigs.engine);
  }
  // Behaviour detectors (scans, floods, brute force, tunnels, beacons, p2p, mining, exfiltration; baselines).
  if (opts.behaviour !== false && cfg.behaviour.enabled) {
    pipeline.addDetector(createBehaviour(cfg, pipeline.alerts, { k8s, resolveDomain: (c, sv, ts) => pipeline.dnsAnswers.lookup(c, sv, ts)?.name }));
  }
  const summaries: { name: string; summary: CaptureSummary }[] = [];
  try {
    for (const name of captures) {
      const onLinkType = (lt: number): void => assertSupportedLinkType(lt, name === '-' ? 'standard input' : name);
      const summary = name === '-' ? await readCaptureStream(process.stdin, pipeline, { onLinkType }) : readCaptureFile(name, pipeline, { onLinkType });
      summaries.push({ name, summary });
      for (const w of summary.warnings) process.stderr.write(`harrier: warning: ${name}: ${w}\n`);
    }
    pipeline.finish();
  } catch (err) {
    await identity?.close();
    throw err;
  } finally {
    eve?.close();
  }
  const counters = pipeline.counters();
  await identity?.close();
  for (const { summary } of summaries) {
    if (summary.truncated) counters['harrier.capture.truncated'] = (counters['harrier.capture.truncated'] ?? 0) + 1;
  }
  if (opts.stats) {
    try {
      writeFileSync(opts.stats, JSON.stringify(counters, null, 1) + '\n');
    } catch (err) {
      throw new HarrierError('HARRIER_ERR_OUTPUT', `cannot write stats file ${opts.stats}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  if (!opts.quiet) {
    // With EVE on standard output the summary must not mix into it.
    const text = formatSummary(pipeline, counters, summaries.length, opts.eve, eve?.records ?? 0);
    (opts.eve === '-' ? process.stderr : process.stdout).write(text);
  }
}
