/**
 * pcre never hangs the engine: V8's linear-engine fallback is active (set at
 * run time by src/detect/engine/pcre.ts), case-insensitive patterns are
 * rewritten so they stay eligible for it, and patterns that cannot use it
 * (backreferences, lookaround) run under a timeout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PcreOp } from '../../src/detect/rules/ast.js';
import { compilePcre, execPcre, describePcre, analysePattern, pcreStats } from '../../src/detect/engine/pcre.js';
import { compileProgram, runProgram, InspectState, RuleVars } from '../../src/detect/engine/inspect.js';

function op(source: string, jsFlags = ''): PcreOp {
  return { kind: 'pcre', source, jsFlags, negated: false, relative: false, anchored: false, raw: `/${source}/${jsFlags}`, overrideLimits: false, captures: {} };
}

function timed(source: string, jsFlags: string, subject: string): { r: number; ms: number; mode: string } {
  const p = compilePcre(op(source, jsFlags));
  const t0 = performance.now();
  const r = execPcre(p, subject, 0);
  return { r, ms: performance.now() - t0, mode: p.mode };
}

test('(a+)+$ on 30 a\'s and "!" finishes in milliseconds (linear fallback active)', () => {
  const s = 'a'.repeat(30) + '!';
  const x = timed('(a+)+$', '', s);
  assert.equal(x.mode, 'linear-fallback');
  assert.equal(x.r, 0);
  assert.ok(x.ms < 100, `took ${x.ms} ms`);
  // Also through the inspection engine, as a rule would run it.
  const prog = compileProgram({ buffer: 'pkt_data', ops: [op('(a+)+$')] }, new RuleVars());
  const t0 = performance.now();
  assert.equal(runProgram(prog, Buffer.from(s), 0, s.length, new InspectState()), false);
  assert.ok(performance.now() - t0 < 100);
});

test('case-insensitive hostile patterns are rewritten and stay bounded', () => {
  const x = timed('(a+)+$', 'i', 'A'.repeat(30) + '!');
  assert.equal(x.mode, 'linear-fallback');
  assert.ok(x.ms < 100, `took ${x.ms} ms`);
  assert.equal(timed('(a+)+$', 'i', 'aAaA').r, 1);
  // The rewrite keeps meaning: classes, ranges, escapes.
  assert.equal(analysePattern('a[b-d\\x41]\\x62', true).source, '[\\x61\\x41][b-d\\x41\\x42-\\x44\\x61]' + '[\\x62\\x42]');
  assert.equal(timed('^x-[a-f]+\\d$', 'i', 'X-AbF3').r, 1);
});

test('patterns without fallback (backreference, lookaround) are guarded by a timeout', () => {
  const s = 'a'.repeat(28) + '!';
  const before = pcreStats().timeouts;
  const x = timed('(a+)+\\1$', '', s);
  assert.equal(x.mode, 'guarded');
  assert.equal(x.r, -1); // timed out: no match
  assert.ok(x.ms < 500, `took ${x.ms} ms`);
  assert.equal(pcreStats().timeouts, before + 1);
  const y = timed('(?=a)(a+)+$', '', s);
  assert.equal(y.mode, 'guarded');
  assert.ok(y.ms < 500, `took ${y.ms} ms`);
  // Guarded patterns still match normally.
  assert.equal(timed('(a+)b\\1', '', 'xaabaa').r, 1);
  assert.match(describePcre(compilePcre(op('(\\w)\\1'))), /backreference/);
  // A lookahead without unbounded repeats needs no guard.
  assert.equal(compilePcre(op('foo(?!bar)')).mode, 'plain');
});

test('a hostile pattern inside a rule program leaves the engine usable', () => {
  const prog = compileProgram({ buffer: 'pkt_data', ops: [{ kind: 'content', bytes: Buffer.from('a'), nocase: false, negated: false, offset: null, depth: null, distance: null, within: null, startsWith: false, endsWith: false, fastPattern: false, fastPatternOnly: false, fastPatternChop: null, rawbytes: false }, { ...op('^(a|a)+\\1$'), relative: true }] }, new RuleVars());
  const st = new InspectState();
  const b = Buffer.from('a'.repeat(40) + '!');
  const t0 = performance.now();
  assert.equal(runProgram(prog, b, 0, b.length, st), false);
  assert.ok(performance.now() - t0 < 2000);
  assert.ok(st.pcreTimeouts >= 1);
});

test("the front end's lookaround anchors are swapped for linear-eligible equivalents where exact", () => {
  // `$` (end or before a final newline), as src/detect/rules/regex.ts spells it.
  const dollar = '\\.php(?=\\n?(?![\\s\\S]))';
  assert.equal(compilePcre(op(dollar)).mode, 'linear-fallback');
  assert.equal(timed(dollar, '', '/a.php').r, 1);
  assert.equal(timed(dollar, '', '/a.php\n').r, 1);
  assert.equal(timed(dollar, '', '/a.php\nx').r, 0);
  assert.equal(timed(dollar, '', '/a.php?x').r, 0);
  // `$` with E: only the very end.
  assert.equal(timed('php(?![\\s\\S])', '', 'a.php\n').r, 0);
  assert.equal(timed('php(?![\\s\\S])', '', 'a.php').r, 1);
  // `$` with m: before any LF (not CR) or at the end.
  const mDollar = 'bot(?=\\n|(?![\\s\\S]))';
  assert.equal(compilePcre(op(mDollar)).mode, 'linear-fallback');
  assert.equal(timed(mDollar, '', 'UA: bot\nHost').r, 1);
  assert.equal(timed(mDollar, '', 'UA: bot\r\nHost').r, 0);
  // `^` with m at the start: at the start or after a LF.
  const mCaret = '(?:^|(?<=\\n)(?=[\\s\\S]))Host';
  assert.equal(compilePcre(op(mCaret)).mode, 'linear-fallback');
  assert.equal(timed(mCaret, '', 'GET /\r\nHost: x').r, 1);
  assert.equal(timed(mCaret, '', 'GET / xHost: x').r, 0);
  // Not swapped inside a group (the anchor is followed by more pattern there).
  assert.equal(compilePcre(op('(a(?=\\n?(?![\\s\\S]))|b)c')).mode, 'plain');
  // Hostile and anchored as the front end writes `(a+)+$`: still bounded.
  const x = timed('(a+)+(?=\\n?(?![\\s\\S]))', '', 'a'.repeat(30) + '!');
  assert.equal(x.mode, 'linear-fallback');
  assert.ok(x.ms < 100, `took ${x.ms} ms`);
});
