/**
 * The signature engine on both cores: the benchmark corpus (public-mix ×8)
 * with ET Open 2024-04 loaded, through sensor/parallel.ts — the capture
 * thread dispatches frames by address pair to N worker threads, each running
 * the whole pipeline with its own engine. Start-up (each worker loads the
 * rules) is timed apart; the figure of record is MB/s of processing, from the
 * first frame to the last worker's finish.
 *
 * Alerts: one worker gives exactly the alerts of one thread
 * (bench/signatures.bench.ts); more workers differ only on rules whose state
 * spans address pairs, which each worker keeps for itself (thresholds by_src
 * etc., see src/sensor/parallel.ts): +5 on this corpus with two.
 */
import { statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { readCaptureFile } from '../src/capture/reader.js';
import { ParallelPipeline } from '../src/sensor/parallel.js';
import { benchCorpus, SHARED } from './corpus.js';

const rulesDir = join(SHARED, 'data', 'rules', 'et-open-2024-04');
const varsFile = join(SHARED, 'data', 'bench', 'suricata-vars.yaml');
const corpus = benchCorpus();
if (!corpus || !existsSync(rulesDir) || !existsSync(varsFile)) {
  console.log('skipped: ../shared/data (corpus, ET Open 2024-04 or suricata-vars.yaml) not present');
  process.exit(0);
}
const size = statSync(corpus).size / 1e6;
const module = new URL('./signatures-worker.js', import.meta.url).href;

console.log('| signatures, ET Open loaded, worker threads | workers | start-up s | processing s | MB/s | alerts | frames per worker | process RSS MB |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const workers of [1, 2]) {
  const t0 = performance.now();
  const p = new ParallelPipeline({ module, options: { rules: rulesDir, vars: varsFile } }, { workers });
  await p.ready();
  const t1 = performance.now();
  readCaptureFile(corpus, p);
  const c = await p.finish();
  const t2 = performance.now();
  const frames = Array.from({ length: workers }, (_, i) => c[`harrier.workers.frames.${i}`] ?? 0);
  const secs = (t2 - t1) / 1000;
  console.log(
    `| capture thread + ${workers} worker${workers > 1 ? 's' : ''} | ${workers} | ${((t1 - t0) / 1000).toFixed(1)} | ${secs.toFixed(1)} | ${(size / secs).toFixed(0)} | ${(c['detect.alert'] ?? 0).toLocaleString('en-US')} | ${frames.map((f) => f.toLocaleString('en-US')).join(' / ')} | ${((c['bench.rss_mb'] ?? 0) / workers).toFixed(0)} |`,
  );
}
