/**
 * Signature-engine behaviour brought in line with Suricata for
 * suricata-verify and ET Open: EVE `pcap_cnt` and `alert.source/target`,
 * `app-layer-event`, per-direction firing of two-sided buffers, byte_test /
 * byte_jump over zero bytes or a variable count, `pcrexform`,
 * `tls.cert_chain_len`, caseless pcre classes ending in `-`, and `rules
 * check` reporting rules that parse but do not compile. Hand-made traffic
 * through the real pipeline; the suricata-verify tests named in each test
 * exercise the same paths on their captures (`npm run conformance`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { defaultConfig } from '../../src/sensor/config.js';
import { EveCollector } from '../../src/output/eve-writer.js';
import { parseRule } from '../../src/detect/rules/index.js';
import type { ByteJumpOp, ByteTestOp, ByteExtractOp, ContentOp, Rule } from '../../src/detect/rules/index.js';
import { SignatureEngine } from '../../src/detect/engine/engine.js';
import { compileRuleSet } from '../../src/detect/engine/compile.js';
import { compileProgram, runProgram, InspectState, RuleVars } from '../../src/detect/engine/inspect.js';
import { applyTransform } from '../../src/detect/engine/transforms.js';
import { compilePcre } from '../../src/detect/engine/pcre.js';
import { rulesCheckCommand } from '../../src/cli/rules.js';
import { eth, ipv4, tcp, tcpConversation } from '../decode/build.js';

const VARS = { addressGroups: { HOME_NET: '[10.0.0.0/8]', EXTERNAL_NET: '!$HOME_NET' }, portGroups: { HTTP_PORTS: '80' } };
const CLIENT = '10.1.0.5';
const SERVER = '192.0.2.9';

function rules(...texts: string[]): Rule[] {
  return texts.map((t, i) => parseRule(t, { vars: VARS, file: 'test.rules', line: i + 1 }));
}

/** A TCP conversation between CLIENT and SERVER (test/decode/build.ts). */
function tcpConv(sport: number, dport: number, toServer: string[], toClient: string[] = []): Buffer[] {
  return tcpConversation(CLIENT, SERVER, sport, dport, toServer, toClient);
}

function run(rs: Rule[], frames: Buffer[], midstream = true) {
  const eve = new EveCollector();
  const cfg = defaultConfig();
  cfg.stream.midstream = midstream;
  const p = new Pipeline(cfg, { eve });
  const engine = new SignatureEngine({ rules: rs }, p.alerts);
  assert.deepEqual(engine.errors, []);
  p.addDetector(engine);
  let t = 0;
  for (const f of frames) {
    t++;
    p.frame(f, 0, f.length, f.length, 1_700_000_000, t * 1000, 1, 0);
  }
  p.finish();
  const alerts = eve.out.filter((r) => r.event_type === 'alert');
  const sid = (a: Record<string, unknown>) => (a.alert as { signature_id: number }).signature_id;
  return { eve: eve.out, alerts, sids: alerts.map(sid).sort((a, b) => a - b), sid };
}

const GET = 'GET /index.html HTTP/1.1\r\nHost: example.test\r\n\r\n';
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi';

test('pcap_cnt: alerts and transaction records carry the 1-based number of the packet being processed; flow records none', () => {
  const frames = tcpConv(40000, 80, [GET], [OK]);
  const { alerts, eve, sid } = run(
    rules(
      'alert http any any -> any any (msg:"uri"; flow:to_server; http.uri; content:"/index.html"; sid:1;)',
      'alert tcp any any -> any any (msg:"payload"; flow:to_client; content:"200 OK"; sid:2;)',
    ),
    frames,
  );
  assert.equal(alerts.length, 2);
  // Frame 4 is the request (after the 3-way handshake), frame 5 the response.
  const byPkt = (n: number) => Buffer.from(frames[n - 1]!).includes(Buffer.from('GET /index.html'));
  const a1 = alerts.find((a) => sid(a) === 1)!;
  assert.equal(typeof a1.pcap_cnt, 'number');
  assert.ok((a1.pcap_cnt as number) >= 4 && (a1.pcap_cnt as number) <= frames.length, `pcap_cnt ${String(a1.pcap_cnt)}`);
  const a2 = alerts.find((a) => sid(a) === 2)!;
  assert.equal(a2.pcap_cnt, 5, 'the payload alert is on the response packet, frame 5');
  assert.ok(byPkt(4));
  const http = eve.filter((r) => r.event_type === 'http');
  assert.equal(http.length, 1);
  assert.equal(typeof http[0]!.pcap_cnt, 'number');
  const flow = eve.filter((r) => r.event_type === 'flow');
  assert.equal(flow.length, 1);
  assert.equal(flow[0]!.pcap_cnt, undefined, 'flow records are not packet-triggered');
});

test('target:dest_ip / target:src_ip add alert.source and alert.target with ip and port', () => {
  const { alerts, sid } = run(
    rules(
      'alert http any any -> any any (msg:"dst"; flow:to_server; http.uri; content:"/index"; target:dest_ip; sid:1;)',
      'alert http any any -> any any (msg:"src"; flow:to_server; http.uri; content:"/index"; target:src_ip; sid:2;)',
      'alert http any any -> any any (msg:"none"; flow:to_server; http.uri; content:"/index"; sid:3;)',
    ),
    tcpConv(40001, 80, [GET], [OK]),
  );
  const al = (n: number) => alerts.find((a) => sid(a) === n)!.alert as Record<string, unknown>;
  assert.deepEqual(al(1).source, { ip: CLIENT, port: 40001 });
  assert.deepEqual(al(1).target, { ip: SERVER, port: 80 });
  assert.deepEqual(al(2).source, { ip: SERVER, port: 80 });
  assert.deepEqual(al(2).target, { ip: CLIENT, port: 40001 });
  assert.equal(al(3).source, undefined);
  assert.equal(al(3).target, undefined);
});

test('app-layer-event: one alert per occurrence, in the rule direction; negation; tx rules too (suricata-verify bug-2511)', () => {
  const bad = 'GET /a HTTP/1.1\r\nHost: example.test\r\nBrokenHeaderLine\r\n\r\n';
  const { sids, eve } = run(
    rules(
      'alert http any any -> any any (msg:"event"; flow:to_server,established; app-layer-event:http.request_field_missing_colon; sid:1;)',
      'alert http any any -> any any (msg:"event to client"; flow:to_client,established; app-layer-event:http.request_field_missing_colon; sid:2;)',
      'alert http any any -> any any (msg:"other event"; app-layer-event:http.response_field_missing_colon; sid:3;)',
      'alert http any any -> any any (msg:"not raised"; flow:to_server; app-layer-event:!http.response_field_missing_colon; http.uri; content:"/a"; sid:4;)',
      'alert http any any -> any any (msg:"tx rule"; flow:to_server; app-layer-event:http.request_field_missing_colon; http.uri; content:"/"; sid:5;)',
    ),
    tcpConv(40002, 80, [bad, GET], [OK, OK]),
  );
  const anomalies = eve.filter((r) => r.event_type === 'anomaly').map((r) => (r.anomaly as { event: string }).event);
  assert.deepEqual(anomalies, ['http.request_field_missing_colon'], 'the parser raised the event once');
  // sid 1: once (the event happened once); sid 2: once, in the other direction;
  // sid 3: never; sid 4: the tx with /a; sid 5: once although two transactions follow the event.
  assert.deepEqual(sids, [1, 2, 4, 5]);
  // An HTTP event with nothing else to inspect is matched on the transaction: the alert carries it.
  const a1 = eve.find((r) => r.event_type === 'alert' && (r.alert as { signature_id: number }).signature_id === 1)!;
  assert.equal(a1.tx_id, 0);
  assert.equal((a1.http as { url?: string } | undefined)?.url, '/a');
});

test('app-layer-event: the rule front end maps Suricata\'s applayer_* spelling and the rule compiles with buffers', () => {
  const rs = rules(
    'alert http any any -> any any (app-layer-event:applayer_mismatch_protocol_both_directions; sid:1;)',
    'alert http any any -> any any (flow:to_server; app-layer-event:http.invalid_transfer_encoding_value_in_request; http.cookie; content:"X-Qlik-Session="; sid:2;)',
  );
  assert.deepEqual(rs[0]!.checks, [{ kind: 'app_layer_event', event: 'applayer.mismatch_protocol_both_directions', negated: false }]);
  const c = compileRuleSet({ rules: rs });
  assert.deepEqual(c.errors, []);
  assert.equal(c.rules.find((r) => r.rule.meta.sid === 1)!.appEvent, 'applayer.mismatch_protocol_both_directions');
});

test('a rule on a buffer of both sides (http.header) fires once per direction; flow: pins it to one (suricata-verify ssh-banner-only)', () => {
  const req = 'GET / HTTP/1.1\r\nHost: h\r\nX-Tag: a\r\n\r\n';
  const resp = 'HTTP/1.1 200 OK\r\nX-Tag: b\r\nContent-Length: 0\r\n\r\n';
  const { sids } = run(
    rules(
      'alert http any any -> any any (msg:"both"; http.header; content:"X-Tag"; sid:1;)',
      'alert http any any -> any any (msg:"to server only"; flow:to_server; http.header; content:"X-Tag"; sid:2;)',
      'alert http any any -> any any (msg:"request buffer"; http.uri; content:"/"; sid:3;)',
    ),
    tcpConv(40003, 80, [req], [resp]),
  );
  assert.deepEqual(sids, [1, 1, 2, 3]);
});

function content(s: string, o: Partial<ContentOp> = {}): ContentOp {
  return {
    kind: 'content', bytes: Buffer.from(s, 'latin1'), nocase: false, negated: false, offset: null, depth: null, distance: null, within: null,
    startsWith: false, endsWith: false, fastPattern: false, fastPatternOnly: false, fastPatternChop: null, rawbytes: false, ...o,
  };
}
const bt = (o: Partial<ByteTestOp>): ByteTestOp => ({ kind: 'byte_test', nbytes: 1, operator: '=', negated: false, value: 0, offset: 0, relative: false, endian: 'big', string: null, bitmask: null, ...o });
const bj = (o: Partial<ByteJumpOp>): ByteJumpOp => ({
  kind: 'byte_jump', nbytes: 0, offset: 0, relative: true, multiplier: 1, endian: 'big', string: null, align: false, fromBeginning: false, fromEnd: false, postOffset: 0, bitmask: null, ...o,
});
const be = (o: Partial<ByteExtractOp>): ByteExtractOp => ({ kind: 'byte_extract', nbytes: 1, offset: 0, name: 'n', relative: false, multiplier: 1, endian: 'big', string: null, align: 0, bitmask: null, ...o });

function matches(ops: Parameters<typeof compileProgram>[0]['ops'], buf: string | Buffer): boolean {
  const vars = new RuleVars();
  const prog = compileProgram({ buffer: 'pkt_data', ops }, vars);
  const b = typeof buf === 'string' ? Buffer.from(buf, 'latin1') : buf;
  return runProgram(prog, b, 0, b.length, new InspectState(Math.max(vars.count, 1)));
}

test('byte_test with 0 bytes and string reads the number to the end of the buffer (ET Open http.content_len rules)', () => {
  const eq = (v: number) => bt({ nbytes: 0, string: 'dec', value: v });
  assert.equal(matches([eq(0)], '0'), true);
  assert.equal(matches([eq(0)], '10'), false);
  assert.equal(matches([eq(1234)], '1234'), true);
  assert.equal(matches([bt({ nbytes: 0, string: 'dec', operator: '>', value: 100 })], '12345'), true);
  assert.equal(matches([eq(0)], ''), false, 'an empty buffer has no number');
  assert.equal(matches([eq(0)], 'x'), false);
  assert.throws(() => matches([bt({ nbytes: 0 })], '0'), /nbytes must be at least 1/, 'binary byte_test still needs a count');
});

test('byte_test takes its count from a byte_extract variable (suricata-verify detect-bytetest-04)', () => {
  const ops = [be({ nbytes: 1, offset: 0, name: 'len' }), bt({ nbytes: 'len', value: 0x0102, offset: 1 })];
  assert.equal(matches(ops, Buffer.from([2, 1, 2, 9])), true);
  assert.equal(matches(ops, Buffer.from([1, 1, 2, 9])), false, 'count 1 reads 0x01');
  assert.equal(matches(ops, Buffer.from([9, 1, 2, 9])), false, 'a count above 8 never matches');
  assert.equal(matches(ops, Buffer.from([3, 1, 2])), false, 'beyond the buffer');
});

test('byte_jump over 0 bytes moves by post_offset; the cursor may sit at the end; before the start it is clamped (bug-4623, detect-bytejump-05)', () => {
  const buf = Buffer.from([0x10, 0x7c, 0xe0, 0x3a, 0x01, 0xe8, 0xed, 0x0f, 0x54]);
  const after = (c: string) => content(c);
  // content ends before the last byte; jump back 7 lands on 0x7c
  assert.equal(matches([after('\x3a\x01\xe8\xed\x0f'), bj({ postOffset: -7 }), content('\x7c\xe0', { distance: 0, within: 2 })], buf), true);
  // content ends at the very end: the jump is still allowed
  assert.equal(matches([after('\x01\xe8\xed\x0f\x54'), bj({ postOffset: -7 }), content('\xe0\x3a', { distance: 0, within: 2 })], buf), true);
  // too far back: clamped to the buffer start
  assert.equal(matches([after('\x0f\x54'), bj({ postOffset: -100 }), content('\x10', { distance: 0, within: 1 })], buf), true);
  assert.equal(matches([after('\x0f\x54'), bj({ postOffset: 5 })], buf), false, 'past the end');
});

test('pcrexform: the buffer becomes the first capture; no match leaves it as it was (detect-pcrexform-01/05)', () => {
  const t = 'pcrexform:[a-zA-Z]+\\s+(.*)\\s+HTTP' as const;
  assert.equal(applyTransform(t, Buffer.from('GET /z4d4kWk.jpg HTTP/1.1')).toString(), '/z4d4kWk.jpg');
  assert.equal(applyTransform(t, Buffer.from('no match here')).toString(), 'no match here');
  const [r] = rules('alert http any any -> any any (http.request_line; pcrexform:"[a-zA-Z]+\\s+(.*)\\s+HTTP"; content:"/z4d4kWk.jpg"; startswith; sid:1;)');
  assert.deepEqual(r!.buffers[0]!.transforms, [t]);
  assert.throws(() => rules('alert http any any -> any any (http.uri; pcrexform:"abc"; content:"a"; sid:2;)'), /capture group/);
  assert.throws(() => rules('alert http any any -> any any (http.uri; pcrexform:"(abc"; content:"a"; sid:3;)'), /pcrexform/);
  const { sids } = run(rules('alert http any any -> any any (http.request_line; pcrexform:"[A-Z]+\\s+(\\S+)"; content:"/index.html"; endswith; sid:7;)'), tcpConv(40004, 80, [GET], [OK]));
  assert.deepEqual(sids, [7]);
});

test('tls.cert_chain_len parses the integer forms and compiles to a TLS transaction rule', () => {
  const rs = rules(
    'alert tls any any -> any any (tls.cert_chain_len:3; sid:1;)',
    'alert tls any any -> any any (tls.cert_chain_len:<4; sid:2;)',
    'alert tls any any -> any any (tls.cert_chain_len:0<>4; sid:3;)',
    'alert tls any any -> any any (tls.cert_chain_len:!2; sid:4;)',
  );
  assert.deepEqual(rs.map((r) => r.checks[0]), [
    { kind: 'tls_cert_chain_len', cmp: { op: '=', value: 3 } },
    { kind: 'tls_cert_chain_len', cmp: { op: '<', value: 4 } },
    { kind: 'tls_cert_chain_len', cmp: { op: '<>', value: 0, hi: 4 } },
    { kind: 'tls_cert_chain_len', cmp: { op: '!=', value: 2 } },
  ]);
  const c = compileRuleSet({ rules: rs });
  assert.deepEqual(c.errors, []);
  assert.ok(c.rules.every((r) => r.txProto === 'tls'));
});

test('caseless pcre: a class ending in a literal "-" stays a class (ET Open sids 2015995, 2025374)', () => {
  const p = compilePcre({ kind: 'pcre', source: '^x[a-z0-9_-]+?\\.exe', jsFlags: 'i', negated: false, relative: false, anchored: false, raw: '/x/i', overrideLimits: false, captures: {} });
  for (const s of ['xAB-c.EXE', 'X_9.exe', 'x-.exe']) {
    p.re.lastIndex = 0;
    assert.ok(p.re.test(s), s);
  }
  p.re.lastIndex = 0;
  assert.equal(p.re.test('x$.exe'), false);
});

test('rules check lists rules that parse but do not compile, and counts them as failed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-sv-misc-'));
  try {
    const f = join(dir, 'x.rules');
    writeFileSync(
      f,
      [
        'alert http any any -> any any (msg:"ok"; http.uri; content:"/x"; sid:1;)',
        'alert tls any any -> any any (msg:"payload and tls buffer"; content:"x"; tls.sni; content:"y"; sid:2;)',
        'alert tcp any any -> any any (msg:"bad hex"; content:"|4|"; sid:3;)',
      ].join('\n'),
    );
    let out = '';
    rulesCheckCommand([f], {}, (s) => (out += s));
    const lines = out.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: sid 2: rule mixes packet payload`));
    assert.match(lines[1]!, /:3: sid 3: content: odd number of hex digits/);
    assert.equal(lines[2], 'loaded 1, failed 2');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('app-layer-protocol: no protocol test matches before the protocol is known, negated ones included (detect-app-layer-protocol-01)', () => {
  const { alerts, sid } = run(
    rules(
      'alert tcp any any -> any 80 (msg:"not http"; flow:to_server; app-layer-protocol:!http; app-layer-protocol:!tls; sid:1;)',
      'alert tcp any any -> any 80 (msg:"not tls"; flow:to_server; app-layer-protocol:!tls; sid:2;)',
      'alert tcp any any -> any 80 (msg:"unknown"; flow:to_server; app-layer-protocol:unknown; sid:3;)',
    ),
    tcpConv(40005, 80, [GET], [OK]),
  );
  const at = (n: number) => alerts.filter((a) => sid(a) === n).map((a) => a.pcap_cnt);
  assert.deepEqual(at(1), []);
  // !tls fires from the request on (frame 4), never on the handshake; `unknown` only before (SYN, ACK).
  assert.ok(at(2).length > 0 && at(2).every((n) => (n as number) >= 4), JSON.stringify(at(2)));
  assert.deepEqual(at(3), [1, 3]);
});

test('flow:established needs a TCP session: none without SYN when midstream pick-up is off (alert-no-3whs-established)', () => {
  const c = (seq: number, payload: string) => eth(0x0800, ipv4({ src: CLIENT, dst: SERVER, proto: 6, payload: tcp({ src: CLIENT, dst: SERVER, sport: 2443, dport: 1212, seq, ack: 1, flags: 0x18, payload: Buffer.from(payload) }) }));
  const frames = [c(1, 'MATCH?'), c(1, 'MATCH?')];
  const r = rules('alert tcp any any -> any 1212 (msg:"est"; content:"MATCH?"; flow:to_server,established; sid:1;)', 'alert tcp any any -> any 1212 (msg:"any"; content:"MATCH?"; sid:2;)');
  assert.deepEqual(run(r, frames, false).sids, [2, 2]);
  assert.deepEqual(run(r, frames, true).sids.filter((x) => x === 1).length > 0, true, 'picked up midstream: established');
});

test('the packet that ends the SSH handshake (NEWKEYS) is still inspected; the next ones are not (ssh-newkeys)', () => {
  const kex = (side: string) => {
    // A binary packet: length, padding length, SSH_MSG_KEXINIT (20) with a cookie and empty lists.
    const body = Buffer.concat([Buffer.from([20]), Buffer.alloc(16, side === 'c' ? 1 : 2), Buffer.alloc(4 * 10), Buffer.from([0, 0, 0, 0, 0])]);
    const pad = 8 - ((body.length + 5) % 8) + 8;
    const pkt = Buffer.concat([Buffer.alloc(4), Buffer.from([pad]), body, Buffer.alloc(pad)]);
    pkt.writeUInt32BE(pkt.length - 4, 0);
    return pkt.toString('latin1');
  };
  const newkeys = Buffer.from([0, 0, 0, 12, 10, 21, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).toString('latin1');
  const frames = tcpConv(40006, 22, ['SSH-2.0-OpenSSH_8.9\r\n', kex('c'), newkeys, 'ciphertext \x15\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'], ['SSH-2.0-OpenSSH_7.4\r\n', kex('s') + newkeys]);
  const { alerts, eve } = run(rules('alert ssh any any -> any 22 (msg:"newkeys"; content:"|15 00 00 00 00 00 00 00 00 00 00|"; sid:1;)'), frames);
  // The server's NEWKEYS comes first, so the client's (frame 8) completes the handshake.
  const ssh = eve.filter((r) => r.event_type === 'ssh');
  assert.equal(ssh.length, 1, 'the handshake completed');
  assert.equal(ssh[0]!.pcap_cnt, 8, 'on the client NEWKEYS packet');
  assert.equal(alerts[0]?.pcap_cnt, 8);
  assert.equal(alerts.length, 1, 'the NEWKEYS packet alerts, the ciphertext after it does not');
});

test('base64_decode after a legacy modifier decodes in that buffer (suricata-verify base64)', () => {
  const get = 'GET /?arg=dGhpc2lzYXRlc3QK HTTP/1.1\r\nHost: h\r\n\r\n';
  const { sids } = run(
    rules(
      'alert http any any -> any any (content:"arg"; http_uri; base64_decode:bytes 17, offset 1, relative; base64_data; content:"thisisatest"; sid:1;)',
      'alert http any any -> any any (content:"arg"; http_uri; base64_decode:bytes 10, offset 1, relative; base64_data; content:"test"; sid:2;)',
    ),
    tcpConv(40007, 80, [get], [OK]),
  );
  assert.deepEqual(sids, [1]);
  const [r] = rules('alert http any any -> any any (content:"arg"; http_uri; isdataat:2,relative; byte_test:1,=,0x3d,0,relative; sid:3;)');
  assert.deepEqual(r!.buffers.map((b) => [b.buffer, b.ops.map((o) => o.kind)]), [['http.uri', ['content', 'isdataat', 'byte_test']]]);
});

test('ip.src / ip.dst with a dataset of type ip: IPv4 addresses meet their ::ffff: form (datasets-09-load)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-sv-ds-'));
  try {
    writeFileSync(join(dir, 'ip.csv'), `::ffff:${SERVER}\n`);
    writeFileSync(join(dir, 'v4.csv'), `${SERVER}\n`);
    const rs = [
      `alert tcp any any -> any any (msg:"dst ip"; flow:to_server; ip.dst; dataset:isset,iplist,type ip,load ${join(dir, 'ip.csv')}; sid:1;)`,
      `alert tcp any any -> any any (msg:"dst v4"; flow:to_server; ip.dst; dataset:isset,v4list,type ipv4,load ${join(dir, 'v4.csv')}; sid:2;)`,
      `alert tcp any any -> any any (msg:"src v4"; flow:to_server; ip.src; dataset:isset,v4list,type ipv4,load ${join(dir, 'v4.csv')}; sid:3;)`,
    ].map((t, i) => parseRule(t, { vars: VARS, file: join(dir, 'x.rules'), line: i + 1 }));
    const { sids } = run(rs, tcpConv(40008, 80, [GET]).slice(0, 4));
    // 3 client packets after the SYN… each to the dataset's address: sid 1 and 2 on each, sid 3 never.
    assert.deepEqual([...new Set(sids)], [1, 2]);
    assert.equal(sids.filter((x) => x === 1).length, sids.filter((x) => x === 2).length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('alerts raised while flows end outside a packet: pkt_src "stream (flow timeout)", no pcap_cnt; stream:0 with an empty payload', () => {
  // No FIN: the HTTP transaction is only completed at the end of input.
  const frames = tcpConv(40009, 80, ['GET /late HTTP/1.1\r\nHost: h\r\n\r\n'], ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab']).slice(0, 5);
  const { alerts, sid } = run(
    rules('alert http any any -> any any (msg:"late"; flow:to_client; http.stat_code; content:"200"; sid:1;)', 'alert tcp any any -> any any (msg:"syn"; flags:S; sid:2;)'),
    frames,
  );
  const late = alerts.find((a) => sid(a) === 1);
  assert.ok(late !== undefined);
  assert.equal(late.pkt_src, 'stream (flow timeout)');
  assert.equal(late.pcap_cnt, undefined);
  const syn = alerts.find((a) => sid(a) === 2)!;
  assert.equal(syn.pkt_src, 'wire/pcap');
  assert.equal(syn.pcap_cnt, 1);
  assert.equal(syn.stream, 0);
  assert.equal(syn.payload, undefined);
});

test('byte_math takes its byte count from a variable (detect-bytemath-05)', () => {
  const ops = [be({ nbytes: 1, offset: 0, name: 'n' }), { kind: 'byte_math' as const, nbytes: 'n', offset: 1, oper: '+' as const, rvalue: 1, result: 'r', relative: false, endian: 'big' as const, string: null, bitmask: null }, bt({ nbytes: 1, value: 'r', offset: 0, operator: '=' })];
  // n = 2: bytes 1..2 = 0x0001 → r = 2, which equals byte 0
  assert.equal(matches(ops, Buffer.from([2, 0, 1])), true);
  assert.equal(matches(ops, Buffer.from([2, 0, 2])), false);
  assert.equal(matches(ops, Buffer.from([5, 0, 1, 0, 0, 0])), false, 'more than 4 binary bytes never matches');
});

test('dsize:!N needs a payload (Suricata sets the payload requirement); dsize:<N matches empty packets (suricata-verify test-dsize-values)', () => {
  const frames = tcpConv(40000, 1028, ['0123456789']);
  const { alerts, sid } = run(
    rules(
      'alert tcp any any -> any any (msg:"ne"; dsize:!9; sid:7;)',
      'alert tcp any any -> any any (msg:"lt"; dsize:<10; sid:2;)',
    ),
    frames,
  );
  const count = (s: number) => alerts.filter((a) => sid(a) === s).length;
  assert.equal(count(7), 1);
  // Every frame but the 10-byte segment is empty.
  assert.equal(count(2), frames.length - 1);
});

test('http.request_header / http.response_header: one buffer per header, "name: value" (suricata-verify http2-header on HTTP/2)', () => {
  const req = 'GET / HTTP/1.1\r\nHost: example.test\r\nUser-Agent: nghttp2/0.5\r\nX-A: 1\r\n\r\n';
  const resp = 'HTTP/1.1 200 OK\r\nServer: srv\r\nContent-Length: 2\r\n\r\nhi';
  const { sids } = run(
    rules(
      'alert http any any -> any any (msg:"one header"; http.request_header; content:"Agent: nghttp2"; sid:1;)',
      // startswith/endswith anchor to one header, not to the whole header block
      'alert http any any -> any any (msg:"anchored"; http.request_header; content:"X-A: 1"; startswith; endswith; sid:2;)',
      'alert http any any -> any any (msg:"response"; http.response_header; content:"Server: srv"; startswith; sid:3;)',
      // two headers never form one buffer
      'alert http any any -> any any (msg:"spans two"; http.request_header; content:"test|0d 0a|User"; sid:4;)',
    ),
    tcpConv(40100, 80, [req], [resp]),
  );
  assert.deepEqual(sids, [1, 2, 3]);
});
