/**
 * Worker pipeline for bench/signatures-parallel.bench.ts: each worker loads
 * the rule set itself and runs the whole pipeline with the signature engine
 * on its share of the flows; alerts are counted, not written.
 */
import { loadConfig } from '../src/sensor/config.js';
import { Pipeline } from '../src/sensor/pipeline.js';
import { loadRules } from '../src/detect/rules/index.js';
import { SignatureEngine } from '../src/detect/engine/engine.js';
import type { WorkerContext, WorkerPipeline } from '../src/sensor/parallel.js';

export function createWorkerPipeline(options: { rules: string; vars: string }, ctx: WorkerContext): WorkerPipeline {
  const cfg = loadConfig(options.vars);
  const p = new Pipeline(cfg, {});
  p.flows.partitionIds(ctx.index, ctx.count);
  p.addDetector(new SignatureEngine(loadRules([options.rules], { vars: cfg.vars }), p.alerts));
  return {
    frame: (d, o, c, ol, s, ns, lt, i, n) => p.frame(d, o, c, ol, s, ns, lt, i, n),
    finish: () => p.finish(),
    // Workers share the process: each reports the process's RSS, so the sum over N workers is N × RSS.
    counters: () => ({ ...p.counters(), 'bench.rss_mb': process.memoryUsage().rss / 1e6 }),
  };
}
