/**
 * The per-inspection search memo (src/detect/engine/inspect.ts SearchMemo)
 * must change nothing but time: random relative content/pcre programs on
 * random buffers give the same verdict and the same recursion count with
 * the memo on and off, and in the backtracking case it was written for (a
 * large file.data with many `<` and `.length`) most searches and pcre runs
 * are answered from it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BufferOp, ContentOp, PcreOp } from '../../src/detect/rules/ast.js';
import { compileProgram, runProgram, InspectState, RuleVars } from '../../src/detect/engine/inspect.js';
import { mulberry32 as rng } from '../support/random.js';

type C = Partial<Omit<ContentOp, 'kind' | 'bytes'>>;
function content(s: string, o: C = {}): ContentOp {
  return {
    kind: 'content', bytes: Buffer.from(s, 'latin1'), nocase: false, negated: false,
    offset: null, depth: null, distance: null, within: null, startsWith: false, endsWith: false,
    fastPattern: false, fastPatternOnly: false, fastPatternChop: null, rawbytes: false, ...o,
  };
}
function pcre(source: string, o: Partial<Omit<PcreOp, 'kind' | 'source'>> = {}): PcreOp {
  return { kind: 'pcre', source, jsFlags: '', negated: false, relative: false, anchored: false, raw: `/${source}/`, overrideLimits: false, captures: {}, ...o };
}


const on = new InspectState();
const off = new InspectState();
off.memo.enabled = false;

function both(ops: BufferOp[], buf: Buffer): { a: boolean; b: boolean; ra: number; rb: number } {
  const p = compileProgram({ buffer: 'file.data', ops }, new RuleVars());
  const a = runProgram(p, buf, 0, buf.length, on);
  const ra = on.recursion;
  const b = runProgram(p, buf, 0, buf.length, off);
  return { a, b, ra, rb: off.recursion };
}

test('memo on and off agree on random relative programs (verdict and recursion count)', () => {
  const r = rng(5);
  const alpha = 'ab<.lx';
  const pick = (n: number): string => {
    let s = '';
    for (let i = 0; i < n; i++) s += alpha[Math.floor(r() * alpha.length)];
    return s;
  };
  let matches = 0;
  const h0 = on.memo.hits;
  for (let iter = 0; iter < 400; iter++) {
    const buf = Buffer.from(pick(300 + Math.floor(r() * 900)), 'latin1');
    const ops: BufferOp[] = [content(pick(1 + Math.floor(r() * 2)))];
    const n = 1 + Math.floor(r() * 4);
    for (let k = 0; k < n; k++) {
      const x = r();
      if (x < 0.15) ops.push(pcre(`^${pick(1)}[a-z<.]{0,3}${pick(1)}`, { relative: true, anchored: false }));
      else if (x < 0.2) ops.push(pcre(`${pick(2)}`, { relative: true, negated: r() < 0.5 }));
      else {
        const o: C = { distance: Math.floor(r() * 3) - (r() < 0.1 ? 2 : 0), nocase: r() < 0.3 };
        if (r() < 0.3) o.within = 2 + Math.floor(r() * 30);
        if (r() < 0.1) o.negated = true;
        ops.push(content(pick(1 + Math.floor(r() * 3)), o));
      }
    }
    ops.push(content(pick(2), { distance: 0 }));
    const { a, b, ra, rb } = both(ops, buf);
    assert.equal(a, b, `verdict differs, iteration ${iter}`);
    assert.equal(ra, rb, `recursion count differs, iteration ${iter}`);
    if (a) matches++;
  }
  // Both verdicts occur, so the comparison means something.
  assert.ok(matches > 20 && matches < 380, `matches ${matches}`);
  // ... and the memo answered some searches (else nothing was compared).
  assert.ok(on.memo.hits - h0 > 100, `memo answers ${on.memo.hits - h0}`);
});

test('the sid 2025185 shape: same verdict, much less work with the memo', () => {
  // content:"<script"; content:"<"; distance:0; content:".length"; distance:0, nocase; pcre:"/^\s*?\)\s*?\{/R" that never matches.
  const ops: BufferOp[] = [
    content('<script'),
    content('<', { distance: 0 }),
    content('.length', { distance: 0, nocase: true }),
    pcre('^\\s*?\\)\\s*?\\{\\s*x\\[', { relative: true }),
  ];
  const body = Buffer.from('<script>' + 'for(i=0;i<a.length;i++){b=c[i]}; '.repeat(2000), 'latin1');
  const p = compileProgram({ buffer: 'file.data', ops }, new RuleVars());
  const h0 = on.memo.hits;
  const a = runProgram(p, body, 0, body.length, on);
  const answered = on.memo.hits - h0;
  const b = runProgram(p, body, 0, body.length, off);
  assert.equal(off.memo.hits, 0);
  assert.equal(a, false);
  assert.equal(b, false);
  assert.equal(on.recursion, off.recursion);
  // With a matching tail both match.
  const hit = Buffer.concat([body, Buffer.from('<a.length) { x[', 'latin1')]);
  assert.equal(runProgram(p, hit, 0, hit.length, on), true);
  assert.equal(runProgram(p, hit, 0, hit.length, off), true);
  // Most of the ~3,000 steps (the recursion limit) re-search `.length` or re-run the pcre at a start already tried.
  assert.ok(answered > 1000, `answered from the memo: ${answered}`);
});
