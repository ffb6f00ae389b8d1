// Hostile rule input never hangs or crashes the loader: bad syntax,
// unbalanced quotes, catastrophic regexes, huge content lists, megabyte
// lines, binary garbage, 100k-rule files, and mutated real rules (fuzz).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRules, parseRule, RuleParseError, splitRuleFile } from '../../src/detect/rules/index.js';
import { sharedPath } from '../support/shared.js';

const vars = { addressGroups: { HOME_NET: '10.0.0.0/8', EXTERNAL_NET: '!$HOME_NET' }, portGroups: { HTTP_PORTS: '80' } };

/** Parses; returns 'ok' or the reason; anything but a RuleParseError fails the test. */
function attempt(text: string): string {
  try {
    parseRule(text, { vars });
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof RuleParseError, `not a RuleParseError for ${JSON.stringify(text.slice(0, 200))}: ${String(e)}`);
    assert.ok(!e.message.includes('\n'), 'reasons are one line');
    return e.message;
  }
}

test('bad syntax gives one-line reasons', () => {
  const cases: [string, RegExp][] = [
    ['', /no option list/],
    ['alert', /no option list/],
    ['alert tcp any any -> any any (', /not closed/],
    ['alert tcp any any -> any any (sid:1;) trailing', /after the closing/],
    ['alert tcp any any -> any any (msg:"unterminated; sid:1;)', /unbalanced quotes|quote/],
    ['alert tcp any any -> any any (content:"abc; sid:1;)', /unbalanced quotes|must be quoted|unescaped/],
    ['alert tcp any any -> any any (sid:1; rev:2)', /not terminated/],
    ['alert tcp any any -> any any (;;sid:1;)', /empty option/],
    ['alert tcp [1.2.3.4 any -> any any (sid:1;)', /unbalanced|7 fields/],
    ['alert tcp any any -> any any (:x; sid:1;)', /without a keyword/],
    ['alert tcp any any -> any any (pcre:"/(/"; sid:1;)', /unbalanced/],
    ['alert tcp any any -> any any (sid:1; sid:2;)', /sid given twice/],
  ];
  for (const [text, re] of cases) assert.match(attempt(text), re, text);
});

test('catastrophic pcre compiles; 10k contents and megabyte lines parse in bounded time', () => {
  assert.equal(attempt('alert tcp any any -> any any (pcre:"/(a+)+$/"; sid:1;)'), 'ok');
  let t = performance.now();
  const many = Array.from({ length: 10000 }, (_, i) => `content:"c${i}"; distance:0;`).join(' ');
  assert.equal(attempt(`alert tcp any any -> any any (${many} sid:1;)`), 'ok');
  const tMany = performance.now() - t;
  t = performance.now();
  const big = 'A'.repeat(1 << 20);
  assert.equal(attempt(`alert tcp any any -> any any (content:"${big}"; sid:1;)`), 'ok');
  assert.match(attempt(`alert tcp any any -> any any (msg:"${big}; sid:1;)`), /quote/);
  assert.match(attempt(`alert tcp any any -> any any (pcre:"/${'('.repeat(100000)}/"; sid:1;)`), /unbalanced/);
  assert.match(attempt(`alert tcp [${'['.repeat(50000)}] any -> any any (sid:1;)`), /unbalanced|nest|address/);
  assert.match(attempt(`alert tcp any any -> any any (dsize:1${' '.repeat(1 << 20)}x; sid:1;)`), /too long/);
  assert.deepEqual(splitRuleFile(`# alert tcp ${'( '.repeat(300000)}x`), []);
  assert.deepEqual(splitRuleFile(`# alert tcp ${'('.repeat(100000)}${')'.repeat(100000)}`).length, 1);
  const tBig = performance.now() - t;
  console.log(`10k-content rule: ${tMany.toFixed(0)} ms; megabyte lines: ${tBig.toFixed(0)} ms`);
  assert.ok(tMany < 20000 && tBig < 20000);
});

test('binary garbage and a 100k-rule file load without crashing (time printed)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-hostile-'));
  try {
    let seed = 1;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / (1 << 24);
    const garbage = Buffer.alloc(256 * 1024);
    for (let i = 0; i < garbage.length; i++) garbage[i] = Math.floor(rnd() * 256);
    writeFileSync(join(dir, 'garbage.rules'), garbage);
    const g = loadRules([join(dir, 'garbage.rules')], { vars });
    assert.equal(g.stats.loaded, 0);
    assert.ok(g.stats.failed > 0);

    const lines: string[] = [];
    for (let i = 1; i <= 100000; i++) lines.push(`alert tcp $HOME_NET any -> $EXTERNAL_NET $HTTP_PORTS (msg:"rule ${i}"; flow:established,to_server; content:"pattern${i}"; nocase; sid:${i}; rev:1;)`);
    writeFileSync(join(dir, 'big.rules'), lines.join('\n'));
    const t = performance.now();
    const rs = loadRules([join(dir, 'big.rules')], { vars });
    const ms = performance.now() - t;
    console.log(`100k-rule file: loaded ${rs.stats.loaded} in ${ms.toFixed(0)} ms`);
    assert.equal(rs.stats.loaded, 100000);
    assert.ok(ms < 60000, `${ms} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fuzz: mutated real rules either parse or fail with a RuleParseError, quickly', () => {
  const et = sharedPath('rules/et-open-2024-04/emerging-malware.rules') ?? sharedPath('rules/et-open-2024-04/emerging-exploit.rules');
  const seeds = et !== null
    ? splitRuleFile(readFileSync(et, 'latin1')).filter((r) => !r.disabled).slice(0, 400).map((r) => r.text)
    : [
        'alert http $HOME_NET any -> $EXTERNAL_NET any (msg:"x"; flow:established,to_server; http.uri; content:"/a"; pcre:"/^\\/a[0-9]+$/U"; sid:1;)',
        'alert tcp any any -> any [80,8080] (content:"|de ad|"; byte_test:2,>,10,0,relative; isdataat:!5,relative; sid:2;)',
      ];
  let seed = 42;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const alphabet = '";:\\|()[]!,$ -/0123456789abcxyzAZ\x00\xff{}*+?^';
  let ok = 0;
  let failed = 0;
  let worst = 0;
  for (let i = 0; i < 3000; i++) {
    let s = seeds[rnd(seeds.length)]!;
    const edits = 1 + rnd(4);
    for (let k = 0; k < edits; k++) {
      const at = rnd(s.length + 1);
      switch (rnd(4)) {
        case 0:
          s = s.slice(0, at) + s.slice(at + 1 + rnd(8));
          break;
        case 1:
          s = s.slice(0, at) + alphabet[rnd(alphabet.length)] + s.slice(at);
          break;
        case 2: {
          const from = rnd(s.length);
          s = s.slice(0, at) + s.slice(from, from + rnd(30)) + s.slice(at);
          break;
        }
        default:
          s = s.slice(0, at);
      }
    }
    const t = performance.now();
    if (attempt(s) === 'ok') ok++;
    else failed++;
    worst = Math.max(worst, performance.now() - t);
  }
  console.log(`fuzz: 3000 mutated rules, ${ok} parsed, ${failed} rejected, slowest ${worst.toFixed(1)} ms`);
  assert.ok(worst < 2000);
});
