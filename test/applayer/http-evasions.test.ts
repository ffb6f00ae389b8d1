/**
 * HTTP/1 evasions read the way Suricata's libhtp reads them (what browsers
 * accept, so what a detector must see): odd line ends in response heads,
 * header folding, lines before the status line, 1xx/304 responses with a
 * body. Each case is a small hand-made conversation checked for the decoded
 * body and headers, and — as every parser test here — for giving the same
 * result whole, split at every byte, and one byte at a time. The last test
 * runs the suricata-verify http-evader captures of these cases (read from
 * ../shared/data, skipped without it) through the parser.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as zlib from 'node:zlib';
import { httpParser } from '../../src/applayer/http/index.js';
import type { Direction } from '../../src/applayer/parser.js';
import { sharedPath, skipWithoutProgram, skipWithoutShared } from '../support/shared.js';
import { bytewise, run, splitAt, summary, type Run, type Script } from './http-support.js';

const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
const GET = 'GET /f HTTP/1.1\r\nHost: h\r\n\r\n';
const CHUNKED = EICAR.match(/.{1,16}/g)!.map((c) => `${c.length.toString(16)}\r\n${c}\r\n`).join('') + '0\r\n\r\n';

const s = (b: Buffer | null): string | null => (b === null ? null : b.toString('latin1'));

/** Run a GET and the response `resp`; the same result must come out of every chunking. */
function check(resp: string | Buffer, req: string = GET): Run {
  const script: Script = [[0, req], [1, resp]];
  const whole = run(httpParser, script);
  const want = JSON.stringify(summary(whole));
  const len = typeof resp === 'string' ? resp.length : resp.length;
  for (let k = 1; k < len; k++) {
    const got = JSON.stringify(summary(run(httpParser, script, (l, i) => (i === 1 ? splitAt(k)(l) : [l]))));
    assert.equal(got, want, `response split at ${k}`);
  }
  assert.equal(JSON.stringify(summary(run(httpParser, script, bytewise))), want, 'one byte at a time');
  return whole;
}

function body(r: Run, i = 0): string {
  return r.txs[i]!.responseBodyBytes.toString('latin1');
}

test('a lone CR ends a response header line (and the status line)', () => {
  // http-evader 094/182/184: the header after a CR-only line end is a header
  const r = check('HTTP/1.1 200 ok\rContent-Disposition: x\rTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' + CHUNKED);
  assert.equal(body(r), EICAR);
  assert.equal(r.txs[0]!.status, 200);
  assert.equal(s(r.txs[0]!.responseLine), 'HTTP/1.1 200 ok');
  assert.deepEqual(r.txs[0]!.responseHeaders.map((h) => h.lname), ['content-disposition', 'transfer-encoding', 'connection']);
  // the status line may end at a CR too (http-evader 378-398), even without a status code
  const r2 = check('HTTP/1.1\rTransfer-Encoding:chunked\r\nConnection: close\r\n\r\n' + CHUNKED);
  assert.equal(body(r2), EICAR);
  assert.equal(r2.txs[0]!.status, -1);
});

test('CR CR and CR SP CR before a header do not hide it', () => {
  // http-evader 286/287: "\r\r" and "\r \r" are junk lines of their own
  for (const junk of ['\r\r', '\r \r']) {
    const r = check(`HTTP/1.1 200 ok\r\nConnection: close\r\n${junk}Transfer-Encoding: chunked\r\n\r\n` + CHUNKED);
    assert.equal(body(r), EICAR, JSON.stringify(junk));
  }
});

test('LF CR ends a line, and after it CRLF ends the head', () => {
  // http-evader 405: every header line ends with LF CR
  const r = check('HTTP/1.1 200 ok\n\rContent-Type: a/b\n\rTransfer-Encoding: chunked\n\rX: y\r\n\r\n' + CHUNKED);
  assert.equal(body(r), EICAR);
  assert.equal(s(r.txs[0]!.responseHeader('transfer-encoding')), 'chunked');
  // http-evader 410-412: "LF CR CR LF" is the end of the head
  const r2 = check(`HTTP/1.1 200 ok\r\nContent-Length: ${EICAR.length}\n\r\r\n${EICAR}`);
  assert.equal(body(r2), EICAR);
  const gz = zlib.gzipSync(Buffer.from(EICAR, 'latin1'));
  const r3 = check(Buffer.concat([
    Buffer.from(`HTTP/1.1 200 ok\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\n\r\r\n`, 'latin1'), gz]));
  assert.equal(body(r3), EICAR);
});

test('SP or HT before the LF of an empty line ends the head when no LF follows', () => {
  // http-evader 416-431
  for (const ws of [' ', '\t']) {
    const r = check(`HTTP/1.1 200 ok\r\nContent-Length: ${EICAR.length}\n${ws}\n${EICAR}`);
    assert.equal(body(r), EICAR, JSON.stringify(ws));
    const r2 = check(`HTTP/1.1 200 ok\r\nTransfer-Encoding: chunked\n${ws}\n` + CHUNKED);
    assert.equal(body(r2), EICAR, JSON.stringify(ws));
  }
});

test('folding: on HTTP/1.1 a continuation line with a colon is a header of its own', () => {
  // http-evader 268-275: " Transfer-Encoding: chunked" after a complete field
  for (const ws of [' ', '\t']) {
    const r = check(`HTTP/1.1 200 ok\r\nConnection: close\r\n${ws}Transfer-Encoding: chunked\r\nX: y\r\n\r\n` + CHUNKED);
    assert.equal(body(r), EICAR, JSON.stringify(ws));
    assert.equal(s(r.txs[0]!.responseHeader('connection')), 'close');
  }
  // a continuation without a colon is appended to the value, as sent
  const r = check(`HTTP/1.1 200 ok\r\nX-A: one\r\n two\r\nContent-Length: 2\r\n\r\nok`);
  assert.equal(s(r.txs[0]!.responseHeader('x-a')), 'one two');
  assert.ok(r.events.includes('http.invalid_response_field_folding') === false);
  // on HTTP/1.0 the colon line is folded into the value
  const r0 = check(`HTTP/1.0 200 ok\r\nX-A: one\r\n Y: two\r\nContent-Length: 2\r\n\r\nok`);
  assert.equal(s(r0.txs[0]!.responseHeader('x-a')), 'one Y: two');
  assert.equal(r0.txs[0]!.responseHeader('y'), null);
});

test('a NUL starts a continuation line ("Transfer-Encoding:\\n\\0chunked")', () => {
  // http-evader 307/327/347
  const r = check('HTTP/1.1 200 ok\r\nTransfer-Encoding:\n\0chunked\r\nX: y\r\n\r\n' + CHUNKED);
  assert.equal(body(r), EICAR);
  const df = zlib.deflateRawSync(Buffer.from(EICAR, 'latin1'));
  const r2 = check(Buffer.concat([
    Buffer.from(`HTTP/1.1 200 ok\r\nContent-Encoding:\n\0deflate\r\nContent-Length: ${df.length}\r\n\r\n`, 'latin1'), df]));
  assert.equal(body(r2), EICAR);
});

test('lines before the status line are body; a response without one is all body', () => {
  // http-evader 484-488: junk lines, then the real response
  for (const junk of [' \t\r\r\n', 'foobar\r\n', 'SIP/2.0 200 ok\r\n', ' foobar\r\n']) {
    const r = check(`${junk}HTTP/1.1 200 ok\r\nTransfer-Encoding: chunked\r\n\r\n` + CHUNKED);
    assert.equal(r.txs.length, 1, JSON.stringify(junk));
    assert.equal(r.txs[0]!.status, 200);
    assert.ok(body(r).endsWith(EICAR), JSON.stringify(junk));
  }
  // http-evader 266: an HTTP/0.9-style answer to an HTTP/1.1 request
  const r = check(EICAR);
  assert.equal(r.txs.length, 1);
  assert.equal(body(r), EICAR);
  assert.equal(r.txs[0]!.responseComplete, true);
});

test('1xx and 304 responses that frame a body have it; without framing they have none', () => {
  // http-evader 447-453
  for (const code of [100, 101, 102, 304]) {
    const r = check(`HTTP/1.1 ${code} ok\r\nContent-Length: ${EICAR.length}\r\n\r\n${EICAR}`);
    assert.equal(r.txs.length, 1, String(code));
    assert.equal(r.txs[0]!.status, code);
    assert.equal(body(r), EICAR, String(code));
    assert.equal(r.state.switched, 'none');
  }
  // an interim 100 without a body: the final response follows for the same request
  const r = check('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  assert.equal(r.txs.length, 1);
  assert.equal(r.txs[0]!.status, 200);
  assert.equal(body(r), 'ok');
});

// ---------------------------------------------------------------- captures

const SV = 'suricata-verify/tests/http-evader';
// one capture per behaviour above (tshark start-up dominates; the conformance
// runner covers all of them end to end)
const CASES = ['094', '268', '307', '405', '416', '447', '484'];
const skipSv = skipWithoutShared(SV) || skipWithoutProgram('tshark');

/** Client and server bytes of the capture's first TCP stream (tshark's raw follow output). */
function streams(pcap: string): [Buffer, Buffer] {
  const text = execFileSync('tshark', ['-r', pcap, '-q', '-z', 'follow,tcp,raw,0'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const c: Buffer[] = [], sv: Buffer[] = [];
  let inBody = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('Node 1:')) { inBody = true; continue; }
    if (!inBody || line.startsWith('=') || line.trim() === '') continue;
    (line.startsWith('\t') ? sv : c).push(Buffer.from(line.trim(), 'hex'));
  }
  return [Buffer.concat(c), Buffer.concat(sv)];
}

test('suricata-verify http-evader captures: the EICAR file comes out of the body', { skip: skipSv }, () => {
  const dir = sharedPath(SV)!;
  for (const n of CASES) {
    const [c, sv] = streams(`${dir}/http-evader-${n}/input.pcap`);
    assert.ok(c.length > 0 && sv.length > 0, `http-evader-${n}: streams read`);
    const script: Script = [[0 as Direction, c], [1 as Direction, sv]];
    const r = run(httpParser, script);
    const bodies = r.txs.map((t) => t.responseBodyBytes.toString('latin1')).join('');
    assert.ok(bodies.includes('EICAR-STANDARD-ANTIVIRUS-TEST-FILE'), `http-evader-${n}: ${JSON.stringify(bodies.slice(0, 80))}`);
    // and in segments of 7 bytes
    const r7 = run(httpParser, script, (l) => Array.from({ length: Math.ceil(l / 7) }, (_, i) => Math.min(7, l - 7 * i)));
    assert.equal(JSON.stringify(summary(r7)), JSON.stringify(summary(r)), `http-evader-${n}: 7-byte segments`);
  }
});

test('request side: missing protocol, a body after a request, chunk extensions, unknown auth schemes', () => {
  // a request line without protocol followed by header lines is a request with headers (http-missing-protocol)
  const r = check('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 'GET /gen.php?x=1\r\nHost: h\r\nUser-Agent: UA\r\n\r\n');
  assert.equal(r.txs.length, 1);
  assert.equal(s(r.txs[0]!.userAgent), 'UA');
  assert.ok(r.events.includes('http.request_line_missing_protocol'));
  // a junk "request line" followed by more junk is not HTTP/0.9: the response is parsed as a response (http-not09-file)
  const j = run(httpParser, [[0, '\x85\x00%lG\x81\n\x0c\xd9bl\xb8\x05'], [1, 'HTTP/1.1 400 Bad\r\nContent-Length: 2\r\n\r\nok']]);
  const answer = j.txs.find((t) => t.hasResponse)!;
  assert.equal(answer.status, 400);
  assert.equal(s(answer.responseBodyBytes), 'ok');
  // a real HTTP/0.9 request: the response is a bare body
  const r09 = run(httpParser, [[0, 'GET /\r\n'], [1, 'HTTP/1.1 400 Bad\r\n\r\n']]);
  assert.equal(s(r09.txs[0]!.responseBodyBytes), 'HTTP/1.1 400 Bad\r\n\r\n');
  // a POST without Content-Length followed by its body: the line is body of that request (http-request-invalid)
  const rb = run(httpParser, [[0, 'POST /a HTTP/1.1\r\nHost: h\r\n\r\nlogin=foo&password=bar\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n']]);
  assert.deepEqual(rb.txs.map((t) => [s(t.uriRaw), s(t.requestBodyBytes)]), [['/a', 'login=foo&password=bar\r\n'], ['/b', '']]);
  assert.ok(rb.events.includes('http.request_body_unexpected'));
  // chunk extension and an authorization scheme libhtp does not know
  const rc = run(httpParser, [[0, 'POST /c HTTP/1.1\r\nHost: h\r\nAuthorization: Turbo x\r\nTransfer-Encoding: chunked\r\n\r\n' +
    '3 ; a=b\r\nabc\r\n0\r\n\r\n']]);
  assert.equal(s(rc.txs[0]!.requestBodyBytes), 'abc');
  assert.deepEqual([...rc.events].sort(), ['http.request_auth_unrecognized', 'http.request_chunk_extension']);
  const ra = run(httpParser, [[0, 'GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Basic eDp5\r\n\r\n']]);
  assert.deepEqual(ra.events, []);
  // a request whose head the connection cuts off still has its request line (http-request-line)
  const rl = run(httpParser, [[0, 'GET /index.html HTTP/1.0\r\nHost: h\r\nContent-Type: text/html\r\n']]);
  assert.equal(rl.txs.length, 1);
  assert.equal(s(rl.txs[0]!.requestLine), 'GET /index.html HTTP/1.0');
  assert.equal(s(rl.txs[0]!.requestHeader('content-type')), 'text/html');
});
