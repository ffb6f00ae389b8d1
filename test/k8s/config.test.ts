/** The configuration file's `k8s:` block: values, defaults, and one-line errors naming the key. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { applyConfig, defaultConfig } from '../../src/sensor/config.js';
import { HarrierError } from '../../src/errors.js';

test('k8s block: cluster, kubeconfig, CIDRs, trust, timings; unknown keys are warnings', () => {
  const cfg = applyConfig(
    parse(`
k8s:
  cluster: prod-eu
  kubeconfig: /etc/harrier/kubeconfig
  service-cidrs: [10.96.0.0/12]
  pod-cidrs: 10.244.0.0/16
  trusted-proxies: [10.244.0.0/16, 192.0.2.10]
  trusted-proxy-hops: 1
  sync-timeout: 3
  grace-period: 5
  history-horizon: 600
  max-pods: 50000
  colour: blue
`),
  );
  assert.equal(cfg.cluster, 'prod-eu');
  assert.equal(cfg.k8s.kubeconfig, '/etc/harrier/kubeconfig');
  assert.deepEqual(cfg.k8s.serviceCidrs, ['10.96.0.0/12']);
  assert.deepEqual(cfg.k8s.podCidrs, ['10.244.0.0/16']);
  assert.deepEqual(cfg.k8s.trustedProxies, ['10.244.0.0/16', '192.0.2.10/32']);
  assert.equal(cfg.k8s.trustedProxyHops, 1);
  assert.equal(cfg.k8s.syncTimeout, 3);
  assert.equal(cfg.k8s.gracePeriod, 5);
  assert.equal(cfg.k8s.historyHorizon, 600);
  assert.equal(cfg.k8s.maxPods, 50000);
  assert.ok(cfg.warnings.includes('config: ignoring unknown key k8s.colour'));
  const d = defaultConfig();
  assert.deepEqual([d.k8s.trustedProxies, d.k8s.trustedProxyHops, d.k8s.kubeconfig], [[], 0, null], 'nothing trusted by default');
});

test('k8s block: bad values are one-line HARRIER_ERR_CONFIG naming the key', () => {
  for (const [doc, key] of [
    ['k8s: {service-cidrs: [10.96.0.0/40]}', 'k8s.service-cidrs[0]'],
    ['k8s: {trusted-proxies: [not-an-ip]}', 'k8s.trusted-proxies[0]'],
    ['k8s: {trusted-proxy-hops: -1}', 'k8s.trusted-proxy-hops'],
    ['k8s: {sync-timeout: soon}', 'k8s.sync-timeout'],
    ['k8s: [1, 2]', 'k8s must be a mapping'],
    ['k8s: {cluster: ""}', 'k8s.cluster'],
  ] as const) {
    assert.throws(
      () => applyConfig(parse(doc)),
      (e: unknown) => e instanceof HarrierError && e.code === 'HARRIER_ERR_CONFIG' && e.message.includes(key) && !e.message.includes('\n'),
      doc,
    );
  }
});
