/**
 * HTTP/2 parser on hand-built conversations: frames of every type, padding,
 * priority, CONTINUATION, 1xx, trailers, RST_STREAM, PUSH_PROMISE, gRPC;
 * the same conversation split at every byte of every message gives the same
 * transactions; named anomaly events; h2c upgrade from the HTTP/1 parser;
 * EVE objects validate against Suricata's schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Direction } from '../../src/applayer/parser.js';
import { createHttp2Parser, http2Parser, probeHttp2, startH2cAfterUpgrade } from '../../src/applayer/http2/index.js';
import { httpParser, type HttpState, type HttpTx } from '../../src/applayer/http/index.js';
import { PREFACE, SETTINGS, block, collector, frame, run, summary, hpackInt } from './http2-support.js';
import { eveSchemaErrors, EVE_SCHEMA } from '../support/eve-schema.js';
import { skipWithoutShared } from '../support/shared.js';

const ES = 0x1, EH = 0x4, PADDED = 0x8, PRIO = 0x20;
const pad = (b: Buffer, n: number): Buffer => Buffer.concat([Buffer.from([n]), b, Buffer.alloc(n)]);

const reqBlock1 = block([[':method', 'GET'], [':scheme', 'http'], [':path', '/a?x=1'], [':authority', 'example.com'], ['user-agent', 'h2test/1']], { huff: true, index: true });
// Second request reuses dynamic entries: newest first — user-agent (62), :authority (63), :path (64), :scheme (65), :method (66).
const reqBlock3 = Buffer.concat([Buffer.from([0x83, 0x86]), block([[':path', '/upload']]), Buffer.from([0xbf, 0xbe]), block([['content-type', 'text/plain']])]);
const grpcBlock = block([[':method', 'POST'], [':scheme', 'http'], [':path', '/pkg.v1.Greeter/SayHello'], [':authority', 'svc:50051'], ['content-type', 'application/grpc'], ['te', 'trailers']]);
const s3split = [reqBlock3.subarray(0, 5), reqBlock3.subarray(5)] as const;

const CLIENT: Buffer[] = [
  Buffer.concat([PREFACE, SETTINGS([[1, 8192], [4, 65535]])]),
  frame(1, ES | EH, 1, reqBlock1),
  Buffer.concat([
    frame(1, PADDED | PRIO, 3, pad(Buffer.concat([Buffer.from([0, 0, 0, 0, 15]), s3split[0]]), 3)),
    frame(9, EH, 3, s3split[1]),
    frame(0, PADDED, 3, pad(Buffer.alloc(10, 0x61), 5)),
    frame(0, ES, 3, Buffer.alloc(20, 0x62)),
  ]),
  Buffer.concat([frame(1, EH, 5, grpcBlock), frame(0, ES, 5, Buffer.from('0000000005hello', 'latin1'))]),
  Buffer.concat([frame(1, ES | EH, 7, block([[':method', 'GET'], [':scheme', 'http'], [':path', '/slow'], [':authority', 'example.com']])), frame(3, 0, 7, Buffer.from([0, 0, 0, 8]))]),
  Buffer.concat([frame(6, 0, 0, Buffer.alloc(8)), frame(8, 0, 0, Buffer.from([0, 0, 1, 0])), frame(4, 1, 0)]),
];
const SERVER: Buffer[] = [
  Buffer.concat([SETTINGS([[3, 100]]), frame(4, 1, 0)]),
  Buffer.concat([frame(1, EH, 1, block([[':status', '200'], ['content-type', 'text/html']], { index: true })), frame(0, ES, 1, Buffer.alloc(100))]),
  Buffer.concat([
    frame(1, EH, 3, block([[':status', '100']])),
    frame(5, EH, 3, Buffer.concat([Buffer.from([0, 0, 0, 2]), block([[':method', 'GET'], [':scheme', 'http'], [':path', '/style.css'], [':authority', 'example.com']])])),
    frame(1, EH, 3, block([[':status', '201']])),
    frame(0, ES, 3, Buffer.alloc(7)),
  ]),
  Buffer.concat([frame(1, EH, 2, block([[':status', '200']])), frame(0, ES, 2, Buffer.alloc(33))]),
  Buffer.concat([
    frame(1, EH, 5, block([[':status', '200'], ['content-type', 'application/grpc']])),
    frame(0, 0, 5, Buffer.from('0000000007goodbye', 'latin1')),
    frame(1, ES | EH, 5, block([['grpc-status', '0'], ['grpc-message', 'ok']])),
  ]),
  frame(7, 0, 0, Buffer.from([0, 0, 0, 7, 0, 0, 0, 0])),
];

const SCRIPT: [Direction, Buffer][] = [];
for (let i = 0; i < Math.max(CLIENT.length, SERVER.length); i++) {
  if (CLIENT[i]) SCRIPT.push([0, CLIENT[i]!]);
  if (SERVER[i]) SCRIPT.push([1, SERVER[i]!]);
}

function sorted(r: ReturnType<typeof run>): Record<string, unknown>[] {
  return r.txs.map(summary).sort((a, b) => (a.stream as number) - (b.stream as number));
}

test('a conversation of every frame type gives one transaction per stream', () => {
  const r = run(http2Parser, SCRIPT);
  assert.deepEqual(r.events, []);
  assert.deepEqual(r.abandoned, []);
  const s = sorted(r);
  assert.deepEqual(s.map((t) => t.stream), [1, 2, 3, 5, 7]);
  const [t1, t2, t3, t5, t7] = s;
  assert.deepEqual(t1!.req, [':method: GET', ':scheme: http', ':path: /a?x=1', ':authority: example.com', 'user-agent: h2test/1']);
  assert.deepEqual(t1!.res, [':status: 200', 'content-type: text/html']);
  assert.equal(t1!.resBytes, 100);
  assert.deepEqual(t3!.req, [':method: POST', ':scheme: http', ':path: /upload', ':authority: example.com', 'user-agent: h2test/1', 'content-type: text/plain']);
  assert.deepEqual(t3!.res, [':status: 201']); // the 100 was replaced by the final response
  assert.equal(t3!.reqBytes, 30); // 10 (padding excluded) + 20
  assert.equal(t3!.resBytes, 7);
  assert.deepEqual(t2!.req, [':method: GET', ':scheme: http', ':path: /style.css', ':authority: example.com']);
  assert.equal(t2!.resBytes, 33);
  assert.deepEqual(t7!.rst, [8, -1]);
  assert.deepEqual(t5!.trailers, ['grpc-status: 0', 'grpc-message: ok']);
  const g = r.txs.find((t) => t.streamId === 5)!;
  assert.deepEqual(g.grpc, { service: 'pkg.v1.Greeter', method: 'SayHello', status: 0, message: 'ok' });
  assert.equal(r.txs.find((t) => t.streamId === 1)!.grpc, null);
  assert.equal(r.txs.find((t) => t.streamId === 2)!.pushed, true);
  assert.ok(s.every((t) => t.incomplete === false));
  // Settings and GOAWAY recorded; the client's table size reached the server's decoder limit.
  assert.deepEqual(r.state.dirs[0].settings, [{ id: 1, value: 8192 }, { id: 4, value: 65535 }]);
  assert.equal(r.state.dirs[1].goawayLastStream, 7);
});

test('split at every byte of every message, and byte by byte: same transactions', () => {
  const want = JSON.stringify(sorted(run(http2Parser, SCRIPT)));
  for (let m = 0; m < SCRIPT.length; m++) {
    const len = SCRIPT[m]![1].length;
    for (let k = 1; k < len; k++) {
      const r = run(http2Parser, SCRIPT, (l, idx) => (idx === m ? [k, l - k] : [l]));
      assert.equal(JSON.stringify(sorted(r)), want, `message ${m} split at ${k}`);
      assert.deepEqual(r.events, []);
    }
  }
  const r = run(http2Parser, SCRIPT, (l) => Array.from({ length: l }, () => 1));
  assert.equal(JSON.stringify(sorted(r)), want);
});

test('EVE: Suricata field names, validates against the 7.0.4 schema', { skip: skipWithoutShared(EVE_SCHEMA) }, () => {
  const r = run(http2Parser, SCRIPT);
  const t1 = r.txs.find((t) => t.streamId === 1)!;
  assert.deepEqual(
    { ...t1.eve(), request_headers: undefined, response_headers: undefined },
    {
      version: '2', hostname: 'example.com', url: '/a?x=1', http_user_agent: 'h2test/1', http_method: 'GET',
      protocol: 'HTTP/2', status: 200, http2: { stream_id: 1, request: {}, response: {} },
      request_headers: undefined, response_headers: undefined,
    },
  );
  assert.deepEqual(t1.eve().response_headers, [{ name: ':status', value: '200' }, { name: 'content-type', value: 'text/html' }]);
  assert.deepEqual(r.txs.find((t) => t.streamId === 3)!.eve().http2, { stream_id: 3, request: { priority: 15 }, response: {} });
  // length is the content-length field, as Suricata logs it
  const cl = run(http2Parser, [[0, CLIENT[0]!], [0, frame(1, ES | EH, 1, reqBlock1)], [1, SERVER[0]!],
    [1, frame(1, ES | EH, 1, block([[':status', '200'], ['content-length', '1234']]))]]);
  assert.equal(cl.txs[0]!.eve().length, 1234);
  assert.deepEqual(r.txs.find((t) => t.streamId === 7)!.eve().http2, { stream_id: 7, request: { error_code: 'CANCEL' }, response: {} });
  for (const t of r.txs) {
    const rec = {
      timestamp: '2026-01-01T00:00:00.000000+0000', flow_id: 1, event_type: 'http', src_ip: '10.0.0.1', src_port: 40000,
      dest_ip: '10.0.0.2', dest_port: 80, proto: 'TCP', app_proto: 'http2', tx_id: t.txId, http: t.eve(),
    };
    assert.deepEqual(eveSchemaErrors(rec), [], `stream ${t.streamId}`);
  }
});

test('flow end flushes open streams as incomplete', () => {
  const r = run(http2Parser, [[0, CLIENT[0]!], [0, frame(1, EH, 1, reqBlock1)], [1, SERVER[0]!]]);
  assert.equal(r.txs.length, 1);
  assert.equal(r.txs[0]!.incomplete, true);
  assert.equal(r.txs[0]!.status, -1);
});

test('anomalies are named events; bad preface abandons', () => {
  const ev = (script: [Direction, Buffer][]): string[] => run(http2Parser, [[0, CLIENT[0]!], ...script]).events;
  assert.deepEqual(ev([[0, frame(6, 0, 0, Buffer.alloc(7))]]), ['http2.invalid_frame_length']);
  assert.deepEqual(ev([[0, frame(4, 0, 0, Buffer.alloc(5))]]), ['http2.invalid_frame_length']);
  assert.deepEqual(ev([[0, frame(8, 0, 1, Buffer.alloc(3))]]), ['http2.invalid_frame_length']);
  assert.deepEqual(ev([[0, frame(1, EH, 0, block([[':method', 'GET']]))]]), ['http2.invalid_frame_header']);
  assert.deepEqual(ev([[0, frame(9, EH, 1, Buffer.from([0x82]))]]), ['http2.invalid_frame_header']);
  assert.deepEqual(ev([[0, Buffer.concat([frame(1, 0, 1, Buffer.from([0x82])), frame(6, 0, 0, Buffer.alloc(8))])]]), ['http2.invalid_frame_header']);
  assert.deepEqual(ev([[0, frame(1, ES | EH, 3, Buffer.from([0x82]))], [0, frame(1, ES | EH, 1, Buffer.from([0x82]))]]), ['http2.stream_id_reuse']);
  assert.deepEqual(ev([[0, frame(1, ES | EH, 1, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]))]]), ['http2.header_integer_overflow']);
  assert.deepEqual(ev([[0, frame(1, ES | EH, 1, Buffer.from([0xc0]))]]), ['http2.invalid_header']);
  assert.deepEqual(ev([[0, frame(1, ES | EH, 1, block([['Upper', 'x']]))]]), ['http2.invalid_header']);
  assert.deepEqual(ev([[0, frame(1, ES | EH, 1, block([['connection', 'close']]))]]), ['http2.invalid_header']);
  assert.deepEqual(ev([[0, frame(1, ES | EH, 1, Buffer.concat([Buffer.from([0x82]), hpackInt(8192, 5, 0x20)]))]]), ['http2.invalid_size_update']);
  assert.deepEqual(ev([[0, frame(0, PADDED | ES, 1, Buffer.from([9, 1, 2]))]]), ['http2.invalid_frame_data']);
  // RFC 9113 §8.3.1: userinfo in :authority; :authority and host naming different hosts (case does not matter)
  const req = (fields: [string, string][]) => frame(1, ES | EH, 1, block([[':method', 'GET'], [':scheme', 'http'], [':path', '/'], ...fields]));
  assert.deepEqual(ev([[0, req([[':authority', 'user:pw@example.com']])]]), ['http2.userinfo_in_uri']);
  assert.deepEqual(ev([[0, req([[':authority', 'example.com'], ['host', 'foo.com']])]]), ['http2.authority_host_mismatch']);
  assert.deepEqual(ev([[0, req([[':authority', 'u@example.com'], ['host', 'Example.COM']])]]), ['http2.userinfo_in_uri']);
  assert.deepEqual(ev([[0, req([[':authority', 'example.com:8443'], ['host', 'example.com:8443']])]]), []);
  const small = createHttp2Parser({ maxFrameSize: 64, maxStreams: 1 });
  const r = run(small, [[0, CLIENT[0]!], [0, frame(1, ES | EH, 1, block([['x-big', 'v'.repeat(100)]]))], [0, frame(1, ES | EH, 3, Buffer.from([0x82]))]]);
  assert.deepEqual(r.events, ['http2.long_frame_data', 'http2.too_many_streams']);
  const bad = run(http2Parser, [[0, Buffer.from('GET / HTTP/1.1\r\n\r\n')]]);
  assert.deepEqual(bad.events, ['http2.invalid_client_magic']);
  assert.equal(bad.abandoned.length, 1);
});

test('a TCP gap inside DATA is skipped; elsewhere it abandons', () => {
  const { r, ctx } = collector();
  const st = http2Parser.create(ctx);
  const c = Buffer.concat([CLIENT[0]!, frame(1, EH, 1, reqBlock1), frame(0, ES, 1, Buffer.alloc(100))]);
  http2Parser.parse(st, 0, c, 0, c.length - 60, 0);
  http2Parser.gap!(st, 0, 50);
  http2Parser.parse(st, 0, c, c.length - 10, 10, 0);
  const s = Buffer.concat([SETTINGS(), frame(1, ES | EH, 1, block([[':status', '204']]))]);
  http2Parser.parse(st, 1, s, 0, s.length, 0);
  assert.equal(r.txs.length, 1);
  assert.equal(r.txs[0]!.requestDataBytes, 100);
  http2Parser.gap!(st, 1, 3);
  assert.deepEqual(r.events, ['http2.gap']);
  assert.equal(r.abandoned.length, 1);
});

test('probe: client preface (prefix → NEED_MORE), server SETTINGS at the start', () => {
  const P = (d: Direction, b: Buffer): number => probeHttp2(d, b, 0, b.length);
  assert.equal(P(0, PREFACE), 2);
  assert.equal(P(0, PREFACE.subarray(0, 10)), 1);
  assert.equal(P(0, Buffer.from('PRI * HTTP/1.1\r\n')), 0);
  assert.equal(P(0, Buffer.from('GET / HTTP/1.1\r\n')), 0);
  assert.equal(P(1, SETTINGS([[3, 100], [4, 65535]])), 2);
  assert.equal(P(1, SETTINGS().subarray(0, 4)), 1);
  assert.equal(P(1, frame(4, 1, 0)), 0); // ACK first: not a server's opening
  assert.equal(P(1, Buffer.from('HTTP/1.1 200 OK\r\n')), 0);
  assert.equal(P(1, frame(1, 4, 1, Buffer.alloc(6))), 0);
});

test('h2c: HTTP/1 upgrade request becomes stream 1; handoff bytes parsed; HTTP2-Settings applied', () => {
  // AAMAAABkAAEAACAA = SETTINGS_MAX_CONCURRENT_STREAMS 100, SETTINGS_HEADER_TABLE_SIZE 8192 (base64url)
  const req = 'GET /index?q=1 HTTP/1.1\r\nHost: h2c.example:8080\r\nUser-Agent: curl/8\r\nConnection: Upgrade, HTTP2-Settings\r\n' +
    'Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAEAACAA\r\n\r\n';
  const h2Client = Buffer.concat([PREFACE, SETTINGS(), frame(4, 1, 0)]);
  const h2Server = Buffer.concat([SETTINGS(), frame(4, 1, 0), frame(1, EH, 1, block([[':status', '200'], ['server', 'n']])), frame(0, ES, 1, Buffer.alloc(12))]);
  const c = collector();
  const h1: HttpState = httpParser.create(c.ctx);
  const cb = Buffer.concat([Buffer.from(req, 'latin1'), h2Client]);
  const sb = Buffer.concat([Buffer.from('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n', 'latin1'), h2Server]);
  httpParser.parse(h1, 0, cb, 0, cb.length, 0);
  httpParser.parse(h1, 1, sb, 0, sb.length, 0);
  assert.equal(h1.switched, 'h2c');
  const upTx = (c.r.txs as unknown as HttpTx[])[0]!;
  const h2 = collector();
  const st = startH2cAfterUpgrade(h2.ctx, upTx, h1.handoff);
  http2Parser.end!(st);
  assert.deepEqual(h2.r.events, []);
  assert.equal(h2.r.txs.length, 1);
  const t = summary(h2.r.txs[0]!);
  assert.deepEqual(t.req, [':method: GET', ':path: /index?q=1', ':scheme: http', ':authority: h2c.example:8080', 'user-agent: curl/8']);
  assert.deepEqual(t.res, [':status: 200', 'server: n']);
  assert.equal(t.resBytes, 12);
  assert.equal(t.incomplete, false);
  assert.deepEqual(st.dirs[0].settings, [{ id: 3, value: 100 }, { id: 1, value: 8192 }]);
  // Bad HTTP2-Settings
  const h3 = collector();
  startH2cAfterUpgrade(h3.ctx, { method: Buffer.from('GET'), uriRaw: Buffer.from('/'), requestHeaders: [{ name: Buffer.from('HTTP2-Settings'), value: Buffer.from('!!') }] });
  assert.deepEqual(h3.r.events, ['http2.invalid_http1_settings']);
});
