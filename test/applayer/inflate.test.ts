/**
 * The inflater against node:zlib (the reference: libhtp, and so Suricata's
 * expected outputs, decode with zlib and Z_SYNC_FLUSH). On valid streams,
 * streams cut at every kind of point and streams with random mutations, the
 * output, the error/no-error outcome and the error message must be zlib's.
 * zlib's synchronous error path leaks (see inflate.ts), so the mutation
 * rounds are kept to a few thousand here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { adler32, crc32, inflate, type Wrapper } from '../../src/applayer/http/inflate.js';
import { mulberry32 } from '../support/random.js';

// One output buffer for the whole result: zlib checks a match's distance
// against the output of the current inflate() call plus its window, and a
// zlib header may declare a window smaller than 32 KiB, so with Node's 16 KiB
// output chunks whether a far match is an error depends on where the chunks
// fall. The inflater decodes as zlib does in a single call (any distance
// back into the output so far is valid).
const SYNC = { finishFlush: zlib.constants.Z_SYNC_FLUSH, chunkSize: 8 << 20 };
const C = zlib.constants;

function sample(r: () => number, n: number): Buffer {
  const kind = Math.floor(r() * 4);
  const b = Buffer.alloc(n);
  const words = ['GET ', 'HTTP/1.1 ', 'content', '<div class="x">', '\r\n', 'eicar', '0000', ' ', 'zz'];
  for (let i = 0; i < n;) {
    if (kind === 0) b[i++] = Math.floor(r() * 256); // incompressible
    else if (kind === 1) b[i++] = 97 + Math.floor(r() * 4); // small alphabet
    else if (kind === 2) { // text with repeats near and far
      const w = words[Math.floor(r() * words.length)]!;
      for (let k = 0; k < w.length && i < n; k++) b[i++] = w.charCodeAt(k);
    } else b[i++] = r() < 0.9 ? 0 : Math.floor(r() * 256); // long runs
  }
  return b;
}

interface Case { wrapper: Wrapper; plain: Buffer; comp: Buffer }

/** Compressed streams of every shape zlib's deflate makes: stored, fixed, dynamic, small windows, several blocks. */
function corpus(seed: number, count: number): Case[] {
  const r = mulberry32(seed);
  const out: Case[] = [];
  const strategies = [C.Z_DEFAULT_STRATEGY, C.Z_FILTERED, C.Z_HUFFMAN_ONLY, C.Z_RLE, C.Z_FIXED];
  for (let i = 0; i < count; i++) {
    const size = [0, 1, 7, 100, 3000, 70000][Math.floor(r() * 6)]!;
    const plain = sample(r, Math.floor(size * (0.5 + r() / 2)));
    const opts: zlib.ZlibOptions = {
      level: Math.floor(r() * 10),
      strategy: strategies[Math.floor(r() * strategies.length)]!,
      windowBits: 9 + Math.floor(r() * 7),
      memLevel: 1 + Math.floor(r() * 9),
    };
    const w = (['raw', 'zlib', 'gzip'] as const)[i % 3];
    const comp = w === 'raw' ? zlib.deflateRawSync(plain, opts) : w === 'zlib' ? zlib.deflateSync(plain, opts) : zlib.gzipSync(plain, opts);
    out.push({ wrapper: w, plain, comp });
  }
  return out;
}

function reference(w: Wrapper, b: Buffer): { data: Buffer; error: string } {
  try {
    const data = w === 'raw' ? zlib.inflateRawSync(b, SYNC) : w === 'zlib' ? zlib.inflateSync(b, SYNC) : zlib.gunzipSync(b, SYNC);
    return { data, error: '' };
  } catch (e) {
    return { data: Buffer.alloc(0), error: (e as Error).message };
  }
}

const LIMIT = 1 << 20;
/** Mutation rounds (HARRIER_INFLATE_MUTATIONS for a long run, HARRIER_FUZZ_SEED to vary). */
const MUTATIONS = Number(process.env.HARRIER_INFLATE_MUTATIONS ?? 2500);
const SEED = Number(process.env.HARRIER_FUZZ_SEED ?? 4);

test('checksums: CRC-32 and Adler-32 of known inputs', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926); // RFC 1952's check value
  assert.equal(adler32(Buffer.from('Wikipedia')), 0x11e60398);
  const big = sample(mulberry32(3), 100000);
  assert.equal(adler32(big), zlib.deflateSync(big).readUInt32BE(zlib.deflateSync(big).length - 4));
});

test('valid streams decode to the original, status end', () => {
  for (const c of corpus(1, 300)) {
    const r = inflate(c.comp, c.wrapper, LIMIT);
    assert.equal(r.status, 'end', `${c.wrapper} ${c.plain.length}: ${r.error}`);
    assert.ok(r.data.equals(c.plain), `${c.wrapper} ${c.plain.length} bytes`);
  }
});

test('streams cut anywhere decode as zlib with Z_SYNC_FLUSH does: every complete symbol, no error', () => {
  const r = mulberry32(2);
  let cuts = 0;
  for (const c of corpus(2, 150)) {
    const points = new Set([0, 1, 2, 3, 5, 10, c.comp.length - 9, c.comp.length - 4, c.comp.length - 1]);
    for (let k = 0; k < 12; k++) points.add(Math.floor(r() * c.comp.length));
    for (const p of points) {
      if (p < 0 || p >= c.comp.length) continue;
      const cut = c.comp.subarray(0, p);
      const want = reference(c.wrapper, cut);
      const got = inflate(cut, c.wrapper, LIMIT);
      assert.equal(got.error, want.error, `${c.wrapper} cut at ${p}/${c.comp.length}`);
      if (want.error === '') {
        assert.equal(got.status, 'truncated', `${c.wrapper} cut at ${p}`);
        assert.ok(got.data.equals(want.data), `${c.wrapper} cut at ${p}/${c.comp.length}: ${got.data.length} vs ${want.data.length} bytes`);
      }
      cuts++;
    }
  }
  assert.ok(cuts > 1500);
});

test('mutated streams: zlib fails exactly when the inflater fails, with the same message; otherwise the same output', () => {
  const r = mulberry32(SEED);
  const cases = corpus(SEED, 120).filter((c) => c.comp.length > 12);
  let errors = 0;
  let clean = 0;
  for (let i = 0; i < MUTATIONS; i++) {
    const c = cases[i % cases.length]!;
    const m = Buffer.from(c.comp);
    // mutations concentrated where the block headers and code tables are
    // (after a gzip header: its leniency is deliberate, tested below)
    const from = c.wrapper === 'gzip' ? 10 : 0;
    const span = r() < 0.7 ? Math.min(m.length - from, 64) : m.length - from;
    for (let k = 1 + Math.floor(r() * 3); k > 0; k--) {
      const at = from + Math.floor(r() * span);
      if (r() < 0.5) m[at] = m[at]! ^ (1 << Math.floor(r() * 8));
      else m[at] = Math.floor(r() * 256);
    }
    const want = reference(c.wrapper, m);
    const got = inflate(m, c.wrapper, LIMIT);
    const msg = `${c.wrapper} case ${i % cases.length} mutation ${i}: ${got.status} ${got.data.length} bytes, zlib ${want.data.length}; input ${m.length} bytes, plain ${c.plain.length}, differs at ${[...m.keys()].filter((j) => m[j] !== c.comp[j]).join(",")}: ${m.length < 100 ? m.toString("hex") : ""}`;
    if (want.error === 'Missing dictionary') assert.equal(got.error, 'need dictionary', msg);
    else assert.equal(got.error, want.error, msg);
    if (want.error === '') {
      clean++;
      assert.ok(got.data.equals(want.data), msg);
    } else {
      errors++;
      assert.equal(got.status, 'error', msg);
    }
  }
  // both outcomes are well represented
  assert.ok(errors > MUTATIONS / 5 && clean > MUTATIONS / 12, `errors ${errors}, clean ${clean}`);
});

test('output stops at the limit (a bomb costs at most the limit)', () => {
  const bomb = zlib.gzipSync(Buffer.alloc(8 << 20, 0x41));
  const r = inflate(bomb, 'gzip', 4096);
  assert.equal(r.status, 'limit');
  assert.equal(r.data.length, 4096);
  assert.ok(r.data.every((b) => b === 0x41));
  const stored = zlib.deflateRawSync(sample(mulberry32(5), 50000), { level: 0 });
  const s = inflate(stored, 'raw', 1000);
  assert.equal(s.status, 'limit');
  assert.equal(s.data.length, 1000);
  // exactly the limit, then the end: not limited
  const exact = inflate(zlib.deflateRawSync(Buffer.alloc(4096, 1)), 'raw', 4096);
  assert.equal(exact.status, 'end');
});

test('a data error keeps what was decoded before it', () => {
  const plain = Buffer.from('0123456789abcdef'.repeat(100));
  const stored = (final: number, len: number, nlen: number): Buffer =>
    Buffer.from([final, len & 0xff, len >>> 8, nlen & 0xff, nlen >>> 8]);
  // a stored block, then one whose LEN does not match its complement
  const bad = Buffer.concat([stored(0, plain.length, plain.length ^ 0xffff), plain, stored(1, 5, 5), Buffer.from('xxxxx')]);
  const r = inflate(bad, 'raw', LIMIT);
  assert.equal(r.status, 'error');
  assert.equal(r.error, 'invalid stored block lengths');
  assert.ok(r.data.equals(plain));
  assert.equal(reference('raw', bad).error, 'invalid stored block lengths'); // zlib agrees, but keeps nothing
});

test('gzip members back to back, trailing bytes and bad trailers read as zlib reads them', () => {
  const a = zlib.gzipSync(Buffer.from('first member '));
  const b = zlib.gzipSync(Buffer.from('second member'));
  const inputs: Buffer[] = [
    Buffer.concat([a, b]),
    Buffer.concat([a, Buffer.from('trailing garbage')]),
    Buffer.concat([a, Buffer.alloc(7)]),
    Buffer.concat([a, Buffer.from([0x1f, 0x8b, 8])]),
    Buffer.concat([a, Buffer.from([0x1f, 0x8b, 7, 0])]),
    Buffer.concat([a, Buffer.from([0x1f])]),
    Buffer.concat([a, Buffer.from([0x1f, 0x8b, 8, 0])]),
    Buffer.concat([a, b.subarray(0, 15)]),
    Buffer.concat([a, Buffer.from([0x1f, 0x8b, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0])]),
  ];
  const badCrc = Buffer.from(a);
  badCrc[badCrc.length - 8] ^= 1;
  const badLen = Buffer.from(a);
  badLen[badLen.length - 1] ^= 1;
  inputs.push(badCrc, badLen);
  for (const [i, input] of inputs.entries()) {
    const want = reference('gzip', input);
    const got = inflate(input, 'gzip', LIMIT);
    assert.equal(got.error, want.error, `input ${i}`);
    assert.equal(got.status === 'error', want.error !== '', `input ${i}`);
    if (want.error === '') assert.ok(got.data.equals(want.data), `input ${i}: ${got.data.toString()} vs ${want.data.toString()}`);
  }
});

test('gzip headers are read leniently, as browsers and libhtp do: reserved flags and a bad header CRC pass', () => {
  const plain = Buffer.from('lenient gzip header');
  const g = Buffer.from(zlib.gzipSync(plain));
  g[3] = 0xe0; // reserved flag bits: zlib refuses them
  assert.notEqual(reference('gzip', g).error, '');
  const r = inflate(g, 'gzip', LIMIT);
  assert.equal(r.status, 'end');
  assert.ok(r.data.equals(plain));
  // FHCRC with a wrong header CRC, plus FEXTRA, FNAME and FCOMMENT
  const body = zlib.deflateRawSync(plain);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(plain), 0);
  trailer.writeUInt32LE(plain.length, 4);
  const hdr = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0x1e, 0, 0, 0, 0, 0, 3, 3, 0]), Buffer.from('abc'), Buffer.from('name\0comment\0'), Buffer.from([0xde, 0xad])]);
  const full = Buffer.concat([hdr, body, trailer]);
  const f = inflate(full, 'gzip', LIMIT);
  assert.equal(f.status, 'end', f.error);
  assert.ok(f.data.equals(plain));
});

test('fuzz: mutated, cut and random streams never throw, stay within the limit and end quickly', () => {
  // HARRIER_FUZZ_ITERATIONS=1000000 for the long run; no zlib here, so no leak to bound the count
  const iterations = Number(process.env.HARRIER_FUZZ_ITERATIONS ?? 20000);
  const r = mulberry32(SEED + 1);
  const cases = corpus(SEED + 1, 60);
  const limit = 4096;
  const seen = { end: 0, truncated: 0, limit: 0, error: 0 };
  let slowest = 0;
  for (let i = 0; i < iterations; i++) {
    const c = cases[i % cases.length]!;
    let m: Buffer;
    const kind = r();
    if (kind < 0.1) { // random bytes, sometimes behind a valid wrapper header
      m = Buffer.alloc(1 + Math.floor(r() * 300));
      for (let k = 0; k < m.length; k++) m[k] = Math.floor(r() * 256);
      if (r() < 0.5) c.comp.copy(m, 0, 0, Math.min(m.length, c.wrapper === 'gzip' ? 10 : 2));
    } else {
      m = Buffer.from(c.comp.subarray(0, r() < 0.5 ? c.comp.length : Math.floor(r() * c.comp.length)));
      for (let k = Math.floor(r() * 4); k > 0 && m.length > 0; k--) {
        const at = Math.floor(r() * Math.min(m.length, r() < 0.7 ? 64 : m.length));
        m[at] = r() < 0.5 ? m[at]! ^ (1 << Math.floor(r() * 8)) : Math.floor(r() * 256);
      }
    }
    const t0 = performance.now();
    let res;
    try {
      res = inflate(m, c.wrapper, limit);
    } catch (e) {
      assert.fail(`iteration ${i} (seed ${SEED}) threw: ${(e as Error).stack}\ninput ${c.wrapper} ${m.toString('hex')}`);
    }
    const ms = performance.now() - t0;
    if (ms > slowest) slowest = ms;
    assert.ok(res.data.length <= limit);
    assert.equal(res.error !== '', res.status === 'error');
    seen[res.status]++;
  }
  assert.ok(slowest < 1000, `slowest input took ${slowest.toFixed(1)} ms`);
  // every outcome is reached
  for (const [k, v] of Object.entries(seen)) assert.ok(v > iterations / 100, `${k}: ${v}`);
});
