/**
 * Stream inspection sees every packet's bytes with that packet's own
 * prefilter hits. The reassembler hands in-order data over while the pipeline
 * handles a packet, before the packet hook runs; the engine holds such chunks
 * until the packet is prefiltered (engine.ts `deferFlow`). Before this, a
 * chunk borrowed the previous packet's hits, so a stream-only rule whose
 * pattern sat inside the second (or any later) data segment never fired.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { defaultConfig } from '../../src/sensor/config.js';
import { EveCollector } from '../../src/output/eve-writer.js';
import { parseRule } from '../../src/detect/rules/index.js';
import { SignatureEngine } from '../../src/detect/engine/engine.js';
import { eth, ipv4, tcp } from '../decode/build.js';

const VARS = { addressGroups: { HOME_NET: '[10.0.0.0/8]', EXTERNAL_NET: '!$HOME_NET' }, portGroups: { HTTP_PORTS: '80' } };
const CLIENT = '10.1.0.5';
const SERVER = '192.0.2.9';

/** Handshake, the client's segments in order (`order` permutes them on the wire), one server ACK per segment, FINs. */
function conv(segments: string[], order: number[] = segments.map((_, i) => i)): Buffer[] {
  const c = (o: Parameters<typeof tcp>[0]) => eth(0x0800, ipv4({ src: CLIENT, dst: SERVER, proto: 6, payload: tcp({ src: CLIENT, dst: SERVER, sport: 40000, dport: 9000, ...o }) }));
  const s = (o: Parameters<typeof tcp>[0]) => eth(0x0800, ipv4({ src: SERVER, dst: CLIENT, proto: 6, payload: tcp({ src: SERVER, dst: CLIENT, sport: 9000, dport: 40000, ...o }) }));
  const frames = [c({ seq: 1000, flags: 0x02 }), s({ seq: 5000, ack: 1001, flags: 0x12 }), c({ seq: 1001, ack: 5001, flags: 0x10 })];
  const starts: number[] = [];
  let seq = 1001;
  for (const x of segments) {
    starts.push(seq);
    seq += x.length;
  }
  for (const i of order) frames.push(c({ seq: starts[i]!, ack: 5001, flags: 0x18, payload: Buffer.from(segments[i]!, 'latin1') }));
  frames.push(s({ seq: 5001, ack: seq, flags: 0x10 }));
  frames.push(c({ seq, ack: 5001, flags: 0x11 }), s({ seq: 5001, ack: seq + 1, flags: 0x11 }), c({ seq: seq + 1, ack: 5002, flags: 0x10 }));
  return frames;
}

function alerts(ruleTexts: string[], frames: Buffer[]): { sid: number; pcap_cnt: number | undefined }[] {
  const eve = new EveCollector();
  const p = new Pipeline(defaultConfig(), { eve });
  const engine = new SignatureEngine({ rules: ruleTexts.map((t, i) => parseRule(t, { vars: VARS, file: 't.rules', line: i + 1 })) }, p.alerts);
  assert.deepEqual(engine.errors, []);
  p.addDetector(engine);
  frames.forEach((f, i) => p.frame(f, 0, f.length, f.length, 1_700_000_000, (i + 1) * 1000, 1, 0));
  p.finish();
  return (eve.out as { event_type: string; alert?: { signature_id: number }; pcap_cnt?: number }[])
    .filter((r) => r.event_type === 'alert')
    .map((r) => ({ sid: r.alert!.signature_id, pcap_cnt: r.pcap_cnt }));
}

const STREAM_RULE = 'alert tcp any any -> any 9000 (msg:"evil in stream"; flow:to_server,only_stream; content:"EVIL"; sid:1;)';

test('a stream-only pattern inside the second data segment fires, on that segment\'s packet', () => {
  const got = alerts([STREAM_RULE], conv(['hello world ', 'xxxxxxxxxxxxxxxxxxxxxxxEVILxxx']));
  assert.deepEqual(got.map((a) => a.sid), [1]);
  // frames: SYN, SYN/ACK, ACK, segment 1 (4), segment 2 (5)
  assert.equal(got[0]!.pcap_cnt, 5);
});

test('a pattern in any of many segments fires once; one split across two segments fires too', () => {
  for (let at = 0; at < 6; at++) {
    const segs = Array.from({ length: 6 }, (_, i) => (i === at ? 'aaaaaaaaaaaaEVILbbbbbbb' : 'zzzzzzzzzzzzzzzzzzzzzzz'));
    assert.deepEqual(alerts([STREAM_RULE], conv(segs)).map((a) => a.sid), [1], `pattern in segment ${at}`);
  }
  assert.deepEqual(alerts([STREAM_RULE], conv(['zzzzzzzzzzzzzzzzzzEV', 'ILzzzzzzzz', 'qqqqqqqqqq'])).map((a) => a.sid), [1]);
  assert.deepEqual(alerts([STREAM_RULE], conv(['zzzzzzzzzzzzzzzzzzzz', 'zzzzzzzzzz', 'qqqqqqqqqq'])), []);
});

test('out-of-order segments: held data released by a later packet is inspected in stream order', () => {
  // Segment 2 (with the pattern) arrives before segment 1 and is held; segment 1 releases both.
  assert.deepEqual(alerts([STREAM_RULE], conv(['hello world ', 'xxxxxxxxxxEVILxxx', 'tail'], [1, 0, 2])).map((a) => a.sid), [1]);
  // The pattern split across the held segment and the one that releases it.
  assert.deepEqual(alerts([STREAM_RULE], conv(['hello worEV', 'ILxxxxxxxxxxx', 'tail'], [1, 0, 2])).map((a) => a.sid), [1]);
});

test('a rule matching both packet and stream still fires once per packet', () => {
  const both = 'alert tcp any any -> any 9000 (msg:"evil"; flow:to_server; content:"EVIL"; sid:2;)';
  const got = alerts([both], conv(['hello world ', 'xxxxxxxxxxEVILxxx']));
  assert.deepEqual(got.map((a) => a.sid), [2]);
});

test('more chunks in one packet than the engine holds back: all inspected, in order', () => {
  // 24 segments; 1…23 arrive first and are held, segment 0 releases them all in one packet.
  const segs = Array.from({ length: 24 }, (_, i) => (i === 20 ? 'yyyyyyEVILyyyy' : i === 22 ? 'qqqqqqqqqqqqEV' : i === 23 ? 'ILqqqqqqqqqqqq' : 'zzzzzzzzzzzzzz'));
  const order = [...segs.keys()].slice(1).concat([0]);
  const got = alerts([STREAM_RULE], conv(segs, order));
  assert.deepEqual(got.map((a) => a.sid), [1]);
  // The split pattern alone (segments 22|23) is found across the chunk seam too.
  const split = segs.map((x, i) => (i === 20 ? 'zzzzzzzzzzzzzz' : x));
  assert.deepEqual(alerts([STREAM_RULE], conv(split, order)).map((a) => a.sid), [1]);
});
