/**
 * HTTP/1.x parser on hand-built conversations: message framing, pairing,
 * switches, content decoding, limits, anomalies, the sticky buffers and the
 * EVE object — and every conversation split at every byte gives the same
 * result as whole.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as zlib from 'node:zlib';
import { createHttpParser, httpParser } from '../../src/applayer/http/index.js';
import type { HttpTx } from '../../src/applayer/http/tx.js';
import { sharedPath, skipWithoutShared } from '../support/shared.js';
import { bytewise, run, splitAt, summary, validate, type Script } from './http-support.js';

const s = (b: Buffer | null): string | null => (b === null ? null : b.toString('latin1'));

const GET =
  'GET /shop/../cart/%7Euser/./view?id=1%27 HTTP/1.1\r\n' +
  'Host: Shop.Example.com:8080\r\n' +
  'User-Agent: curl/8.5.0\r\n' +
  'Accept: */*\r\n' +
  'Cookie: session=abc\r\n' +
  'Referer: http://ref.example/\r\n' +
  'X-Multi: one\r\n' +
  'X-Folded: first\r\n' +
  '\tsecond\r\n' +
  'X-Multi: two\r\n' +
  '\r\n';
const RESP =
  'HTTP/1.1 301 Moved Permanently\r\n' +
  'Server: nginx/1.25\r\n' +
  'Location: https://shop.example.com/\r\n' +
  'Set-Cookie: a=b\r\n' +
  'Content-Type: text/html; charset=utf-8\r\n' +
  'Content-Length: 11\r\n' +
  '\r\n' +
  'hello world';

test('request and response: every sticky buffer holds what Suricata inspects', () => {
  const r = run(httpParser, [[0, GET], [1, RESP]]);
  assert.deepEqual(r.events, []);
  assert.equal(r.txs.length, 1);
  const t = r.txs[0]!;
  assert.equal(t.txId, 0);
  assert.equal(s(t.method), 'GET');
  assert.equal(s(t.uriRaw), '/shop/../cart/%7Euser/./view?id=1%27');
  assert.equal(s(t.uri), "/cart/~user/view?id=1'");
  assert.equal(s(t.protocol), 'HTTP/1.1');
  assert.equal(s(t.requestLine), 'GET /shop/../cart/%7Euser/./view?id=1%27 HTTP/1.1');
  assert.equal(s(t.host), 'shop.example.com');
  assert.equal(s(t.hostRaw), 'Shop.Example.com:8080');
  assert.equal(s(t.userAgent), 'curl/8.5.0');
  assert.equal(s(t.cookie), 'session=abc');
  assert.equal(s(t.referer), 'http://ref.example/');
  // http.header: merged duplicates, folded value, no Cookie, no final extra CRLF
  assert.equal(s(t.requestHeaderBuffer),
    'Host: Shop.Example.com:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\nReferer: http://ref.example/\r\n' +
    'X-Multi: one, two\r\nX-Folded: first\tsecond\r\n');
  // http.header.raw: the header lines as sent
  assert.equal(s(t.requestHeadersRaw), GET.slice(GET.indexOf('\r\n') + 2));
  assert.equal(s(t.requestHeaderNames), '\r\nHost\r\nUser-Agent\r\nAccept\r\nCookie\r\nReferer\r\nX-Multi\r\nX-Folded\r\n\r\n');
  assert.ok(s(t.requestStart)!.startsWith('GET /shop/../cart/%7Euser/./view?id=1%27 HTTP/1.1\r\nHost: Shop.Example.com:8080\r\n'));
  assert.ok(s(t.requestStart)!.endsWith('X-Folded: first\tsecond\r\n\r\n'));
  // normalised view: wire order, duplicates kept
  assert.deepEqual(t.requestHeaders.map((h) => [h.lname, s(h.value)]), [
    ['host', 'Shop.Example.com:8080'], ['user-agent', 'curl/8.5.0'], ['accept', '*/*'], ['cookie', 'session=abc'],
    ['referer', 'http://ref.example/'], ['x-multi', 'one'], ['x-folded', 'first\tsecond'], ['x-multi', 'two'],
  ]);
  // response side
  assert.equal(s(t.responseLine), 'HTTP/1.1 301 Moved Permanently');
  assert.equal(s(t.statCode), '301');
  assert.equal(s(t.statMsg), 'Moved Permanently');
  assert.equal(t.status, 301);
  assert.equal(s(t.responseProtocol), 'HTTP/1.1');
  assert.equal(s(t.server), 'nginx/1.25');
  assert.equal(s(t.location), 'https://shop.example.com/');
  assert.equal(s(t.setCookie), 'a=b');
  assert.equal(s(t.responseContentType), 'text/html; charset=utf-8');
  assert.equal(s(t.responseContentLength), '11');
  assert.equal(s(t.responseHeaderBuffer),
    'Server: nginx/1.25\r\nLocation: https://shop.example.com/\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 11\r\n');
  assert.equal(s(t.responseBodyBytes), 'hello world');
  assert.deepEqual(t.eve(), {
    hostname: 'shop.example.com', http_port: 8080, url: '/shop/../cart/%7Euser/./view?id=1%27',
    http_user_agent: 'curl/8.5.0', http_content_type: 'text/html', http_refer: 'http://ref.example/',
    http_method: 'GET', protocol: 'HTTP/1.1', status: 301, redirect: 'https://shop.example.com/', length: 11,
  });
});

test('pipelined keep-alive requests pair with responses first in, first out', () => {
  const reqs = 'GET /1 HTTP/1.1\r\nHost: h\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: h\r\n\r\n' +
    'POST /3 HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nabcdGET /4 HTTP/1.1\r\nHost: h\r\n\r\n';
  const resps = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nr1' +
    'HTTP/1.1 200 OK\r\nContent-Length: 9999\r\n\r\n' + // HEAD: no body despite the length
    'HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nr3' +
    // 304: no body (one that frames a body with Content-Length has it, as in
    // libhtp: see http-evasions.test.ts)
    'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n' +
    'HTTP/1.1 204 No Content\r\n\r\n'; // a response nobody asked for
  const r = run(httpParser, [[0, reqs], [1, resps]]);
  assert.deepEqual(r.txs.map((t) => [t.txId, s(t.uriRaw), t.status, s(t.responseBodyBytes)]), [
    [0, '/1', 200, 'r1'], [1, '/2', 200, ''], [2, '/3', 201, 'r3'], [3, '/4', 304, ''], [4, '', 204, ''],
  ]);
  assert.equal(s(r.txs[2]!.requestBodyBytes), 'abcd');
  assert.deepEqual(r.events, ['http.unable_to_match_response_to_request']);
  assert.equal(r.txs[4]!.hasRequest, false);
});

test('transactions are reported when both sides complete, in order', () => {
  const decl = httpParser;
  const seen: number[] = [];
  const st = decl.create({ tx: (t) => seen.push(t.txId), event: () => {}, abandon: () => {} });
  const feed = (dir: 0 | 1, str: string): void => { const b = Buffer.from(str, 'latin1'); decl.parse(st, dir, b, 0, b.length, 0); };
  feed(0, 'GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.deepEqual(seen, []);
  feed(1, 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab');
  assert.deepEqual(seen, [], 'response body incomplete');
  feed(1, 'c');
  assert.deepEqual(seen, [0]);
  decl.end!(st);
  assert.deepEqual(seen, [0, 1], 'end flushes the open transaction');
});

test('chunked bodies with extensions and trailers; chunked response', () => {
  const r = run(httpParser, [
    [0, 'POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '4;name=v\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Checksum: 42\r\n\r\n'],
    [1, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'],
  ]);
  const t = r.txs[0]!;
  assert.equal(s(t.requestBodyBytes), 'Wikipedia in\r\n\r\nchunks.');
  assert.equal(s(t.requestHeader('x-checksum')), '42', 'trailer joins the headers');
  assert.ok(s(t.requestHeaderBuffer)!.includes('X-Checksum: 42\r\n'));
  assert.equal(s(t.responseBodyBytes), 'abc');
  assert.equal(t.eve().length, '3\r\nabc\r\n0\r\n\r\n'.length, 'length counts body bytes on the wire');
  assert.ok(t.requestComplete && t.responseComplete);
  // the extension is ignored, and reported as libhtp does
  assert.deepEqual(r.events, ['http.request_chunk_extension']);
});

test('response without length runs to the end of the connection; HTTP/1.0', () => {
  const r = run(httpParser, [[0, 'GET / HTTP/1.0\r\n\r\n'], [1, 'HTTP/1.0 200 OK\r\nServer: old\r\n\r\nline1\r\nline2\r\n']]);
  assert.equal(r.txs.length, 1);
  assert.equal(s(r.txs[0]!.responseBodyBytes), 'line1\r\nline2\r\n');
  assert.equal(r.txs[0]!.responseComplete, true);
  assert.equal(r.txs[0]!.eve().protocol, 'HTTP/1.0');
  assert.deepEqual(r.events, [], 'no Host is fine for HTTP/1.0');
  const open = run(httpParser, [[0, 'GET / HTTP/1.0\r\n\r\n'], [1, 'HTTP/1.0 200 OK\r\n\r\npartial']], undefined, false);
  assert.equal(open.txs.length, 0, 'not complete before the end');
});

test('100 Continue is skipped; the final response pairs with the request', () => {
  const r = run(httpParser, [
    [0, 'PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n'],
    [1, 'HTTP/1.1 100 Continue\r\n\r\n'],
    [0, 'xyz'],
    [1, 'HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n'],
  ]);
  assert.deepEqual(r.txs.map((t) => [t.status, s(t.requestBodyBytes)]), [[201, 'xyz']]);
});

test('HTTP/0.9 request: no headers, response is a bare body', () => {
  const r = run(httpParser, [[0, 'GET /old\r\n'], [1, '<html>old</html>']]);
  assert.equal(r.txs.length, 1);
  const t = r.txs[0]!;
  assert.equal(t.http09, true);
  assert.equal(s(t.uriRaw), '/old');
  assert.equal(s(t.protocol), '');
  assert.equal(s(t.responseBodyBytes), '<html>old</html>');
  assert.ok(r.events.includes('http.request_line_missing_protocol'));
});

test('CONNECT 200: tunnel, client bytes after the request are handed off', () => {
  const req = 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n';
  const hello = '\x16\x03\x01\x00\x05hello';
  const r = run(httpParser, [[0, req + hello], [1, 'HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03srv'], [0, 'more tls']]);
  assert.equal(r.state.switched, 'connect');
  assert.deepEqual(r.state.switchOffset, [req.length, 'HTTP/1.1 200 Connection established\r\n\r\n'.length]);
  assert.equal(s(r.state.handoff[0]), hello);
  assert.equal(s(r.state.handoff[1]), '\x16\x03\x03srv');
  assert.equal(r.txs.length, 1);
  assert.equal(r.txs[0]!.switched, 'connect');
  assert.equal(s(r.txs[0]!.host), 'example.com');
  assert.equal(r.txs[0]!.port, 443);
  assert.deepEqual(r.events, []);
});

test('CONNECT refused: the held client bytes are parsed as HTTP again', () => {
  const r = run(httpParser, [
    [0, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n'],
    [1, 'HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'],
  ]);
  assert.equal(r.state.switched, 'none');
  assert.deepEqual(r.txs.map((t) => [s(t.method), t.status]), [['CONNECT', 407], ['GET', 200]]);
});

test('Upgrade: websocket → tunnel; h2c → hand-off marker for HTTP/2', () => {
  const ws = run(httpParser, [
    [0, 'GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: x\r\n\r\n\x81\x85frame'],
    [1, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02hi'],
  ]);
  assert.equal(ws.state.switched, 'websocket');
  assert.equal(ws.txs[0]!.switched, 'websocket');
  assert.equal(ws.txs[0]!.status, 101);
  assert.equal(s(ws.state.handoff[0]), '\x81\x85frame');

  const preface = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';
  const h2 = run(httpParser, [
    [0, 'GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n'],
    [0, preface],
    [1, 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00'],
  ]);
  assert.equal(h2.state.switched, 'h2c');
  assert.equal(h2.txs.length, 1, 'the HTTP/2 preface is not parsed as a request');
  assert.equal(s(h2.state.handoff[0]), preface);
  assert.equal(h2.state.handoff[1]!.length, 9);
});

test('gzip and deflate response bodies are decoded, bounded by the body limit', () => {
  const text = Buffer.from('<html>' + 'decoded content '.repeat(50) + '</html>');
  const gz = zlib.gzipSync(text);
  const df = zlib.deflateSync(text);
  const raw = zlib.deflateRawSync(text);
  const resp = (enc: string, body: Buffer): Buffer =>
    Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Encoding: ${enc}\r\nContent-Length: ${body.length}\r\n\r\n`), body]);
  const reqs = 'GET /1 HTTP/1.1\r\nHost: h\r\n\r\n'.repeat(4);
  const layered = zlib.gzipSync(zlib.gzipSync(text));
  const r = run(httpParser, [[0, reqs], [1, resp('gzip', gz)], [1, resp('deflate', df)], [1, resp('deflate', raw)], [1, resp('gzip, gzip', layered)]]);
  assert.deepEqual(r.events, []);
  for (const t of r.txs) assert.ok(t.responseBodyBytes.equals(text), `tx ${t.txId} decoded`);
  assert.equal(r.txs[0]!.eve().length, gz.length, 'EVE length is the body on the wire');

  // a 16 MB bomb in 16 KB: output stops at the limit
  const bomb = zlib.gzipSync(Buffer.alloc(16 << 20, 0x41));
  const t0 = process.hrtime.bigint();
  const b = run(createHttpParser({ responseBodyLimit: 4096 }), [[0, reqs.slice(0, 28)], [1, resp('gzip', bomb)]]);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.equal(b.txs[0]!.responseBodyBytes.length <= 4096, true);
  assert.ok(b.txs[0]!.responseBodyBytes.length > 0);
  assert.ok(b.events.includes('http.body_limit_reached'));
  assert.ok(ms < 5000, `bomb took ${ms} ms`);

  // corrupt after a valid start: the valid prefix is kept, an event is raised
  let x = 12345;
  const noisy = Buffer.from(Array.from({ length: 4000 }, () => { x = (x * 1103515245 + 12345) >>> 0; return 97 + ((x >>> 16) % 26); }));
  const bad = zlib.gzipSync(noisy);
  bad.fill(0xff, 1500, 1600);
  const c = run(httpParser, [[0, reqs.slice(0, 28)], [1, resp('gzip', bad)]]);
  assert.ok(c.events.includes('http.gzip_decompression_failed'));
  const got = c.txs[0]!.responseBodyBytes;
  // what decodes before the damage is the original text (after it, inflate may emit garbage until the CRC check fails)
  assert.ok(got.length > 1000, `kept ${got.length} bytes`);
  assert.ok(noisy.subarray(0, 1000).equals(got.subarray(0, 1000)));

  // not compressed at all despite the header: kept as sent
  const d = run(httpParser, [[0, reqs.slice(0, 28)], [1, resp('gzip', Buffer.from('plain text'))]]);
  assert.equal(s(d.txs[0]!.responseBodyBytes), 'plain text');
  assert.ok(d.events.includes('http.gzip_decompression_failed'));

  // unknown coding (br): body kept as sent, no event
  const e = run(httpParser, [[0, reqs.slice(0, 28)], [1, resp('br', Buffer.from([0x0b, 0x02, 0x80]))]]);
  assert.equal(e.txs[0]!.responseBodyBytes.length, 3);
  assert.deepEqual(e.events, []);
});

test('body limits are configurable and raise http.body_limit_reached', () => {
  const body = 'x'.repeat(1000);
  const p = createHttpParser({ requestBodyLimit: 100, responseBodyLimit: 10 });
  const r = run(p, [
    [0, `POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\n\r\n${body}`],
    [1, `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`],
  ]);
  const t = r.txs[0]!;
  assert.equal(t.requestBodyBytes.length, 100);
  assert.equal(t.requestBody.total, 1000);
  assert.equal(t.requestBody.truncated, true);
  assert.equal(t.responseBodyBytes.length, 10);
  assert.equal(t.eve().length, 1000);
  assert.deepEqual(r.events, ['http.body_limit_reached', 'http.body_limit_reached']);
  const none = run(createHttpParser({ requestBodyLimit: 0 }), [[0, 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc'], [1, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n']]);
  assert.equal(none.txs[0]!.requestBodyBytes.length, 0);
  assert.equal(none.txs[0]!.requestComplete, true);
});

test('anomalies become named events; the parser carries on', () => {
  const ev = (script: Script): string[] => run(httpParser, script).events;
  assert.deepEqual(ev([[0, 'GET / HTTP/1.1\r\n\r\n']]), ['http.missing_host_header']);
  assert.deepEqual(ev([[0, 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 12abc\r\n\r\n']]), ['http.invalid_content_length_field_in_request']);
  assert.deepEqual(ev([[0, 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc']]),
    ['http.duplicate_content_length_field_in_request']);
  assert.deepEqual(ev([[0, 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\nabc']]), []);
  // leading zeros are legal in lengths and chunk sizes (and a known evasion when parsers disagree)
  const zeros = run(httpParser, [[0, 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 00000000000000000003\r\n\r\nabc' +
    'POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0000000000000000000000002\r\nde\r\n000\r\n\r\n']]);
  assert.deepEqual(zeros.events, []);
  assert.deepEqual(zeros.txs.map((t) => s(t.requestBodyBytes)), ['abc', 'de']);
  assert.deepEqual(ev([[0, 'GET / HTTP/1.1\r\nHost: h\r\nNoColonHere\r\n\r\n']]), ['http.request_field_missing_colon']);
  assert.deepEqual(ev([[0, 'GET / HTTP/1.1\r\nHost: h\r\nBad Name: v\r\n\r\n']]), ['http.request_header_invalid']);
  assert.deepEqual(ev([[0, 'GET / HTTP/1.1\r\nHost : h\r\n\r\n']]), ['http.request_header_invalid']);
  assert.deepEqual(ev([[0, 'GET / HTTP/1.1\r\n folded: first\r\nHost: h\r\n\r\n']]), ['http.invalid_request_field_folding']);
  assert.deepEqual(ev([[0, 'GET  /  HTTP/1.1\r\nHost: h\r\n\r\n']]), ['http.method_delim_non_compliant', 'http.uri_delim_non_compliant']);
  assert.deepEqual(ev([[0, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n'], [1, 'HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n']]),
    ['http.response_invalid_status']);
  assert.deepEqual(ev([[0, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n'], [1, 'HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nabc']]),
    ['http.invalid_content_length_field_in_response']);
  assert.deepEqual(ev([[0, 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n']]),
    ['http.content_length_and_transfer_encoding']);
  assert.deepEqual(ev([[0, 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n']]), ['http.invalid_transfer_encoding_value_in_request']);
  assert.deepEqual(ev([[0, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n'], [1, 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n']]),
    ['http.response_chunked_old_proto']);
  // a bad chunk size: the request side stops, the transaction is still reported
  const bad = run(httpParser, [[0, 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nGET / HTTP/1.1\r\n\r\n'],
    [1, 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n']]);
  assert.deepEqual(bad.events, ['http.invalid_request_chunk_len']);
  assert.deepEqual(bad.txs.map((t) => t.status), [400]);
  // a bad response chunk size: the rest, that line included, is kept as body (libhtp)
  const badr = run(httpParser, [[0, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n'], [1, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nnothex\r\nrest']]);
  assert.deepEqual(badr.events, ['http.invalid_response_chunk_len']);
  assert.equal(s(badr.txs[0]!.responseBodyBytes), 'abcnothex\r\nrest');
});

test('limits: oversized head abandons the flow, header count is capped, pending queue is bounded', () => {
  const p = createHttpParser({ headLimit: 1024, maxHeaders: 3, maxPendingTx: 2 });
  const big = run(p, [[0, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n'], [0, 'GET / HTTP/1.1\r\nX: ' + 'a'.repeat(2000) + '\r\n\r\n'], [0, 'GET /after HTTP/1.1\r\n\r\n']]);
  assert.deepEqual(big.events, ['http.request_field_too_long']);
  assert.equal(big.abandoned.length, 1);
  assert.equal(big.txs.length, 1, 'the transaction before the oversized head is still reported');
  const many = run(p, [[0, 'GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n']]);
  assert.deepEqual(many.events, ['http.request_too_many_headers']);
  assert.equal(many.txs[0]!.requestHeaders.length, 3);
  const queue = run(p, [[0, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n'.repeat(5)]], undefined, false);
  assert.equal(queue.txs.length, 3, 'the oldest transactions are flushed beyond maxPendingTx');
  assert.equal(queue.events.filter((e) => e === 'http.too_many_pending_transactions').length, 3);
});

test('TCP gaps: inside a body the parser skips on; inside headers only that direction stops (Suricata)', () => {
  const decl = httpParser;
  const txs: { id: number; status: number; uri: string }[] = [];
  const events: string[] = [];
  const ab: string[] = [];
  const st = decl.create({ tx: (a) => { const t = a as HttpTx; txs.push({ id: t.txId, status: t.status, uri: t.uriRaw.toString('latin1') }); }, event: (e) => events.push(e), abandon: (w) => ab.push(w) });
  const feed = (dir: 0 | 1, str: string): void => { const b = Buffer.from(str, 'latin1'); decl.parse(st, dir, b, 0, b.length, 0); };
  feed(0, 'GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n');
  feed(1, 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc');
  decl.gap!(st, 1, 90);
  feed(1, 'defghij');
  assert.deepEqual(txs.map((t) => t.id), [0]);
  assert.equal(txs[0]!.status, 200);
  feed(1, 'HTTP/1.1 200 OK\r\nCont');
  decl.gap!(st, 1, 10);
  assert.deepEqual(events, ['http.gap_in_headers']);
  assert.equal(ab.length, 0, 'the request side goes on');
  assert.deepEqual(txs.map((t) => t.id), [0, 1], 'the waiting transaction is reported without a response');
  assert.equal(txs[1]!.status, -1);
  // later requests (pipelined or keep-alive) are still parsed and reported at once
  feed(0, 'GET /3 HTTP/1.1\r\nHost: h\r\n\r\n');
  feed(1, 'HTTP/1.1 404 Not Found\r\n\r\n');
  assert.deepEqual(txs.map((t) => [t.id, t.uri, t.status]), [[0, '/', 200], [1, '/2', -1], [2, '/3', -1]], 'the stopped response side is not read again');
  // a gap the request side cannot skip as well: nothing is left to parse
  feed(0, 'GET /4 HT');
  decl.gap!(st, 0, 5);
  assert.equal(ab.length, 1);
  feed(0, 'GET /5 HTTP/1.1\r\n\r\n');
  assert.equal(txs.length, 3);
  decl.end!(st);
  assert.equal(txs.length, 3);
});

test('TCP gap in the response stream while an Upgrade request waits: the held bytes are parsed as HTTP', () => {
  const r: string[] = [];
  const st = httpParser.create({ tx: (t) => { r.push((t as HttpTx).uriRaw.toString('latin1')); }, event: () => {}, abandon: () => {} });
  const feed = (dir: 0 | 1, str: string): void => { const b = Buffer.from(str, 'latin1'); httpParser.parse(st, dir, b, 0, b.length, 0); };
  feed(0, 'GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.deepEqual(r, []);
  feed(1, 'HTTP/1.1 1');
  httpParser.gap!(st, 1, 100);
  assert.deepEqual(r, ['/ws', '/next']);
});

const SCHEMA = 'eve-schema/suricata-7.0.4.schema.json';
test('EVE objects validate against the Suricata 7.0.4 http schema (normal and extended)', { skip: skipWithoutShared(SCHEMA) }, () => {
  const schema = (JSON.parse(readFileSync(sharedPath(SCHEMA)!, 'utf8')) as { properties: { http: Record<string, unknown> } }).properties.http;
  const script: Script = [[0, GET + 'GET /\xff\x01bin HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n'], [1, RESP + 'HTTP/1.1 200 OK\r\n\r\nbody']];
  for (const p of [httpParser, createHttpParser({ extendedEve: true })]) {
    const r = run(p, script);
    assert.equal(r.txs.length, 2);
    for (const t of r.txs) assert.deepEqual(validate(schema, t.eve()), [], JSON.stringify(t.eve()));
  }
  const ext = run(createHttpParser({ extendedEve: true }), script).txs[0]!.eve();
  assert.deepEqual((ext.request_headers as unknown[])[0], { name: 'Host', value: 'Shop.Example.com:8080' });
  assert.deepEqual((ext.response_headers as unknown[]).length, 5);
  assert.equal(run(httpParser, script).txs[1]!.eve().url, '/\\xff\\x01bin', 'non-UTF-8 bytes escaped like Suricata');
  const cr = run(httpParser, [[0, 'GET /f HTTP/1.1\r\nHost: h\r\nRange: bytes=0-3\r\n\r\n'],
    [1, 'HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-3/1234\r\nContent-Length: 4\r\n\r\nabcd']]).txs[0]!.eve();
  assert.deepEqual(cr.content_range, { raw: 'bytes 0-3/1234', start: 0, end: 3, size: 1234 });
  assert.deepEqual(validate(schema, cr), []);
  // the validator itself rejects what the schema forbids
  assert.notDeepEqual(validate(schema, { status: '200' }), []);
  assert.notDeepEqual(validate(schema, { no_such_field: 1 }), []);
});

function firstDiff(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `at ${i}: got …${a.slice(Math.max(0, i - 60), i + 60)}… want …${b.slice(Math.max(0, i - 60), i + 60)}…`;
}

/** One conversation using most features, for the split tests. */
function featureScript(): Script {
  const gz = zlib.gzipSync(Buffer.from('compressed body '.repeat(20)));
  return [
    [0, GET],
    [0, 'POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n\r\n'],
    [0, 'HEAD /h HTTP/1.1\r\nHost: h\r\n\r\nPUT /p HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz'],
    [1, RESP],
    [1, Buffer.concat([Buffer.from(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\r\n\r\n`), gz])],
    [1, 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n0\r\n\r\n'],
    [0, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01tls'],
    [1, 'HTTP/1.1 200 OK\r\n\r\n\x16\x03\x03srv'],
  ];
}

test('every message split at every byte parses identically to whole messages', () => {
  const script = featureScript();
  const want = JSON.stringify(summary(run(httpParser, script)));
  const parsed = JSON.parse(want) as { txs: unknown[]; switched: string };
  assert.equal(parsed.txs.length, 5);
  assert.equal(parsed.switched, 'connect');
  let runs = 0;
  script.forEach(([, m], idx) => {
    const len = typeof m === 'string' ? m.length : m.length;
    for (let k = 1; k < len; k++) {
      const got = JSON.stringify(summary(run(httpParser, script, (l, i) => (i === idx ? splitAt(k)(l) : [l]))));
      if (got !== want) assert.fail(`message ${idx} split at ${k} differs: ${firstDiff(got, want)}`);
      runs++;
    }
  });
  assert.equal(JSON.stringify(summary(run(httpParser, script, bytewise))), want, 'one byte at a time');
  assert.ok(runs > 500);
});
