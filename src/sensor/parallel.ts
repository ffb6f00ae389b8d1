/**
 * The pipeline on several cores: the capture thread reads frames and hands
 * each to one of N worker threads by a symmetric hash of its IP address pair
 * (sensor/dispatch.ts), through a shared-memory ring per worker
 * (sensor/frame-ring.ts). Each worker runs a whole pipeline — decode, flows,
 * streams, app layer, detectors — on its share of the flows, as Suricata's
 * "workers" run mode does, so no per-packet state is shared between threads.
 *
 * What a worker runs is given as a module that exports
 * `createWorkerPipeline(options, ctx)`; options must be structured-cloneable
 * (paths and plain settings — each worker loads its own rules, intel, k8s
 * snapshot). Workers write EVE themselves to one file descriptor opened with
 * O_APPEND by this thread: each write is a block of whole lines, which the
 * kernel appends atomically on a regular file, so records never interleave
 * mid-line. Order across workers is not time order (as in Suricata).
 *
 * Limits, stated: detectors that aggregate across hosts (a horizontal sweep
 * from one source to many hosts) see only their worker's share of the
 * address pairs; per-host state is not shared between workers.
 */
import { Worker } from 'node:worker_threads';
import type { FrameSink } from '../capture/frame.js';
import { mergeCounters, type Counters } from '../events/stats.js';
import { dispatchHash } from './dispatch.js';
import { FrameRing } from './frame-ring.js';
import { HarrierError } from '../errors.js';

export interface WorkerContext {
  /** This worker's index, 0 … count-1. */
  index: number;
  count: number;
  /** File descriptor to append EVE lines to (shared by all workers), or -1 for none. */
  eveFd: number;
}

/** What the module named in WorkerSpec must return from `createWorkerPipeline`. */
export interface WorkerPipeline extends FrameSink {
  finish(): void;
  counters(): Counters;
}

export interface WorkerSpec {
  /** URL (file://…) of a module exporting `createWorkerPipeline(options, ctx: WorkerContext): Promise<WorkerPipeline> | WorkerPipeline`. */
  module: string;
  options: unknown;
}

export interface ParallelOptions {
  workers: number;
  /** Ring size per worker in bytes (default 16 MiB). */
  ringBytes?: number;
  /** EVE file descriptor shared by the workers (-1 none). */
  eveFd?: number;
}

interface WorkerResult {
  counters: Counters;
}

export class ParallelPipeline implements FrameSink {
  private readonly rings: FrameRing[] = [];
  private readonly workers: Worker[] = [];
  private readonly results: Promise<WorkerResult>[] = [];
  private readonly readies: Promise<void>[] = [];
  private readonly n: number;
  private readonly failures: string[] = [];
  /** Frames per worker, for the balance figure. */
  readonly dispatched: Float64Array;

  constructor(spec: WorkerSpec, opts: ParallelOptions) {
    this.n = Math.max(1, Math.floor(opts.workers));
    this.dispatched = new Float64Array(this.n);
    const entry = new URL('./worker-entry.js', import.meta.url);
    for (let i = 0; i < this.n; i++) {
      const ring = new FrameRing(opts.ringBytes ?? 16 * 1024 * 1024);
      const ctx: WorkerContext = { index: i, count: this.n, eveFd: opts.eveFd ?? -1 };
      const w = new Worker(entry, { workerData: { sab: ring.sab, spec, ctx } });
      this.rings.push(ring);
      this.workers.push(w);
      let readyNow: () => void = () => undefined;
      this.readies.push(new Promise<void>((r) => (readyNow = r)));
      this.results.push(
        new Promise<WorkerResult>((resolve, reject) => {
          let done: WorkerResult | null = null;
          w.on('message', (m: { type: string; counters?: Counters; error?: string }) => {
            if (m.type === 'ready') readyNow();
            else if (m.type === 'done') done = { counters: m.counters ?? {} };
            else if (m.type === 'error') this.failures.push(`worker ${i}: ${m.error}`);
          });
          w.on('error', (err) => {
            ring.fail();
            this.failures.push(`worker ${i}: ${err.message}`);
          });
          w.on('exit', (code) => {
            readyNow();
            if (done) resolve(done);
            else reject(new HarrierError('HARRIER_ERR_WORKER', `worker ${i} stopped (exit code ${code}): ${this.failures.join('; ') || 'no result'}`));
          });
        }),
      );
      // An unhandled rejection must not end the process before finish() reports it.
      this.results[i].catch(() => undefined);
    }
  }

  /**
   * Resolves when every worker has built its pipeline (rules loaded, …), or
   * failed; frames pushed before then wait in the rings. Benchmarks await it
   * to time processing apart from start-up.
   */
  async ready(): Promise<void> {
    await Promise.all(this.readies);
  }

  frame(data: Buffer, off: number, capLen: number, origLen: number, tsSec: number, tsNsec: number, linkType: number, ifIndex: number): void {
    const h = this.n === 1 ? 0 : dispatchHash(data, off, capLen, linkType);
    const i = h < 0 ? 0 : h % this.n;
    this.dispatched[i]++;
    this.rings[i].push(data, off, capLen, origLen, tsSec, tsNsec, linkType, ifIndex);
  }

  /** End of input: every worker drains, finishes its flows and reports its counters (summed here). */
  async finish(): Promise<Counters> {
    for (const r of this.rings) r.close();
    const results = await Promise.all(this.results);
    const c = mergeCounters(...results.map((r) => r.counters));
    for (let i = 0; i < this.n; i++) c[`harrier.workers.frames.${i}`] = this.dispatched[i];
    c['harrier.workers.count'] = this.n;
    return c;
  }

  /** Stop the workers at once (errors, interrupts). */
  async terminate(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
