/**
 * Macro benchmark of the signature engine with ET Open 2024-04 loaded whole
 * (Suricata's settings of the reference run: ../shared/data/bench/
 * suricata-vars.yaml), single thread:
 *  - rule load: front end (read, parse) and engine build (compile, groups,
 *    prefilters), wall and CPU time — target ≤ 10 s;
 *  - resident memory after load — target ≤ 400 MB;
 *  - MB/s over the ×8 corpus through the whole pipeline with the engine
 *    (decode → flow → stream → app layer → signatures) — target ≥ 50 MB/s;
 *    the first pass is reported apart as "cold" (JIT tier-up, heap growth),
 *    the figure of record is the median of the warm passes.
 */
import { statSync } from 'node:fs';
import { readCaptureFile } from '../src/capture/reader.js';
import { loadConfig } from '../src/sensor/config.js';
import { Pipeline } from '../src/sensor/pipeline.js';
import { loadRules } from '../src/detect/rules/index.js';
import { SignatureEngine } from '../src/detect/engine/engine.js';
import { benchCorpus, peakRssMb, SHARED } from './corpus.js';
import { join } from 'node:path';
import { existsSync } from 'node:fs';

const rulesDir = join(SHARED, 'data', 'rules', 'et-open-2024-04');
const varsFile = join(SHARED, 'data', 'bench', 'suricata-vars.yaml');
const corpus = benchCorpus();
if (!corpus || !existsSync(rulesDir) || !existsSync(varsFile)) {
  console.log('skipped: ../shared/data (corpus, ET Open 2024-04 or suricata-vars.yaml) not present');
  process.exit(0);
}
const corpusPath: string = corpus;
const size = statSync(corpusPath).size;
const cfg = loadConfig(varsFile);
const cpu = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1e6;

const gc = (globalThis as { gc?: () => void }).gc;
const c0 = process.cpuUsage();
const t0 = performance.now();
const ruleSet = loadRules([rulesDir], { vars: cfg.vars });
const t1 = performance.now();
const c1 = process.cpuUsage();
// The engine is built on a pipeline's alert path; passes below each get a fresh pipeline and engine of the same rule set.
const probe = new Pipeline(cfg, {});
const engine0 = new SignatureEngine(ruleSet, probe.alerts);
const t2 = performance.now();
const c2 = process.cpuUsage();
gc?.();
const rssAfterLoad = process.memoryUsage().rss / 1e6;

console.log(`corpus: ${corpus} (${(size / 1e6).toFixed(0)} MB); rules: ${rulesDir}`);
console.log('| ET Open 2024-04 load | rules loaded | failed | wall s | CPU s | RSS after load MB |');
console.log('| --- | --- | --- | --- | --- | --- |');
console.log(`| front end (read, parse) | ${ruleSet.rules.length} | ${ruleSet.errors.length} | ${((t1 - t0) / 1000).toFixed(1)} | ${(cpu(c1) - cpu(c0)).toFixed(1)} | |`);
console.log(`| engine build (compile, groups, prefilters: ${engine0.loadStats.patterns.toLocaleString('en-US')} patterns, ${(engine0.loadStats.mpmBytes / 1e6).toFixed(0)} MB) | ${engine0.rules.length} | ${engine0.errors.length} | ${((t2 - t1) / 1000).toFixed(1)} | ${(cpu(c2) - cpu(c1)).toFixed(1)} | |`);
console.log(`| total | ${engine0.rules.length} | ${ruleSet.errors.length + engine0.errors.length} | ${((t2 - t0) / 1000).toFixed(1)} | ${(cpu(c2) - cpu(c0)).toFixed(1)} | ${rssAfterLoad.toFixed(0)} |`);

// One engine for every pass (one engine per worker in the sensor); it raises through the probe
// pipeline's alert path, which has no sink: alerts are counted, not written.
const runs: { secs: number; cpu: number; alerts: number }[] = [];
let alertsBefore = 0;
for (let i = 0; i < 3; i++) {
  const p = new Pipeline(cfg, {});
  p.addDetector(engine0);
  const cs = process.cpuUsage();
  const ts = process.hrtime.bigint();
  readCaptureFile(corpusPath, p);
  p.finish();
  const secs = Number(process.hrtime.bigint() - ts) / 1e9;
  const total = engine0.counters()['harrier.detect.signature_alerts'] ?? 0;
  runs.push({ secs, cpu: cpu(process.cpuUsage(cs)), alerts: total - alertsBefore });
  alertsBefore = total;
}
const cold = runs[0]!;
const warm = runs.slice(1).sort((a, b) => a.secs - b.secs);
const median = warm[0]!;
const mb = size / 1e6;
console.log('');
console.log('| signatures, 1 thread, ET Open loaded | MB/s warm | MB/s cold (1st pass) | MB/s per CPU-second | alerts per pass | peak RSS MB |');
console.log('| --- | --- | --- | --- | --- | --- |');
console.log(`| capture → … → app-layer → signatures | ${(mb / median.secs).toFixed(0)} | ${(mb / cold.secs).toFixed(0)} | ${(mb / median.cpu).toFixed(0)} | ${median.alerts.toLocaleString('en-US')} | ${peakRssMb().toFixed(0)} |`);
