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
 *
 * What a worker sees is otherwise what one thread sees: the same frames
 * (bytes, lengths, timestamps, link type), in capture order within each
 * address pair, and each with its number in the whole capture (EVE
 * `pcap_cnt`, carried through the ring). With one worker the alerts are
 * exactly one thread's (test/sensor/workers-parity.test.ts). With more, only
 * signature state that spans address pairs differs, because each worker's
 * engine keeps its own: thresholds and detection_filter (rule options or
 * threshold.config) tracked by_src, by_dst or by_rule, xbits
 * tracked by ip_src or ip_dst, and datasets filled by `dataset:set`
 * (by_both, by_flow, ip_pair and flowbits/flowint stay whole: a pair is on
 * one worker). Each worker also has the whole flow memcap of the config, and
 * runs its once-a-second expiry on its own packets' clock.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { FrameSink } from '../capture/frame.js';
import { mergeCounters, type Counters } from '../events/stats.js';
import { dispatchHash } from './dispatch.js';
import { FrameRing } from './frame-ring.js';
import { HarrierError } from '../errors.js';
import type { DetectEngineInfo } from '../detect/engine/reload.js';

export interface WorkerContext {
  /** This worker's index, 0 … count-1. */
  index: number;
  count: number;
  /** File descriptor to append EVE lines to (shared by all workers), or -1 for none. */
  eveFd: number;
}

/** What the module named in WorkerSpec must return from `createWorkerPipeline`. */
export interface WorkerPipeline extends FrameSink {
  /**
   * One frame, as FrameSink's, plus `num`: its number in the whole capture
   * (1, 2, …, as the capture thread read it). A worker sees only its share of
   * the frames, so its own count is not the capture's: pass `num` on to
   * `Pipeline.frame` so that EVE `pcap_cnt` names the same packet as without
   * workers.
   */
  frame(data: Buffer, off: number, capLen: number, origLen: number, tsSec: number, tsNsec: number, linkType: number, ifIndex: number, num?: number): void;
  finish(): void;
  counters(): Counters;
  /** Rule reload (see ParallelPipeline.reload); null: nothing to reload. Must not throw. */
  reload?(): WorkerReloadOutcome | null;
  /** Suricata's `detect.engines` entries of this worker. */
  engines?(): DetectEngineInfo[];
  /** Called about once a second between ring drains (e.g. to write out buffered EVE lines of a quiet live capture). */
  periodic?(): void;
}

export interface WorkerReloadOutcome {
  ok: boolean;
  /** Lines to log (one per reloaded part). */
  lines: string[];
}

/** One worker's answer to a reload. */
export interface WorkerReload extends WorkerReloadOutcome {
  worker: number;
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
  /** Frames read so far: the number of the last one (EVE `pcap_cnt`), carried through the ring. */
  private framesIn = 0;
  /** Control channel per worker (reload requests), polled by the worker between ring drains. */
  private readonly controls: MessagePort[] = [];
  /** Per worker: reload sequence number → resolver of its answer. */
  private readonly reloadWaiters: Map<number, (r: WorkerReload) => void>[] = [];
  private reloadSeq = 0;
  private readonly exited: boolean[] = [];
  private readonly engineInfo: DetectEngineInfo[][] = [];

  constructor(spec: WorkerSpec, opts: ParallelOptions) {
    this.n = Math.max(1, Math.floor(opts.workers));
    this.dispatched = new Float64Array(this.n);
    const entry = new URL('./worker-entry.js', import.meta.url);
    for (let i = 0; i < this.n; i++) {
      const ring = new FrameRing(opts.ringBytes ?? 16 * 1024 * 1024);
      const ctx: WorkerContext = { index: i, count: this.n, eveFd: opts.eveFd ?? -1 };
      const control = new MessageChannel();
      const w = new Worker(entry, { workerData: { sab: ring.sab, spec, ctx, control: control.port2 }, transferList: [control.port2] });
      // The worker never runs its event loop while it drains frames; it polls this port instead (worker-entry.ts).
      control.port1.unref();
      this.controls.push(control.port1);
      const waiters = new Map<number, (r: WorkerReload) => void>();
      this.reloadWaiters.push(waiters);
      this.exited.push(false);
      this.engineInfo.push([]);
      this.rings.push(ring);
      this.workers.push(w);
      let readyNow: () => void = () => undefined;
      this.readies.push(new Promise<void>((r) => (readyNow = r)));
      this.results.push(
        new Promise<WorkerResult>((resolve, reject) => {
          let done: WorkerResult | null = null;
          w.on('message', (m: { type: string; counters?: Counters; error?: string; seq?: number; ok?: boolean; lines?: string[]; engines?: DetectEngineInfo[] }) => {
            if (m.type === 'ready') readyNow();
            else if (m.type === 'reloaded') {
              const answer = waiters.get(m.seq ?? -1);
              waiters.delete(m.seq ?? -1);
              answer?.({ worker: i, ok: m.ok === true, lines: m.lines ?? [] });
            } else if (m.type === 'done') {
              done = { counters: m.counters ?? {} };
              this.engineInfo[i] = m.engines ?? [];
            }
            else if (m.type === 'error') this.failures.push(`worker ${i}: ${m.error}`);
          });
          w.on('error', (err) => {
            ring.fail();
            this.failures.push(`worker ${i}: ${err.message}`);
          });
          w.on('exit', (code) => {
            readyNow();
            this.exited[i] = true;
            for (const answer of waiters.values()) answer({ worker: i, ok: false, lines: [`worker stopped (exit code ${code}) before answering the reload`] });
            waiters.clear();
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
    this.rings[i].push(data, off, capLen, origLen, tsSec, tsNsec, linkType, ifIndex, ++this.framesIn);
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

  /**
   * Ask every worker to reload its rules (each re-reads the files and swaps
   * independently, between two drains of its ring); resolves with each
   * worker's answer, in worker order. A worker that has stopped answers
   * `ok: false`.
   */
  reload(): Promise<WorkerReload[]> {
    const seq = ++this.reloadSeq;
    return Promise.all(
      this.controls.map(
        (port, i) =>
          new Promise<WorkerReload>((resolve) => {
            if (this.exited[i]) return resolve({ worker: i, ok: false, lines: ['worker has stopped'] });
            this.reloadWaiters[i]!.set(seq, resolve);
            port.postMessage({ type: 'reload', seq });
          }),
      ),
    );
  }

  /** Each worker's `detect.engines` entries, known after finish(). */
  engines(): DetectEngineInfo[] {
    return this.engineInfo.flat();
  }

  /** Stop the workers at once (errors, interrupts). */
  async terminate(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
