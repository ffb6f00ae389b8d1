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
import { IdentityIndex } from '../k8s/identity-index.js';
import { loadSnapshots } from '../k8s/snapshot.js';
import { K8sEnricher } from '../k8s/enrich.js';

export interface AnalyzeOptions {
  eve?: string;
  config?: string;
  stats?: string;
  quiet?: boolean;
  /** Kubernetes snapshot files or folders (see docs/reference/k8s.md). */
  k8s?: string[];
}

export async function analyzeCommand(captures: string[], opts: AnalyzeOptions): Promise<void> {
  if (captures.filter((c) => c === '-').length > 1) {
    throw new HarrierError('HARRIER_ERR_USAGE', 'standard input (-) can be read only once');
  }
  const cfg = loadConfig(opts.config);
  for (const w of cfg.warnings) process.stderr.write(`harrier: warning: ${w}\n`);
  const eve = opts.eve ? new EveWriter(opts.eve) : undefined;
  let k8s: K8sEnricher | undefined;
  // The enricher asks the pipeline's DNS answer table for egress domains; the pipeline is made just below.
  let dnsOf: Pipeline | undefined;
  if (opts.k8s && opts.k8s.length > 0) {
    const index = new IdentityIndex({ onProblem: (_cause, msg) => process.stderr.write(`harrier: warning: k8s: ${msg}\n`) });
    loadSnapshots(opts.k8s, index);
    k8s = new K8sEnricher(index, {
      cluster: cfg.cluster,
      resolveDomain: (client, server, ts) => dnsOf?.dnsAnswers.lookup(client, server, ts)?.name,
    });
  }
  const pipeline = new Pipeline(cfg, { eve, k8s });
  dnsOf = pipeline;
  const summaries: { name: string; summary: CaptureSummary }[] = [];
  try {
    for (const name of captures) {
      const onLinkType = (lt: number): void => assertSupportedLinkType(lt, name === '-' ? 'standard input' : name);
      const summary = name === '-' ? await readCaptureStream(process.stdin, pipeline, { onLinkType }) : readCaptureFile(name, pipeline, { onLinkType });
      summaries.push({ name, summary });
      for (const w of summary.warnings) process.stderr.write(`harrier: warning: ${name}: ${w}\n`);
    }
    pipeline.finish();
  } finally {
    eve?.close();
  }
  const counters = pipeline.counters();
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
