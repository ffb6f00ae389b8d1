// The anomaly engine end to end on synthetic flows (no identity: private
// addresses are their own subjects): nothing while learning, categorical
// firsts after it, rate spikes with the floor, exfiltration to a new
// destination, per-service flow outliers, and the state file (round trip,
// corrupt, wrong bucket, newer version).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Flow } from '../../src/flow/flow.js';
import { AnomalyEngine } from '../../src/detect/behaviour/anomaly.js';
import type { BaselineSettings } from '../../src/detect/behaviour/baseline-config.js';
import type { Finding } from '../../src/detect/behaviour/report.js';
import { HarrierError } from '../../src/errors.js';

function ip(s: string): number {
  return s.split('.').reduce((a, x) => a * 256 + Number(x), 0) >>> 0;
}

interface F {
  c: string;
  s: string;
  dport: number;
  t: number;
  dur?: number;
  out?: number;
  in?: number;
  proto?: number;
  app?: string | null;
}

let nextPort = 30000;
function flow(o: F): Flow {
  const f = new Flow(4);
  f.proto = o.proto ?? 6;
  f.client4 = ip(o.c);
  f.server4 = ip(o.s);
  f.clientPort = nextPort++;
  f.serverPort = o.dport;
  f.startSec = o.t;
  f.lastSec = o.t + (o.dur ?? 0);
  f.bytesToServer = o.out ?? 600;
  f.bytesToClient = o.in ?? 1500;
  f.pktsToServer = Math.max(1, Math.ceil((o.out ?? 600) / 1400));
  f.pktsToClient = Math.max(1, Math.ceil((o.in ?? 1500) / 1400));
  f.tcpFlagsToClient = 0x12;
  f.seenDirs = 3;
  f.appProto = o.app === undefined ? 'http' : o.app;
  return f;
}

const BASE: Partial<BaselineSettings> = { bucketSec: 10, learningSec: 300, model: { enabled: true, threshold: 0.75, margin: 0.05, trees: 40, sampleSize: 128, reservoir: 128, retrainSec: 3600, seed: 1, minTrain: 16, maxPerSubject: 8 } };
const T0 = 1_764_320_000; // a whole hour of packet time

/** A workload 10.0.0.5 calling its database and one external API, at a steady 3 flows per second. */
function steady(eng: AnomalyEngine, from: number, to: number): void {
  for (let t = from; t < to; t++) {
    eng.flowEnd(flow({ c: '10.0.0.5', s: '10.0.0.9', dport: 5432, t, out: 800 + (t % 7) * 10, in: 2000 + (t % 5) * 20, app: 'pgsql' }));
    eng.flowEnd(flow({ c: '10.0.0.5', s: '10.0.0.9', dport: 5432, t, out: 820, in: 2050, app: 'pgsql' }));
    eng.flowEnd(flow({ c: '10.0.0.5', s: '203.0.113.20', dport: 443, t, out: 1500 + (t % 3) * 50, in: 6000, app: 'tls' }));
    eng.tick(t);
  }
}

function engine(extra: Partial<BaselineSettings> = {}): { eng: AnomalyEngine; found: Finding[] } {
  const found: Finding[] = [];
  const eng = new AnomalyEngine({ report: (f) => found.push(f) }, { ...BASE, ...extra });
  return { eng, found };
}

test('learning raises nothing; afterwards steady traffic stays quiet and each first is reported once', () => {
  const { eng, found } = engine();
  steady(eng, T0, T0 + 310);
  assert.equal(eng.learning, false);
  assert.equal(found.length, 0, 'nothing while learning nor right after it');
  steady(eng, T0 + 310, T0 + 400);
  assert.deepEqual(found.map((f) => f.detector), [], 'steady traffic after learning raises nothing');

  // A new internal peer and a new external destination.
  eng.flowEnd(flow({ c: '10.0.0.5', s: '10.0.0.77', dport: 22, t: T0 + 401, app: 'ssh' }));
  eng.flowEnd(flow({ c: '10.0.0.5', s: '198.51.100.66', dport: 4444, t: T0 + 402, app: null }));
  eng.flowEnd(flow({ c: '10.0.0.5', s: '198.51.100.66', dport: 4444, t: T0 + 403, app: null }));
  const dets = found.map((f) => f.detector).sort();
  assert.deepEqual(dets, ['anomaly.new_app_protocol', 'anomaly.new_external_destination', 'anomaly.new_internal_peer', 'anomaly.new_port', 'anomaly.new_port'].sort());
  const peer = found.find((f) => f.detector === 'anomaly.new_internal_peer')!;
  assert.equal(peer.subject, 'ip:10.0.0.5 -> ip:10.0.0.77');
  assert.equal(peer.observed, 'ip:10.0.0.77');
  assert.match(peer.explanation, /^ip:10\.0\.0\.5: new internal peer ip:10\.0\.0\.77 \(tcp\/22\); 1 known before$/);
  const ext = found.find((f) => f.detector === 'anomaly.new_external_destination')!;
  assert.equal(ext.observed, '198.51.100.66');
  assert.equal(ext.sid, 100);
  assert.ok(ext.site.flow !== null);
});

test('rate spikes: +1 over a zero-variance baseline is not an anomaly, a burst is, once per bucket, with baseline and observed per minute', () => {
  const { eng, found } = engine();
  steady(eng, T0, T0 + 400);
  found.length = 0;
  // One more connection than usual in a bucket: nothing.
  eng.flowEnd(flow({ c: '10.0.0.5', s: '10.0.0.9', dport: 5432, t: T0 + 401, out: 820, in: 2050, app: 'pgsql' }));
  steady(eng, T0 + 401, T0 + 420);
  assert.equal(found.length, 0, found.map((f) => f.explanation).join('; '));
  // 300 connections to the database within one bucket.
  for (let i = 0; i < 300; i++) eng.flowEnd(flow({ c: '10.0.0.5', s: '10.0.0.9', dport: 5432, t: T0 + 421, app: 'pgsql' }));
  const spikes = found.filter((f) => f.detector === 'anomaly.connection_rate');
  assert.equal(spikes.length, 2, 'outbound for the client and inbound for the server, each once in the bucket');
  const out = spikes.find((f) => f.subject === 'ip:10.0.0.5 conn_out')!;
  assert.ok(typeof out.observed === 'number' && typeof out.baseline === 'number');
  assert.ok(Math.abs((out.baseline as number) - 180) < 1, `baseline ${out.baseline}/min (3 flows a second)`);
  assert.ok((out.score ?? 0) >= 6);
  assert.match(out.explanation, /^ip:10\.0\.0\.5: outbound connections \d+\/min, baseline 180\/min$/);
});

test('exfiltration: a large upload to a new destination is reported; to a known one it is not', () => {
  const { eng, found } = engine();
  steady(eng, T0, T0 + 400);
  found.length = 0;
  eng.flowEnd(flow({ c: '10.0.0.5', s: '203.0.113.20', dport: 443, t: T0 + 401, dur: 20, out: 60_000_000, in: 9000, app: 'tls' }));
  assert.ok(!found.some((f) => f.detector === 'anomaly.exfiltration'), 'known destination: not exfiltration');
  const vol = found.filter((f) => f.detector === 'anomaly.bytes_out');
  assert.equal(vol.length, 1, 'but the volume is far above the usual bytes out');
  assert.equal(vol[0].unit, 'bytes/min');
  assert.match(vol[0].explanation, /^ip:10\.0\.0\.5: bytes out 360\.\d MB\/min, baseline \d+\.\d kB\/min$/);
  eng.flowEnd(flow({ c: '10.0.0.5', s: '192.0.2.99', dport: 443, t: T0 + 450, dur: 20, out: 60_000_000, in: 9000, app: 'tls' }));
  const ex = found.filter((f) => f.detector === 'anomaly.exfiltration');
  assert.equal(ex.length, 1);
  assert.equal(ex[0].observed, 60_000_000);
  assert.equal(ex[0].unit, 'bytes');
  assert.match(ex[0].explanation, /60\.0 MB sent to new destination 192\.0\.2\.99/);
});

test('flow model: a flow unlike its service\'s history is an outlier and the explanation names what differs', () => {
  const { eng, found } = engine();
  steady(eng, T0, T0 + 400);
  found.length = 0;
  // Same peer and port as always, but 5000× the usual bytes and a long duration.
  eng.flowEnd(flow({ c: '10.0.0.5', s: '10.0.0.9', dport: 5432, t: T0 + 401, dur: 300, out: 4_000_000, in: 2000, app: 'pgsql' }));
  const o = found.filter((f) => f.detector === 'model.flow_outlier' && f.subject === 'ip:10.0.0.5');
  assert.equal(o.length, 1, JSON.stringify(found.map((f) => f.explanation)));
  assert.match(o[0].explanation, /unusual outbound flow tcp\/5432 to ip:10\.0\.0\.9/);
  assert.match(o[0].explanation, /bytes_out=4\.0e\+6|duration=300/);
  assert.ok(Object.keys(o[0].extra ?? {}).some((k) => k.startsWith('contrib_')));
  // Ordinary flows right after are not outliers.
  found.length = 0;
  steady(eng, T0 + 402, T0 + 430);
  assert.deepEqual(found.filter((f) => f.detector === 'model.flow_outlier'), []);
});

test('state file: saved, reloaded (learning done, firsts remembered), and bad files are one-line HARRIER_ERR_BEHAVIOUR_STATE errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-baseline-'));
  try {
    const path = join(dir, 'state.json');
    const a = engine({ statePath: path });
    steady(a.eng, T0, T0 + 400);
    a.eng.finish();
    const doc = JSON.parse(readFileSync(path, 'utf8'));
    assert.equal(doc.format, 'harrier-behaviour-baselines');
    assert.equal(doc.version, 1);
    assert.ok(doc.subjects.some((s: { key: string }) => s.key === 'ip:10.0.0.5'));

    const b = engine({ statePath: path });
    assert.equal(b.eng.learning, false, 'learning is not repeated after a restart');
    const sb = b.eng.baselineOf('ip:10.0.0.5')!;
    assert.ok(Math.abs(sb.rates[0].mean - a.eng.baselineOf('ip:10.0.0.5')!.rates[0].mean) < 1e-3);
    assert.ok(b.eng.modelOf('ip:10.0.0.5', 'out tcp/5432')?.trained, 'the flow model is retrained from the saved sample');
    b.eng.flowEnd(flow({ c: '10.0.0.5', s: '203.0.113.20', dport: 443, t: T0 + 500, out: 1550, in: 6000, app: 'tls' }));
    b.eng.flowEnd(flow({ c: '10.0.0.5', s: '10.0.0.9', dport: 5432, t: T0 + 500, out: 820, in: 2050, app: 'pgsql' }));
    assert.deepEqual(b.found.map((f) => f.detector), [], 'known peer and destination stay known');
    b.eng.flowEnd(flow({ c: '10.0.0.5', s: '192.0.2.1', dport: 443, t: T0 + 501, out: 1550, in: 6000, app: 'tls' }));
    assert.deepEqual(b.found.map((f) => f.detector), ['anomaly.new_external_destination']);

    const bad = (content: string, re: RegExp): void => {
      writeFileSync(path, content);
      assert.throws(
        () => engine({ statePath: path }),
        (e: unknown) => e instanceof HarrierError && e.code === 'HARRIER_ERR_BEHAVIOUR_STATE' && re.test(e.message) && !e.message.includes('\n'),
      );
    };
    bad('{"format":"harrier-behaviour-baselines","version":1,"subj', /not JSON/);
    bad('{"hello":1}', /not a harrier-behaviour-baselines file/);
    bad(JSON.stringify({ ...doc, version: 99 }), /version 99 is not supported/);
    bad(JSON.stringify({ ...doc, bucket_sec: 60 }), /60s buckets, configured 10s/);
    // Garbage inside a valid envelope is skipped, never thrown on.
    writeFileSync(path, JSON.stringify({ ...doc, subjects: [null, 7, { key: 'x', rates: 'no', sets: { peer_out: 'no' }, models: { 'out tcp/1': { rows: [[1]] } } }] }));
    const c = engine({ statePath: path });
    assert.equal(c.eng.subjectCount, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bounded: subjects beyond max-subjects and firsts beyond the per-bucket cap are counted, not kept or raised', () => {
  const { eng, found } = engine({ maxSubjects: 3, learningSec: 0 });
  for (let i = 0; i < 10; i++) eng.flowEnd(flow({ c: `10.1.0.${i}`, s: '10.2.0.1', dport: 80, t: T0 }));
  const c = eng.counters();
  assert.equal(c['harrier.behaviour.baseline.subjects'], 3);
  assert.ok((c['harrier.behaviour.baseline.subjects_dropped'] as number) > 0);
  found.length = 0;
  const { eng: e2, found: f2 } = engine({ learningSec: 0 });
  for (let i = 0; i < 50; i++) e2.flowEnd(flow({ c: '10.0.0.5', s: `10.3.0.${i}`, dport: 80, t: T0 }));
  assert.ok(f2.filter((f) => f.detector === 'anomaly.new_internal_peer').length <= 8);
  assert.ok((e2.counters()['harrier.behaviour.baseline.new_suppressed'] as number) > 0);
  // IPv6, ICMP and a flow with no packets do not throw.
  const v6 = new Flow(6);
  v6.proto = 58;
  v6.client6.set([0xfd000000, 0, 0, 1]);
  v6.server6.set([0x20010db8, 0, 0, 2]);
  v6.startSec = v6.lastSec = T0;
  e2.flowEnd(v6);
  e2.tick(T0 + 100);
  e2.finish();
});
