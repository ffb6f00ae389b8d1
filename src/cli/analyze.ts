/**
 * `harrier analyze <capture…>`: run captures through the pipeline, write EVE,
 * print a short human summary.
 *
 * Several captures are read in the order given as one continuous input (the
 * way Suricata reads a folder of pcaps): flows that span two files stay one
 * flow. `-` reads a capture from standard input, e.g. `tcpdump -w - | harrier
 * analyze -`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { assertSupportedLinkType, readCaptureFile, readCaptureStream, type CaptureSummary } from '../capture/reader.js';
import { HarrierError } from '../errors.js';
import { EveWriter } from '../output/eve-writer.js';
import { loadConfig } from '../sensor/config.js';
import { Pipeline } from '../sensor/pipeline.js';
import { formatSummary, type SummarySource } from './summary.js';
import { alertPcapDir, buildAnalysis, type AnalysisLog, type AnalysisSettings } from '../sensor/analysis.js';
import { ParallelPipeline } from '../sensor/parallel.js';
import { closeSync, openSync } from 'node:fs';
import type { Counters } from '../events/stats.js';
import { startReloadTriggers } from '../sensor/reload.js';
import type { DetectEngineInfo } from '../detect/engine/reload.js';

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
  /** Pipeline worker threads (default 1: everything on the main thread). */
  workers?: number;
  /**
   * Seconds between checks of the rule files (and the config) while reading
   * standard input; a change reloads the rules (sensor/reload.ts). 0 or
   * undefined: off. SIGHUP/SIGUSR2 reload whatever this is.
   */
  reloadPoll?: number;
}

/** Reload triggers of a run with --rules or --intel (signals always; polling only on standard input). */
function reloadTriggers(captures: string[], opts: AnalyzeOptions, run: (why: string) => void | Promise<void>): () => void {
  const inputs = [...(opts.rules ?? []), ...(opts.intel ?? [])];
  if (inputs.length === 0) return () => undefined;
  const poll = captures.includes('-') ? (opts.reloadPoll ?? 0) : 0;
  return startReloadTriggers(run, { pollSeconds: poll, watch: [...inputs, ...(opts.config ? [opts.config] : [])] });
}

export async function analyzeCommand(captures: string[], opts: AnalyzeOptions): Promise<void> {
  if (captures.filter((c) => c === '-').length > 1) {
    throw new HarrierError('HARRIER_ERR_USAGE', 'standard input (-) can be read only once');
  }
  const cfg = loadConfig(opts.config);
  for (const w of cfg.warnings) process.stderr.write(`harrier: warning: ${w}\n`);
  const settings: AnalysisSettings = {
    configPath: opts.config,
    k8s: opts.k8s ?? [],
    kubeconfig: opts.kubeconfig,
    intel: opts.intel ?? [],
    rules: opts.rules ?? [],
    pcapDir: alertPcapDir(opts.eve, opts.pcapDir, opts.pcap),
    behaviour: opts.behaviour !== false,
  };
  const log: AnalysisLog = {
    info: (line) => process.stderr.write(`harrier: ${line}\n`),
    warn: (line) => process.stderr.write(`harrier: warning: ${line}\n`),
  };
  const workers = opts.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new HarrierError('HARRIER_ERR_USAGE', `--workers takes a whole number from 1 to 64, not ${String(opts.workers)}`);
  if (opts.reloadPoll !== undefined && !(Number.isFinite(opts.reloadPoll) && opts.reloadPoll >= 0 && opts.reloadPoll <= 86400)) {
    throw new HarrierError('HARRIER_ERR_USAGE', `--reload-poll takes seconds from 0 to 86400, not ${String(opts.reloadPoll)}`);
  }
  if (workers > 1) return analyzeParallel(captures, opts, settings, workers);
  const eve = opts.eve ? new EveWriter(opts.eve) : undefined;
  const analysis = await buildAnalysis(cfg, settings, eve, log);
  const pipeline = analysis.pipeline;
  const summaries: { name: string; summary: CaptureSummary }[] = [];
  // A reload runs from the event loop, i.e. between two chunks of standard input: between packets.
  const stopReload = reloadTriggers(captures, opts, () => {
    const r = analysis.reload();
    for (const line of r?.lines ?? []) log.info(line);
  });
  // A live capture on standard input may stay quiet for long: EVE lines are written at least once a second (else at 64 KiB).
  const flushTimer = eve && captures.includes('-') ? setInterval(() => eve.flush(), 1000) : null;
  flushTimer?.unref();
  try {
    for (const name of captures) {
      const onLinkType = (lt: number): void => assertSupportedLinkType(lt, name === '-' ? 'standard input' : name);
      const summary = name === '-' ? await readCaptureStream(process.stdin, pipeline, { onLinkType }) : readCaptureFile(name, pipeline, { onLinkType });
      summaries.push({ name, summary });
      for (const w of summary.warnings) process.stderr.write(`harrier: warning: ${name}: ${w}\n`);
    }
    pipeline.finish();
  } catch (err) {
    await analysis.close();
    throw err;
  } finally {
    stopReload();
    if (flushTimer !== null) clearInterval(flushTimer);
    eve?.close();
  }
  const counters = pipeline.counters();
  await analysis.close();
  for (const { summary } of summaries) {
    if (summary.truncated) counters['harrier.capture.truncated'] = (counters['harrier.capture.truncated'] ?? 0) + 1;
  }
  report(opts, counters, pipeline, summaries.length, eve?.records ?? 0, analysis.engines());
}

/** `--stats` file and the human summary (on stderr when EVE goes to stdout, so they never mix). */
function report(opts: AnalyzeOptions, counters: Counters, source: SummarySource, captures: number, eveRecords: number, engines: DetectEngineInfo[] = []): void {
  if (opts.stats) {
    // Suricata's detect.engines is an array (id, last_reload, rules_loaded, rules_failed): it replaces the flat engine count.
    const out: Record<string, unknown> = engines.length > 0 ? { ...counters, 'detect.engines': engines } : counters;
    try {
      writeFileSync(opts.stats, JSON.stringify(out, null, 1) + '\n');
    } catch (err) {
      throw new HarrierError('HARRIER_ERR_OUTPUT', `cannot write stats file ${opts.stats}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  if (!opts.quiet) {
    const text = formatSummary(source, counters, captures, opts.eve, eveRecords);
    (opts.eve === '-' ? process.stderr : process.stdout).write(text);
  }
}

/**
 * `--workers N`: the capture is read here and dispatched by address pair to N
 * worker threads, each running the whole analysis (sensor/parallel.ts). EVE
 * lines are appended by the workers to one descriptor opened here.
 */
async function analyzeParallel(captures: string[], opts: AnalyzeOptions, settings: AnalysisSettings, workers: number): Promise<void> {
  const startedAt = process.hrtime.bigint();
  let fd = -1;
  let ownFd = false;
  if (opts.eve === '-') fd = 1;
  else if (opts.eve) {
    try {
      mkdirSync(dirname(opts.eve), { recursive: true });
      // Truncate, then append: O_APPEND makes each worker's block of lines land whole.
      closeSync(openSync(opts.eve, 'w'));
      fd = openSync(opts.eve, 'a');
      ownFd = true;
    } catch (err) {
      throw new HarrierError('HARRIER_ERR_OUTPUT', `cannot write EVE file ${opts.eve}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  const module = new URL('../sensor/analysis-worker.js', import.meta.url).href;
  const p = new ParallelPipeline({ module, options: settings }, { workers, eveFd: fd });
  const summaries: CaptureSummary[] = [];
  let counters: Counters;
  // Each worker reloads on its own (between two drains of its ring) and answers; one line per worker.
  const stopReload = reloadTriggers(captures, opts, async () => {
    for (const r of await p.reload()) for (const line of r.lines) process.stderr.write(`harrier: worker ${r.worker}: ${line}\n`);
  });
  try {
    await p.ready();
    for (const name of captures) {
      const onLinkType = (lt: number): void => assertSupportedLinkType(lt, name === '-' ? 'standard input' : name);
      const summary = name === '-' ? await readCaptureStream(process.stdin, p, { onLinkType }) : readCaptureFile(name, p, { onLinkType });
      summaries.push(summary);
      for (const w of summary.warnings) process.stderr.write(`harrier: warning: ${name}: ${w}\n`);
    }
    counters = await p.finish();
  } catch (err) {
    await p.terminate();
    throw err;
  } finally {
    stopReload();
    if (ownFd) closeSync(fd);
  }
  for (const s of summaries) if (s.truncated) counters['harrier.capture.truncated'] = (counters['harrier.capture.truncated'] ?? 0) + 1;
  const flowsByProto = new Map<number, number>();
  for (const [k, v] of Object.entries(counters)) if (k.startsWith('harrier.summary.flows_proto.')) flowsByProto.set(Number(k.slice(28)), v);
  const source: SummarySource = {
    elapsed: () => Number(process.hrtime.bigint() - startedAt) / 1e9,
    packets: counters['harrier.summary.packets'] ?? 0,
    bytes: counters['harrier.summary.bytes'] ?? 0,
    flowRecords: counters['harrier.summary.flow_records'] ?? 0,
    flowsByProto,
    streamBytes: counters['harrier.stream.bytes_delivered'] ?? 0,
    streamGaps: counters['harrier.stream.gaps'] ?? 0,
  };
  report(opts, counters, source, captures.length, counters['harrier.summary.eve_records'] ?? 0, p.engines());
}
