// Unit tests of the suricata-verify check evaluator and planner, on EVE
// records and test.yaml snippets written here after the format description in
// suricata-verify's README (no test of that suite is copied).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  evalFilter,
  evalStats,
  findValue,
  matchEntry,
  parseVersion,
  pyEquals,
  unmetRequirement,
  type Capabilities,
  type Json,
} from './sv-check.js';
import { defaultProfile, findTests, parseTestYaml, planTest, ruleKeywords, rulesOf } from './sv-plan.js';
import { docSection, judge, parseEve, replaceSection, runPlan, WorkerSlot, DOC_BEGIN, DOC_END, type TestResult } from './sv-run.js';

const alert: Json = {
  event_type: 'alert',
  src_port: 80,
  alert: { signature_id: 1, metadata: { tag: ['tag1', 'tag2', 'tag3'] } },
  http: { hostname: 'www.example.com', status: 200 },
  ftp: { reply: ['Opening BINARY mode data connection', 'Transfer complete.'] },
  flow: { age: 3 },
  nothing: null,
};
const httpRec: Json = { event_type: 'http', dest_port: 80, http: { hostname: 'example.org' } };

test('findValue walks dotted paths, array indexes and __len', () => {
  assert.equal(findValue('alert.signature_id', alert), 1);
  assert.equal(findValue('alert.metadata.tag[0]', alert), 'tag1');
  assert.equal(findValue('alert.metadata.tag[7]', alert), undefined);
  assert.equal(findValue('alert.metadata.tag.__len', alert), 3);
  assert.equal(findValue('http.hostname.__len', alert), 15);
  assert.equal(findValue('alert.__len', alert), 2, 'an object has as many as its keys');
  assert.equal(findValue('src_port.__len', alert), -1, 'a number has no length');
  assert.equal(findValue('dns.query', alert), undefined);
  assert.equal(findValue('nothing', alert), undefined, 'JSON null is no value');
  assert.equal(findValue('src_port.x', alert), undefined);
});

test('equality is Python ==: numbers, booleans as ints, deep lists and objects', () => {
  assert.ok(pyEquals(1, 1.0));
  assert.ok(pyEquals(true, 1));
  assert.ok(!pyEquals('1', 1), 'a string never equals a number');
  assert.ok(pyEquals(['a', { b: 2 }], ['a', { b: 2 }]));
  assert.ok(!pyEquals(['a'], ['a', 'b']));
  assert.ok(!pyEquals({ a: 1 }, { a: 1, b: 2 }));
  assert.ok(pyEquals(undefined, null));
});

test('operators: __find, __contains, __startswith, __endswith, numeric comparisons', () => {
  assert.ok(matchEntry(alert, 'http.hostname.__find', 'example'));
  assert.ok(!matchEntry(alert, 'http.hostname.__find', 'absent'));
  assert.ok(matchEntry(alert, 'ftp.reply.__contains', 'Transfer complete.'));
  assert.ok(!matchEntry(alert, 'ftp.reply.__contains', 'Transfer'), 'list membership, not substring');
  assert.ok(matchEntry(alert, 'http.hostname.__contains', 'example'), 'substring of a string');
  assert.ok(matchEntry(alert, 'alert.metadata.__contains', 'tag'), 'key of an object');
  assert.ok(matchEntry(alert, 'http.hostname.__startswith', 'www.'));
  assert.ok(matchEntry(alert, 'http.hostname.__endswith', '.com'));
  assert.ok(matchEntry(alert, 'flow.age.__gt', 0));
  assert.ok(matchEntry(alert, 'flow.age.__lte', 3));
  assert.ok(!matchEntry(alert, 'flow.age.__lt', 3));
  assert.ok(matchEntry(alert, 'has-key', 'alert.metadata'));
  assert.ok(!matchEntry(alert, 'has-key', 'alert.rule'));
  assert.ok(matchEntry(alert, 'not-has-key', 'tls'));
});

test('filter counts matching records; keys are tried in order and a miss stops', () => {
  const events = [alert, httpRec, { event_type: 'alert', src_port: 443 }];
  assert.deepEqual(evalFilter({ count: 1, match: { event_type: 'alert', src_port: 80 } }, events), { ok: true, reason: '' });
  assert.equal(evalFilter({ count: 2, match: { event_type: 'alert' } }, events).ok, true);
  const miss = evalFilter({ count: 3, match: { event_type: 'alert' } }, events);
  assert.equal(miss.ok, false);
  assert.match(miss.reason, /expected 3 matches, got 2/);
  assert.equal(evalFilter({ count: 0, match: { event_type: 'tls' } }, events).ok, true);
  // The http record stops at event_type and never reaches the operator.
  assert.equal(evalFilter({ count: 1, match: { event_type: 'alert', src_port: 80, 'http.hostname.__find': 'www' } }, events).ok, true);
});

test('an operator on a missing field fails the check (as the reference runner raises)', () => {
  const r = evalFilter({ count: 0, match: { event_type: 'alert', 'tls.sni.__startswith': 'a' } }, [alert]);
  assert.equal(r.ok, false);
  assert.match(r.reason, /check error: tls\.sni\.__startswith: value is missing/);
});

test('stats checks read the last stats record', () => {
  const events: Json[] = [
    { event_type: 'stats', stats: { decoder: { pkts: 1 } } },
    { event_type: 'stats', stats: { decoder: { pkts: 42, bytes: 200 } } },
  ];
  assert.equal(evalStats({ 'decoder.pkts': 42, 'decoder.bytes.__gte': 128 }, events).ok, true);
  assert.match(evalStats({ 'decoder.pkts': 41 }, events).reason, /stats\.decoder\.pkts: expected 41, got 42/);
  assert.equal(evalStats({ 'decoder.pkts': 1 }, [alert]).ok, false);
});

const caps: Capabilities = { version: { major: 7, minor: 0, patch: 4 }, features: new Set(['HAVE_JA3']), os: 'linux', arch: 'x86_64' };

test('requires: versions, features, platform, scripts', () => {
  assert.deepEqual(parseVersion('7'), { major: 7, minor: 0, patch: 0 });
  assert.deepEqual(parseVersion('7.0', true), { major: 7, minor: 0, patch: null });
  assert.equal(unmetRequirement({ 'min-version': '6.0.0' }, caps), null);
  assert.equal(unmetRequirement({ 'min-version': '7.0.4' }, caps), null);
  assert.match(unmetRequirement({ 'min-version': '7.0.5' }, caps) ?? '', /requires Suricata >= 7\.0\.5/);
  assert.match(unmetRequirement({ 'min-version': 8 }, caps) ?? '', />= 8/);
  assert.match(unmetRequirement({ 'lt-version': '7' }, caps) ?? '', /< 7/);
  assert.equal(unmetRequirement({ 'lt-version': '7.0.10' }, caps), null);
  assert.equal(unmetRequirement({ version: '7.0' }, caps), null);
  assert.match(unmetRequirement({ version: '6' }, caps) ?? '', /only for Suricata 6/);
  assert.equal(unmetRequirement({ features: ['HAVE_JA3'] }, caps), null);
  assert.match(unmetRequirement({ features: ['HAVE_LUA'] }, caps) ?? '', /HAVE_LUA/);
  assert.equal(unmetRequirement({ lambda: 'sys.platform != "win32"' }, caps), null);
  assert.match(unmetRequirement({ lambda: 'sys.platform == "win32"' }, caps) ?? '', /Windows/);
  assert.equal(unmetRequirement({ os: 'linux', arch: 'x86_64', pcap: false }, caps), null);
  assert.match(unmetRequirement({ script: ['true'] }, caps) ?? '', /script/);
});

test('test.yaml is read as YAML 1.1 (yes is true), as PyYAML does', () => {
  const doc = parseTestYaml('checks:\n  - filter:\n      count: 1\n      match:\n        tls.ja3.enabled: yes\n');
  const m = ((doc.checks as Json[])[0] as { filter: { match: Record<string, Json> } }).filter.match;
  assert.equal(m['tls.ja3.enabled'], true);
});

test('rule lexer: protocol, keyword names, continuation lines, quoted semicolons', () => {
  const rules = rulesOf('# c\nalert http any any -> any any (msg:"a;b"; \\\n content:"x"; http.uri; sid:1;)\n\n');
  assert.equal(rules.length, 1);
  assert.deepEqual(ruleKeywords(rules[0]), { proto: 'http', keywords: ['msg', 'content', 'http.uri', 'sid'] });
});

/** A test folder made here: test.yaml, optional rules, suricata.yaml, a (fake) pcap. */
function makeTest(root: string, name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

test('planner: scope decisions with one-line reasons, config translation, per-check skips', () => {
  const root = mkdtempSync(join(tmpdir(), 'sv-plan-'));
  const profile = defaultProfile(['--rules']);
  const checks = 'checks:\n  - filter:\n      count: 1\n      match:\n        event_type: alert\n';
  makeTest(root, 'ok', { 'test.yaml': `args:\n  - -k none --set stream.midstream=true\n${checks}`, 'input.pcap': '', 'test.rules': 'alert http any any -> any any (content:"a"; http.uri; sid:1;)\n' });
  makeTest(root, 'lua', { 'test.yaml': `requires:\n  features:\n    - HAVE_LUA\n${checks}`, 'input.pcap': '' });
  makeTest(root, 'newer', { 'test.yaml': `requires:\n  min-version: 8\n${checks}`, 'input.pcap': '' });
  makeTest(root, 'foo-ips', { 'test.yaml': checks, 'input.pcap': '' });
  makeTest(root, 'smb', { 'test.yaml': checks, 'input.pcap': '', 'test.rules': 'alert smb any any -> any any (sid:1;)\n' });
  makeTest(root, 'shell', { 'test.yaml': `${checks}  - shell:\n      args: true\n`, 'input.pcap': '' });
  makeTest(root, 'nopcap', { 'test.yaml': checks });
  makeTest(root, 'vars', {
    'test.yaml': `${checks}  - filter:\n      count: 2\n      match:\n        event_type: fileinfo\n`,
    'input.pcap': '',
    'suricata.yaml': '%YAML 1.1\n---\nvars:\n  address-groups:\n    HOME_NET: "[1.2.3.0/24]"\noutputs:\n  - eve-log:\n      types:\n        - alert\n        - http:\n            extended: yes\n',
  });
  makeTest(root, 'badset', { 'test.yaml': `args:\n  - --set stream.reassembly.depth=0\n${checks}`, 'input.pcap': '' });
  makeTest(root, 'mqttfields', {
    'test.yaml': 'checks:\n  - filter:\n      count: 3\n      match:\n        dest_port: 1883\n  - filter:\n      count: 1\n      match:\n        mqtt.connect.client_id: x\n',
    'input.pcap': '',
  });
  makeTest(root, 'onlyfiles', { 'test.yaml': 'checks:\n  - filter:\n      count: 1\n      match:\n        event_type: fileinfo\n', 'input.pcap': '' });
  makeTest(root, 'group/nested', { 'test.yaml': checks, 'input.pcap': '' });

  const tests = findTests(root);
  assert.deepEqual(tests.map((d) => d.slice(root.length + 1)), ['badset', 'foo-ips', 'group/nested', 'lua', 'mqttfields', 'newer', 'nopcap', 'ok', 'onlyfiles', 'shell', 'smb', 'vars']);
  const plans = Object.fromEntries(tests.map((d) => [d.slice(root.length + 1), planTest(d, root, profile)]));
  const reason = (n: string): string => (plans[n].kind === 'skip' ? plans[n].reason : 'RUN');
  assert.match(reason('lua'), /HAVE_LUA/);
  assert.match(reason('newer'), />= 8/);
  assert.match(reason('foo-ips'), /IPS/);
  assert.match(reason('smb'), /rules on smb/);
  assert.match(reason('shell'), /shell check/);
  assert.match(reason('nopcap'), /no pcap/);
  assert.match(reason('badset'), /stream\.reassembly\.depth/);
  assert.match(reason('onlyfiles'), /fileinfo|file logging/);
  assert.match(reason('mqttfields'), /checks mqtt fields/);
  assert.equal(reason('group/nested'), 'RUN');

  const ok = plans.ok;
  assert.equal(ok.kind, 'run');
  if (ok.kind === 'run') {
    assert.ok(ok.rules?.endsWith('test.rules'));
    assert.match(ok.config, /midstream: yes/);
    assert.match(ok.config, /checksum-validation: no/);
    assert.match(ok.config, /HOME_NET: "\[192\.168\.0\.0\/16,10\.0\.0\.0\/8,172\.16\.0\.0\/12\]"/, 'Suricata default HOME_NET');
    assert.match(ok.config, /extended: yes/, 'default suricata.yaml logs extended HTTP');
    assert.equal(ok.onAlerts, true);
    assert.equal(ok.eveTypes, null);
  }
  const vars = plans.vars;
  assert.equal(vars.kind, 'run');
  if (vars.kind === 'run') {
    assert.match(vars.config, /HOME_NET: "\[1\.2\.3\.0\/24\]"/);
    assert.match(vars.config, /midstream: no/);
    assert.match(vars.config, /checksum-validation: yes/);
    assert.deepEqual([...(vars.eveTypes ?? [])].sort(), ['alert', 'http']);
    assert.equal(vars.checks[1].skip !== null, true, 'the fileinfo check is skipped on its own');
    // Verdicts: the eve-types filter drops flow records; the skipped check is noted.
    const events: Json[] = [{ event_type: 'alert' }, { event_type: 'flow' }];
    const j = judge(vars, events);
    assert.equal(j.status, 'PASS');
    assert.match(j.reason, /1 of 2 checks skipped/);
    assert.equal(judge(vars, [{ event_type: 'flow' }]).status, 'FAIL');
  }
});

test('EVE parsing, the generated doc section and its markers', () => {
  assert.equal(parseEve('{"a":1}\n\n{"b":2}\n').events.length, 2);
  assert.match(parseEve('{"a":1}\nnot json\n').error ?? '', /line 2/);
  const results: TestResult[] = [
    { name: 'a', status: 'PASS', reason: '', onAlerts: true, ms: 1 },
    { name: 'b', status: 'FAIL', reason: 'expected 1 matches, got 0', onAlerts: true, ms: 1 },
    { name: 'c', status: 'SKIP', reason: 'IPS mode (--simulate-ips)', onAlerts: false, ms: 0 },
  ];
  const section = docSection(results, '2026-01-01');
  assert.match(section, /1 passed, 1 failed, 1 skipped; in-scope tests whose checks are on alerts: 1\/2 passed \(50\.0%\)/);
  assert.match(section, /\| b \| yes \| expected 1 matches, got 0 \|/);
  const first = replaceSection('# Title\n\nhand-written text\n', section);
  assert.ok(first.startsWith('# Title\n\nhand-written text\n'));
  assert.ok(first.includes(DOC_BEGIN) && first.includes(DOC_END));
  const second = replaceSection(first + 'after\n', 'NEW');
  assert.ok(second.includes('hand-written text') && second.includes('after') && second.includes('NEW'));
  assert.ok(!second.includes('expected 1 matches'), 'the old section is replaced');
});

test('a harrier that hangs, dies or fails is a FAIL with the reason; the runner goes on', async () => {
  // A stand-in for dist/src/cli/main.js: behaviour chosen by the capture name.
  const dir = mkdtempSync(join(tmpdir(), 'sv-worker-'));
  const fake = join(dir, 'main.mjs');
  writeFileSync(
    fake,
    [
      "import { writeFileSync } from 'node:fs';",
      'export async function main(argv) {',
      "  const pcap = argv[3]; const eve = argv[argv.indexOf('--eve') + 1];",
      "  if (pcap.endsWith('hang.pcap')) for (;;) {}",
      "  if (pcap.endsWith('exit.pcap')) process.exit(3);",
      "  if (pcap.endsWith('bad.pcap')) { process.stderr.write('harrier: warning: x\\nharrier: not a capture [HARRIER_ERR_CAPTURE_FORMAT]\\n'); return 1; }",
      "  writeFileSync(eve, JSON.stringify({ event_type: 'alert' }) + '\\n');",
      '  return 0;',
      '}',
    ].join('\n'),
  );
  const plan = (pcap: string): Parameters<typeof runPlan>[0] => ({
    kind: 'run', name: pcap, dir, pcap: join(dir, pcap), rules: null, config: '', eveTypes: null, extraArgs: [], onAlerts: true,
    checks: [{ kind: 'filter', spec: { count: 1, match: { event_type: 'alert' } }, skip: null }],
  });
  const slot = new WorkerSlot(fake, 20);
  const opts = { harrier: 'unused', timeoutMs: 1500 };
  try {
    const hang = await runPlan(plan('hang.pcap'), opts, slot.run);
    assert.equal(hang.status, 'FAIL');
    assert.match(hang.reason, /did not finish within 1\.5 s/);
    const died = await runPlan(plan('exit.pcap'), opts, slot.run);
    assert.equal(died.status, 'FAIL');
    assert.match(died.reason, /exited/);
    const bad = await runPlan(plan('bad.pcap'), opts, slot.run);
    assert.equal(bad.status, 'FAIL');
    assert.match(bad.reason, /harrier exited 1: harrier: not a capture/);
    const ok = await runPlan(plan('ok.pcap'), opts, slot.run);
    assert.equal(ok.status, 'PASS', ok.reason);
  } finally {
    await slot.stop();
  }
});
