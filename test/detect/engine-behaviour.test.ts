/**
 * The signature engine on synthetic traffic through the whole pipeline
 * (decode → flow → stream → app layer → engine → alert path): rules come
 * from the real rule parser, alerts are read back from the EVE records.
 * Each test shows one piece of Suricata's semantics: inspection points,
 * flow keywords, flowbits ordering, thresholds, pass, once-per-packet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { defaultConfig } from '../../src/sensor/config.js';
import { EveCollector } from '../../src/output/eve-writer.js';
import { parseRule } from '../../src/detect/rules/index.js';
import type { Rule, ThresholdConfig } from '../../src/detect/rules/index.js';
import { SignatureEngine } from '../../src/detect/engine/engine.js';
import { compileRuleSet } from '../../src/detect/engine/compile.js';
import { eth, ipv4, tcpConversation, udp } from '../decode/build.js';

const VARS = { addressGroups: { HOME_NET: '[10.0.0.0/8]', EXTERNAL_NET: '!$HOME_NET' }, portGroups: { HTTP_PORTS: '80' } };
const CLIENT = '10.1.0.5';
const SERVER = '192.0.2.9';

function rules(...texts: string[]): Rule[] {
  return texts.map((t, i) => parseRule(t, { vars: VARS, file: 'test.rules', line: i + 1 }));
}

interface Conv {
  frames: Buffer[];
}

/** A TCP conversation between CLIENT and SERVER (test/decode/build.ts). */
function tcpConv(sport: number, dport: number, toServer: (string | Buffer)[], toClient: (string | Buffer)[] = []): Conv {
  return { frames: tcpConversation(CLIENT, SERVER, sport, dport, toServer, toClient) };
}

function udpPkt(sport: number, dport: number, payload: string | Buffer, src = CLIENT, dst = SERVER): Buffer {
  return eth(0x0800, ipv4({ src, dst, proto: 17, payload: udp({ src, dst, sport, dport, payload: Buffer.from(payload) }) }));
}

function run(rs: Rule[], frames: Buffer[], thresholds?: ThresholdConfig) {
  const eve = new EveCollector();
  const p = new Pipeline(defaultConfig(), { eve });
  const engine = new SignatureEngine(thresholds ? { rules: rs, thresholds } : { rules: rs }, p.alerts);
  assert.deepEqual(engine.errors, []);
  p.addDetector(engine);
  let t = 0;
  for (const f of frames) {
    t++;
    p.frame(f, 0, f.length, f.length, 1_700_000_000 + Math.floor(t / 10), (t % 10) * 1e8, 1, 0);
  }
  p.finish();
  const alerts = eve.out.filter((r) => r.event_type === 'alert');
  const sids = alerts.map((a) => (a.alert as { signature_id: number }).signature_id);
  return { alerts, sids, engine, p };
}

test('packet content with flow:established,to_server fires once per packet, only in its direction', () => {
  const rs = rules(
    'alert tcp $HOME_NET any -> $EXTERNAL_NET any (msg:"to server"; flow:established,to_server; content:"EVIL"; sid:1;)',
    'alert tcp any any -> any any (msg:"to client"; flow:established,to_client; content:"EVIL"; sid:2;)',
    'alert tcp any any -> any any (msg:"twice in one packet"; content:"X"; sid:3;)',
  );
  const { sids, alerts } = run(rs, tcpConv(40000, 8080, ['hello EVIL X X X', 'fine'], ['ok']).frames);
  assert.deepEqual(sids.sort(), [1, 3]);
  const a = alerts.find((x) => (x.alert as { signature_id: number }).signature_id === 1)!;
  assert.equal(a.src_ip, CLIENT);
  assert.equal(a.direction, 'to_server');
  assert.match(String(a.payload_printable), /EVIL/);
});

test('a pattern split across two segments matches on the reassembled stream, not twice', () => {
  const rs = rules(
    'alert tcp any any -> any any (msg:"split"; flow:established,to_server; content:"ABCDEFGH"; sid:10;)',
    'alert tcp any any -> any any (msg:"split, packets only"; flow:established,to_server,no_stream; content:"ABCDEFGH"; sid:11;)',
  );
  const { sids, alerts } = run(rs, tcpConv(40001, 9000, ['xxxxABCD', 'EFGHyyyy', 'zzz']).frames);
  assert.deepEqual(sids, [10]);
  assert.equal(alerts[0]!.stream, 1);
});

test('port groups: a rule for port 80 does not see port 81; ports, addresses and negation hold', () => {
  const rs = rules(
    'alert tcp any any -> any $HTTP_PORTS (msg:"80"; content:"hit"; sid:20;)',
    'alert tcp any any -> any ![80,81] (msg:"not 80/81"; content:"hit"; sid:21;)',
    'alert tcp $EXTERNAL_NET any -> $HOME_NET any (msg:"inbound only"; content:"hit"; sid:22;)',
    'alert tcp $EXTERNAL_NET any <> $HOME_NET any (msg:"either way"; content:"hit"; sid:23;)',
  );
  const a = run(rs, tcpConv(40002, 80, ['hit']).frames);
  assert.deepEqual(a.sids.sort(), [20, 23]);
  const b = run(rs, tcpConv(40003, 81, ['hit']).frames);
  assert.deepEqual(b.sids.sort(), [23]);
  const c = run(rs, tcpConv(40004, 82, ['hit']).frames);
  assert.deepEqual(c.sids.sort(), [21, 23]);
});

test('flowbits: the setter runs before the checker on the same packet, noalert stays silent, isnotset', () => {
  // The checker is listed first in the file: evaluation order must still put the setter first.
  const rs = rules(
    'alert tcp any any -> any any (msg:"checker"; flow:to_server; content:"login"; flowbits:isset,seen.user; sid:31;)',
    'alert tcp any any -> any any (msg:"setter"; flow:to_server; content:"user="; flowbits:set,seen.user; flowbits:noalert; sid:30;)',
    'alert tcp any any -> any any (msg:"never set"; flow:to_server; content:"login"; flowbits:isnotset,other.bit; sid:32;)',
    'alert tcp any any -> any any (msg:"both needed"; flow:to_server; content:"login"; flowbits:isset,seen.user&other.bit; sid:33;)',
  );
  const { sids } = run(rs, tcpConv(40005, 7000, ['user=bob login']).frames);
  assert.deepEqual(sids.sort(), [31, 32]);
  // Without the setter's content, the checker stays quiet.
  const none = run(rs, tcpConv(40006, 7000, ['login']).frames);
  assert.deepEqual(none.sids, [32]);
});

test('flowint counts across packets of a flow', () => {
  const rs = rules(
    'alert tcp any any -> any any (msg:"count"; flow:to_server; content:"try"; flowint:tries,+,1; noalert; sid:40;)',
    'alert tcp any any -> any any (msg:"third try"; flow:to_server; content:"try"; flowint:tries,isset; flowint:tries,>=,3; sid:41;)',
  );
  const { sids } = run(rs, tcpConv(40007, 7001, ['try', 'try', 'try', 'try']).frames);
  // Counted after the match (post-match), so "≥3" holds from the fourth packet's check on the value 3.
  assert.deepEqual(sids, [41, 41]);
});

test('threshold limit and detection_filter bound alerts per source', () => {
  const rs = rules(
    'alert udp any any -> any 5000 (msg:"limit 2"; content:"ping"; threshold:type limit, track by_src, count 2, seconds 60; sid:50;)',
    'alert udp any any -> any 5000 (msg:"after 3"; content:"ping"; detection_filter:track by_src, count 3, seconds 60; sid:51;)',
    'alert udp any any -> any 5000 (msg:"every 2nd"; content:"ping"; threshold:type threshold, track by_dst, count 2, seconds 60; sid:52;)',
  );
  const frames = Array.from({ length: 6 }, (_, i) => udpPkt(30000 + i, 5000, 'ping'));
  const { sids } = run(rs, frames);
  const count = (s: number) => sids.filter((x) => x === s).length;
  assert.equal(count(50), 2);
  assert.equal(count(51), 3);
  assert.equal(count(52), 3);
});

test('threshold.config suppress by source silences a rule for that address only', () => {
  const rs = rules('alert udp any any -> any 5001 (msg:"s"; content:"ping"; sid:60;)');
  const other = '10.9.9.9';
  const frames = [udpPkt(30100, 5001, 'ping'), udpPkt(30101, 5001, 'ping', other, SERVER)];
  const ip = { any: false, v4: new Uint32Array([0x0a010005, 0x0a010005]), v6: new Uint32Array(0) };
  const { alerts } = run(rs, frames, { suppress: [{ gid: 1, sid: 60, track: 'by_src', ips: ip, line: 1 }], thresholds: [], rateFilters: [], errors: [] });
  assert.deepEqual(alerts.map((a) => a.src_ip), [other]);
});

test('pass rules stop inspection of the flow', () => {
  const rs = rules(
    'pass tcp any any -> any 7002 (msg:"trusted"; content:"trusted"; sid:70;)',
    'alert tcp any any -> any 7002 (msg:"bad"; content:"bad"; sid:71;)',
  );
  const { sids } = run(rs, tcpConv(40008, 7002, ['trusted bad', 'bad again']).frames);
  assert.deepEqual(sids, []);
  const b = run(rs, tcpConv(40009, 7002, ['bad']).frames);
  assert.deepEqual(b.sids, [71]);
});

test('header checks: dsize, flags, ttl; address-only rules are found through the address index', () => {
  const rs = rules(
    'alert tcp any any -> any any (msg:"syn"; flags:S,12; flow:to_server; sid:80;)',
    'alert tcp any any -> any any (msg:"small"; dsize:1<>4; flow:established,to_server; sid:81;)',
    `alert ip [${SERVER},198.51.100.1] any -> any any (msg:"from listed host"; sid:82;)`,
    'alert ip [198.51.100.7] any -> any any (msg:"unlisted"; sid:83;)',
    'alert udp any any -> any any (msg:"ttl"; ttl:64; sid:84;)',
  );
  const { sids } = run(rs, [...tcpConv(40010, 7003, ['ab', 'abcdef']).frames, udpPkt(1, 2, 'x')]);
  const uniq = [...new Set(sids)].sort((a, b) => a - b);
  assert.ok(uniq.includes(80) && uniq.includes(81) && uniq.includes(82), String(uniq));
  assert.ok(!uniq.includes(83));
  // dsize 2 is the one small data packet (the handshake's empty ACK has dsize 0).
  assert.equal(sids.filter((s) => s === 80).length, 1);
  assert.equal(sids.filter((s) => s === 81).length, 1);
});

test('HTTP buffers per transaction: uri, header, host, user agent, method; mixed payload content', () => {
  const req = 'POST /login.php?x=1 HTTP/1.1\r\nHost: Example.COM:8080\r\nUser-Agent: evil-bot/1.0\r\nX-Mining-Extensions: midstate\r\nContent-Length: 9\r\n\r\nuser=bob&';
  const resp = 'HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 2\r\n\r\nok';
  const rs = rules(
    'alert http any any -> any any (msg:"uri"; flow:established,to_server; http.uri; content:"/login.php"; startswith; sid:90;)',
    'alert http any any -> any any (msg:"host"; http.host; content:"example.com"; bsize:11; sid:91;)',
    'alert http any any -> any any (msg:"ua"; http.user_agent; content:"evil-bot"; sid:92;)',
    'alert http any any -> any any (msg:"post+header"; http.method; content:"POST"; http.header; content:"X-Mining-Extensions|3a|"; sid:93;)',
    'alert http any any -> any any (msg:"server"; flow:to_client; http.server; content:"nginx"; sid:94;)',
    'alert http any any -> any any (msg:"payload+method"; content:"user=bob"; http.method; content:"POST"; sid:95;)',
    'alert http any any -> any any (msg:"wrong host"; http.host; content:"example.org"; sid:96;)',
    'alert http any any -> any any (msg:"stat"; http.stat_code; content:"200"; sid:97;)',
  );
  const { sids, alerts } = run(rs, tcpConv(40011, 8080, [req], [resp]).frames);
  assert.deepEqual(sids.sort(), [90, 91, 92, 93, 94, 95, 97]);
  const a = alerts.find((x) => (x.alert as { signature_id: number }).signature_id === 90)!;
  assert.equal((a.http as { url: string }).url, '/login.php?x=1');
  assert.equal(a.tx_id, 0);
  const s = alerts.find((x) => (x.alert as { signature_id: number }).signature_id === 94)!;
  assert.equal(s.direction, 'to_client');
  assert.equal(s.src_ip, SERVER);
});

test('DNS query buffer and a dns rule with payload bytes', () => {
  // A standard query for www.evil.example A, id 0x1234.
  const q = Buffer.concat([
    Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0]),
    Buffer.from([3, ...Buffer.from('www'), 4, ...Buffer.from('evil'), 7, ...Buffer.from('example'), 0, 0, 1, 0, 1]),
  ]);
  const rs = rules(
    'alert dns any any -> any any (msg:"query"; dns.query; content:"evil.example"; endswith; sid:100;)',
    'alert dns any any -> any any (msg:"dotprefix"; dns.query; dotprefix; content:".evil.example"; endswith; sid:101;)',
    'alert dns any any -> any any (msg:"raw"; content:"|01 00 00 01|"; offset:2; depth:4; sid:102;)',
    'alert dns any any -> any any (msg:"other"; dns.query; content:"good.example"; sid:103;)',
  );
  const { sids, alerts } = run(rs, [udpPkt(33333, 53, q)]);
  assert.deepEqual(sids.sort(), [100, 101, 102]);
  assert.ok(alerts.every((a) => a.app_proto === 'dns'));
});

test('rules the engine cannot run are listed with file, line, sid and reason', () => {
  const rs = rules(
    'alert tcp any any -> any any (msg:"ok"; content:"x"; sid:110;)',
    'alert tls any any -> any any (msg:"mixed"; content:"abc"; ssl_state:client_hello; sid:111;)',
  );
  const c = compileRuleSet({ rules: rs });
  assert.equal(c.rules.length, 1);
  assert.equal(c.errors.length, 1);
  assert.equal(c.errors[0]!.sid, 111);
  assert.equal(c.errors[0]!.file, 'test.rules');
  assert.equal(c.errors[0]!.line, 2);
  assert.match(c.errors[0]!.reason, /pkt_data/);
});
