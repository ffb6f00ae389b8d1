/**
 * Benchmark of the baselines part (src/detect/behaviour/anomaly.ts, model/):
 *
 * 1. Macro, on the ×8 corpus, single thread: the pipeline with the app layer,
 *    without and with the baseline engine (features per flow and transaction,
 *    rate buckets, first-seen sets, flow models: learning for the first 60 s
 *    of packet time, then scoring every answered flow). The difference is the
 *    cost of feature extraction plus scoring. Two passes each; the second
 *    (warm) is reported, the first printed beside it.
 * 2. Micro: isolation-forest training and scoring (the defaults: 32 trees,
 *    ψ = 64, 12 features) — flows scored per second.
 * 3. Memory per workload baseline: 2,000 synthetic workloads, each with 20
 *    internal peers, 8 destination ports, 5 external destinations and up to
 *    8 trained service models (full 256-flow samples), heap measured after GC; and the
 *    state file's size per workload.
 *
 * Without Kubernetes identity (the corpus has none) every private address is
 * a subject, which is the heavier case: more subjects than workloads.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCaptureFile } from '../src/capture/reader.js';
import { defaultConfig } from '../src/sensor/config.js';
import { Pipeline } from '../src/sensor/pipeline.js';
import { AnomalyEngine } from '../src/detect/behaviour/anomaly.js';
import { IsolationForest, mulberry32 } from '../src/detect/behaviour/model/isolation-forest.js';
import { Flow } from '../src/flow/flow.js';
import { FLOW_DIMS } from '../src/detect/behaviour/features.js';
import { defaultBaselineSettings } from '../src/detect/behaviour/baseline-config.js';
import { benchCorpus, peakRssMb } from './corpus.js';

const gc = (globalThis as { gc?: () => void }).gc;

function macro(corpus: string): void {
  const size = statSync(corpus).size / 1e6;
  console.log(`corpus: ${corpus} (${size.toFixed(0)} MB)`);
  console.log('| pipeline, 1 thread | MB/s warm | MB/s per CPU-second | MB/s cold | flows | subjects | service models (trained) | flows scored | findings | baseline heap MB (estimate) | peak RSS MB so far |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const withBaselines of [false, true]) {
    const runs: { secs: number; cpu: number; eng: AnomalyEngine | null; findings: number }[] = [];
    for (let i = 0; i < 2; i++) {
      const p = new Pipeline(defaultConfig(), {});
      let findings = 0;
      let eng: AnomalyEngine | null = null;
      if (withBaselines) {
        // The corpus concatenates captures from 48 days: learning counts at most a bucket per time jump, so
        // 60 s are learned early, and models retrain every 300 s of packet time so that many flows get scored.
        eng = new AnomalyEngine({ report: () => findings++, resolveDomain: (c, s, ts) => p.dnsAnswers.lookup(c, s, ts)?.name }, { learningSec: 60, bucketSec: 60, model: { ...defaultBaselineSettings().model, retrainSec: 300 } });
        p.addDetector(eng);
      }
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      readCaptureFile(corpus, p);
      p.finish();
      const cu = process.cpuUsage(c0);
      runs.push({ secs: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (cu.user + cu.system) / 1e6, eng, findings });
    }
    const w = runs[1];
    const c = w.eng?.counters() ?? {};
    const mem = ((c['harrier.behaviour.baseline.memory_bytes'] as number) ?? 0) + ((c['harrier.behaviour.model.memory_bytes'] as number) ?? 0);
    console.log(
      `| app layer${withBaselines ? ' + baselines' : ''} | ${(size / w.secs).toFixed(0)} | ${(size / w.cpu).toFixed(0)} | ${(size / runs[0].secs).toFixed(0)} | ${withBaselines ? (c['harrier.behaviour.baseline.flows'] ?? 0).toLocaleString('en-US') : '-'} | ${withBaselines ? c['harrier.behaviour.baseline.subjects'] : '-'} | ${withBaselines ? `${c['harrier.behaviour.model.models']} (${c['harrier.behaviour.model.trained']})` : '-'} | ${withBaselines ? (c['harrier.behaviour.model.flows_scored'] ?? 0).toLocaleString('en-US') : '-'} | ${withBaselines ? w.findings : '-'} | ${withBaselines ? (mem / 1e6).toFixed(1) : '-'} | ${peakRssMb().toFixed(0)} |`,
    );
  }
}

function micro(): void {
  const d = FLOW_DIMS;
  const rnd = mulberry32(3);
  const n = 256;
  const data = new Float64Array(n * d);
  for (let i = 0; i < n * d; i++) data[i] = rnd() * 10;
  const f = new IsolationForest(d, { trees: 32, sampleSize: 64, seed: 1 });
  let t0 = process.hrtime.bigint();
  const fits = 200;
  for (let i = 0; i < fits; i++) f.fit(data, n);
  const fitMs = Number(process.hrtime.bigint() - t0) / 1e6 / fits;
  const q = new Float64Array(10_000 * d);
  for (let i = 0; i < q.length; i++) q[i] = rnd() * 12;
  let sink = 0;
  const c0 = process.cpuUsage();
  t0 = process.hrtime.bigint();
  const rounds = 50;
  for (let r = 0; r < rounds; r++) for (let i = 0; i < 10_000; i++) sink += f.score(q, i * d);
  const perSec = (rounds * 10_000) / (Number(process.hrtime.bigint() - t0) / 1e9);
  const cu = process.cpuUsage(c0);
  const perCpuSec = (rounds * 10_000) / ((cu.user + cu.system) / 1e6);
  console.log('\n| isolation forest (defaults: 32 trees, ψ 64, 12 features) | value |');
  console.log('| --- | --- |');
  console.log(`| train on 256 flows | ${fitMs.toFixed(2)} ms |`);
  console.log(`| score | ${(perSec / 1e6).toFixed(2)} M flows/s wall, ${(perCpuSec / 1e6).toFixed(2)} M per CPU-second |`);
  console.log(`| forest size | ${(f.memoryBytes / 1024).toFixed(0)} KB |`);
  if (sink === -1) console.log('');
}

function memory(): void {
  const W = 2000;
  const dir = mkdtempSync(join(tmpdir(), 'harrier-bench-baseline-'));
  try {
    gc?.();
    const before = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const eng = new AnomalyEngine({ report: () => {} }, { learningSec: 120, bucketSec: 60, statePath: join(dir, 'state.json') });
    const T0 = 1_764_320_000;
    const ip = (a: number, b: number, c: number): number => ((10 << 24) | (a << 16) | (b << 8) | c) >>> 0;
    let port = 1024;
    const mk = (client: number, server: number, dport: number, t: number, out: number): Flow => {
      const f = new Flow(4);
      f.proto = 6;
      f.client4 = client;
      f.server4 = server;
      f.clientPort = port = port >= 65000 ? 1024 : port + 1;
      f.serverPort = dport;
      f.startSec = t;
      f.lastSec = t;
      f.bytesToServer = out;
      f.bytesToClient = out * 3;
      f.pktsToServer = 4;
      f.pktsToClient = 5;
      f.tcpFlagsToClient = 0x12;
      f.seenDirs = 3;
      f.appProto = dport === 443 ? 'tls' : 'http';
      return f;
    };
    // 130 s of traffic: learning 120 s (models trained at its end), then scoring.
    for (let t = T0; t < T0 + 130; t++) {
      for (let w = 0; w < W; w++) {
        const me = ip(1, w >> 8, w & 255);
        const k = t - T0 + w;
        eng.flowEnd(mk(me, ip(2, 0, k % 20), [80, 8080, 5432, 6379][k % 4], t, 400 + (k % 13) * 10));
        if (k % 3 === 0) eng.flowEnd(mk(me, (198 << 24) | (51 << 16) | (100 << 8) | (k % 5), 443, t, 900));
        if (k % 7 === 0) eng.flowEnd(mk(me, ip(3, 0, k % 20), [22, 9090, 3000, 25][k % 4], t, 300));
      }
      eng.tick(t);
    }
    eng.finish();
    gc?.();
    const after = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const c = eng.counters();
    const subjects = c['harrier.behaviour.baseline.subjects'] as number;
    const models = c['harrier.behaviour.model.models'] as number;
    const file = statSync(join(dir, 'state.json')).size;
    console.log('\n| memory per workload baseline (2,000 synthetic workloads + 60 peer subjects) | value |');
    console.log('| --- | --- |');
    console.log(`| subjects / service models | ${subjects} / ${models} |`);
    console.log(`| heap per subject, measured (all included) | ${((after - before) / subjects / 1024).toFixed(1)} KB |`);
    console.log(`| of which flow models (estimate) | ${((c['harrier.behaviour.model.memory_bytes'] as number) / subjects / 1024).toFixed(1)} KB |`);
    console.log(`| state file per subject | ${(file / subjects / 1024).toFixed(1)} KB |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

micro();
memory();
const corpus = benchCorpus();
if (!corpus) console.log('\nmacro skipped: ../shared/data/bench/public-mix.pcap not present');
else macro(corpus);
