/**
 * Guarded pcre patterns (backreferences, lookarounds, counted repeats V8's
 * linear engine cannot run) get a looser linear-engine pre-check that runs
 * first: it must match wherever the pattern matches (else alerts would be
 * lost), so with it execPcre must give exactly what the plain RegExp gives.
 * Seeded mutations of matching subjects, short enough that the reference
 * RegExp runs unguarded safely.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analysePattern, compilePcre, execPcre, pcreResult, pcreStats } from '../../src/detect/engine/pcre.js';
import type { PcreOp } from '../../src/detect/rules/ast.js';
import { mulberry32 as rng } from '../support/random.js';

function op(source: string, jsFlags: string, anchored: boolean): PcreOp {
  return { kind: 'pcre', source, jsFlags, negated: false, relative: false, anchored, raw: `/${source}/${jsFlags}`, overrideLimits: false, captures: {} };
}


/** [JS pattern source (as the rule front end emits it), a subject it matches]. */
const CASES: [string, string][] = [
  // ET Open 2024-04 (`(?P<var>…)`/`(?P=var)` as the front end rewrites them); the first ran ~16k times per benchmark pass.
  ['^\\s*?\\)\\s*?\\{\\s*(?<var>[^\\s]+)\\s*=[^\\x5b]+?\\x5b\\s*\\k<var>\\s*?\\|\\s*?0\\s*?\\]\\s*?\\x3b\\s*?', ') { ab = x[ ab | 0 ];'],
  ['^(?<q>[\\x22\\x27])\\+\\k<q>\\?\\k<q>\\+\\k<q>', '"+"?"+"'],
  ['^(?<sep>.{1,50})u\\k<sep>n\\k<sep>c', '-u-n-c'],
  ['(\\w)\\1{2}', 'xaaay'],
  ['(a+)b\\1', 'xaabaa'],
  ['foo(?=bar)\\w+', 'foobar'],
  ['(?<!x)ab+c', 'zabbc'],
  ['(?!abc)[a-c]{3}', 'acb'],
  ['^[0-9a-f]{20,40}(?=;)', '0123456789abcdef0123;'],
  ['x[a-z]{17}y', 'xabcdefghijklmnopqy'],
  ['(?:(ab)|c)\\1d', 'cd'],
  ['(?=[A-Z])(?=.*[0-9])[A-Za-z0-9]{4,}', 'Ab12'],
];

const ALPHABET = 'abcxyzABC012 ")(+?{}[]|;=-\n\'';

function mutate(s: string, r: () => number): string {
  const a = [...s];
  const n = 1 + Math.floor(r() * 3);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(r() * (a.length + 1));
    const c = ALPHABET[Math.floor(r() * ALPHABET.length)]!;
    const u = r();
    if (u < 0.33 && a.length > 0) a.splice(Math.min(at, a.length - 1), 1);
    else if (u < 0.66) a.splice(at, 0, c);
    else if (a.length > 0) a[Math.min(at, a.length - 1)] = c;
  }
  return a.join('');
}

test('pre-check of guarded patterns: never rejects a subject the pattern matches; results equal the plain RegExp', () => {
  let matched = 0;
  let runs = 0;
  let withPre = 0;
  let timeouts = 0;
  const skippedBefore = pcreStats().guardSkipped;
  for (const [ci, [source, sample]] of CASES.entries()) {
    for (const jsFlags of ['', 'i', 's']) {
      for (const anchored of [false, true]) {
        const p = compilePcre(op(source, jsFlags, anchored));
        if (p.mode !== 'guarded') continue;
        if (p.pre !== null) withPre++;
        // The reference: the same compiled RegExp, run directly (subjects are short).
        const ref = new RegExp(p.re.source, p.re.flags);
        const r = rng(7000 + ci * 10 + jsFlags.length * 2 + (anchored ? 1 : 0));
        for (let k = 0; k < 150; k++) {
          let subj = k === 0 ? sample : mutate(sample, r);
          if (jsFlags === 'i' && r() < 0.5) subj = subj.toUpperCase();
          const prefix = anchored ? '' : mutate('', r);
          subj = prefix + subj;
          const from = anchored ? 0 : Math.floor(r() * 2);
          ref.lastIndex = from;
          const want = ref.exec(subj);
          if (want !== null && p.pre !== null) {
            p.pre.lastIndex = from;
            assert.ok(p.pre.test(subj), `pre-check rejected a match: ${p.raw} on ${JSON.stringify(subj)}`);
          }
          const got = execPcre(p, subj, from);
          runs++;
          // A guarded run can time out on a busy machine (20 ms watchdog): no answer to compare.
          if (got === -1) {
            timeouts++;
            continue;
          }
          if (want !== null) {
            matched++;
            assert.equal(got, 1, `${p.raw} on ${JSON.stringify(subj)}`);
            assert.equal(pcreResult.start, want.index);
            assert.equal(pcreResult.end, want.index + want[0].length);
          } else assert.equal(got, 0, `${p.raw} on ${JSON.stringify(subj)}`);
        }
      }
    }
  }
  assert.ok(timeouts < runs / 20, `${timeouts} of ${runs} guarded runs timed out`);
  assert.ok(withPre >= 20, `only ${withPre} guarded patterns got a pre-check`);
  assert.ok(matched > runs / 10 && matched < runs, `${matched} of ${runs} subjects matched`);
  // The pre-check did reject some subjects without a guarded run.
  assert.ok(pcreStats().guardSkipped > skippedBefore);
});

test('the looser pattern: backreferences, lookarounds and big counted repeats rewritten, the rest unchanged', () => {
  assert.equal(analysePattern('(a)\\1', false, true, true).source, '(a)[\\s\\S]*?');
  assert.equal(analysePattern('(?<n>a)\\k<n>', false, true, true).source, '(?<n>a)[\\s\\S]*?');
  assert.equal(analysePattern('x(?=ab(c))y', false, true, true).source, 'x(?:)y');
  assert.equal(analysePattern('(?<!a)b', false, true, true).source, '(?:)b');
  assert.equal(analysePattern('a{2,40}b{0,20}?c{3}', false, true, true).source, 'a+b*?c{3}');
  assert.equal(analysePattern('[\\1]a{17,}', false, true, true).source, '[\\1]a+');
  // Without `superset` nothing changes.
  assert.equal(analysePattern('(a)\\1(?=b){2,40}', false).source, '(a)\\1(?=b){2,40}');
  // Hostile shapes keep a pre-check that stays fast.
  const p = compilePcre(op('(a+)+\\1$', '', false));
  assert.notEqual(p.pre, null);
  const t0 = performance.now();
  assert.equal(p.pre!.test('a'.repeat(5000) + '!'), true);
  assert.ok(performance.now() - t0 < 500);
});
