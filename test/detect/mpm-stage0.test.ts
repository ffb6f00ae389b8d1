/**
 * The matcher's stage-0 filter (a bitmap over the raw 2 bytes at each
 * position, every case variant set for nocase patterns) and its 1-byte
 * pattern table, against a naive matcher: many seeded pattern sets, dense
 * and sparse, with patterns planted exactly at the window's first and last
 * positions, in mixed case, inside a larger Buffer whose bytes outside the
 * scanned window hold patterns that must not be reported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MultiPatternMatcher, MatcherUnion, MatchSet } from '../../src/detect/engine/mpm.js';
import { mulberry32 as rng } from '../support/random.js';
import { naiveMatches, type NaivePattern } from './mpm-naive.js';

type P = NaivePattern;

function naive(pats: P[], buf: Uint8Array, off: number, len: number): number[] {
  return [...naiveMatches(pats, buf, off, len)].sort((a, b) => a - b);
}

const isLetter = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** Copy pattern p into buf at `at`, flipping the case of letters at random when p is nocase. */
function plant(buf: Uint8Array, at: number, p: P, r: () => number): void {
  for (let j = 0; j < p.bytes.length && at + j < buf.length; j++) {
    const c = p.bytes[j];
    buf[at + j] = p.nocase && isLetter(c) && r() < 0.5 ? c ^ 0x20 : c;
  }
}

test('stage-0 matcher equals the naive matcher: window ends, mixed case, bytes outside the window (seeded, 300 sets)', () => {
  let checked = 0;
  let nonEmpty = 0;
  for (let round = 0; round < 300; round++) {
    const r = rng(91_000 + round);
    // Alphabets: all bytes (sparse bitmap), letters of both cases (case variants), 3 symbols (dense: nearly every position is a candidate).
    const kind = round % 3;
    const byte = (): number =>
      kind === 0 ? Math.floor(r() * 256) : kind === 1 ? 0x41 + Math.floor(r() * 6) + (r() < 0.5 ? 0x20 : 0) : [0x00, 0x61, 0x41][Math.floor(r() * 3)];
    const nPat = 1 + Math.floor(r() * (round % 10 === 0 ? 600 : 30));
    const pats: P[] = [];
    const m = new MultiPatternMatcher();
    for (let i = 0; i < nPat; i++) {
      const u = r();
      const len = u < 0.1 ? 1 : u < 0.3 ? 2 + Math.floor(r() * 2) : 4 + Math.floor(r() * 10);
      const bytes = new Uint8Array(len);
      for (let k = 0; k < len; k++) bytes[k] = byte();
      const p = { bytes, nocase: r() < 0.5, id: Math.floor(r() * nPat) };
      pats.push(p);
      m.add(bytes, p.nocase, p.id);
    }
    m.build();
    const hits = new MatchSet(nPat);
    for (let b = 0; b < 12; b++) {
      const len = Math.floor(r() * 200);
      const pad = 40;
      // The window [pad, pad+len) inside a larger Buffer; the padding holds planted patterns too.
      const buf = Buffer.alloc(len + 2 * pad);
      for (let k = 0; k < buf.length; k++) buf[k] = byte();
      const pick = (): P => pats[Math.floor(r() * pats.length)]!;
      plant(buf, pad - 2, pick(), r); // straddles the window start
      plant(buf, pad + len - 1, pick(), r); // straddles the window end
      plant(buf, pad + len + 5, pick(), r); // outside
      if (len > 0) {
        const a = pick();
        if (a.bytes.length <= len) plant(buf, pad, a, r); // exactly at the first position
        const z = pick();
        if (z.bytes.length <= len) plant(buf, pad + len - z.bytes.length, z, r); // ends exactly at the last byte
      }
      hits.reset();
      m.scan(buf, pad, len, hits);
      const got = Array.from(hits.ids.subarray(0, hits.count)).sort((x, y) => x - y);
      const want = naive(pats, buf, pad, len);
      assert.deepEqual(got, want, `round ${round} buffer ${b}`);
      checked++;
      if (want.length > 0) nonEmpty++;
    }
  }
  // The planted patterns make most results non-empty: the comparison is not vacuous.
  assert.ok(nonEmpty > checked / 2, `${nonEmpty} of ${checked} non-empty`);
});

test('stage-0: case-sensitive patterns do not set the other case; nocase ones match every case variant', () => {
  const m = new MultiPatternMatcher();
  m.add(Buffer.from('AbCd'), false, 0);
  m.add(Buffer.from('xYzW'), true, 1);
  m.add(Buffer.from('Qr'), false, 2);
  m.add(Buffer.from('mn'), true, 3);
  m.add(Buffer.from('K'), false, 4);
  m.add(Buffer.from('j'), true, 5);
  m.build();
  const hits = new MatchSet(5);
  const scan = (s: string): number[] => {
    const b = Buffer.from(s, 'latin1');
    hits.reset();
    m.scan(b, 0, b.length, hits);
    return Array.from(hits.ids.subarray(0, hits.count)).sort((x, y) => x - y);
  };
  assert.deepEqual(scan('abcd qR k'), []);
  assert.deepEqual(scan('AbCd'), [0]);
  for (const v of ['xyzw', 'XYZW', 'xYzW', 'XyZw']) assert.deepEqual(scan(`..${v}`), [1]);
  assert.deepEqual(scan('Qr'), [2]);
  assert.deepEqual(scan('MN'), [3]);
  assert.deepEqual(scan('Nm.mN'), [3]);
  assert.deepEqual(scan('kK'), [4]);
  assert.deepEqual(scan('J'), [5]);
  assert.deepEqual(scan('zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzj'), [5]);
});

test('1-byte patterns: found only inside the window of a large Buffer, shared ids, ids already found', () => {
  const m = new MultiPatternMatcher();
  m.add(Uint8Array.of(0xfe), false, 0);
  m.add(Uint8Array.of(0x61), true, 1);
  m.add(Uint8Array.of(0x07), false, 1);
  m.add(Buffer.from('longer'), false, 2);
  m.build();
  const hits = new MatchSet(2);
  const big = Buffer.alloc(1 << 16, 0x20);
  big[60_000] = 0xfe;
  big[100] = 0x41;
  hits.reset();
  m.scan(big, 200, 1000, hits);
  assert.equal(hits.count, 0);
  hits.reset();
  m.scan(big, 0, 60_000, hits);
  assert.deepEqual(Array.from(hits.ids.subarray(0, hits.count)), [1]);
  hits.reset();
  m.scan(big, 59_999, 2, hits);
  assert.deepEqual(Array.from(hits.ids.subarray(0, hits.count)), [0]);
  // An id already in the set is not reported twice.
  hits.reset();
  hits.add(1);
  m.scan(Buffer.from('a\u0007a'), 0, 3, hits);
  assert.equal(hits.count, 1);
});

test('MatcherUnion: several matchers in one pass, each over its own prefix, equal the naive matcher per part (seeded)', () => {
  for (let round = 0; round < 120; round++) {
    const r = rng(55_000 + round);
    const byte = (): number => (round % 2 === 0 ? Math.floor(r() * 256) : [0x00, 0x61, 0x41, 0x62, 0x20][Math.floor(r() * 5)]);
    const nParts = 1 + Math.floor(r() * 4);
    const parts: { m: MultiPatternMatcher; pats: P[]; head: number }[] = [];
    for (let q = 0; q < nParts; q++) {
      const m = new MultiPatternMatcher();
      const pats: P[] = [];
      const n = 1 + Math.floor(r() * 40);
      for (let i = 0; i < n; i++) {
        const u = r();
        const len = u < 0.1 ? 1 : u < 0.3 ? 2 + Math.floor(r() * 2) : 4 + Math.floor(r() * 8);
        const bytes = new Uint8Array(len);
        for (let k = 0; k < len; k++) bytes[k] = byte();
        const p = { bytes, nocase: r() < 0.5, id: i };
        pats.push(p);
        m.add(bytes, p.nocase, i);
      }
      m.build();
      parts.push({ m, pats, head: r() < 0.5 ? -1 : Math.floor(r() * 60) });
    }
    const u = new MatcherUnion(parts.map((x) => x.m));
    const sets = parts.map((x) => new MatchSet(x.pats.length));
    for (let b = 0; b < 10; b++) {
      const len = Math.floor(r() * 150);
      const pad = 16;
      const buf = Buffer.alloc(len + 2 * pad);
      for (let k = 0; k < buf.length; k++) buf[k] = byte();
      for (let k = 0; k < 4 && len > 0; k++) {
        const x = parts[Math.floor(r() * parts.length)]!;
        plant(buf, pad + Math.floor(r() * len), x.pats[Math.floor(r() * x.pats.length)]!, r);
      }
      const limits = Int32Array.from(parts, (x) => (x.head < 0 ? len : Math.min(len, x.head)));
      for (const s of sets) s.reset();
      u.scan(buf, pad, len, limits, sets);
      parts.forEach((x, q) => {
        const got = Array.from(sets[q]!.ids.subarray(0, sets[q]!.count)).sort((a, c) => a - c);
        assert.deepEqual(got, naive(x.pats, buf, pad, limits[q]!), `round ${round} buffer ${b} part ${q}`);
      });
    }
  }
});
