/**
 * The behaviour detectors on real captures (../shared/data/pcaps), run
 * through the real Pipeline with the behaviour Detector added, default
 * configuration: each attack family must raise its detector, benign web /
 * DNS / TLS captures must stay quiet. Per capture the test prints which
 * detectors fired; per family it prints and asserts the rate. Only the
 * detectors of the sid table (detectors/sids.ts) are counted: the baseline
 * anomalies the same Detector hosts need learning and are tested by their part. Every
 * behaviour alert is validated against Suricata's EVE schema.
 *
 * Families and what is asserted (rates over the captures that exist):
 *  - DNS tunnels (dnscat2, iodine, dns2tcp, DNSExfiltrator, sods; plus
 *    nDPI's iodine and dnscat2 captures): all captures with ≥ 10 queries → dns.tunnel.
 *  - Crypto-mining (nesfit captures, nDPI mining.pcapng): all → mining.stratum.
 *  - Scanners (esnet masscan TCP/UDP and nmap): masscan both → scan.vertical;
 *    nmap at least 2 of 3 → a scan.* detector. `nmap -p 80 <host>` (the
 *    vanilla capture) is two connections to one host and is printed, not asserted.
 *  - BitTorrent (nDPI *bittorrent*): at least 2 of 3 → p2p.* (the
 *    `tcp_miss` capture holds one unrecognisable flow).
 *  - Benign (nDPI web/DNS/TLS captures chosen by name below): at most 2% of
 *    captures raise any behaviour alert.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readCaptureFile } from '../../src/capture/reader.js';
import { EveCollector } from '../../src/output/eve-writer.js';
import { defaultConfig } from '../../src/sensor/config.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { createBehaviour, SIDS } from '../../src/detect/behaviour/index.js';
import { sharedPath, skipWithoutShared } from '../support/shared.js';
import { eveSchemaErrors, EVE_SCHEMA } from '../support/eve-schema.js';

interface Result {
  file: string;
  detectors: string[];
  dnsQueries: number;
  alerts: Record<string, unknown>[];
}

const allAlerts: Record<string, unknown>[] = [];

function detectorOf(a: Record<string, unknown>): string {
  return (a.alert as { metadata?: Record<string, string[]> }).metadata?.harrier_detector?.[0] ?? '';
}

function run(path: string): Result {
  const eve = new EveCollector();
  const cfg = defaultConfig();
  const p = new Pipeline(cfg, { eve });
  const b = createBehaviour(cfg, p.alerts);
  p.addDetector(b);
  try {
    readCaptureFile(path, p);
  } catch {
    // A capture the reader refuses still ends the pipeline cleanly.
  }
  p.finish();
  // The detectors needing no baseline (the sid table); baseline anomalies
  // raised by the same Detector are the baselines part's to test.
  const alerts = eve.out.filter(
    (r) => r.event_type === 'alert' && (r.alert as { gid: number }).gid === 9000002 && detectorOf(r) in SIDS,
  );
  allAlerts.push(...alerts);
  const detectors = [...new Set(alerts.map(detectorOf))].sort();
  return { file: path.split('/').pop()!, detectors, dnsQueries: b.counters!()['harrier.behaviour.dns_tunnel.queries'] ?? 0, alerts };
}

function files(rel: string, pick: (name: string) => boolean = () => true): string[] {
  const dir = sharedPath(rel);
  if (dir === null) return [];
  return readdirSync(dir)
    .filter((n) => /\.(pcap|pcapng)$/.test(n) && pick(n))
    .sort()
    .map((n) => join(dir, n));
}

function existing(rels: string[]): string[] {
  return rels.map((r) => sharedPath(r)).filter((p): p is string => p !== null);
}

function report(family: string, results: Result[], fired: (r: Result) => boolean): number {
  const hits = results.filter(fired).length;
  for (const r of results) console.log(`  ${family}: ${r.file}: ${r.detectors.length ? r.detectors.join(', ') : '(none)'}${r.dnsQueries ? ` [${r.dnsQueries} DNS queries]` : ''}`);
  const rate = results.length ? hits / results.length : 0;
  console.log(`${family}: ${hits}/${results.length} fired (${(rate * 100).toFixed(0)}%)`);
  return rate;
}

const NDPI = 'pcaps/ndpi/tests/cfgs/default/pcap';

test('DNS tunnel captures raise dns.tunnel', { skip: skipWithoutShared('pcaps/dns-tunnels') }, () => {
  const res = [...files('pcaps/dns-tunnels'), ...existing([`${NDPI}/dns-tunnel-iodine.pcap`, `${NDPI}/dns_exfiltration.pcap`])].map(run);
  const enough = res.filter((r) => r.dnsQueries >= 10);
  report('dns-tunnel', res, (r) => r.detectors.includes('dns.tunnel'));
  assert.ok(enough.length >= 5, `${enough.length} captures with ≥ 10 queries`);
  assert.equal(report('dns-tunnel (≥ 10 queries)', enough, (r) => r.detectors.includes('dns.tunnel')), 1);
});

test('crypto-mining captures raise mining.stratum', { skip: skipWithoutShared('pcaps/cryptomining/PCAPs') }, () => {
  const res = [...files('pcaps/cryptomining/PCAPs'), ...existing([`${NDPI}/mining.pcapng`])].map(run);
  assert.ok(res.length >= 10);
  assert.equal(report('mining', res, (r) => r.detectors.includes('mining.stratum')), 1);
});

test('masscan and nmap captures raise scan detectors', { skip: skipWithoutShared('pcaps/esnet/attacks/scanners') }, () => {
  const masscan = files('pcaps/esnet/attacks/scanners/masscan').map(run);
  const nmap = files('pcaps/esnet/attacks/scanners/nmap').map(run);
  assert.equal(report('masscan', masscan, (r) => r.detectors.includes('scan.vertical')), 1);
  const rate = report('nmap', nmap, (r) => r.detectors.some((d) => d.startsWith('scan.')));
  assert.ok(rate >= 2 / 3, `nmap rate ${rate}`);
  const extra = existing([`${NDPI}/synscan.pcap`, `${NDPI}/tcp_scan.pcapng`]).map(run);
  report('nDPI scans', extra, (r) => r.detectors.some((d) => d.startsWith('scan.')));
  for (const r of extra) assert.ok(r.detectors.some((d) => d.startsWith('scan.')), r.file);
});

test('BitTorrent captures raise p2p', { skip: skipWithoutShared(NDPI) }, () => {
  const res = files(NDPI, (n) => n.includes('bittorrent')).map(run);
  assert.ok(res.length >= 2);
  const rate = report('bittorrent', res, (r) => r.detectors.some((d) => d.startsWith('p2p.')));
  assert.ok(rate >= 2 / 3, `rate ${rate}`);
});

test('ICMP tunnel capture raises icmp.tunnel', { skip: skipWithoutShared(`${NDPI}/icmp-tunnel.pcap`) }, () => {
  const res = existing([`${NDPI}/icmp-tunnel.pcap`]).map(run);
  assert.equal(report('icmp-tunnel', res, (r) => r.detectors.includes('icmp.tunnel')), 1);
});

/** Benign captures by nDPI's names: web services, plain/encrypted DNS, HTTP, TLS, QUIC. */
const BENIGN = /^(google|facebook|youtube|instagram|netflix|reddit|dropbox|spotify|webex|whatsapp|teams\.|pinterest|tumblr|snapchat|dns|http|tls|quic)/;
const NOT_BENIGN = /tunnel|exf|bad|malformed|invalid|fuzz|crash|manipulated|heur|torrent|malicious/;

test('benign web / DNS / TLS captures stay quiet (false-positive rate ≤ 2%)', { skip: skipWithoutShared(NDPI) }, () => {
  const res = files(NDPI, (n) => BENIGN.test(n) && !NOT_BENIGN.test(n)).map(run);
  assert.ok(res.length >= 80, `${res.length} benign captures`);
  const noisy = res.filter((r) => r.detectors.length > 0);
  for (const r of noisy) console.log(`  benign FP: ${r.file}: ${r.detectors.join(', ')}`);
  const rate = noisy.length / res.length;
  const alerts = noisy.reduce((n, r) => n + r.alerts.length, 0);
  console.log(`benign: ${noisy.length}/${res.length} captures raised ${alerts} behaviour alerts (false-positive rate ${(rate * 100).toFixed(1)}%)`);
  assert.ok(rate <= 0.02, `false-positive rate ${rate}`);
});

test('every behaviour alert raised above validates against the EVE schema', { skip: skipWithoutShared(EVE_SCHEMA) }, (t) => {
  if (allAlerts.length === 0) return t.skip('no capture above was present');
  let bad = 0;
  for (const a of allAlerts) {
    const errs = eveSchemaErrors(a);
    if (errs.length > 0 && bad++ < 3) console.log(JSON.stringify(a).slice(0, 400), errs);
  }
  console.log(`EVE schema: ${allAlerts.length - bad}/${allAlerts.length} behaviour alerts valid`);
  assert.equal(bad, 0);
});
