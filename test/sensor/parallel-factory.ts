/**
 * Worker pipelines for test/sensor/parallel.test.ts: `flows` runs the real
 * Pipeline and writes EVE to the shared descriptor; `checksum` only checks
 * that every frame arrives whole (its first bytes carry its own length and a
 * sequence number, the rest a pattern derived from them).
 */
import { Pipeline } from '../../src/sensor/pipeline.js';
import { defaultConfig } from '../../src/sensor/config.js';
import { EveWriter } from '../../src/output/eve-writer.js';
import type { WorkerContext, WorkerPipeline } from '../../src/sensor/parallel.js';
import type { Counters } from '../../src/events/stats.js';

export function createWorkerPipeline(options: { mode: 'flows' | 'checksum' }, ctx: WorkerContext): WorkerPipeline {
  if (options.mode === 'flows') {
    const eve = ctx.eveFd >= 0 ? new EveWriter({ fd: ctx.eveFd }) : undefined;
    const p = new Pipeline(defaultConfig(), { eve });
    p.flows.partitionIds(ctx.index, ctx.count);
    return {
      frame: (d, o, c, ol, s, ns, lt, i) => p.frame(d, o, c, ol, s, ns, lt, i),
      finish: () => {
        p.finish();
        eve?.close();
      },
      counters: () => p.counters(),
    };
  }
  let frames = 0;
  let bad = 0;
  let lastSeq = -1;
  let outOfOrder = 0;
  return {
    frame(d, o, capLen, origLen, tsSec) {
      frames++;
      const seq = d.readUInt32LE(o);
      if (seq <= lastSeq) outOfOrder++;
      lastSeq = seq;
      if (capLen !== origLen || tsSec !== seq) bad++;
      for (let i = 4; i < capLen; i++) if (d[o + i] !== ((seq + i) & 0xff)) {
        bad++;
        break;
      }
    },
    finish() {},
    counters(): Counters {
      return { frames, bad, out_of_order: outOfOrder };
    },
  };
}
