/**
 * The signature engine end to end on real captures (../shared/data), with
 * small rule sets whose expected values come from elsewhere than Harrier:
 * nDPI's result files (host, user agent, status, SNI, JA3S, JA4) and the
 * IEC 60870-5-104 framing (APCI start 0x68, length, U-format control bits).
 * Every alert must validate against Suricata 7.0.4's EVE schema, name a
 * pcap that exists, reads back as a capture, and holds the alerted bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { defaultConfig } from '../../src/sensor/config.js';
import { EveCollector } from '../../src/output/eve-writer.js';
import { readCaptureFile } from '../../src/capture/reader.js';
import { parseRule } from '../../src/detect/rules/index.js';
import { SignatureEngine } from '../../src/detect/engine/engine.js';
import { sharedPath, skipWithoutShared } from '../support/shared.js';
import { eveSchemaErrors } from '../support/eve-schema.js';

const NDPI = 'pcaps/ndpi/tests/cfgs/default/pcap';
const VARS = { addressGroups: { HOME_NET: '[10.0.0.0/8,172.16.0.0/12,192.168.0.0/16]', EXTERNAL_NET: 'any' }, portGroups: { HTTP_PORTS: '80' } };

type Rec = Record<string, unknown>;
const sidOf = (a: Rec): number => (a.alert as { signature_id: number }).signature_id;

function run(capture: string, ruleTexts: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-engine-'));
  const eve = new EveCollector();
  const p = new Pipeline(defaultConfig(), { eve, alertPcap: { dir } });
  const engine = new SignatureEngine({ rules: ruleTexts.map((t, i) => parseRule(t, { vars: VARS, file: 't.rules', line: i + 1 })) }, p.alerts);
  assert.deepEqual(engine.errors, []);
  p.addDetector(engine);
  readCaptureFile(capture, p);
  p.finish();
  const alerts = eve.out.filter((r) => r.event_type === 'alert');
  return { dir, alerts, eve: eve.out };
}

/** Frames of a pcap as latin1 strings. */
function frames(path: string): string[] {
  const out: string[] = [];
  readCaptureFile(path, { frame: (d, off, len) => void out.push(d.toString('latin1', off, off + len)) });
  return out;
}

/** Schema, capture_file present and readable, and containing `needle` (the alerted bytes). */
function checkAlert(a: Rec, needle: string): void {
  if (sharedPath('eve-schema') !== null) assert.deepEqual(eveSchemaErrors(a), [], JSON.stringify(a));
  const f = String(a.capture_file);
  assert.ok(existsSync(f), `capture_file ${f}`);
  const fs = frames(f);
  assert.ok(fs.length > 0);
  assert.ok(fs.some((s) => s.includes(needle)), `pcap ${f} holds ${JSON.stringify(needle)}`);
}

test('HTTP host, URI, user agent, status and location buffers (nDPI http.pcapng)', { skip: skipWithoutShared(`${NDPI}/http.pcapng`) }, () => {
  const { dir, alerts } = run(sharedPath(`${NDPI}/http.pcapng`)!, [
    'alert http $HOME_NET any -> $EXTERNAL_NET any (msg:"host"; flow:established,to_server; http.host; content:"google.com"; bsize:10; sid:1;)',
    'alert http any any -> any any (msg:"ua"; http.user_agent; content:"curl/"; startswith; pcre:"/^curl\\/\\d+\\.\\d+/"; sid:2;)',
    'alert http any any -> any any (msg:"uri"; http.uri; content:"/"; bsize:1; http.method; content:"GET"; sid:3;)',
    'alert http any any -> any any (msg:"redirect"; flow:to_client; http.stat_code; content:"301"; http.location; content:"www.google.com"; sid:4;)',
    'alert http any any -> any any (msg:"flowbits set"; flow:to_server; http.user_agent; content:"curl"; flowbits:set,curl; flowbits:noalert; sid:5;)',
    'alert http any any -> any any (msg:"flowbits chain"; flow:to_client; flowbits:isset,curl; http.stat_code; content:"30"; startswith; sid:6;)',
    'alert http any any -> any any (msg:"not this host"; http.host; content:"google.org"; sid:7;)',
  ]);
  try {
    assert.deepEqual(alerts.map(sidOf).sort(), [1, 2, 3, 4, 6]);
    for (const a of alerts) {
      assert.equal((a.http as Rec).hostname, 'google.com');
      assert.equal(a.app_proto, 'http');
      checkAlert(a, 'Host: google.com');
    }
    assert.equal(alerts.find((a) => sidOf(a) === 4)!.direction, 'to_client');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('DNS query buffer (dns.pcap)', { skip: skipWithoutShared(`${NDPI}/dns.pcap`) }, () => {
  const { dir, alerts } = run(sharedPath(`${NDPI}/dns.pcap`)!, [
    'alert dns any any -> any any (msg:"query"; dns.query; content:"www.example.com"; bsize:15; sid:10;)',
    'alert dns any any -> any any (msg:"suffix"; dns.query; dotprefix; content:".example.com"; endswith; threshold:type limit, track by_src, count 1, seconds 60; sid:11;)',
    'alert udp any any -> any 53 (msg:"raw qname"; content:"|03|www|07|example|03|com|00|"; sid:12;)',
  ]);
  try {
    const sids = alerts.map(sidOf);
    assert.ok(sids.includes(10) && sids.includes(12), String(sids));
    // The limit keeps the suffix rule to one alert per source.
    assert.equal(sids.filter((s) => s === 11).length, 1);
    for (const a of alerts) checkAlert(a, '\x07example');
    for (const a of alerts.filter((x) => sidOf(x) !== 12)) assert.equal((a.dns as Rec).rrname, 'www.example.com');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('TLS SNI, JA3S, JA4 and JA3 string (nDPI 443-curl.pcap; values from nDPI\'s result file)', { skip: skipWithoutShared(`${NDPI}/443-curl.pcap`) }, () => {
  const { dir, alerts } = run(sharedPath(`${NDPI}/443-curl.pcap`)!, [
    'alert tls $HOME_NET any -> $EXTERNAL_NET any (msg:"sni"; flow:established,to_server; tls.sni; content:"www.ntop.org"; bsize:12; sid:20;)',
    'alert tls any any -> any any (msg:"ja3s"; ja3s.hash; content:"ae53107a2e47ea20c72ac44821a728bf"; sid:21;)',
    'alert tls any any -> any any (msg:"ja4"; ja4.hash; content:"t12d6707h2_2955a3196ffa_c83f907a73d3"; sid:22;)',
    'alert tls any any -> any any (msg:"ja3 string"; ja3.string; content:"771,"; startswith; sid:23;)',
    'alert tls any any -> any any (msg:"other sni"; tls.sni; content:"www.ntop.com"; sid:24;)',
    'alert tls any any -> any any (msg:"cert"; tls.cert_subject; content:"ntop"; nocase; sid:25;)',
  ]);
  try {
    const sids = alerts.map(sidOf).sort();
    for (const s of [20, 21, 22, 23]) assert.ok(sids.includes(s), `sid ${s} in ${sids}`);
    assert.ok(!sids.includes(24));
    for (const a of alerts) {
      assert.equal((a.tls as Rec).sni, 'www.ntop.org');
      checkAlert(a, 'www.ntop.org');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('byte_test on a binary protocol: IEC 60870-5-104 U-format and I-format APDUs (iec60780-5-104.pcap)', { skip: skipWithoutShared(`${NDPI}/iec60780-5-104.pcap`) }, () => {
  const { dir, alerts } = run(sharedPath(`${NDPI}/iec60780-5-104.pcap`)!, [
    // Length 4 leaves S- and U-format; byte_test `&` is "any of the mask's bits set", so bit 1 (set
    // in U-format 0b11, clear in S-format 0b01) tells them apart.
    'alert tcp any any -> any 2404 (msg:"U-frame"; flow:established; content:"|68|"; depth:1; byte_test:1,=,4,1; byte_test:1,&,2,2; sid:30;)',
    // I-format: low bit of control octet 1 clear, so ASDU follows (length > 4).
    'alert tcp any any <> any 2404 (msg:"I-frame"; flow:established; content:"|68|"; depth:1; byte_test:1,>,4,1; byte_test:1,&,1,2,relative; sid:34;)',
    'alert tcp any any <> any 2404 (msg:"long APDU"; flow:established; content:"|68|"; depth:1; byte_extract:1,0,apdu_len,relative; isdataat:apdu_len,relative; byte_test:1,>,4,1; sid:31;)',
    // ET Open's TESTFR/STARTDT activation rules (content form) as a cross-check of sid 30.
    'alert tcp any any -> any 2404 (msg:"TESTFR act"; flow:established,to_server; dsize:6; content:"|68 04 43 00 00 00|"; sid:32;)',
    'alert tcp any any -> any 2404 (msg:"STARTDT act"; flow:established,to_server; dsize:6; content:"|68 04 07 00 00 00|"; sid:33;)',
  ]);
  try {
    const sids = alerts.map(sidOf);
    const n = (s: number) => sids.filter((x) => x === s).length;
    assert.ok(n(32) > 0 && n(33) > 0, String(sids));
    // Every content-matched U-frame activation is also a byte_test U-frame (which also sees STOPDT and
    // U-frames sharing a segment with other APDUs).
    assert.ok(n(30) >= n(32) + n(33), String(sids));
    for (const a of alerts) {
      const payload = Buffer.from(String(a.payload), 'base64');
      assert.equal(payload[0], 0x68);
      if (sidOf(a) === 30) assert.equal(payload[2]! & 3, 3);
      if (sidOf(a) === 31) assert.ok(payload[1]! > 4);
      checkAlert(a, payload.toString('latin1'));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
