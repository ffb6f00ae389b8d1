// The application-layer stage as the pipeline drives it: detection by
// content (not port), `failed` flows, the mismatch event, and the switch
// from HTTP/1.1 to HTTP/2 after `Upgrade: h2c`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppLayer } from '../../src/applayer/stage.js';
import { APP_PARSERS } from '../../src/applayer/registry.js';
import { Flow } from '../../src/flow/flow.js';
import { block, frame } from './http2-support.js';

function tcpFlow(clientPort: number, serverPort: number): Flow {
  const f = new Flow(4);
  f.proto = 6;
  f.client4 = 0x0af40105;
  f.server4 = 0x0af40207;
  f.clientPort = clientPort;
  f.serverPort = serverPort;
  f.flowId = 42;
  return f;
}

function stage(): { app: AppLayer; out: Record<string, unknown>[] } {
  const out: Record<string, unknown>[] = [];
  const app = new AppLayer(APP_PARSERS, (r) => out.push(r));
  app.setTime(1_700_000_000, 0);
  return { app, out };
}

const feed = (app: AppLayer, f: Flow, dir: 0 | 1, s: string | Buffer): void => {
  const b = typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
  app.tcpData(f, dir, b, 0, b.length);
};

test('HTTP on an odd port is recognised by its content', () => {
  const { app, out } = stage();
  const f = tcpFlow(40000, 31337);
  feed(app, f, 0, 'GET /x HTTP/1.1\r\nHost: a.example\r\n\r\n');
  feed(app, f, 1, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  app.flowEnd(f);
  assert.equal(f.appProto, 'http');
  const http = out.filter((r) => r.event_type === 'http');
  assert.equal(http.length, 1);
  assert.equal((http[0].http as Record<string, unknown>).url, '/x');
});

test('bytes that are no protocol on port 80 are not parsed as HTTP: the flow is failed', () => {
  const { app, out } = stage();
  const f = tcpFlow(40001, 80);
  feed(app, f, 0, Buffer.from('8f3a0011deadbeef0000000000000000', 'hex'));
  feed(app, f, 1, Buffer.from('00ff00ff00ff00ff1122334455667788', 'hex'));
  app.flowEnd(f);
  assert.equal(f.appProto, 'failed');
  assert.equal(out.filter((r) => r.event_type === 'http').length, 0);
});

test('directions that disagree raise applayer.mismatch_protocol_both_directions', () => {
  const { app, out } = stage();
  const f = tcpFlow(40002, 8080);
  feed(app, f, 0, 'GET / HTTP/1.1\r\nHost: b\r\n\r\n');
  feed(app, f, 1, 'SSH-2.0-OpenSSH_9.2\r\n');
  app.flowEnd(f);
  assert.equal(f.appProto, 'http');
  const anomalies = out.filter((r) => r.event_type === 'anomaly').map((r) => (r.anomaly as { event: string }).event);
  assert.ok(anomalies.includes('applayer.mismatch_protocol_both_directions'), anomalies.join(','));
});

test('HTTP/1.1 Upgrade: h2c switches the flow to HTTP/2; the upgrade request is stream 1', () => {
  const { app, out } = stage();
  const f = tcpFlow(40003, 80);
  feed(app, f, 0, 'GET /h2 HTTP/1.1\r\nHost: c.example\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n');
  const settings = frame(4, 0, 0);
  const response1 = frame(1, 0x05, 1, block([[':status', '200']]));
  feed(app, f, 1, Buffer.concat([Buffer.from('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n', 'latin1'), settings, response1]));
  feed(app, f, 0, Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), frame(4, 0, 0), frame(4, 1, 0)]));
  const req3 = frame(1, 0x05, 3, block([[':method', 'GET'], [':scheme', 'http'], [':path', '/second'], [':authority', 'c.example']]));
  feed(app, f, 0, req3);
  feed(app, f, 1, frame(1, 0x05, 3, block([[':status', '404']])));
  app.flowEnd(f);
  assert.equal(f.appProto, 'http2');
  const recs = out.filter((r) => r.event_type === 'http' && r.app_proto === 'http2').map((r) => r.http as Record<string, unknown>);
  const byUrl = new Map(recs.map((h) => [h.url, h]));
  assert.equal(byUrl.get('/h2')?.status, 200, JSON.stringify(recs));
  assert.equal(byUrl.get('/second')?.status, 404, JSON.stringify(recs));
});
