// compare-alerts on small made-up alert files: pairing by (sid, flow) with the
// flow's direction normalised, counts by sid, the totals and percentages, and
// the script end to end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/shared.js';
import { addLine, canonicalIp, compare, emptySide, flowKey, formatComparison } from './compare-alerts.js';

const sur = (sid: number, src: string, sp: number, dst: string, dp: number, proto = 'TCP'): string =>
  JSON.stringify({ timestamp: 't', src_ip: src, src_port: sp, dest_ip: dst, dest_port: dp, proto, signature_id: sid, rev: 1, signature: `sig ${sid}` });
const eve = (sid: number, src: string, sp: number, dst: string, dp: number, proto = 'TCP'): string =>
  JSON.stringify({ event_type: 'alert', src_ip: src, src_port: sp, dest_ip: dst, dest_port: dp, proto, alert: { signature_id: sid, signature: `sig ${sid}` } });

test('flow keys ignore direction and spell IPv6 one way', () => {
  assert.equal(
    flowKey({ src_ip: '10.0.0.1', src_port: 1234, dest_ip: '10.0.0.2', dest_port: 80, proto: 'TCP' }),
    flowKey({ src_ip: '10.0.0.2', src_port: 80, dest_ip: '10.0.0.1', dest_port: 1234, proto: 'TCP' }),
  );
  assert.notEqual(
    flowKey({ src_ip: '10.0.0.1', src_port: 1234, dest_ip: '10.0.0.2', dest_port: 80, proto: 'TCP' }),
    flowKey({ src_ip: '10.0.0.1', src_port: 1234, dest_ip: '10.0.0.2', dest_port: 80, proto: 'UDP' }),
  );
  assert.equal(canonicalIp('2001:DB8::1'), '2001:0db8:0000:0000:0000:0000:0000:0001');
  assert.equal(canonicalIp('::ffff:1.2.3.4'), canonicalIp('0:0:0:0:0:ffff:102:304'));
  assert.equal(canonicalIp('::'), '0000:0000:0000:0000:0000:0000:0000:0000');
  assert.equal(flowKey({ src_ip: 'fe80::1', dest_ip: 'fe80::2', proto: 'IPv6-ICMP' }), flowKey({ src_ip: 'fe80::2', dest_ip: 'fe80::1', proto: 'ICMPv6' }));
});

test('pairs by sid: found, missed, extra; repeated alerts on one flow count once', () => {
  const s = emptySide();
  const h = emptySide();
  for (const l of [
    sur(1, '10.0.0.1', 1000, '10.0.0.2', 80),
    sur(1, '10.0.0.1', 1000, '10.0.0.2', 80), // same pair again
    sur(1, '10.0.0.3', 1001, '10.0.0.2', 80),
    sur(2, '10.0.0.1', 1000, '10.0.0.2', 80),
    sur(3, '1.1.1.1', 53, '10.0.0.9', 5353, 'UDP'),
  ]) addLine(s, l);
  for (const l of [
    eve(1, '10.0.0.2', 80, '10.0.0.1', 1000), // reversed direction: same flow
    eve(2, '10.0.0.1', 1000, '10.0.0.2', 80),
    eve(2, '10.0.0.7', 1000, '10.0.0.2', 80), // extra
    eve(4, '10.0.0.7', 1000, '10.0.0.2', 80), // extra sid
    JSON.stringify({ event_type: 'flow', src_ip: '10.0.0.1' }), // not an alert
    'not json',
  ]) addLine(h, l);
  assert.equal(s.alerts, 5);
  assert.equal(h.alerts, 4);
  assert.equal(h.badLines, 1);
  const c = compare(h, s);
  assert.deepEqual(
    c.rows.map((r) => [r.sid, r.found, r.missed, r.extra]),
    [
      [1, 1, 1, 0],
      [2, 1, 0, 1],
      [3, 0, 1, 0],
      [4, 0, 0, 1],
    ],
  );
  assert.equal(c.suricataPairs, 4);
  assert.equal(c.harrierPairs, 4);
  assert.equal(c.found, 2);
  assert.equal(c.foundPct, 50);
  assert.equal(c.extraPct, 50);
  const text = formatComparison(c, 2);
  assert.match(text, /50\.00% of Suricata's pairs found/);
  assert.match(text, /50\.00% of Harrier's extra/);
  assert.match(text, /sid, flow\) pairs: Suricata 4, Harrier 4; found 2, missed 2, extra 2/);
});

test('the script end to end on two small files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmp-alerts-'));
  const hf = join(dir, 'eve.json');
  const sf = join(dir, 'suricata.jsonl');
  writeFileSync(hf, [eve(7, '10.1.1.1', 5, '10.1.1.2', 6), eve(8, '10.1.1.1', 5, '10.1.1.2', 6)].join('\n') + '\n');
  writeFileSync(sf, [sur(7, '10.1.1.2', 6, '10.1.1.1', 5)].join('\n') + '\n');
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'compare-alerts.mjs'), hf, sf, '--top', '5'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /100\.00% of Suricata's pairs found/);
  assert.match(r.stdout, /50\.00% of Harrier's extra/);
  assert.match(r.stdout, /^\s+8\s+0\s+0\s+1\s+sig 8$/m);
  const bad = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'compare-alerts.mjs'), hf], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /usage/);
});
