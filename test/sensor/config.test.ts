// The configuration file: Suricata's spelling and blocks accepted as they
// stand, every value checked once with a one-line error naming the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyConfig, defaultConfig, loadConfig, parseSize } from '../../src/sensor/config.js';
import { HarrierError } from '../../src/errors.js';
import { readCaptureFile } from '../../src/capture/reader.js';
import { EveCollector } from '../../src/output/eve-writer.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { sharedPath, skipWithoutShared } from '../support/shared.js';

test('sizes take Suricata units', () => {
  assert.equal(parseSize('64kb', 'k'), 65536);
  assert.equal(parseSize('128mb', 'k'), 128 * 1024 * 1024);
  assert.equal(parseSize('1gb', 'k'), 1024 ** 3);
  assert.equal(parseSize(1000, 'k'), 1000);
  assert.throws(() => parseSize('lots', 'flow.memcap'), (e: unknown) => e instanceof HarrierError && e.code === 'HARRIER_ERR_CONFIG' && /flow\.memcap/.test(e.message));
});

test('flow-timeouts, stream and decoder blocks apply; unknown keys are warnings', () => {
  const cfg = applyConfig({
    'flow-timeouts': { tcp: { established: 120, 'emergency-new': 3 }, udp: { new: 7 } },
    stream: { reassembly: { 'overlap-policy': 'linux', memcap: '8mb' } },
    decoder: { 'checksum-validation': 'yes', 'vxlan-ports': [4789] },
    'threading': { 'set-cpu-affinity': 'no' },
  });
  assert.equal(cfg.flow.timeouts.tcp.established, 120);
  assert.equal(cfg.flow.emergencyTimeouts.tcp.new, 3);
  assert.equal(cfg.flow.timeouts.udp.new, 7);
  assert.equal(cfg.stream.overlapPolicy, 'linux');
  assert.equal(cfg.stream.memcap, 8 * 1024 * 1024);
  assert.equal(cfg.decoder.checksumValidation, true);
  assert.deepEqual(cfg.decoder.vxlanPorts, [4789]);
  assert.deepEqual(cfg.warnings, ['config: ignoring unknown key threading']);
});

test('bad values are one-line errors naming the key', () => {
  const bad: [unknown, RegExp][] = [
    [{ stream: { reassembly: { 'overlap-policy': 'random' } } }, /stream\.reassembly\.overlap-policy/],
    [{ decoder: { 'vxlan-ports': [70000] } }, /decoder\.vxlan-ports\[0\]/],
    [{ flow: 'big' }, /flow must be a mapping/],
    [{ 'flow-timeouts': { tcp: { new: -1 } } }, /flow-timeouts\.tcp\.new/],
    [{ 'app-layer': { tls: { ja4: 'maybe' } } }, /app-layer\.tls\.ja4/],
  ];
  for (const [doc, re] of bad) {
    assert.throws(() => applyConfig(doc), (e: unknown) => e instanceof HarrierError && re.test(e.message) && !e.message.includes('\n'), JSON.stringify(doc));
  }
  const dir = mkdtempSync(join(tmpdir(), 'harrier-cfg-'));
  writeFileSync(join(dir, 'broken.yaml'), 'flow: [unclosed\n');
  assert.throws(() => loadConfig(join(dir, 'broken.yaml')), (e: unknown) => e instanceof HarrierError && /invalid YAML/.test(e.message) && !e.message.includes('\n'));
});

test("Suricata's vars file from the benchmark runs loads as it stands", { skip: skipWithoutShared('bench/suricata-vars.yaml') }, () => {
  const cfg = loadConfig(sharedPath('bench/suricata-vars.yaml')!);
  assert.equal(cfg.vars.addressGroups.HOME_NET, '[127.0.0.0/8,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16]');
  assert.equal(cfg.vars.addressGroups.EXTERNAL_NET, 'any');
  assert.equal(cfg.vars.portGroups.HTTP_PORTS, '80');
  assert.equal(cfg.vars.portGroups.ORACLE_PORTS, '1521');
  assert.deepEqual(cfg.warnings, []);
});

test('app-layer.tls.ja4 adds the JA4 fingerprint to tls records (off by default, as in Suricata 7)', { skip: skipWithoutShared('pcaps/ndpi/tests/cfgs/default/pcap/tls_verylong_certificate.pcap') }, () => {
  const cap = sharedPath('pcaps/ndpi/tests/cfgs/default/pcap/tls_verylong_certificate.pcap')!;
  const tlsRecords = (ja4: boolean): Record<string, unknown>[] => {
    const cfg = defaultConfig();
    cfg.appLayer.tls.ja4 = ja4;
    const eve = new EveCollector();
    const p = new Pipeline(cfg, { eve });
    readCaptureFile(cap, p);
    p.finish();
    return eve.out.filter((r) => r.event_type === 'tls').map((r) => r.tls as Record<string, unknown>);
  };
  const off = tlsRecords(false);
  const on = tlsRecords(true);
  assert.ok(off.length > 0);
  assert.ok(off.every((t) => !('ja4' in t)));
  assert.ok(on.some((t) => typeof t.ja4 === 'string' && /^t1[0-3]d/.test(t.ja4 as string)), JSON.stringify(on));
});
