/**
 * One worker thread of `harrier analyze --workers N`: the same analysis as
 * the single-threaded command (sensor/analysis.ts), on the flows the capture
 * thread hands it, writing EVE lines to the shared descriptor.
 *
 * Each worker loads its own rules, intel and Kubernetes state (a live watch
 * runs once per worker). Its counters carry the figures the summary needs
 * (flow records by protocol), since the summary cannot read the worker's
 * Pipeline object.
 */
import { EveWriter } from '../output/eve-writer.js';
import { loadConfig } from './config.js';
import { buildAnalysis, type AnalysisSettings } from './analysis.js';
import type { WorkerContext, WorkerPipeline } from './parallel.js';

export async function createWorkerPipeline(s: AnalysisSettings, ctx: WorkerContext): Promise<WorkerPipeline> {
  const cfg = loadConfig(s.configPath);
  const eve = ctx.eveFd >= 0 ? new EveWriter({ fd: ctx.eveFd }) : undefined;
  // Load summaries and warnings once, from worker 0: the others load the same files.
  const say = (line: string): void => {
    if (ctx.index === 0) process.stderr.write(`harrier: ${line}\n`);
  };
  const a = await buildAnalysis(cfg, s, eve, { info: say, warn: (l) => say(`warning: ${l}`) }, { engineId: ctx.index });
  const p = a.pipeline;
  p.flows.partitionIds(ctx.index, ctx.count);
  return {
    // n: the frame's number in the whole capture, so pcap_cnt is the same as without workers.
    frame: (d, o, c, ol, sec, ns, lt, i, n) => p.frame(d, o, c, ol, sec, ns, lt, i, n),
    finish: () => {
      p.finish();
      eve?.close();
      void a.close();
    },
    counters: () => {
      const c = p.counters();
      c['harrier.summary.flow_records'] = p.flowRecords;
      c['harrier.summary.packets'] = p.packets;
      c['harrier.summary.bytes'] = p.bytes;
      for (const [proto, n] of p.flowsByProto) c[`harrier.summary.flows_proto.${proto}`] = n;
      c['harrier.summary.eve_records'] = eve?.records ?? 0;
      return c;
    },
    // The capture thread logs each worker's outcome (sensor/parallel.ts reload()).
    reload: () => a.reload(),
    engines: () => a.engines(),
    // EVE lines of a quiet live capture reach the file within a second or so (else only at 64 KiB).
    periodic: () => eve?.flush(),
  };
}
