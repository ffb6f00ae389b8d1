/**
 * Rule reload in one pipeline, without processes (detect/engine/reload.ts):
 * the new engine replaces the old between packets only when it loads; a
 * broken set keeps the running one; flowbits and flowints survive by name
 * although the new set numbers them differently; stream inspection carries on
 * across the swap; counters stay monotonic and EVE stats carry Suricata's
 * `detect.engines` array.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { defaultConfig } from '../../src/sensor/config.js';
import { EveCollector } from '../../src/output/eve-writer.js';
import { SignatureReloader } from '../../src/detect/engine/reload.js';
import { eth, ipv4, tcp, udp } from '../decode/build.js';
import { eveSchemaErrors, EVE_SCHEMA } from '../support/eve-schema.js';
import { sharedPath } from '../support/shared.js';

const CLIENT = '10.1.0.5';
const SERVER = '192.0.2.9';

function udpPkt(sport: number, payload: string): Buffer {
  return eth(0x0800, ipv4({ src: CLIENT, dst: SERVER, proto: 17, payload: udp({ src: CLIENT, dst: SERVER, sport, dport: 5353, payload: Buffer.from(payload) }) }));
}

class Rig {
  readonly dir = mkdtempSync(join(tmpdir(), 'harrier-reload-'));
  readonly file = join(this.dir, 'test.rules');
  readonly eve = new EveCollector();
  readonly p: Pipeline;
  readonly r: SignatureReloader;
  private t = 0;
  constructor(rules: string) {
    this.write(rules);
    this.p = new Pipeline(defaultConfig(), { eve: this.eve });
    this.r = new SignatureReloader([this.file], defaultConfig(), this.p, { now: () => 1_700_000_123_456 });
    this.p.detectEngines = () => [this.r.info()];
  }
  write(rules: string): void {
    writeFileSync(this.file, rules + '\n');
  }
  send(...frames: Buffer[]): void {
    for (const f of frames) {
      this.t++;
      this.p.frame(f, 0, f.length, f.length, 1_700_000_000 + Math.floor(this.t / 10), (this.t % 10) * 1e8, 1, 0);
    }
  }
  /** Signature ids alerted since the last call. */
  private seen = 0;
  sids(): number[] {
    const a = this.eve.out.filter((x) => x.event_type === 'alert');
    const out = a.slice(this.seen).map((x) => (x.alert as { signature_id: number }).signature_id);
    this.seen = a.length;
    return out;
  }
  done(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

test('reload swaps set A for set B between packets; a broken set keeps B and says why in one line', () => {
  const g = new Rig('alert udp any any -> any any (msg:"A"; content:"hello"; sid:1;)');
  try {
    g.send(udpPkt(40000, 'hello there'));
    assert.deepEqual(g.sids(), [1]);

    g.write('alert udp any any -> any any (msg:"B"; content:"hello"; sid:2;)');
    const ok = g.r.reload();
    assert.equal(ok.ok, true, ok.line);
    assert.match(ok.line, /^rules: reloaded: loaded 1, failed 0 .*swapped in [\d.]+ ms \(\d+ flows\)$/);
    assert.equal(ok.rulesLoaded, 1);
    // The same flow and a new one: rule 2 only.
    g.send(udpPkt(40000, 'hello again'), udpPkt(40001, 'hello new flow'));
    assert.deepEqual(g.sids(), [2, 2]);

    g.write('alert udp any any -> any any (msg:"broken"; content:"hello"; sid:3;'); // no closing parenthesis
    const bad = g.r.reload();
    assert.equal(bad.ok, false);
    assert.match(bad.line, /^rules: reload failed, keeping the running set \(1 rules\): the new set loads no rule \(1 failed, e\.g\. .*test\.rules:1: /);
    assert.ok(!bad.line.includes('\n'));
    g.send(udpPkt(40002, 'hello once more'));
    assert.deepEqual(g.sids(), [2]);

    // A missing file is a failure too, never a throw.
    rmSync(g.file);
    const gone = g.r.reload();
    assert.equal(gone.ok, false);
    assert.match(gone.line, /keeping the running set/);
    g.send(udpPkt(40003, 'hello'));
    assert.deepEqual(g.sids(), [2]);

    const c = g.p.counters();
    assert.equal(c['harrier.detect.reloads'], 1);
    assert.equal(c['harrier.detect.reload_failures'], 2);
    assert.equal(c['harrier.detect.rules_loaded'], 1, 'gauges are the running engine\'s, not summed');
    // Totals carry on across the swap: 5 packets inspected by two engines.
    assert.equal(c['harrier.detect.packets_inspected'], 5);
    assert.equal(c['harrier.detect.signature_alerts'], 5);
  } finally {
    g.done();
  }
});

test('flowbits and flowints are kept by name across a reload that renumbers them', () => {
  // Set A: "seen" is flowbit 0, counter "n" flowint 0.
  const g = new Rig([
    'alert udp any any -> any any (msg:"login"; content:"login"; flowbits:set,seen; flowint:n,=,5; flowbits:noalert; sid:10;)',
    'alert udp any any -> any any (msg:"secret after login, A"; content:"secret"; flowbits:isset,seen; sid:11;)',
  ].join('\n'));
  try {
    g.send(udpPkt(41000, 'login bob'), udpPkt(41001, 'login eve'));
    assert.deepEqual(g.sids(), []);
    // Set B names other bits and ints first, so "seen" and "n" get other ids; "seen" is read, "n" compared.
    g.write([
      'alert udp any any -> any any (msg:"other"; content:"zzz"; flowbits:set,other; flowint:m,=,1; sid:20;)',
      'alert udp any any -> any any (msg:"secret after login, B"; content:"secret"; flowbits:isset,seen; flowint:n,>,4; sid:21;)',
      'alert udp any any -> any any (msg:"never logged in"; content:"secret"; flowbits:isnotset,seen; sid:22;)',
    ].join('\n'));
    const r = g.r.reload();
    assert.equal(r.ok, true, r.line);
    assert.equal(r.flows, 2, 'both flows had detection state');
    g.send(udpPkt(41000, 'secret'), udpPkt(41002, 'secret'));
    // Flow 41000 logged in under set A: B's reader sees the bit and the int; flow 41002 never did.
    assert.deepEqual(g.sids(), [21, 22]);
  } finally {
    g.done();
  }
});

test('stream inspection carries on across a swap in the middle of a TCP flow', () => {
  const g = new Rig('alert tcp any any -> any any (msg:"A"; flow:established,to_server; content:"alpha"; sid:30;)');
  try {
    const c = (o: Parameters<typeof tcp>[0]) => eth(0x0800, ipv4({ src: CLIENT, dst: SERVER, proto: 6, payload: tcp({ src: CLIENT, dst: SERVER, sport: 42000, dport: 8080, ...o }) }));
    const s = (o: Parameters<typeof tcp>[0]) => eth(0x0800, ipv4({ src: SERVER, dst: CLIENT, proto: 6, payload: tcp({ src: SERVER, dst: CLIENT, sport: 8080, dport: 42000, ...o }) }));
    let cs = 1001;
    const ss = 5001;
    g.send(c({ seq: 1000, flags: 0x02 }), s({ seq: 5000, ack: 1001, flags: 0x12 }), c({ seq: cs, ack: ss, flags: 0x10 }));
    const seg = (text: string): Buffer[] => {
      const b = Buffer.from(text);
      const out = [c({ seq: cs, ack: ss, flags: 0x18, payload: b }), s({ seq: ss, ack: cs + b.length, flags: 0x10 })];
      cs += b.length;
      return out;
    };
    g.send(...seg('xx alpha xx BRA'));
    assert.deepEqual(g.sids(), [30]);
    g.write('alert tcp any any -> any any (msg:"B"; flow:established,to_server; content:"BRAVO"; sid:31;)');
    const r = g.r.reload();
    assert.equal(r.ok, true, r.line);
    // "BRAVO" straddles the swap: its head was in the stream before it, its tail after.
    g.send(...seg('VO alpha'));
    g.send(c({ seq: cs, ack: ss, flags: 0x11 }), s({ seq: ss, ack: cs + 1, flags: 0x11 }), c({ seq: cs + 1, ack: ss + 1, flags: 0x10 }));
    g.p.finish();
    assert.deepEqual(g.sids(), [31]);
  } finally {
    g.done();
  }
});

test('EVE stats carry detect.engines as Suricata writes it (id, last_reload, rules_loaded, rules_failed)', () => {
  const g = new Rig([
    'alert udp any any -> any any (msg:"A"; content:"hello"; sid:1;)',
    'alert udp any any -> any any (msg:"bad"; content:"hello"; nosuchkeyword; sid:2;)',
  ].join('\n'));
  try {
    g.send(udpPkt(40000, 'hello'));
    g.p.finish();
    const stats = g.eve.out.filter((x) => x.event_type === 'stats');
    assert.ok(stats.length >= 1);
    const detect = (stats.at(-1)!.stats as { detect: { engines: unknown } }).detect;
    assert.deepEqual(detect.engines, [{ id: 0, last_reload: '2023-11-14T22:15:23.456000+0000', rules_loaded: 1, rules_failed: 1 }]);
    if (sharedPath(EVE_SCHEMA)) assert.deepEqual(eveSchemaErrors(stats.at(-1)!), []);
  } finally {
    g.done();
  }
});
