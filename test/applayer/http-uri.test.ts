/**
 * URI normalisation (http.uri), host extraction, the probe and the
 * original-client list: table tests on hand-written inputs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeUri, splitUri } from '../../src/applayer/http/uri.js';
import { probeHttp } from '../../src/applayer/http/probe.js';
import { originalClients } from '../../src/applayer/http/client-ip.js';
import { Probe } from '../../src/applayer/parser.js';
import { httpParser } from '../../src/applayer/http/index.js';
import { run } from './http-support.js';

function norm(raw: string, connect = false): string {
  const b = Buffer.from(raw, 'latin1');
  return normalizeUri(b, splitUri(b, connect)).toString('latin1');
}

test('normalised URI: percent-decoding, dot segments, slashes, query decoded once', () => {
  const cases: [string, string][] = [
    ['/', '/'],
    ['/index.html', '/index.html'],
    ['/a/./b', '/a/b'],
    ['/a/b/../c', '/a/c'],
    ['/a/b/..', '/a/'],
    ['/a/.', '/a/'],
    ['/../../etc/passwd', '/etc/passwd'],
    ['/a//b///c', '/a/b/c'],
    ['/%41%42c', '/ABc'],
    ['/%2e%2e/%2e%2e/etc/passwd', '/etc/passwd'],
    ['/a%2fb', '/a/b'],
    ['/a\\b\\..\\c', '/a/c'],
    ['/%zz%4', '/%zz%4'], // invalid escapes stay
    ['/%u0041b', '/Ab'],
    ['/%uFF21', '/A'], // full-width A, best fit
    ['/%u4E2D', '/?'],
    ['/p?q=%41&r=/../x+y', '/p?q=A&r=/../x+y'], // query: percent-decoded once, not dot-normalised, '+' kept
    ['/p?q=%2541', '/p?q=%41'], // decoded once only
    ['/p#fr%41g', '/p#frAg'], // fragment is decoded
    ['/a?b#c', '/a?b#c'],
    ['http://Example.com:81/x/../y?z', '/y?z'], // absolute-form: authority is not part of http.uri
    ['*', '*'],
  ];
  for (const [raw, want] of cases) assert.equal(norm(raw), want, raw);
  assert.equal(norm('example.com:443', true), '', 'CONNECT authority-form has no path');
});

test('host: absolute URI wins over Host; lowercase, port and trailing dot stripped; raw host kept', () => {
  const r = run(httpParser, [
    [0, 'GET http://WWW.Example.COM.:8080/x HTTP/1.1\r\nHost: other.example\r\n\r\n'],
    [0, 'GET /y HTTP/1.1\r\nHost: API.Example.com:8443\r\n\r\n'],
    [0, 'GET /z HTTP/1.1\r\nHost: [2001:DB8::1]:80\r\n\r\n'],
    [0, 'GET /w HTTP/1.1\r\nHost: ABC.com\r\nAccept: */*\r\nHost: efg.net\r\n\r\n'],
  ]);
  const [a, b, c, d] = r.txs;
  assert.equal(a!.host!.toString(), 'www.example.com');
  assert.equal(a!.hostRaw!.toString(), 'WWW.Example.COM.');
  assert.equal(a!.port, 8080);
  assert.ok(r.events.includes('http.host_header_ambiguous'));
  assert.equal(b!.host!.toString(), 'api.example.com');
  assert.equal(b!.hostRaw!.toString(), 'API.Example.com:8443');
  assert.equal(b!.port, 8443);
  assert.equal(c!.host!.toString(), '[2001:db8::1]');
  assert.equal(c!.port, 80);
  // several Host headers: joined, like Suricata's example in the http.host docs
  assert.equal(d!.host!.toString(), 'abc.com, efg.net');
  assert.equal(d!.hostRaw!.toString(), 'ABC.com, efg.net');
});

test('probe: methods followed by a space, HTTP/1. responses, nothing else', () => {
  const p = (dir: 0 | 1, s: string | Buffer): Probe => {
    const b = typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
    return probeHttp(dir, b, 0, b.length);
  };
  for (const m of ['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'CONNECT', 'PATCH', 'TRACE', 'PROPFIND', 'MKCOL', 'LOCK']) {
    assert.equal(p(0, `${m} / HTTP/1.1\r\n`), Probe.YES, m);
  }
  assert.equal(p(0, 'GE'), Probe.NEED_MORE);
  assert.equal(p(0, 'GET'), Probe.NEED_MORE);
  assert.equal(p(0, 'GETX / HTTP/1.1'), Probe.NO);
  assert.equal(p(0, 'get / HTTP/1.1'), Probe.NO);
  assert.equal(p(0, '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'), Probe.NO, 'TLS on port 80');
  assert.equal(p(0, 'SSH-2.0-OpenSSH_9.6\r\n'), Probe.NO);
  assert.equal(p(0, 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Probe.NO, 'HTTP/2 preface is not HTTP/1');
  assert.equal(p(0, Buffer.from([0, 0, 0, 0])), Probe.NO);
  assert.equal(p(1, 'HTTP/1.1 200 OK\r\n'), Probe.YES);
  assert.equal(p(1, 'HTTP/1.0 404 Not Found\r\n'), Probe.YES);
  assert.equal(p(1, 'HTTP/'), Probe.NEED_MORE);
  assert.equal(p(1, 'HTTP/2 200'), Probe.NO);
  assert.equal(p(1, '220 smtp.example ESMTP\r\n'), Probe.NO);
  // bounds: off/len inside a larger buffer
  const big = Buffer.from('xxxxGET /', 'latin1');
  assert.equal(probeHttp(0, big, 4, 5), Probe.YES);
  assert.equal(probeHttp(0, big, 0, 5), Probe.NO);
});

test('original client candidates: Forwarded, X-Forwarded-For, X-Real-IP', () => {
  assert.deepEqual(originalClients(null, '203.0.113.7, 10.0.0.2', null), ['203.0.113.7', '10.0.0.2']);
  assert.deepEqual(
    originalClients('for=192.0.2.60;proto=http;by=203.0.113.43, for="[2001:db8:cafe::17]:4711"', null, '198.51.100.9'),
    ['192.0.2.60', '2001:db8:cafe::17', '198.51.100.9'],
  );
  assert.deepEqual(originalClients('for=unknown, for=_hidden', 'garbage, 192.0.2.1:8080', '192.0.2.1'), ['192.0.2.1']);
  const r = run(httpParser, [[0, 'GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 203.0.113.7, 10.0.0.2\r\nX-Real-IP: 203.0.113.7\r\n\r\n']]);
  assert.equal(r.txs[0]!.xff!.toString(), '203.0.113.7, 10.0.0.2');
  assert.deepEqual(r.txs[0]!.originalClient, ['203.0.113.7', '10.0.0.2']);
  assert.equal(r.txs[0]!.eve().xff, '203.0.113.7, 10.0.0.2');
});
