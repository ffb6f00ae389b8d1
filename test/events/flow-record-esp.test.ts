// ESP flow records: Suricata keeps one flow per security parameter index
// (FlowCompareESP) and writes it as `spi`; flow records of protocols without
// ports (ESP, GRE, …) carry no src_port/dest_port. Hand-built frames, then
// the suricata-verify capture eve-flow-esp against its test.yaml.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { readCaptureFile } from '../../src/capture/reader.js';
import { EveCollector } from '../../src/output/eve-writer.js';
import { defaultConfig } from '../../src/sensor/config.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { sharedPath, skipWithoutShared } from '../support/shared.js';
import { eth, ipv4 } from '../decode/build.js';

type Rec = Record<string, unknown>;

function esp(spi: number, seq: number): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt32BE(spi >>> 0, 0);
  b.writeUInt32BE(seq, 4);
  return b;
}

function run(frames: Buffer[]): Rec[] {
  const eve = new EveCollector();
  const p = new Pipeline(defaultConfig(), { eve });
  frames.forEach((f, i) => p.frame(f, 0, f.length, f.length, 2000 + i, 0, 1, 0));
  p.finish();
  return eve.out.filter((r) => r.event_type === 'flow');
}

test('flow record: one ESP flow per SPI, with `spi` and no ports', () => {
  const a = (spi: number, seq: number): Buffer => eth(0x0800, ipv4({ src: '10.9.0.1', dst: '10.9.0.2', proto: 50, payload: esp(spi, seq) }));
  const flows = run([a(0x1234, 1), a(0xdeadbeef, 1), a(0x1234, 2), a(0xdeadbeef, 2), a(0xdeadbeef, 3)]);
  assert.equal(flows.length, 2);
  const bySpi = new Map(flows.map((f) => [f.spi, f]));
  assert.equal((bySpi.get(0x1234)?.flow as Rec).pkts_toserver, 2);
  assert.equal((bySpi.get(0xdeadbeef)?.flow as Rec).pkts_toserver, 3);
  for (const f of flows) {
    assert.equal(f.proto, 'ESP');
    assert.ok(!('src_port' in f) && !('dest_port' in f));
  }
});

test('flow record: a GRE flow Harrier does not decode inside carries no ports', () => {
  // GRE version 0 carrying protocol 0x88ff (not decoded): the outer GRE packet is the flow
  const gre = Buffer.concat([Buffer.from([0, 0, 0x88, 0xff]), Buffer.alloc(16)]);
  const flows = run([eth(0x0800, ipv4({ src: '10.9.0.1', dst: '10.9.0.2', proto: 47, payload: gre }))]);
  assert.equal(flows.length, 1);
  assert.equal(flows[0].proto, 'GRE');
  assert.ok(!('src_port' in flows[0]) && !('dest_port' in flows[0]));
  assert.ok(!('spi' in flows[0]));
});

const SV = 'suricata-verify/tests/eve-flow-esp';
test('flow record: suricata-verify eve-flow-esp flow checks', { skip: skipWithoutShared(SV) }, () => {
  const dir = sharedPath(SV) as string;
  const checks = (parseYaml(readFileSync(join(dir, 'test.yaml'), 'utf8')) as { checks: Array<{ filter?: { count?: number; match?: Rec } }> }).checks;
  const wants = checks.filter((c) => c.filter?.match?.event_type === 'flow');
  assert.ok(wants.length >= 4);
  const eve = new EveCollector();
  const p = new Pipeline(defaultConfig(), { eve });
  readCaptureFile(join(dir, 'input.pcap'), p);
  p.finish();
  for (const c of wants) {
    const want = c.filter?.match as Rec;
    const hits = eve.out.filter((r) => Object.entries(want).every(([k, v]) => k.split('.').reduce<unknown>((o, part) => (o as Rec | undefined)?.[part], r) === v));
    assert.equal(hits.length, c.filter?.count ?? 1, JSON.stringify(want));
  }
});
