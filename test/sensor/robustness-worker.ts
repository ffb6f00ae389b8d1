/**
 * Worker thread of robustness.test.ts: runs each capture through a fresh
 * pipeline, as `harrier analyze <file>` would, and reports to the parent
 * before and after every file. Running in a worker is what lets the parent
 * detect a hang — a synchronous endless loop cannot be interrupted from the
 * same thread, but the parent can notice that no progress came and terminate
 * the worker — and lets it bound memory with `resourceLimits`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { statSync } from 'node:fs';
import { assertSupportedLinkType, readCaptureFile } from '../../src/capture/reader.js';
import { HarrierError } from '../../src/errors.js';
import type { EveSink } from '../../src/output/eve-writer.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { smallTableConfig } from './harrier-run.js';
import { defaultConfig } from '../../src/sensor/config.js';

export interface WorkerIn {
  files: string[];
  /** Files (e.g. the benchmark corpus) run with the full default configuration. */
  defaultConfigFiles: string[];
}

export type WorkerMsg =
  | { kind: 'start'; index: number }
  | {
      kind: 'done';
      index: number;
      ms: number;
      packets: number;
      bytes: number;
      flows: number;
      streamBytes: number;
      eveRecords: number;
      truncated: boolean;
      corrupt: boolean;
      refused: string | null;
      /** Message of an error that is not a HarrierError (a crash), with its first stack lines. */
      crash: string | null;
      heapUsed: number;
      rss: number;
    };

/** Serialises every record (so the EVE path is exercised) and keeps none. */
class CountingEve implements EveSink {
  records = 0;
  bytes = 0;
  write(record: object): void {
    this.bytes += JSON.stringify(record).length;
    this.records++;
  }
  close(): void {}
}

const input = workerData as WorkerIn;
const port = parentPort;
if (port === null) throw new Error('robustness-worker must run as a worker thread');
const full = new Set(input.defaultConfigFiles);

for (let index = 0; index < input.files.length; index++) {
  const file = input.files[index];
  port.postMessage({ kind: 'start', index } satisfies WorkerMsg);
  const t0 = process.hrtime.bigint();
  const eve = new CountingEve();
  let refused: string | null = null;
  let crash: string | null = null;
  let truncated = false;
  let corrupt = false;
  let p: Pipeline | null = null;
  try {
    p = new Pipeline(full.has(file) ? defaultConfig() : smallTableConfig(), { eve });
    const pipe = p;
    const s = readCaptureFile(file, pipe, { onLinkType: (lt) => assertSupportedLinkType(lt, file) });
    truncated = s.truncated;
    corrupt = s.corrupt;
    pipe.finish();
  } catch (e) {
    if (e instanceof HarrierError) {
      refused = e.code;
      // The CLI would still end the flows of the frames read so far.
      try {
        p?.finish();
      } catch (e2) {
        crash = `after ${e.code}: ${e2 instanceof Error ? (e2.stack ?? e2.message).split('\n').slice(0, 4).join(' | ') : String(e2)}`;
      }
    } else crash = e instanceof Error ? (e.stack ?? e.message).split('\n').slice(0, 6).join(' | ') : String(e);
  }
  const mem = process.memoryUsage();
  port.postMessage({
    kind: 'done',
    index,
    ms: Number(process.hrtime.bigint() - t0) / 1e6,
    packets: p?.packets ?? 0,
    bytes: p?.bytes ?? statSync(file).size,
    flows: p?.flowRecords ?? 0,
    streamBytes: p?.streamBytes ?? 0,
    eveRecords: eve.records,
    truncated,
    corrupt,
    refused,
    crash,
    heapUsed: mem.heapUsed,
    rss: mem.rss,
  } satisfies WorkerMsg);
}
