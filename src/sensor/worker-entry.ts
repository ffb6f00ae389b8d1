/**
 * Body of one pipeline worker thread (see sensor/parallel.ts): build the
 * pipeline the spec names, drain the frame ring into it until the capture
 * thread closes the ring, finish, and report counters.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FrameRing } from './frame-ring.js';
import type { WorkerContext, WorkerPipeline, WorkerSpec } from './parallel.js';

interface Data {
  sab: SharedArrayBuffer;
  spec: WorkerSpec;
  ctx: WorkerContext;
}

const { sab, spec, ctx } = workerData as Data;
const ring = new FrameRing(sab);

try {
  const mod = (await import(spec.module)) as {
    createWorkerPipeline(options: unknown, ctx: WorkerContext): Promise<WorkerPipeline> | WorkerPipeline;
  };
  const p = await mod.createWorkerPipeline(spec.options, ctx);
  parentPort!.postMessage({ type: 'ready' });
  const sink = (data: Buffer, off: number, capLen: number, origLen: number, tsSec: number, tsNsec: number, linkType: number, ifIndex: number): void =>
    p.frame(data, off, capLen, origLen, tsSec, tsNsec, linkType, ifIndex);
  while (ring.drain(sink, 200) !== -1) {
    // drain() sleeps while the ring is empty; -1 means closed and empty.
  }
  p.finish();
  parentPort!.postMessage({ type: 'done', counters: p.counters() });
} catch (err) {
  ring.fail();
  parentPort!.postMessage({ type: 'error', error: err instanceof Error ? err.message : String(err) });
  process.exitCode = 1;
}
