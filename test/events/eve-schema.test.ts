// Every EVE record Harrier writes validates against Suricata 7.0.4's own JSON
// schema (additionalProperties: false throughout), Harrier's `k8s` block set
// aside. Run over the shipped demo capture and a spread of real captures that
// exercise flows, stats, http, dns, tls, ssh and anomaly records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { assertSupportedLinkType, readCaptureFile } from '../../src/capture/reader.js';
import { EveCollector } from '../../src/output/eve-writer.js';
import { defaultConfig } from '../../src/sensor/config.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { EVE_SCHEMA, eveSchemaErrors } from '../support/eve-schema.js';
import { REPO_ROOT, sharedPath, skipWithoutShared } from '../support/shared.js';

const CAPTURES = [
  'pcaps/chrissanders/http_google.pcapng',
  'pcaps/chrissanders/http_dvwa_sqlinjection.pcapng',
  'pcaps/chrissanders/dns_query_response.pcapng',
  'pcaps/chrissanders/dns_tcp.pcapng',
  'pcaps/chrissanders/ipv6_fragments.pcapng',
  'pcaps/chrissanders/icmp_traceroute.pcapng',
  'bench/public-mix.pcap',
];

function run(files: string[]): Record<string, unknown>[] {
  const cfg = defaultConfig();
  cfg.eve.statsInterval = 60;
  const eve = new EveCollector();
  const p = new Pipeline(cfg, { eve });
  for (const f of files) readCaptureFile(f, p, { onLinkType: (lt) => assertSupportedLinkType(lt, f) });
  p.finish();
  return eve.out;
}

function check(records: Record<string, unknown>[]): { byType: Map<string, number>; bad: string[] } {
  const byType = new Map<string, number>();
  const bad: string[] = [];
  for (const r of records) {
    const t = String(r.event_type);
    byType.set(t, (byType.get(t) ?? 0) + 1);
    const errs = eveSchemaErrors(r);
    if (errs.length && bad.length < 20) bad.push(`${t}: ${errs.slice(0, 3).join('; ')} :: ${JSON.stringify(r).slice(0, 300)}`);
  }
  return { byType, bad };
}

test('demo capture: every EVE record validates against Suricata 7.0.4\'s schema', { skip: skipWithoutShared(EVE_SCHEMA) || (existsSync(join(REPO_ROOT, 'examples/demo/demo.pcap')) ? false : 'no demo capture') }, () => {
  const { byType, bad } = check(run([join(REPO_ROOT, 'examples/demo/demo.pcap')]));
  console.log(`demo: ${[...byType].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  assert.deepEqual(bad, []);
  for (const t of ['flow', 'stats', 'http', 'dns']) assert.ok((byType.get(t) ?? 0) > 0, `no ${t} records`);
});

test('real captures: every EVE record validates against Suricata 7.0.4\'s schema', { skip: skipWithoutShared(EVE_SCHEMA) || skipWithoutShared('bench/public-mix.pcap') }, () => {
  const files = CAPTURES.map((c) => sharedPath(c)).filter((p): p is string => p !== null);
  const { byType, bad } = check(run(files));
  console.log(`captures: ${[...byType].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  assert.deepEqual(bad, []);
  for (const t of ['flow', 'stats', 'http', 'dns', 'tls', 'ssh']) assert.ok((byType.get(t) ?? 0) > 0, `no ${t} records`);
});
