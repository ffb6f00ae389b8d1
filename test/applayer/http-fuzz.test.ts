/**
 * Fuzz: mutated and truncated HTTP conversations, fed in random chunks with
 * random gaps, must never throw, never hang, and keep every buffer within its
 * limits. 20k inputs by default; HARRIER_FUZZ_ITERATIONS=1000000 for a long
 * run, HARRIER_FUZZ_SEED to replay one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { AppParserContext, Direction } from '../../src/applayer/parser.js';
import { createHttpParser, probeHttp, type HttpTx } from '../../src/applayer/http/index.js';

const ITER = Number(process.env.HARRIER_FUZZ_ITERATIONS ?? 20000);
const SEED = Number(process.env.HARRIER_FUZZ_SEED ?? 0x5eed1234);

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

const gz = zlib.gzipSync(Buffer.from('fuzzed body '.repeat(40)));
// Heap growth is measured after a full collection: without it, garbage not yet
// collected after a million conversations looks like a leak.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const SEEDS: [Direction, Buffer][][] = [
  [
    [0, Buffer.from('GET /a/../b%2e%2e/c?x=1 HTTP/1.1\r\nHost: Example.com:80\r\nUser-Agent: f\r\nCookie: c\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n')],
    [1, Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\r\n\r\n`), gz])],
  ],
  [
    [0, Buffer.from('POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;x\r\nhello\r\n0\r\nT: v\r\n\r\nHEAD / HTTP/1.1\r\nHost: h\r\n\r\n')],
    [1, Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n')],
  ],
  [
    [0, Buffer.from('CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n\x16\x03\x01')],
    [1, Buffer.from('HTTP/1.1 200 OK\r\n\r\n\x16\x03\x03')],
  ],
  [
    [0, Buffer.from('GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\n\r\nPRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')],
    [1, Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n\x00\x00\x00\x04')],
  ],
  [
    [0, Buffer.from('GET /old\r\nGET / HTTP/1.0\r\n\r\n')],
    [1, Buffer.from('HTTP/1.0 200 OK\r\n X: folded\r\nNoColon\r\n\r\nbody to eof')],
  ],
];
const TOKENS = ['\r\n', '\r\n\r\n', '\n', ' ', '\t', ':', '%', '%u', '/../', 'Content-Length: 99999999999\r\n',
  'Content-Length: 3\r\n', 'Transfer-Encoding: chunked\r\n', 'Content-Encoding: gzip, deflate\r\n', '0\r\n\r\n',
  'ffffffffffff\r\n', 'HTTP/1.1 ', 'GET ', 'CONNECT ', 'HEAD ', 'Upgrade: websocket\r\n', '101 ', '\x00', '\xff'].map((t) => Buffer.from(t, 'latin1'));

function mutate(b: Buffer, r: () => number): Buffer {
  let out = Buffer.from(b);
  const n = 1 + (r() % 4);
  for (let k = 0; k < n; k++) {
    const op = r() % 7;
    const at = out.length === 0 ? 0 : r() % out.length;
    if (op === 0 && out.length > 0) out[at] = r() & 0xff;
    else if (op === 1) out = Buffer.concat([out.subarray(0, at), TOKENS[r() % TOKENS.length]!, out.subarray(at)]);
    else if (op === 2) out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + (r() % 16)))]);
    else if (op === 3) out = out.subarray(0, at); // truncate
    else if (op === 4) { const e = Math.min(out.length, at + (r() % 64)); out = Buffer.concat([out.subarray(0, e), out.subarray(at, e), out.subarray(e)]); }
    else if (op === 5) { const rnd = Buffer.alloc(1 + (r() % 32)); for (let i = 0; i < rnd.length; i++) rnd[i] = r() & 0xff; out = Buffer.concat([out.subarray(0, at), rnd, out.subarray(at)]); }
    else if (out.length > 0) out[at] = out[at]! ^ (1 << (r() % 8));
  }
  return out;
}

/** Read everything a consumer might read from a transaction. */
function touch(t: HttpTx): number {
  let n = JSON.stringify(t.eve()).length;
  for (const b of [t.uri, t.host, t.hostRaw, t.requestHeaderBuffer, t.responseHeaderBuffer, t.requestHeaderNames,
    t.responseHeaderNames, t.requestStart, t.responseStart, t.userAgent, t.cookie, t.server, t.location]) n += b?.length ?? 0;
  n += t.requestBodyBytes.length + t.responseBodyBytes.length + t.originalClient.length + t.port;
  return n;
}

test(`fuzz: ${ITER} mutated conversations in random chunks never throw, hang or grow unbounded`, () => {
  const r = rng(SEED);
  const cfg = { headLimit: 4096, requestBodyLimit: 2048, responseBodyLimit: 2048, maxPendingTx: 8, extendedEve: true };
  const decl = createHttpParser(cfg);
  let txs = 0, events = 0, abandons = 0, slowest = 0, corruptBodies = 0;
  gc();
  // heap and off-heap (Buffers, native zlib state): a leak in either counts
  const used = (): number => { const m = process.memoryUsage(); return m.heapUsed + m.external; };
  const heap0 = used();
  for (let i = 0; i < ITER; i++) {
    const seed = SEEDS[r() % SEEDS.length]!;
    const script = seed.map(([d, b]) => [d, r() % 4 === 0 ? b : mutate(b, r)] as const);
    const got: HttpTx[] = [];
    const ctx: AppParserContext = { tx: (t) => { got.push(t as HttpTx); }, event: (e) => { events++; if (e === 'http.gzip_decompression_failed') corruptBodies++; }, abandon: () => { abandons++; } };
    const t0 = performance.now();
    try {
      const st = decl.create(ctx);
      for (const [dir, b] of script) {
        let at = 0;
        while (at < b.length) {
          const n = 1 + (r() % Math.max(1, Math.min(b.length - at, r() % 3 === 0 ? 8 : 512)));
          decl.parse(st, dir, b, at, Math.min(n, b.length - at), 0);
          at += n;
          if (r() % 50 === 0) decl.gap!(st, dir, 1 + (r() % 100));
        }
        for (const d of st.dirs) assert.ok(d.head.length <= cfg.headLimit, 'head buffer within limit');
        assert.ok(st.heldLen <= cfg.headLimit, 'held bytes within limit');
        assert.ok(st.pending.length <= cfg.maxPendingTx, 'pending queue within limit');
      }
      decl.end!(st);
      for (const t of got) {
        touch(t);
        assert.ok(t.requestBodyBytes.length <= cfg.requestBodyLimit && t.responseBodyBytes.length <= cfg.responseBodyLimit);
      }
    } catch (e) {
      assert.fail(`iteration ${i} (seed ${SEED}) threw: ${(e as Error).stack}\ninput: ${JSON.stringify(script.map(([d, b]) => [d, b.toString('latin1')]))}`);
    }
    const ms = performance.now() - t0;
    if (ms > slowest) slowest = ms;
    txs += got.length;
  }
  gc();
  const grown = (used() - heap0) / 1048576;
  assert.ok(slowest < 5000, `slowest input took ${slowest.toFixed(1)} ms`);
  assert.ok(grown < 64, `heap grew ${grown.toFixed(1)} MB after a full collection`);
  assert.ok(txs > ITER / 4, `only ${txs} transactions: mutations too destructive to test much`);
  // corrupt compressed bodies are the input that once leaked (node:zlib's error path)
  assert.ok(corruptBodies > ITER / 100, `only ${corruptBodies} corrupt compressed bodies`);
  if (process.env.HARRIER_VERBOSE) console.log({ ITER, txs, events, abandons, corruptBodies, slowestMs: slowest, heapGrowthMB: grown });
});

test('fuzz: the probe never throws on random bytes and agrees with its definition', () => {
  const r = rng(SEED + 1);
  const buf = Buffer.alloc(64);
  for (let i = 0; i < 20000; i++) {
    const len = r() % 20;
    for (let k = 0; k < len; k++) buf[k] = r() % 3 === 0 ? 0x47 + (r() % 20) : r() & 0xff;
    const p0 = probeHttp(0, buf, 0, len);
    const p1 = probeHttp(1, buf, 0, len);
    assert.ok(p0 >= 0 && p0 <= 2 && p1 >= 0 && p1 <= 2);
    if (p1 === 2) assert.equal(buf.toString('latin1', 0, 7), 'HTTP/1.');
  }
});
