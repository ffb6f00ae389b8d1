/**
 * Fuzz: mutated and truncated HTTP/2 conversations, fed in random chunks with
 * random gaps, never throw, never hang, and keep every buffer within its
 * limits; random and mutated HPACK blocks straight into the decoder likewise.
 * 20k inputs by default; HARRIER_FUZZ_ITERATIONS=1000000 for a long run,
 * HARRIER_FUZZ_SEED to replay one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AppParserContext, Direction } from '../../src/applayer/parser.js';
import { createHttp2Parser, HpackDecoder, type H2Header, type Http2Tx } from '../../src/applayer/http2/index.js';
import { PREFACE, SETTINGS, block, frame, hpackInt } from './http2-support.js';

const ITER = Number(process.env.HARRIER_FUZZ_ITERATIONS ?? 20000);
const SEED = Number(process.env.HARRIER_FUZZ_SEED ?? 0x4832f00d);

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

const ES = 1, EH = 4;
const req = (s: number, path: string, extra: [string, string][] = []): Buffer =>
  frame(1, EH | (extra.length === 0 ? ES : 0), s, block([[':method', 'GET'], [':scheme', 'http'], [':path', path], [':authority', 'h'], ...extra], { huff: s % 2 === 1, index: true }));
const SEEDS: [Direction, Buffer][][] = [
  [
    [0, Buffer.concat([PREFACE, SETTINGS([[1, 100000]]), req(1, '/a'), req(3, '/pkg.S/M', [['content-type', 'application/grpc']]), frame(0, ES, 3, Buffer.alloc(9))])],
    [1, Buffer.concat([SETTINGS([[1, 0]]), frame(1, EH, 1, block([[':status', '200']], { index: true })), frame(0, ES | 8, 1, Buffer.from([2, 1, 0, 0])),
      frame(1, EH, 3, Buffer.from([0xbe])), frame(1, EH | ES, 3, block([['grpc-status', '0']]))])],
  ],
  [
    [0, Buffer.concat([PREFACE, frame(1, 0x20 | 8, 1, Buffer.concat([Buffer.from([1, 0, 0, 0, 0, 9]), block([[':path', '/x']]).subarray(0, 3)])),
      frame(9, 0, 1, block([[':path', '/x']]).subarray(3)), frame(9, EH, 1, block([['x', 'y']])), frame(0, ES, 1, Buffer.alloc(3))])],
    [1, Buffer.concat([SETTINGS(), frame(5, EH, 1, Buffer.concat([Buffer.from([0, 0, 0, 2]), block([[':path', '/p']])])), frame(3, 0, 1, Buffer.from([0, 0, 0, 1])),
      frame(1, EH | ES, 2, block([[':status', '200']])), frame(7, 0, 0, Buffer.alloc(8))])],
  ],
  [
    [0, Buffer.concat([PREFACE, SETTINGS(), frame(1, EH, 1, Buffer.concat([hpackInt(4096, 5, 0x20), Buffer.from([0x82, 0x84, 0x86])])), frame(6, 0, 0, Buffer.alloc(8)), frame(8, 0, 1, Buffer.from([0, 0, 1, 0]))])],
    [1, Buffer.concat([SETTINGS([[5, 16384]]), frame(1, EH, 1, Buffer.from([0x88])), frame(0, 0, 1, Buffer.alloc(50)), frame(0, ES, 1, Buffer.alloc(0))])],
  ],
];
const TOKENS: Buffer[] = [
  frame(1, EH, 1, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])), frame(9, EH, 1, Buffer.from([0x82])), frame(4, 0, 0, Buffer.alloc(5)),
  frame(0, 8, 1, Buffer.from([200])), Buffer.from([0xff, 0xff, 0xff]), Buffer.from([0, 0x40, 0, 1]), frame(1, 0, 1, Buffer.from([0x40, 0x7f])),
  Buffer.from([0x3f, 0xe1, 0x1f]), Buffer.from([0x00, 0x81, 0xff, 0x00]), frame(3, 0, 0, Buffer.alloc(4)), frame(5, EH, 0, Buffer.alloc(2)),
  Buffer.from([0xbe]), Buffer.from([0x80]), frame(1, ES | EH, 2147483647, Buffer.from([0x82])),
];

function mutate(b: Buffer, r: () => number): Buffer {
  let out = Buffer.from(b);
  const n = 1 + (r() % 4);
  for (let k = 0; k < n; k++) {
    const op = r() % 7;
    const at = out.length === 0 ? 0 : r() % out.length;
    if (op === 0 && out.length > 0) out[at] = r() & 0xff;
    else if (op === 1) out = Buffer.concat([out.subarray(0, at), TOKENS[r() % TOKENS.length]!, out.subarray(at)]);
    else if (op === 2) out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + (r() % 16)))]);
    else if (op === 3) out = out.subarray(0, at);
    else if (op === 4) { const e = Math.min(out.length, at + (r() % 64)); out = Buffer.concat([out.subarray(0, e), out.subarray(at, e), out.subarray(e)]); }
    else if (op === 5) { const rnd = Buffer.alloc(1 + (r() % 32)); for (let i = 0; i < rnd.length; i++) rnd[i] = r() & 0xff; out = Buffer.concat([out.subarray(0, at), rnd, out.subarray(at)]); }
    else if (out.length > 0) out[at] = out[at]! ^ (1 << (r() % 8));
  }
  return out;
}

function touch(t: Http2Tx): number {
  let n = JSON.stringify(t.eve()).length;
  const g = t.grpc;
  if (g !== null) n += g.service.length + g.method.length;
  return n + t.status + (t.isGrpc ? 1 : 0);
}

test(`fuzz: ${ITER} mutated conversations in random chunks never throw, hang or grow unbounded`, () => {
  const r = rng(SEED);
  const cfg = { maxFrameSize: 4096, maxHeaderBlock: 8192, maxHeaderListSize: 4096, hpackTableCap: 8192, maxStreams: 16 };
  const decl = createHttp2Parser(cfg);
  let txs = 0, events = 0, abandons = 0, slowest = 0, work = 0;
  const heap0 = process.memoryUsage().heapUsed;
  for (let i = 0; i < ITER; i++) {
    const seed = SEEDS[r() % SEEDS.length]!;
    const ctx: AppParserContext = {
      tx: (t) => { txs++; work += touch(t as Http2Tx); },
      event: () => { events++; },
      abandon: () => { abandons++; },
    };
    const st = decl.create(ctx);
    const t0 = performance.now();
    for (const [dir, msg] of seed) {
      const b = r() % 4 === 0 ? msg : mutate(msg, r);
      let at = 0;
      while (at < b.length) {
        const n = Math.min(b.length - at, 1 + (r() % 97));
        decl.parse(st, dir, b, at, n, 0);
        at += n;
        if (r() % 200 === 0) decl.gap!(st, dir, 1 + (r() % 20));
      }
    }
    decl.end!(st);
    const dt = performance.now() - t0;
    if (dt > slowest) slowest = dt;
    for (const d of st.dirs) {
      assert.ok(d.payload.length <= cfg.maxFrameSize, 'frame buffer bounded');
      assert.ok(d.block.length <= cfg.maxHeaderBlock, 'block buffer bounded');
      assert.ok(d.hpack.size <= cfg.hpackTableCap, 'hpack table bounded');
    }
    assert.ok(st.streams.size === 0, 'all flushed at end');
  }
  const grew = (process.memoryUsage().heapUsed - heap0) / 1e6;
  assert.ok(slowest < 1000, `slowest input ${slowest.toFixed(1)} ms`);
  assert.ok(grew < 300, `heap grew ${grew.toFixed(0)} MB`);
  assert.ok(txs > 0 && events > 0 && work > 0);
  void abandons;
});

test(`fuzz: ${Math.ceil(ITER / 2)} random and mutated HPACK blocks`, () => {
  const r = rng(SEED ^ 0x1234567);
  const base = Buffer.concat([block([[':method', 'GET'], ['x-a', 'b'.repeat(40)]], { huff: true, index: true }), Buffer.from([0x82, 0xbe, 0xbf])]);
  let ok = 0;
  const d = new HpackDecoder(4096, 2048);
  for (let i = 0; i < Math.ceil(ITER / 2); i++) {
    let b: Buffer;
    if (r() % 3 === 0) { b = Buffer.alloc(r() % 64); for (let k = 0; k < b.length; k++) b[k] = r() & 0xff; }
    else b = mutate(base, r);
    const dec = r() % 8 === 0 ? d : new HpackDecoder(4096, 2048);
    if (dec.broken) dec.broken = false; // keep exercising the shared one
    const out: H2Header[] = [];
    if (dec.decode(b, 0, b.length, out) === 0) ok++;
    assert.ok(dec.size <= 4096 && out.length <= 2048 / 32);
  }
  assert.ok(ok > 0);
});
