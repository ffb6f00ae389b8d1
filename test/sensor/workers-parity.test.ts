/**
 * Worker parity: the capture thread → ring → worker path must not change
 * what the engine sees. The same capture and rules, run by one thread
 * (`harrier analyze`, the default) and through sensor/parallel.ts with one
 * and two worker threads (what `--workers N` runs), raise the same alerts,
 * compared as a multiset of (sid, 5-tuple, pcap_cnt).
 *
 * pcap_cnt is the packet's number in the capture. A worker sees only its
 * share of the frames, so it must be handed that number with each frame
 * (sensor/frame-ring.ts); numbering frames in the worker gave each alert of
 * a two-worker run the worker's count instead, a packet number that names
 * another packet of the capture.
 *
 * What may differ with two workers, by design (state kept per worker; the
 * dispatch keeps an address pair on one worker, not one host): thresholds
 * and detection_filter tracked by_src, by_dst or by_rule, xbits tracked by
 * ip_src or ip_dst, datasets filled by `dataset:set`. The ET Open check below
 * leaves exactly those rules out for two workers and compares the rest.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCaptureFile } from '../../src/capture/reader.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { EveCollector } from '../../src/output/eve-writer.js';
import { loadConfig } from '../../src/sensor/config.js';
import { buildAnalysis, type AnalysisSettings } from '../../src/sensor/analysis.js';
import { ParallelPipeline } from '../../src/sensor/parallel.js';
import { FrameRing } from '../../src/sensor/frame-ring.js';
import { eth, icmp4, ipv4, tcp, udp } from '../decode/build.js';
import { sharedPath, skipWithoutShared } from '../support/shared.js';

const WORKER = new URL('../../src/sensor/analysis-worker.js', import.meta.url).href;
const quiet = { info: (): void => undefined, warn: (): void => undefined };

type Rec = Record<string, unknown>;

/** An alert as (sid, 5-tuple, pcap_cnt): one multiset entry. */
function alertKey(r: Rec): string {
  const sid = (r.alert as { signature_id: number }).signature_id;
  return `${sid} ${String(r.proto)} ${String(r.src_ip)}:${String(r.src_port)} > ${String(r.dest_ip)}:${String(r.dest_port)} #${String(r.pcap_cnt)}`;
}

function alertKeys(recs: Rec[], keep: (sid: number) => boolean = () => true): string[] {
  return recs
    .filter((r) => r.event_type === 'alert' && keep((r.alert as { signature_id: number }).signature_id))
    .map(alertKey)
    .sort();
}

/** Differences of two sorted multisets, for a readable failure. */
function diff(a: string[], b: string[]): string {
  const count = (xs: string[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
    return m;
  };
  const ca = count(a);
  const cb = count(b);
  const out: string[] = [];
  for (const [k, n] of ca) if ((cb.get(k) ?? 0) < n) out.push(`only one thread: ${k}`);
  for (const [k, n] of cb) if ((ca.get(k) ?? 0) < n) out.push(`only workers:    ${k}`);
  return `${a.length} vs ${b.length} alerts; ${out.length} differ, e.g.\n${out.slice(0, 8).join('\n')}`;
}

/** EVE records of one thread: what `harrier analyze` runs without --workers. */
async function singleThread(captures: string[], s: AnalysisSettings): Promise<Rec[]> {
  const eve = new EveCollector();
  const a = await buildAnalysis(loadConfig(s.configPath), s, eve, quiet);
  for (const c of captures) readCaptureFile(c, a.pipeline);
  a.pipeline.finish();
  await a.close();
  return eve.out;
}

/** EVE records of `workers` worker threads (the `--workers N` path): lines appended to one file. */
async function threaded(captures: string[], s: AnalysisSettings, workers: number, dir: string): Promise<{ recs: Rec[]; perWorker: number[] }> {
  const path = join(dir, `eve-${workers}.json`);
  writeFileSync(path, '');
  const fd = openSync(path, 'a');
  let perWorker: number[];
  try {
    const p = new ParallelPipeline({ module: WORKER, options: s }, { workers, eveFd: fd });
    for (const c of captures) readCaptureFile(c, p);
    const counters = await p.finish();
    perWorker = Array.from({ length: workers }, (_, i) => counters[`harrier.workers.frames.${i}`] ?? 0);
  } finally {
    closeSync(fd);
  }
  const text = readFileSync(path, 'utf8').trim();
  return { recs: text === '' ? [] : text.split('\n').map((l) => JSON.parse(l) as Rec), perWorker };
}

// ---------------------------------------------------------------- the ring

test('the ring hands each frame its capture number, past 2^32 and across wrap-arounds', () => {
  const ring = new FrameRing(4096);
  const f = Buffer.alloc(700, 0xab);
  const got: number[] = [];
  const sink = (_d: Buffer, _o: number, capLen: number, _ol: number, tsSec: number, _ns: number, _lt: number, _i: number, num: number): void => {
    assert.equal(capLen, 700);
    assert.equal(tsSec, got.length);
    got.push(num);
  };
  const base = 2 ** 32 - 3;
  // Five frames fit at a time: push and drain in rounds so the ring wraps many times.
  for (let round = 0; round < 20; round++) {
    for (let k = 0; k < 4; k++) {
      const i = round * 4 + k;
      ring.push(f, 0, f.length, f.length, i, 0, 1, 0, base + i);
    }
    ring.drain(sink, 0);
  }
  assert.deepEqual(got, Array.from({ length: 80 }, (_, i) => base + i));
});

// ---------------------------------------------------------------- built capture

const RULES = [
  // Spans two segments: only the reassembled stream can match it.
  'alert tcp any any -> any any (msg:"split over segments"; flow:established,to_server; content:"SPLITMARK"; sid:9100001; rev:1;)',
  'alert http any any -> any any (msg:"uri"; flow:established,to_server; http.uri; content:"/admin"; sid:9100002; rev:1;)',
  'alert tcp any any -> any any (msg:"reply"; flow:established,to_client; content:"EVIL"; sid:9100003; rev:1;)',
  'alert tcp any any -> any any (msg:"set"; flow:established,to_server; content:"GET "; flowbits:set,par.get; flowbits:noalert; sid:9100004; rev:1;)',
  'alert tcp any any -> any any (msg:"isset"; flow:established,to_client; content:"200 OK"; flowbits:isset,par.get; sid:9100005; rev:1;)',
  'alert udp any any -> any 53 (msg:"udp"; content:"bad"; sid:9100006; rev:1;)',
  'alert icmp any any -> any any (msg:"ping"; itype:8; sid:9100007; rev:1;)',
].join('\n');

/** One TCP conversation (handshake, request in two segments, reply, close) and a UDP and an ICMP packet per host pair. */
function conversation(h: number): Buffer[] {
  const c = `10.20.${h}.2`;
  const s = `10.30.0.${h + 1}`;
  const sport = 40000 + h;
  const t = (o: { from: 'c' | 's'; flags: number; seq: number; ack: number; payload?: string }): Buffer => {
    const [src, dst, sp, dp] = o.from === 'c' ? [c, s, sport, 80] : [s, c, 80, sport];
    const payload = o.payload === undefined ? undefined : Buffer.from(o.payload, 'latin1');
    return eth(0x0800, ipv4({ src, dst, proto: 6, payload: tcp({ src, dst, sport: sp, dport: dp, flags: o.flags, seq: o.seq, ack: o.ack, payload }) }));
  };
  const req1 = `GET /admin/${h} HTTP/1.1\r\nHost: h${h}.example\r\nX-Note: SPLIT`;
  const req2 = 'MARK\r\n\r\n';
  const resp = 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nEVIL';
  const c0 = 1000;
  const s0 = 5000;
  const c1 = c0 + 1 + req1.length + req2.length;
  const s1 = s0 + 1 + resp.length;
  return [
    t({ from: 'c', flags: 0x02, seq: c0, ack: 0 }),
    t({ from: 's', flags: 0x12, seq: s0, ack: c0 + 1 }),
    t({ from: 'c', flags: 0x10, seq: c0 + 1, ack: s0 + 1 }),
    t({ from: 'c', flags: 0x18, seq: c0 + 1, ack: s0 + 1, payload: req1 }),
    t({ from: 'c', flags: 0x18, seq: c0 + 1 + req1.length, ack: s0 + 1, payload: req2 }),
    t({ from: 's', flags: 0x18, seq: s0 + 1, ack: c1, payload: resp }),
    t({ from: 'c', flags: 0x10, seq: c1, ack: s1 }),
    eth(0x0800, ipv4({ src: c, dst: s, proto: 17, payload: udp({ src: c, dst: s, sport: sport + 1000, dport: 53, payload: Buffer.from(`q${h}bad`) }) })),
    eth(0x0800, ipv4({ src: c, dst: s, proto: 1, payload: icmp4(8, 0, Buffer.from([0, 1, 0, h & 0xff])) })),
    t({ from: 'c', flags: 0x11, seq: c1, ack: s1 }),
    t({ from: 's', flags: 0x11, seq: s1, ack: c1 + 1 }),
    t({ from: 'c', flags: 0x10, seq: c1 + 1, ack: s1 + 1 }),
  ];
}

/** 48 host pairs, their packets interleaved (the workers each see a share, not a prefix), 20 ms apart. */
function buildCapture(path: string): number {
  const convs = Array.from({ length: 48 }, (_, h) => conversation(h));
  const w = PcapWriter.open(path, 1);
  let n = 0;
  for (let k = 0; k < 12; k++) {
    for (const cv of convs) {
      const f = cv[k]!;
      const ms = n * 20;
      w.write(1_700_000_000 + Math.floor(ms / 1000), (ms % 1000) * 1e6, f, 0, f.length);
      n++;
    }
  }
  w.close();
  return n;
}

test('one thread, one worker and two workers raise the same alerts, with the capture\'s packet numbers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-parity-'));
  try {
    const cap = join(dir, 'mix.pcap');
    const frames = buildCapture(cap);
    const rules = join(dir, 'parity.rules');
    writeFileSync(rules, RULES + '\n');
    const s: AnalysisSettings = { k8s: [], intel: [], rules: [rules], behaviour: false };
    const one = alertKeys(await singleThread([cap], s));
    // Every rule fires, on every pair where it can: the comparison below is not of two empty sets.
    const sids = new Set(one.map((k) => Number(k.split(' ')[0])));
    assert.deepEqual([...sids].sort(), [9100001, 9100002, 9100003, 9100005, 9100006, 9100007]);
    assert.equal(one.length, 48 * 6, 'six alerts per pair');
    // The capture's packet numbers: each one names a frame of the file.
    for (const k of one) {
      const n = Number(k.split('#')[1]);
      assert.ok(Number.isInteger(n) && n >= 1 && n <= frames, k);
    }
    for (const workers of [1, 2]) {
      const { recs, perWorker } = await threaded([cap], s, workers, dir);
      const got = alertKeys(recs);
      assert.deepEqual(got, one, `${workers} worker(s): ${diff(one, got)}`);
      assert.ok(perWorker.every((f) => f > 0), `every worker got frames: ${perWorker.join(' / ')}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- ET Open on the public mix

const ET = 'rules/et-open-2024-04';
const MIX = 'bench/public-mix.pcap';
const VARS = 'bench/suricata-vars.yaml';
// Small categories that fire on the mix (coin-miner stratum, P2P with by_src thresholds, JA3, scans): ~500 rules, quick to load four times.
const ET_FILES = ['emerging-coinminer.rules', 'emerging-p2p.rules', 'emerging-ja3.rules', 'emerging-scan.rules'];

/**
 * The first `n` frames of the mix, written to `out` (the whole mix takes ~3 s
 * of CPU per run; its first 110k frames hold most alert kinds, including the
 * P2P by_src threshold rule near frame 99k).
 */
function prefix(src: string, out: string, n: number): void {
  const at: { w: PcapWriter | null; seen: number } = { w: null, seen: 0 };
  readCaptureFile(src, {
    frame(d, off, capLen, origLen, sec, nsec, linkType) {
      if (++at.seen > n) return;
      at.w ??= PcapWriter.open(out, linkType, { nanos: true });
      at.w.write(sec, nsec, d, off, capLen, origLen);
    },
  });
  at.w?.close();
}

/** Sids whose state spans address pairs (kept per worker by design, see the head of this file). */
function crossPairSids(files: string[]): Set<number> {
  const out = new Set<number>();
  const crossPair = /\b(?:threshold|detection_filter)\s*:[^;]*track\s+by_(?:src|dst|rule)\b|\b(?:xbits|hostbits|ipbits)\s*:[^;]*\b(?:ip_src|ip_dst|track\s+ip_src|track\s+ip_dst|src|dst)\b|\bdataset\s*:\s*set\b/;
  for (const f of files) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      if (line.startsWith('#') || !crossPair.test(line)) continue;
      const m = /\bsid\s*:\s*(\d+)/.exec(line);
      if (m) out.add(Number(m[1]));
    }
  }
  return out;
}

test('ET Open categories on the public mix: one worker gives exactly the one-thread alerts; two workers too, but for per-worker cross-pair state', { skip: skipWithoutShared(ET) || skipWithoutShared(MIX) || skipWithoutShared(VARS) }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-parity-et-'));
  try {
    const files = ET_FILES.map((f) => join(sharedPath(ET)!, f));
    const cap = join(dir, 'mix-head.pcap');
    prefix(sharedPath(MIX)!, cap, 110_000);
    const s: AnalysisSettings = { configPath: sharedPath(VARS)!, k8s: [], intel: [], rules: files, behaviour: false };
    const oneRecs = await singleThread([cap], s);
    const one = alertKeys(oneRecs);
    assert.ok(one.length > 5000, `ET categories fire on the mix (${one.length} alerts)`);
    assert.ok(one.some((k) => k.startsWith('2007801 ')), 'the by_src threshold rule fires');
    const w1 = alertKeys((await threaded([cap], s, 1, dir)).recs);
    assert.deepEqual(w1, one, `1 worker: ${diff(one, w1)}`);

    const cross = crossPairSids(files);
    assert.ok(cross.has(2007801), 'the P2P by_src threshold rule is recognised as cross-pair state');
    const keep = (sid: number): boolean => !cross.has(sid);
    const oneKept = alertKeys(oneRecs, keep);
    const w2 = alertKeys((await threaded([cap], s, 2, dir)).recs, keep);
    assert.ok(oneKept.length > 5000 && oneKept.length < one.length);
    assert.deepEqual(w2, oneKept, `2 workers: ${diff(oneKept, w2)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
