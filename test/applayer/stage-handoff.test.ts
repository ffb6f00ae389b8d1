// The application-layer stage's protocol hand-offs and both-direction
// detection, found by the tshark transaction comparison (issue 4) and fixed
// the way Suricata behaves:
//  - a 2xx to the first HTTP CONNECT re-runs detection on the tunnel (TLS inside),
//    skipping empty lines before a message as libhtp does;
//  - PostgreSQL's accepted SSLRequest ('S') hands the connection to TLS;
//  - a midstream flow whose first bytes are the server's is read reversed;
//  - a ClientHello with one stray byte where the extensions would be still has a JA3;
//  - DNS detection accepts a question name ending in a forward pointer and an inverse query.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppLayer } from '../../src/applayer/stage.js';
import { APP_PARSERS } from '../../src/applayer/registry.js';
import { Probe } from '../../src/applayer/parser.js';
import { probeDnsUdp } from '../../src/applayer/dns/probe.js';
import { md5Hex } from '../../src/applayer/tls/fingerprint.js';
import { Flow } from '../../src/flow/flow.js';
import { clientHelloBody, hs, record, serverHelloBody, sniExt } from './tls-build.js';

const SYN = 0x02;

function tcpFlow(clientPort: number, serverPort: number, syn = true): Flow {
  const f = new Flow(4);
  f.proto = 6;
  f.client4 = 0x0af40105;
  f.server4 = 0x0af40207;
  f.clientPort = clientPort;
  f.serverPort = serverPort;
  f.flowId = 7;
  if (syn) f.tcpFlagsToServer = SYN;
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

const clientHello = (sni: string): Buffer => record(0x16, hs(1, clientHelloBody({ ciphers: [0x1301, 0xc02f], exts: [sniExt(sni)] })), 0x0301);
const serverHello = (): Buffer => record(0x16, hs(2, serverHelloBody({ cipher: 0xc02f, exts: [] })));
const ofType = (out: Record<string, unknown>[], t: string): Record<string, unknown>[] => out.filter((r) => r.event_type === t);

test('CONNECT answered 2xx: the tunnel is detected afresh and its TLS handshake logged on the same flow', () => {
  const { app, out } = stage();
  const f = tcpFlow(40100, 8080);
  feed(app, f, 0, 'CONNECT tls.example:443 HTTP/1.1\r\nHost: tls.example:443\r\n\r\n');
  // the response and the first TLS bytes of the server in one segment would be unusual; the client speaks first
  feed(app, f, 1, 'HTTP/1.1 200 Connection established\r\n\r\n');
  feed(app, f, 0, clientHello('tls.example'));
  feed(app, f, 1, serverHello());
  app.flowEnd(f);
  assert.equal(f.appProto, 'tls');
  const http = ofType(out, 'http');
  assert.equal(http.length, 1);
  assert.equal((http[0].http as Record<string, unknown>).http_method, 'CONNECT');
  assert.equal(http[0].app_proto, 'http');
  const tls = ofType(out, 'tls');
  assert.equal(tls.length, 1, JSON.stringify(out));
  assert.equal((tls[0].tls as Record<string, unknown>).sni, 'tls.example');
  assert.equal(tls[0].flow_id, http[0].flow_id);
  assert.equal(tls[0].src_port, 40100);
});

test('CONNECT: client bytes sent before the 2xx are handed to detection too; a refused CONNECT stays HTTP', () => {
  const { app, out } = stage();
  const f = tcpFlow(40101, 3128);
  feed(app, f, 0, Buffer.concat([Buffer.from('CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n', 'latin1'), clientHello('a.example')]));
  feed(app, f, 1, Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\n\r\n', 'latin1'), serverHello()]));
  app.flowEnd(f);
  assert.equal(f.appProto, 'tls');
  assert.equal(ofType(out, 'tls').length, 1, JSON.stringify(out));
  assert.equal((ofType(out, 'tls')[0].tls as Record<string, unknown>).sni, 'a.example');

  const r = stage();
  const g = tcpFlow(40102, 3128);
  feed(r.app, g, 0, 'CONNECT b.example:443 HTTP/1.1\r\nHost: b.example:443\r\n\r\n');
  feed(r.app, g, 1, 'HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n');
  feed(r.app, g, 0, 'GET / HTTP/1.1\r\nHost: b.example\r\n\r\n');
  r.app.flowEnd(g);
  assert.equal(g.appProto, 'http');
  assert.equal(ofType(r.out, 'tls').length, 0);
  assert.equal(ofType(r.out, 'http').length, 2);
});

test('CONNECT: only the connection\'s first transaction opens a tunnel for detection (Suricata: transaction_cnt == 1); unknown tunnel bytes: app_proto failed, app_proto_orig http (Suricata http-connect-fail)', () => {
  const { app, out } = stage();
  const f = tcpFlow(40103, 8080);
  feed(app, f, 0, 'GET / HTTP/1.1\r\nHost: c\r\n\r\n');
  feed(app, f, 1, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  feed(app, f, 0, 'CONNECT c:443 HTTP/1.1\r\nHost: c:443\r\n\r\n');
  feed(app, f, 1, 'HTTP/1.1 200 OK\r\n\r\n');
  feed(app, f, 0, clientHello('c'));
  app.flowEnd(f);
  assert.equal(f.appProto, 'http');
  assert.equal(ofType(out, 'tls').length, 0);

  const r = stage();
  const g = tcpFlow(40104, 8080);
  feed(r.app, g, 0, 'CONNECT d:22 HTTP/1.1\r\nHost: d:22\r\n\r\n');
  feed(r.app, g, 1, 'HTTP/1.1 200 OK\r\n\r\n');
  feed(r.app, g, 0, Buffer.from('8f3a0011deadbeef00000000000000001122', 'hex'));
  feed(r.app, g, 1, Buffer.from('00ff00ff00ff00ff1122334455667788', 'hex'));
  r.app.flowEnd(g);
  assert.equal(g.appProto, 'failed', 'nothing recognised after the change');
  assert.equal(g.appProtoOrig, 'http', 'what the flow was before the change');
});

test('CONNECT with a stray line end after the request and the 2xx: the tunnelled HTTP is still detected (suricata-verify http-connect-simple)', () => {
  const { app, out } = stage();
  const f = tcpFlow(40105, 8002);
  feed(app, f, 0, 'CONNECT abc:443 HTTP/1.1\r\nUser-Agent: V/1.0\r\n\r\n\n');
  feed(app, f, 1, 'HTTP/1.1 200 OK\r\nServer: S/1.0\r\n\r\n\n');
  feed(app, f, 0, 'GET / HTTP/1.1\r\nUser-Agent: V/1.0\r\n\r\n');
  feed(app, f, 1, 'HTTP/1.1 200 OK\r\nServer: S/1.0\r\n\r\n');
  app.flowEnd(f);
  const http = ofType(out, 'http').map((r) => r.http as Record<string, unknown>);
  assert.deepEqual(http.map((h) => [h.http_method, h.status]), [['CONNECT', 200], ['GET', 200]]);
  // the tunnel's parser starts afresh: its first transaction is tx 0 again
  assert.deepEqual(ofType(out, 'http').map((r) => r.tx_id), [0, 0]);
  // a run of line ends alone is not HTTP
  assert.equal(APP_PARSERS.find((p) => p.name === 'http')!.probe(0, Buffer.from('\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n'), 0, 26), Probe.NO);
  assert.equal(APP_PARSERS.find((p) => p.name === 'http')!.probe(0, Buffer.from('\r\n'), 0, 2), Probe.NEED_MORE);
});

test('PostgreSQL SSLRequest answered S continues in TLS; answered N it stays pgsql', () => {
  const sslRequest = Buffer.from('0000000804d2162f', 'hex');
  const { app, out } = stage();
  const f = tcpFlow(58574, 60102);
  feed(app, f, 0, sslRequest);
  feed(app, f, 1, 'S');
  feed(app, f, 0, clientHello('db.example'));
  feed(app, f, 1, serverHello());
  app.flowEnd(f);
  assert.equal(f.appProto, 'tls');
  const tls = ofType(out, 'tls');
  assert.equal(tls.length, 1);
  assert.equal((tls[0].tls as Record<string, unknown>).sni, 'db.example');

  const r = stage();
  const g = tcpFlow(58575, 5432);
  feed(r.app, g, 0, sslRequest);
  feed(r.app, g, 1, 'N');
  feed(r.app, g, 0, clientHello('no.example'));
  r.app.flowEnd(g);
  assert.equal(g.appProto, 'pgsql');
  assert.equal(ofType(r.out, 'tls').length, 0);
});

test('midstream flow whose first bytes are an HTTP response: read reversed, records name the real client', () => {
  const { app, out } = stage();
  // The flow table saw the server's segment first: its "client" is the server (port 80), no SYN.
  const f = tcpFlow(80, 1044, false);
  feed(app, f, 0, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  feed(app, f, 1, 'GET /icons/logo.png HTTP/1.1\r\nHost: h.example\r\n\r\n');
  feed(app, f, 0, 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
  app.flowEnd(f);
  assert.equal(f.appProto, 'http');
  const http = ofType(out, 'http').map((r) => ({ src: r.src_port, dst: r.dest_port, h: r.http as Record<string, unknown> }));
  assert.equal(http.length, 2, JSON.stringify(out));
  assert.deepEqual(
    http.map((x) => [x.src, x.dst, x.h.http_method ?? null, x.h.url ?? null, x.h.status ?? null]),
    [
      [1044, 80, null, null, 200],
      [1044, 80, 'GET', '/icons/logo.png', 404],
    ],
  );
});

test('a flow whose client sent SYN is not reversed: server-first bytes stay failed', () => {
  const { app, out } = stage();
  const f = tcpFlow(1045, 80, true);
  feed(app, f, 0, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  feed(app, f, 1, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n');
  app.flowEnd(f);
  assert.equal(f.appProto, 'failed');
  assert.equal(ofType(out, 'http').length, 0);
});

test('ClientHello with one stray byte after the compression methods: no extensions, JA3 as Suricata computes it', () => {
  const { app, out } = stage();
  const f = tcpFlow(3967, 443);
  const body = Buffer.concat([clientHelloBody({ version: 0x0301, ciphers: [4, 5, 10], compression: [], exts: null }), Buffer.from([0])]);
  feed(app, f, 0, record(0x16, hs(1, body), 0x0301));
  app.flowEnd(f);
  const tls = ofType(out, 'tls');
  assert.equal(tls.length, 1, JSON.stringify(out));
  const ja3 = (tls[0].tls as Record<string, unknown>).ja3 as Record<string, string>;
  assert.equal(ja3.string, '769,4-5-10,,,');
  assert.equal(ja3.hash, md5Hex('769,4-5-10,,,'));
  assert.equal(ofType(out, 'anomaly').length, 0);
});

test('DNS probe: a question name ending in a forward pointer (masscan version.bind) and an inverse query are DNS', () => {
  // header, 7 "version" 4 "bind", pointer to offset 27 (the 0x00 that begins the type field), TXT, CHAOS
  const fwd = Buffer.from('0ab1012000010000000000000776657273696f6e0462696e64c01b00100003', 'hex');
  assert.equal(probeDnsUdp(fwd, 0, fwd.length), Probe.YES);
  // a pointer back into the header is not a name
  const intoHeader = Buffer.from(fwd);
  intoHeader[26] = 0x04;
  assert.equal(probeDnsUdp(intoHeader, 0, intoHeader.length), Probe.NO);
  // a pointer past the message's end
  const past = Buffer.from(fwd);
  past[26] = 0x40;
  assert.equal(probeDnsUdp(past, 0, past.length), Probe.NO);
  // IQUERY (opcode 1): no question, one A answer record
  const iq = Buffer.from('77fc09000000000100000000033231360235380332303201340000010001000000000000', 'hex');
  assert.equal(probeDnsUdp(iq, 0, iq.length), Probe.YES);
  // the same as a standard query (opcode 0) without a question is not
  const q0 = Buffer.from(iq);
  q0[2] = 0x01;
  assert.equal(probeDnsUdp(q0, 0, q0.length), Probe.NO);
});
