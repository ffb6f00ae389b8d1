// Rule files and side files: lexing (comments, continuations, disabled
// rules), classification/reference/threshold config, and the loader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HarrierError } from '../../src/errors.js';
import { loadRules, parseClassificationConfig, parseReferenceConfig, parseThresholdConfig, splitRuleFile } from '../../src/detect/rules/index.js';

const vars = { addressGroups: { HOME_NET: '10.0.0.0/8', EXTERNAL_NET: '!$HOME_NET' }, portGroups: {} };

test('splitRuleFile: blank lines, comments, CRLF, backslash continuations, disabled rules', () => {
  const text = [
    '# a comment',
    '',
    'alert tcp any any -> any any (msg:"one"; \\',
    '   content:"x"; sid:1;)',
    '#alert tcp any any -> any any (msg:"off"; sid:2;)',
    '# alert udp any any -> any any (sid:3;)\r',
    '   # not a rule: just text (with parens)',
    'alert tcp any any -> any any (sid:4;)\r',
    'alert tcp any any -> any any (sid:5; \\',
  ].join('\n');
  const recs = splitRuleFile(text);
  assert.deepEqual(
    recs.map((r) => [r.line, r.lines, r.disabled, r.text]),
    [
      [3, 2, false, 'alert tcp any any -> any any (msg:"one";    content:"x"; sid:1;)'],
      [5, 1, true, '#alert tcp any any -> any any (msg:"off"; sid:2;)'],
      [6, 1, true, '# alert udp any any -> any any (sid:3;)'],
      [8, 1, false, 'alert tcp any any -> any any (sid:4;)'],
      [9, 1, false, 'alert tcp any any -> any any (sid:5;'],
    ],
  );
});

test('classification.config and reference.config', () => {
  const c = parseClassificationConfig('# x\nconfig classification: trojan-activity,A Network Trojan was detected,1\nconfig classification: misc, Misc, with comma ,3\nbogus\n');
  assert.deepEqual(c.classes.get('trojan-activity'), { name: 'trojan-activity', description: 'A Network Trojan was detected', priority: 1 });
  assert.deepEqual(c.classes.get('misc'), { name: 'misc', description: 'Misc, with comma', priority: 3 });
  assert.deepEqual(c.errors.map((e) => e.line), [4]);
  const r = parseReferenceConfig('config reference: cve http://cve.mitre.org/cgi-bin/cvename.cgi?name=\nconfig reference: URL http://\n');
  assert.equal(r.systems.get('url'), 'http://');
  assert.equal(r.systems.size, 2);
});

test('threshold.config: threshold, event_filter, suppress with track and ip lists, rate_filter; bad lines reported', () => {
  const t = parseThresholdConfig(
    [
      'threshold gen_id 1, sig_id 10, type limit, track by_src, count 1, seconds 60',
      'event_filter gen_id 1, sig_id 11, type both, track by_dst, count 2, seconds 30',
      'suppress gen_id 1, sig_id 2002087, track by_src, ip 10.1.1.54',
      'suppress gen_id 1, sig_id 2002088, track by_either, ip [1.2.3.4, $HOME_NET]',
      'suppress gen_id 0, sig_id 0',
      'rate_filter gen_id 1, sig_id 1000, track by_rule, count 100, seconds 60, new_action alert, timeout 30',
      'suppress gen_id 1, sig_id 1, track by_src',
      'frobnicate gen_id 1',
      'threshold gen_id 1, sig_id 12, type limit, track by_src, count 1',
    ].join('\n'),
    vars,
  );
  assert.deepEqual(t.thresholds, [
    { kind: 'threshold', gid: 1, sid: 10, spec: { type: 'limit', track: 'by_src', count: 1, seconds: 60 }, line: 1 },
    { kind: 'event_filter', gid: 1, sid: 11, spec: { type: 'both', track: 'by_dst', count: 2, seconds: 30 }, line: 2 },
  ]);
  assert.equal(t.suppress.length, 3);
  assert.equal(t.suppress[0]!.track, 'by_src');
  assert.deepEqual([...t.suppress[0]!.ips!.v4], [0x0a010136, 0x0a010136]);
  assert.deepEqual([...t.suppress[1]!.ips!.v4], [0x01020304, 0x01020304, 0x0a000000, 0x0affffff]);
  assert.deepEqual(t.suppress[2], { gid: 0, sid: 0, track: null, ips: null, line: 5 });
  assert.deepEqual(t.rateFilters, [{ gid: 1, sid: 1000, track: 'by_rule', count: 100, seconds: 60, newAction: 'alert', timeout: 30, line: 6 }]);
  assert.deepEqual(t.errors.map((e) => e.line), [7, 8, 9]);
  assert.match(t.errors[0]!.reason, /track and ip go together/);
});

test('loadRules: folders, side files found beside the rules, failures with file/line/sid, disabled, duplicates, maxRules', () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-rules-'));
  try {
    mkdirSync(join(dir, 'set'));
    writeFileSync(join(dir, 'set', 'classification.config'), 'config classification: bad,Bad Stuff,2\n');
    writeFileSync(join(dir, 'set', 'threshold.config'), 'suppress gen_id 1, sig_id 3\n');
    writeFileSync(
      join(dir, 'set', 'a.rules'),
      [
        'alert tcp $HOME_NET any -> $EXTERNAL_NET 80 (msg:"a"; content:"x"; classtype:bad; sid:1; rev:1;)',
        '# alert tcp any any -> any any (msg:"disabled"; sid:2;)',
        'alert tcp any any -> any any (msg:"bad"; content:"|4|"; sid:3;)',
        'alert tcp any any -> any any (msg:"dup old"; sid:4; rev:1;)',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'set', 'b.rules'), 'alert tcp any any -> any any (msg:"dup new"; sid:4; rev:2;)\nalert tcp $NOPE any -> any any (sid:6;)\n');
    writeFileSync(join(dir, 'set', 'notes.txt'), 'alert tcp any any -> any any (sid:99;)\n');
    const rs = loadRules([join(dir, 'set')], { vars });
    assert.deepEqual(rs.files.map((f) => f.slice(dir.length)), ['/set/a.rules', '/set/b.rules']);
    assert.deepEqual(
      rs.rules.map((r) => [r.meta.sid, r.meta.rev, r.meta.category, r.meta.priority]),
      [
        [1, 1, 'Bad Stuff', 2],
        [4, 2, '', 3],
      ],
    );
    assert.equal(rs.rules[0]!.source.line, 1);
    assert.deepEqual(
      rs.errors.map((e) => [e.file.slice(dir.length), e.line, e.sid]),
      [
        ['/set/a.rules', 3, 3],
        ['/set/b.rules', 2, 6],
      ],
    );
    assert.match(rs.errors[0]!.reason, /odd number of hex digits/);
    assert.match(rs.errors[1]!.reason, /unknown address variable \$NOPE/);
    assert.ok(rs.warnings.some((w) => /duplicate sid 4/.test(w)));
    assert.deepEqual({ ...rs.stats, loadMs: 0 }, { files: 2, lines: 6, loaded: 2, failed: 2, disabled: 1, loadMs: 0 });
    assert.equal(rs.thresholds.suppress.length, 1);
    const capped = loadRules([join(dir, 'set', 'a.rules')], { vars, maxRules: 1 });
    assert.equal(capped.stats.loaded, 1);
    assert.ok(capped.warnings.some((w) => /maxRules/.test(w)));
    // an unknown classtype fails once classification.config is known
    writeFileSync(join(dir, 'set', 'c.rules'), 'alert tcp any any -> any any (classtype:nope; sid:7;)\n');
    assert.match(loadRules([join(dir, 'set', 'c.rules')], { vars }).errors[0]!.reason, /unknown classtype/);
    assert.throws(
      () => loadRules([join(dir, 'missing')], { vars }),
      (e: unknown) => e instanceof HarrierError && e.code === 'HARRIER_ERR_INPUT_OPEN' && /missing/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
