/**
 * Rules found by address (no fast pattern, a short address list: ET Open's
 * Tor/CIArmy/botcc rules) for IPv6 as for IPv4: an interval index over the
 * lists, looked up with the packet's two addresses. End to end through the
 * pipeline with synthetic IPv4 and IPv6 UDP packets, plus the index alone:
 * an IPv6 packet must only evaluate the rules whose list holds one of its
 * addresses (they were once candidates for every IPv6 packet).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { defaultConfig } from '../../src/sensor/config.js';
import { EveCollector } from '../../src/output/eve-writer.js';
import { parseRule } from '../../src/detect/rules/index.js';
import { SignatureEngine } from '../../src/detect/engine/engine.js';
import { compileRuleSet } from '../../src/detect/engine/compile.js';
import { IpIndex } from '../../src/detect/engine/groups.js';
import { eth, ipv4, ipv6, udp, ip6Words } from '../decode/build.js';

const VARS = { addressGroups: { HOME_NET: '[10.0.0.0/8,fd00::/8]', EXTERNAL_NET: '!$HOME_NET' }, portGroups: {} };

const RULES = [
  'alert udp [2001:db8::5,2001:db8:1::/48,198.51.100.7] any -> $HOME_NET any (msg:"listed source"; sid:1;)',
  'alert udp $HOME_NET any -> [2001:db8::9,203.0.113.0/24] any (msg:"listed destination"; sid:2;)',
  'alert udp [2001:db8:ffff::1] any <> $HOME_NET any (msg:"either way"; sid:3;)',
  'alert ip [2001:db8:1:2::/64] any -> any any (msg:"nested range"; sid:4;)',
];

function u6(src: string, dst: string): Buffer {
  return eth(0x86dd, ipv6({ src, dst, nh: 17, payload: udp({ v: 6, src, dst, sport: 5000, dport: 53, payload: Buffer.from('x') }) }));
}
function u4(src: string, dst: string): Buffer {
  return eth(0x0800, ipv4({ src, dst, proto: 17, payload: udp({ src, dst, sport: 5000, dport: 53, payload: Buffer.from('x') }) }));
}

function sidsFor(frames: Buffer[]): number[][] {
  const out: number[][] = [];
  const rs = RULES.map((t, i) => parseRule(t, { vars: VARS, file: 't.rules', line: i + 1 }));
  for (const f of frames) {
    const eve = new EveCollector();
    const p = new Pipeline(defaultConfig(), { eve });
    const engine = new SignatureEngine({ rules: rs }, p.alerts);
    assert.deepEqual(engine.errors, []);
    p.addDetector(engine);
    p.frame(f, 0, f.length, f.length, 1_700_000_000, 0, 1, 0);
    p.finish();
    out.push(eve.out.filter((r) => r.event_type === 'alert').map((a) => (a.alert as { signature_id: number }).signature_id).sort((a, b) => a - b));
  }
  return out;
}

test('IPv6 and IPv4 address-list rules fire exactly where their lists say', () => {
  const got = sidsFor([
    u6('2001:db8::5', 'fd00::1'), // sid 1
    u6('2001:db8:1:77::3', 'fd00::1'), // sid 1 (the /48)
    u6('2001:db8:1:2::3', 'fd00::1'), // sid 1 and sid 4 (inside both)
    u6('2001:db8::6', 'fd00::1'), // nothing: next to a listed address
    u6('fd00::1', '2001:db8::9'), // sid 2
    u6('fd00::2', '2001:db8:ffff::1'), // sid 3 (<>)
    u6('2001:db8:ffff::1', 'fd00::2'), // sid 3
    u4('198.51.100.7', '10.0.0.1'), // sid 1 (IPv4 entry of the same list)
    u4('10.0.0.1', '203.0.113.77'), // sid 2
    u4('10.0.0.1', '203.0.114.1'), // nothing
  ]);
  assert.deepEqual(got, [[1], [1], [1, 4], [], [2], [3], [3], [1], [2], []]);
});

test('the index returns for an IPv6 address only the rules whose list holds it', () => {
  const rs = RULES.map((t, i) => parseRule(t, { vars: VARS, file: 't.rules', line: i + 1 }));
  const compiled = compileRuleSet({ rules: rs });
  const idx = new IpIndex(compiled.rules);
  const sidsOf = (l: Int32Array | null): number[] => (l === null ? [] : Array.from(l, (i) => compiled.rules[i]!.rule.meta.sid).sort((a, b) => a - b));
  const w = (s: string): Uint32Array => Uint32Array.from(ip6Words(s));
  assert.deepEqual(sidsOf(idx.lookup6(w('2001:db8::5'))), [1]);
  assert.deepEqual(sidsOf(idx.lookup6(w('2001:db8::4'))), []);
  assert.deepEqual(sidsOf(idx.lookup6(w('2001:db8:1:2:ffff:ffff:ffff:ffff'))), [1, 4]);
  assert.deepEqual(sidsOf(idx.lookup6(w('2001:db8:1:3::'))), [1]);
  assert.deepEqual(sidsOf(idx.lookup6(w('2001:db8:2::'))), []);
  assert.deepEqual(sidsOf(idx.lookup6(w('::'))), []);
  assert.deepEqual(sidsOf(idx.lookup6(w('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'))), []);
  assert.deepEqual(sidsOf(idx.lookup(0xcb00714d)), [2]); // 203.0.113.77
});
