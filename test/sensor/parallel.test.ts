/**
 * The pipeline on worker threads: frames cross the shared rings intact and
 * in order, and a capture analysed by two workers yields the same flows as
 * one thread (flow ids unique, every record a whole line).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParallelPipeline } from '../../src/sensor/parallel.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { defaultConfig } from '../../src/sensor/config.js';
import { EveCollector } from '../../src/output/eve-writer.js';
import { dispatchHash } from '../../src/sensor/dispatch.js';
import { eth, ipv4, tcp, udp } from '../decode/build.js';

const factory = new URL('./parallel-factory.js', import.meta.url).href;

test('frames of every size cross a small ring whole and in order, through wrap-arounds and full waits', async () => {
  const p = new ParallelPipeline({ module: factory, options: { mode: 'checksum' } }, { workers: 1, ringBytes: 8192 });
  const buf = Buffer.alloc(5000);
  let seed = 7;
  const N = 20000;
  for (let seq = 0; seq < N; seq++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const len = 4 + (seed % 3000);
    buf.writeUInt32LE(seq, 0);
    for (let i = 4; i < len; i++) buf[i] = (seq + i) & 0xff;
    p.frame(buf, 0, len, len, seq, 0, 1, 0);
  }
  const c = await p.finish();
  assert.equal(c.frames, N);
  assert.equal(c.bad, 0);
  assert.equal(c.out_of_order, 0);
});

test('the dispatch hash is symmetric and spreads host pairs', () => {
  const counts = [0, 0];
  for (let i = 0; i < 400; i++) {
    const a = `10.0.${i >> 8}.${i & 255}`;
    const b = `192.168.1.${(i * 7) & 255}`;
    const f1 = eth(0x0800, ipv4({ src: a, dst: b, proto: 17, payload: udp({ src: a, dst: b }) }));
    const f2 = eth(0x0800, ipv4({ src: b, dst: a, proto: 17, payload: udp({ src: b, dst: a }) }));
    const h1 = dispatchHash(f1, 0, f1.length, 1);
    assert.equal(h1, dispatchHash(f2, 0, f2.length, 1));
    counts[h1 % 2]++;
  }
  assert.ok(counts[0] > 140 && counts[1] > 140, `${counts}`);
});

function frames(): Buffer[] {
  const out: Buffer[] = [];
  for (let h = 0; h < 60; h++) {
    const c = `10.9.${h}.2`;
    const s = `10.8.0.${h + 1}`;
    for (let k = 0; k < 3; k++) {
      const sport = 30000 + h * 10 + k;
      out.push(eth(0x0800, ipv4({ src: c, dst: s, proto: 6, payload: tcp({ src: c, dst: s, sport, dport: 80, flags: 0x02, seq: 1 }) })));
      out.push(eth(0x0800, ipv4({ src: s, dst: c, proto: 6, payload: tcp({ src: s, dst: c, sport: 80, dport: sport, flags: 0x12, seq: 9, ack: 2 }) })));
      out.push(eth(0x0800, ipv4({ src: c, dst: s, proto: 17, payload: udp({ src: c, dst: s, sport, dport: 53, payload: Buffer.from('x') }) })));
    }
  }
  return out;
}

function flowKey(r: Record<string, unknown>): string {
  const f = r.flow as Record<string, number>;
  return `${r.proto} ${r.src_ip}:${r.src_port} ${r.dest_ip}:${r.dest_port} ${f.pkts_toserver}/${f.pkts_toclient}`;
}

test('two workers give the same flow records as one thread, with unique flow ids and whole lines', async () => {
  const fr = frames();
  const single = new EveCollector();
  const p1 = new Pipeline(defaultConfig(), { eve: single });
  fr.forEach((f, i) => p1.frame(f, 0, f.length, f.length, 1_700_000_000 + Math.floor(i / 50), 0, 1, 0));
  p1.finish();
  const expected = single.out.filter((r) => r.event_type === 'flow').map(flowKey).sort();

  const dir = mkdtempSync(join(tmpdir(), 'harrier-par-'));
  const path = join(dir, 'eve.json');
  const fd = openSync(path, 'a');
  try {
    const p = new ParallelPipeline({ module: factory, options: { mode: 'flows' } }, { workers: 2, eveFd: fd });
    fr.forEach((f, i) => p.frame(f, 0, f.length, f.length, 1_700_000_000 + Math.floor(i / 50), 0, 1, 0));
    const c = await p.finish();
    closeSync(fd);
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    const recs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const flows = recs.filter((r) => r.event_type === 'flow');
    assert.deepEqual(flows.map(flowKey).sort(), expected);
    assert.equal(new Set(flows.map((r) => r.flow_id)).size, flows.length, 'flow ids unique across workers');
    assert.ok(c['harrier.workers.frames.0'] > 0 && c['harrier.workers.frames.1'] > 0, 'both workers got work');
    assert.equal(c['decoder.pkts'], fr.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a worker that fails to start is a clear error, not a hang', async () => {
  const p = new ParallelPipeline({ module: new URL('./no-such-module.js', import.meta.url).href, options: {} }, { workers: 1, ringBytes: 4096 });
  const f = Buffer.alloc(1000);
  await assert.rejects(async () => {
    // Enough frames to fill the ring: the producer must notice the failed consumer.
    for (let i = 0; i < 100; i++) p.frame(f, 0, f.length, f.length, i, 0, 1, 0);
    await p.finish();
  }, /worker|consuming/);
});
