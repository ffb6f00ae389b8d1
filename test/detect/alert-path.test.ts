/**
 * The shared alert path: a detector's alert becomes an EVE alert record with
 * the flow's endpoints oriented by the triggering packet, the transaction
 * object, payload, and a pcap of the flow (its head before the alert, every
 * packet after it), bounded by the recorder's limits.
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
import type { Detector } from '../../src/detect/detector.js';
import type { Packet } from '../../src/decode/packet.js';
import type { Flow } from '../../src/flow/flow.js';
import { eth, ipv4, tcp } from '../decode/build.js';
import { sharedPath } from '../support/shared.js';
import { eveSchemaErrors } from '../support/eve-schema.js';

const CLIENT = '10.1.0.5';
const SERVER = '10.2.0.9';

/** A TCP conversation: handshake, `n` data segments each way, FIN/ACK close. */
function conversation(sport: number, n: number, marker: number): Buffer[] {
  const frames: Buffer[] = [];
  const c = (o: Parameters<typeof tcp>[0]) => eth(0x0800, ipv4({ src: CLIENT, dst: SERVER, proto: 6, payload: tcp({ src: CLIENT, dst: SERVER, sport, dport: 80, ...o }) }));
  const s = (o: Parameters<typeof tcp>[0]) => eth(0x0800, ipv4({ src: SERVER, dst: CLIENT, proto: 6, payload: tcp({ src: SERVER, dst: CLIENT, sport: 80, dport: sport, ...o }) }));
  let cs = 1000;
  let ss = 5000;
  frames.push(c({ seq: cs, flags: 0x02 }));
  frames.push(s({ seq: ss, ack: cs + 1, flags: 0x12 }));
  cs++;
  ss++;
  frames.push(c({ seq: cs, ack: ss, flags: 0x10 }));
  for (let i = 0; i < n; i++) {
    const body = Buffer.from(i === marker ? `EVIL request ${i}\n` : `request ${i}\n`);
    frames.push(c({ seq: cs, ack: ss, flags: 0x18, payload: body }));
    cs += body.length;
    const reply = Buffer.from(`reply ${i}\n`);
    frames.push(s({ seq: ss, ack: cs, flags: 0x18, payload: reply }));
    ss += reply.length;
  }
  frames.push(c({ seq: cs, ack: ss, flags: 0x11 }));
  frames.push(s({ seq: ss, ack: cs + 1, flags: 0x11 }));
  frames.push(c({ seq: cs + 1, ack: ss + 1, flags: 0x10 }));
  return frames;
}

/** Alerts on packets whose payload starts with EVIL: the simplest detector that uses the path. */
class EvilDetector implements Detector {
  readonly name = 'evil';
  constructor(private readonly p: Pipeline) {}
  packet(pkt: Packet, flow: Flow | null, dir: 0 | 1): void {
    if (pkt.payloadLen >= 4 && pkt.data.toString('latin1', pkt.payloadOff, pkt.payloadOff + 4) === 'EVIL') {
      this.p.alerts.raise(
        { gid: 1, sid: 4242, rev: 2, signature: 'TEST evil payload', category: 'Misc activity', severity: 3, metadata: { tag: ['test'] } },
        { flow, dir, tsSec: pkt.tsSec, tsNsec: pkt.tsNsec, payload: { buf: pkt.data, off: pkt.payloadOff, len: pkt.payloadLen } },
      );
    }
  }
}

function run(frames: Buffer[][], pcapOpts: { poolBytes?: number; headBytes?: number; afterAlertPackets?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-alertpcap-'));
  const eve = new EveCollector();
  const p = new Pipeline(defaultConfig(), { eve, alertPcap: { dir, ...pcapOpts } });
  p.addDetector(new EvilDetector(p));
  let t = 0;
  // Interleave the conversations packet by packet, as on a busy link.
  const max = Math.max(...frames.map((f) => f.length));
  for (let i = 0; i < max; i++) {
    for (const conv of frames) {
      const f = conv[i];
      if (f) {
        t++;
        p.frame(f, 0, f.length, f.length, 1_700_000_000 + Math.floor(t / 10), (t % 10) * 1e8, 1, 0);
      }
    }
  }
  p.finish();
  return { dir, eve, p };
}

function countPackets(path: string): { n: number; payloads: string[] } {
  const payloads: string[] = [];
  let n = 0;
  readCaptureFile(path, {
    frame(data, off, capLen) {
      n++;
      payloads.push(data.toString('latin1', off, off + capLen));
    },
  });
  return { n, payloads };
}

test('an alert record names both endpoints by the triggering packet, the flow, payload and the flow pcap', () => {
  const evil = conversation(41000, 6, 2);
  const benign = conversation(41001, 6, -1);
  const { dir, eve, p } = run([evil, benign]);
  try {
    const alerts = eve.out.filter((r) => r.event_type === 'alert');
    assert.equal(alerts.length, 1);
    const a = alerts[0];
    assert.equal(a.src_ip, CLIENT);
    assert.equal(a.dest_ip, SERVER);
    assert.equal(a.src_port, 41000);
    assert.equal(a.direction, 'to_server');
    const al = a.alert as Record<string, unknown>;
    assert.equal(al.signature_id, 4242);
    assert.equal(al.rev, 2);
    assert.equal(al.action, 'allowed');
    assert.deepEqual(al.metadata, { tag: ['test'] });
    assert.match(String(a.payload_printable), /^EVIL request 2/);
    assert.equal(Buffer.from(String(a.payload), 'base64').toString().startsWith('EVIL'), true);
    // The flow record says it alerted; the benign one does not.
    const flows = eve.out.filter((r) => r.event_type === 'flow');
    const alerted = flows.map((r) => [(r.src_port as number), (r.flow as Record<string, unknown>).alerted]);
    assert.deepEqual(alerted.sort(), [[41000, true], [41001, false]]);
    // The pcap: every packet of the alerted flow (head + after), nothing of the other.
    const file = String(a.capture_file);
    assert.ok(existsSync(file), file);
    const { n, payloads } = countPackets(file);
    assert.equal(n, evil.length);
    assert.ok(payloads.some((s) => s.includes('EVIL request 2')));
    assert.ok(payloads.some((s) => s.includes('reply 5')), 'packets after the alert are recorded');
    assert.equal(p.counters()['harrier.alert_pcap.files'], 1);
    assert.equal(p.counters()['detect.alert'], 1);
    if (sharedPath('eve-schema') !== null) assert.deepEqual(eveSchemaErrors(a), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the recorder stays inside its pool and says what it could not keep', () => {
  // 16 KiB pool = one slab for all flows: the second flow gets no head at all.
  const convs = [conversation(42000, 4, 3), conversation(42001, 4, 3)];
  const { dir, eve, p } = run(convs, { poolBytes: 16 * 1024, headBytes: 16 * 1024 });
  try {
    const c = p.counters();
    assert.ok(c['harrier.alert_pcap.pool_exhausted'] >= 1, JSON.stringify(c));
    assert.ok(c['harrier.alert_pcap.pool_bytes'] <= 16 * 1024);
    const alerts = eve.out.filter((r) => r.event_type === 'alert');
    assert.equal(alerts.length, 2);
    // Both files exist; the one without a head still has the packets from the alert on.
    for (const a of alerts) {
      const { n } = countPackets(String(a.capture_file));
      assert.ok(n >= 1 && n <= convs[0].length, `${n}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('packets after the alert stop at the per-file limit, counted', () => {
  const conv = conversation(43000, 20, 0);
  const { dir, eve, p } = run([conv], { afterAlertPackets: 5 });
  try {
    const a = eve.out.find((r) => r.event_type === 'alert')!;
    const { n } = countPackets(String(a.capture_file));
    // Handshake (3) + the alerting packet were in the head; 5 more after the alert.
    assert.equal(n, 4 + 5);
    assert.equal(p.counters()['harrier.alert_pcap.file_limit'], 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
