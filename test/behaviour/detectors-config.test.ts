/**
 * The `behaviour:` configuration block: defaults, thresholds per detector,
 * mutes and overrides parsed and checked; bad values are one-line
 * HARRIER_ERR_CONFIG errors naming the key, unknown keys are warnings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyConfig, defaultConfig } from '../../src/sensor/config.js';
import { DETECTOR_DEFAULTS, DETECTOR_NAMES, ruleMatches } from '../../src/detect/behaviour/config.js';
import { SIDS } from '../../src/detect/behaviour/index.js';
import { HarrierError } from '../../src/errors.js';

test('defaults: every detector on with its documented thresholds; one sid per detector, all distinct', () => {
  const c = defaultConfig().behaviour;
  assert.equal(c.enabled, true);
  assert.equal(c.dedupeWindow, 300);
  for (const n of DETECTOR_NAMES) {
    assert.equal(c.detectors[n].enabled, true, n);
    assert.deepEqual(c.detectors[n].t, { ...DETECTOR_DEFAULTS[n] }, n);
    assert.ok(n in SIDS, `${n} has a sid`);
  }
  const sids = Object.values(SIDS).map((e) => e.sid);
  assert.equal(new Set(sids).size, sids.length);
  assert.ok(sids.every((s) => s >= 1 && s <= 99));
});

test('thresholds, enable switches, mutes and overrides are read', () => {
  const cfg = applyConfig({
    behaviour: {
      'dedupe-window': 60,
      'internal-networks': ['10.0.0.0/8', 'fd00::/8'],
      detectors: { 'scan.vertical': { ports: 50, window: '30' }, beacon: 'no', 'dns.tunnel': { enabled: false } },
      mutes: [{ namespace: 'kube-system' }, { subject: '10.0.0.7', detector: 'scan.*' }],
      overrides: [{ namespace: 'batch', detector: 'exfil.volume', 'min-observed': 1e9 }],
      baseline: { learning: '7d' },
    },
  });
  const b = cfg.behaviour;
  assert.equal(b.dedupeWindow, 60);
  assert.deepEqual(b.internalNetworks, ['10.0.0.0/8', 'fd00::/8']);
  assert.equal(b.detectors['scan.vertical'].t.ports, 50);
  assert.equal(b.detectors['scan.vertical'].t.window, 30);
  assert.equal(b.detectors.beacon.enabled, false);
  assert.equal(b.detectors['dns.tunnel'].enabled, false);
  assert.equal(b.mutes.length, 2);
  assert.equal(b.overrides[0]!.minObserved, 1e9);
  assert.deepEqual(b.extra, { baseline: { learning: '7d' } });
  assert.deepEqual(cfg.warnings, []);
  assert.ok(ruleMatches(b.mutes[1]!, { detector: 'scan.vertical', subject: '10.0.0.7' }));
  assert.ok(!ruleMatches(b.mutes[1]!, { detector: 'dns.tunnel', subject: '10.0.0.7' }));
  assert.ok(ruleMatches(b.mutes[0]!, { detector: 'beacon', subject: 'kube-system/coredns', namespace: 'kube-system' }));
  assert.ok(!ruleMatches(b.mutes[0]!, { detector: 'beacon', subject: '10.1.1.1' }));
});

test('bad values are HARRIER_ERR_CONFIG naming the key; unknown keys are warnings', () => {
  const bad: [unknown, RegExp][] = [
    [{ 'dedupe-window': -1 }, /behaviour\.dedupe-window/],
    [{ detectors: { 'scan.vertical': { ports: 'many' } } }, /behaviour\.detectors\.scan\.vertical\.ports/],
    [{ 'internal-networks': ['10.0.0.0/33'] }, /behaviour\.internal-networks\[0\]/],
    [{ mutes: [{}] }, /behaviour\.mutes\[0\]/],
    [{ mutes: 'all' }, /behaviour\.mutes/],
    [{ overrides: [{ namespace: 'x' }] }, /min-observed/],
    [{ enabled: 'maybe' }, /behaviour\.enabled/],
  ];
  for (const [doc, re] of bad) {
    assert.throws(() => applyConfig({ behaviour: doc }), (e: unknown) => e instanceof HarrierError && e.code === 'HARRIER_ERR_CONFIG' && re.test(e.message) && !e.message.includes('\n'), JSON.stringify(doc));
  }
  const cfg = applyConfig({ behaviour: { colour: 'red', detectors: { 'scan.diagonal': {}, 'scan.vertical': { speed: 3 } }, mutes: [{ namespace: 'a', team: 'b' }] } });
  assert.equal(cfg.warnings.length, 4, cfg.warnings.join('; '));
});
