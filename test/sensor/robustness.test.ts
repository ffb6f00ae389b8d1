// Acceptance test of issue 2 ("Packet pipeline"), part 3: every capture file
// under ../shared/data (the ~4,000 esnet TCP-flag captures, nDPI's and
// chrissanders' captures, suricata-verify's pcaps, bench/public-mix.pcap)
// goes through the pipeline with no crash, no hang and bounded memory.
//
// The files run in a worker thread (robustness-worker.ts) so that a hang can
// be detected (no progress within the per-file bound: the worker is
// terminated and the file named) and memory bounded (resourceLimits: the
// worker dies with ERR_WORKER_OUT_OF_MEMORY past it; the heap after each
// file is also checked). A file refused with a HarrierError for its link type
// or format counts as handled; anything else thrown fails the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { relative } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SHARED_DATA, sharedPath, skipWithoutShared } from '../support/shared.js';
import { findCaptures } from './captures.js';
import type { WorkerIn, WorkerMsg } from './robustness-worker.js';

/** Heap limit of the worker; the live heap after any file must stay under HEAP_BOUND. */
const WORKER_HEAP_MB = 1024;
const HEAP_BOUND = 512 * 1024 * 1024;
/** A file taking longer than this (plus 2 s per MB) is a hang. Generous: the CI machine is shared. */
const HANG_BASE_MS = 30_000;

interface Totals {
  files: number;
  packets: number;
  bytes: number;
  flows: number;
  eveRecords: number;
  streamBytes: number;
  truncated: number;
  corrupt: number;
  refused: Map<string, number>;
  crashes: string[];
  maxHeap: number;
  maxRss: number;
  slowest: { file: string; ms: number };
}

function runWorker(files: string[], defaultConfigFiles: string[]): Promise<{ totals: Totals; hang: string | null; died: string | null }> {
  const sizes = files.map((f) => statSync(f).size);
  const totals: Totals = {
    files: 0,
    packets: 0,
    bytes: 0,
    flows: 0,
    eveRecords: 0,
    streamBytes: 0,
    truncated: 0,
    corrupt: 0,
    refused: new Map(),
    crashes: [],
    maxHeap: 0,
    maxRss: 0,
    slowest: { file: '', ms: 0 },
  };
  return new Promise((resolve) => {
    const w = new Worker(new URL('./robustness-worker.js', import.meta.url), {
      workerData: { files, defaultConfigFiles } satisfies WorkerIn,
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    });
    let current = -1;
    let timer: NodeJS.Timeout | null = null;
    let hang: string | null = null;
    let settled = false;
    const finish = (died: string | null): void => {
      if (settled) return;
      settled = true;
      if (timer !== null) clearTimeout(timer);
      resolve({ totals, hang, died });
    };
    w.on('message', (m: WorkerMsg) => {
      if (m.kind === 'start') {
        current = m.index;
        if (timer !== null) clearTimeout(timer);
        const limit = HANG_BASE_MS + 2000 * (sizes[m.index] / 1e6);
        timer = setTimeout(() => {
          hang = `${relative(SHARED_DATA, files[current])} did not finish within ${(limit / 1000).toFixed(0)} s`;
          void w.terminate();
        }, limit);
        return;
      }
      totals.files++;
      totals.packets += m.packets;
      totals.bytes += m.bytes;
      totals.flows += m.flows;
      totals.eveRecords += m.eveRecords;
      totals.streamBytes += m.streamBytes;
      if (m.truncated) totals.truncated++;
      if (m.corrupt) totals.corrupt++;
      if (m.refused !== null) totals.refused.set(m.refused, (totals.refused.get(m.refused) ?? 0) + 1);
      if (m.crash !== null) totals.crashes.push(`${relative(SHARED_DATA, files[m.index])}: ${m.crash}`);
      totals.maxHeap = Math.max(totals.maxHeap, m.heapUsed);
      totals.maxRss = Math.max(totals.maxRss, m.rss);
      if (m.ms > totals.slowest.ms) totals.slowest = { file: relative(SHARED_DATA, files[m.index]), ms: m.ms };
    });
    w.on('error', (e) => finish(`worker died on ${current >= 0 ? relative(SHARED_DATA, files[current]) : '?'}: ${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`));
    w.on('exit', (code) => finish(code === 0 || hang === null ? (code === 0 ? null : `worker exited with ${code}`) : null));
  });
}

test('every capture under ../shared/data runs through the pipeline: no crash, no hang, bounded memory', { skip: skipWithoutShared() }, async (t) => {
  const t0 = Date.now();
  const files = findCaptures(SHARED_DATA, { sniff: true });
  const bench = sharedPath('bench/public-mix.pcap');
  t.diagnostic(`${files.length} capture files found in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  assert.ok(files.length > 5000, `only ${files.length} captures found`);
  const { totals, hang, died } = await runWorker(files, bench === null ? [] : [bench]);
  const refused = [...totals.refused].map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  t.diagnostic(
    `${totals.files} files, ${totals.packets} packets, ${(totals.bytes / 1e6).toFixed(1)} MB, ${totals.flows} flows, ${totals.eveRecords} EVE records, ${(totals.streamBytes / 1e6).toFixed(1)} MB reassembled`,
  );
  t.diagnostic(`refused: ${refused}; truncated: ${totals.truncated}; corrupt (rest ignored): ${totals.corrupt}`);
  t.diagnostic(
    `peak heap ${(totals.maxHeap / 1048576).toFixed(0)} MB, peak RSS ${(totals.maxRss / 1048576).toFixed(0)} MB, slowest ${totals.slowest.file} ${totals.slowest.ms.toFixed(0)} ms, total ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  assert.equal(hang, null, hang ?? '');
  assert.equal(died, null, died ?? '');
  assert.deepEqual(totals.crashes, []);
  assert.equal(totals.files, files.length);
  for (const code of totals.refused.keys()) assert.ok(code === 'HARRIER_ERR_LINKTYPE' || code === 'HARRIER_ERR_CAPTURE_FORMAT', `unexpected refusal ${code}`);
  assert.ok(totals.maxHeap < HEAP_BOUND, `heap reached ${(totals.maxHeap / 1048576).toFixed(0)} MB`);
});
