/**
 * Body of one pipeline worker thread (see sensor/parallel.ts): build the
 * pipeline the spec names, drain the frame ring into it until the capture
 * thread closes the ring, finish, and report counters.
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { FrameRing } from './frame-ring.js';
import type { WorkerContext, WorkerPipeline, WorkerSpec } from './parallel.js';

interface Data {
  sab: SharedArrayBuffer;
  spec: WorkerSpec;
  ctx: WorkerContext;
  /** Control requests from the capture thread (rule and intel reload). */
  control?: MessagePort;
}

const { sab, spec, ctx, control } = workerData as Data;
const ring = new FrameRing(sab);

try {
  const mod = (await import(spec.module)) as {
    createWorkerPipeline(options: unknown, ctx: WorkerContext): Promise<WorkerPipeline> | WorkerPipeline;
  };
  const p = await mod.createWorkerPipeline(spec.options, ctx);
  parentPort!.postMessage({ type: 'ready' });
  const sink = (data: Buffer, off: number, capLen: number, origLen: number, tsSec: number, tsNsec: number, linkType: number, ifIndex: number, num: number): void =>
    p.frame(data, off, capLen, origLen, tsSec, tsNsec, linkType, ifIndex, num);
  let nextPeriodic = Date.now() + 1000;
  while (ring.drain(sink, 200) !== -1) {
    if (p.periodic !== undefined && Date.now() >= nextPeriodic) {
      nextPeriodic = Date.now() + 1000;
      p.periodic();
    }
    // drain() sleeps while the ring is empty (at most 200 ms); -1 means closed and empty.
    // This loop never yields to the event loop, so control messages are polled here,
    // between drains: a reload runs between two packets, frames wait in the ring meanwhile.
    for (let m = control ? receiveMessageOnPort(control) : undefined; m !== undefined; m = control ? receiveMessageOnPort(control) : undefined) {
      const msg = m.message as { type?: string; seq?: number };
      if (msg.type !== 'reload') continue;
      let out: { ok: boolean; lines: string[] };
      try {
        out = p.reload?.() ?? { ok: false, lines: ['nothing to reload (no --rules or --intel)'] };
      } catch (err) {
        out = { ok: false, lines: [`reload failed: ${err instanceof Error ? err.message : String(err)}`] };
      }
      parentPort!.postMessage({ type: 'reloaded', seq: msg.seq, ok: out.ok, lines: out.lines });
    }
  }
  p.finish();
  parentPort!.postMessage({ type: 'done', counters: p.counters(), engines: p.engines?.() ?? [] });
} catch (err) {
  ring.fail();
  parentPort!.postMessage({ type: 'error', error: err instanceof Error ? err.message : String(err) });
  process.exitCode = 1;
}
