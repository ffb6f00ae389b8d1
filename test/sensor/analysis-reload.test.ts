/**
 * Reload of a whole analysis (sensor/analysis.ts) without processes: rules
 * and threat intel are read again and swapped between packets; a failing
 * part keeps its running state, says so in its own line, and the other part
 * still reloads; a changed config (vars) is taken by the rules reload.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../../src/sensor/config.js';
import { EveCollector } from '../../src/output/eve-writer.js';
import { buildAnalysis } from '../../src/sensor/analysis.js';
import { inputFingerprint } from '../../src/sensor/reload.js';
import { eth, ipv4, udp } from '../decode/build.js';

let sec = 1_700_000_000;
function udpTo(dst: string, sport: number, payload = 'hello'): Buffer {
  const src = '10.1.0.5';
  return eth(0x0800, ipv4({ src, dst, proto: 17, payload: udp({ src, dst, sport, dport: 53, payload: Buffer.from(payload) }) }));
}

test('analysis reload: rules and intel swap together; a missing feed keeps the intel, the rules still reload', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-areload-'));
  try {
    const rules = join(dir, 'local.rules');
    const feed = join(dir, 'c2.txt');
    const config = join(dir, 'harrier.yaml');
    writeFileSync(rules, 'alert udp $HOME_NET any -> any any (msg:"one"; content:"hello"; sid:1;)\n');
    writeFileSync(feed, '203.0.113.7\n');
    writeFileSync(config, 'vars:\n  address-groups:\n    HOME_NET: "[10.0.0.0/8]"\n');
    const eve = new EveCollector();
    const log: string[] = [];
    const a = await buildAnalysis(defaultConfig(), { configPath: config, k8s: [], intel: [feed], rules: [rules], behaviour: false }, eve, {
      info: (l) => log.push(l),
      warn: (l) => log.push(`warning: ${l}`),
    });
    const send = (...fs: Buffer[]): void => {
      for (const f of fs) a.pipeline.frame(f, 0, f.length, f.length, ++sec, 0, 1, 0);
    };
    const alerts = (): string[] => {
      const out = eve.out.filter((r) => r.event_type === 'alert').map((r) => `${(r.alert as { gid: number; signature_id: number }).gid}:${(r.alert as { signature_id: number }).signature_id}:${String(r.dest_ip)}`);
      eve.out.length = 0;
      return out.sort();
    };
    send(udpTo('203.0.113.7', 40000), udpTo('203.0.113.8', 40001));
    const before = alerts();
    assert.equal(before.filter((x) => x.startsWith('1:1:')).length, 2);
    assert.ok(before.some((x) => x.endsWith(':203.0.113.7') && !x.startsWith('1:')), `intel alert on .7: ${before.join(' ')}`);
    assert.ok(!before.some((x) => x.endsWith(':203.0.113.8') && !x.startsWith('1:')));

    // New rules, new feed, and a config whose HOME_NET no longer holds the client: rule 2 must not fire.
    writeFileSync(rules, 'alert udp $HOME_NET any -> any any (msg:"two"; content:"hello"; sid:2;)\nalert udp any any -> any any (msg:"three"; content:"hello"; sid:3;)\n');
    writeFileSync(feed, '203.0.113.8\n');
    writeFileSync(config, 'vars:\n  address-groups:\n    HOME_NET: "[192.168.0.0/16]"\n');
    const r = a.reload()!;
    assert.equal(r.ok, true, r.lines.join('\n'));
    assert.equal(r.lines.length, 2);
    assert.match(r.lines[0]!, /^rules: reloaded: loaded 2, failed 0/);
    assert.match(r.lines[1]!, /^intel: reloaded: 1 store, 1 entries \(1 feed, 1 indicators; malformed lines: 0\)/);
    send(udpTo('203.0.113.7', 40002), udpTo('203.0.113.8', 40003));
    const after = alerts();
    assert.deepEqual(after.filter((x) => x.startsWith('1:')), ['1:3:203.0.113.7', '1:3:203.0.113.8']);
    assert.ok(after.some((x) => x.endsWith(':203.0.113.8') && !x.startsWith('1:')), `intel alert on .8: ${after.join(' ')}`);
    assert.ok(!after.some((x) => x.endsWith(':203.0.113.7') && !x.startsWith('1:')));

    // The feed disappears: intel keeps its indicators and says so; the rules still reload.
    rmSync(feed);
    writeFileSync(rules, 'alert udp any any -> any any (msg:"four"; content:"hello"; sid:4;)\n');
    const r2 = a.reload()!;
    assert.equal(r2.ok, false);
    assert.match(r2.lines[0]!, /^rules: reloaded: loaded 1/);
    assert.match(r2.lines[1]!, /^intel: reload failed, keeping the running entries \(1\): .*c2\.txt/);
    send(udpTo('203.0.113.8', 40004));
    const last = alerts();
    assert.ok(last.includes('1:4:203.0.113.8'));
    assert.ok(last.some((x) => !x.startsWith('1:')), 'the kept intel still alerts');

    const c = a.pipeline.counters();
    assert.equal(c['harrier.detect.reloads'], 2);
    assert.equal(c['harrier.intel.reloads'], 1);
    assert.equal(c['harrier.intel.reload_failures'], 1);
    assert.equal(c['harrier.intel.alerts'], 3, 'intel totals carry on across the swap');
    assert.deepEqual(a.engines().map((e) => [e.id, e.rules_loaded]), [[0, 1]]);
    await a.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the polling fingerprint changes with a file, a folder entry, a symlink target and state.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-fp-'));
  try {
    const sets = join(dir, 'sets');
    writeFileSync(join(dir, 'a.rules'), 'x\n');
    const f0 = inputFingerprint([join(dir, 'a.rules')]);
    writeFileSync(join(dir, 'a.rules'), 'xy\n');
    const f1 = inputFingerprint([join(dir, 'a.rules')]);
    assert.notEqual(f1, f0);
    assert.equal(inputFingerprint([join(dir, 'a.rules')]), f1, 'stable while nothing changes');
    writeFileSync(join(dir, 'state.json'), '{}');
    assert.notEqual(inputFingerprint([join(dir, 'a.rules')]), f1, 'state.json beside the path counts');
    // `rules update` layout: current -> sets/<id>, swapped by renaming a new link over it.
    mkdirSync(join(sets, 'a'), { recursive: true });
    mkdirSync(join(sets, 'b'), { recursive: true });
    symlinkSync(join(sets, 'a'), join(dir, 'current'));
    const l0 = inputFingerprint([join(dir, 'current')]);
    symlinkSync(join(sets, 'b'), join(dir, 'next'));
    renameSync(join(dir, 'next'), join(dir, 'current'));
    assert.notEqual(inputFingerprint([join(dir, 'current')]), l0);
    // A folder: a new file inside changes it.
    rmSync(sets, { recursive: true, force: true });
    rmSync(join(dir, 'current'));
    const d0 = inputFingerprint([dir]);
    writeFileSync(join(dir, 'b.rules'), 'z\n');
    assert.notEqual(inputFingerprint([dir]), d0);
    assert.match(inputFingerprint([join(dir, 'missing')]), /missing/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
