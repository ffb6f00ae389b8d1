/**
 * scan.web's path-traversal signal: the URI classifier on attack encodings
 * and benign look-alikes, then the detector end to end through the real
 * pipeline (synthetic HTTP sessions): traversal requests count whatever the
 * answer (a successful traversal is a 200), at the `traversals` threshold.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Synth, T0, detectorsOf, meta } from './synth.js';
import { DOT_DOT, SENSITIVE, traversalSignals } from '../../src/detect/behaviour/detectors/traversal.js';

const CLIENT = '10.1.0.5';
const SERVER = '10.2.0.9';

const sig = (u: string): number => traversalSignals(Buffer.from(u, 'latin1'));

test('traversal classifier: dot-dot segments in every common encoding, and sensitive targets', () => {
  const dd: string[] = [
    '/static/../../../../etc/passwd',
    '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '/cgi-bin/.%2e/.%2e/.%2e/bin/sh',
    '/download?file=..%2f..%2f..%2fapp.conf',
    '/download?file=....//....//....//app.conf',
    '/x/%252e%252e%252f%252e%252e%252fapp.conf', // double encoding
    '/certsrv/..%c0%af../winnt/system32/cmd.exe', // overlong UTF-8 '/'
    '/scripts/..%5c..%5cwinnt/system32/cmd.exe', // backslash
    '/%u002e%u002e/%u002e%u002e/app.conf', // IIS %u
    '/app/..;/manager/html', // Tomcat ..;/
    '/a/..',
  ];
  for (const u of dd) assert.ok(sig(u) & DOT_DOT, u);
  for (const u of ['/download?file=/etc/passwd', '/read?f=etc%2fshadow', '/x?p=/var/run/secrets/kubernetes.io/serviceaccount/token', '/C:%5cWINDOWS%5cwin.ini', '/.aws/credentials', '/proc/self/environ']) {
    assert.ok(sig(u) & SENSITIVE, u);
  }
  assert.equal(sig('/download?file=../../../../etc/shadow'), DOT_DOT | SENSITIVE);
});

test('traversal classifier: benign look-alikes are neither', () => {
  for (const u of [
    '/',
    '/static/app.v1.2.min.js',
    '/a/b.c/d..e/f',
    '/search?q=wait...',
    '/search?q=1..10',
    '/page?next=../index.html', // one level up in a parameter: a relative link, not an escape
    '/docs/...more',
    '/account/passwd-reset',
    '/blog/etc/passwords-are-hard', // not anchored / not the file
    '/etc-passwd',
    '/download?file=report%20v2.pdf',
    '%zz%2',
    '',
  ]) {
    assert.equal(sig(u), 0, u);
  }
  // Padding within a default server's request-line limit does not hide a payload; beyond 8 KiB only the prefix is read, without error.
  assert.equal(sig('/' + 'a'.repeat(6_000) + '/../etc/passwd'), DOT_DOT | SENSITIVE);
  assert.equal(sig('/' + 'a'.repeat(20_000) + '/../etc/passwd'), 0);
});

function exchange(s: Synth, i: number, uri: string, status: number, t: number): void {
  s.session(CLIENT, SERVER, 44000 + i, 8080, t, [
    { c: true, data: `GET ${uri} HTTP/1.1\r\nHost: legacy.example\r\nUser-Agent: curl/8.5.0\r\n\r\n` },
    { c: false, data: `HTTP/1.1 ${status} X\r\nContent-Length: 0\r\n\r\n` },
  ]);
}

const ATTACK = ['/static/../../../../etc/passwd', '/download?file=..%2f..%2f..%2fetc%2fshadow', '/%2e%2e/%2e%2e/%2e%2e/etc/hosts', '/cgi-bin/.%2e/.%2e/bin/sh'];

test('scan.web path traversal: 2 distinct requests are quiet, 3 raise one alert — answered 200, so the 404 count alone never would', () => {
  for (const [n, want] of [[2, 0], [3, 1]] as const) {
    const s = new Synth();
    for (let i = 0; i < n; i++) exchange(s, i, ATTACK[i]!, 200, T0 + i);
    const a = s.finish().filter((x) => meta(x, 'harrier_detector') === 'scan.web');
    assert.equal(a.length, want, `${n} requests`);
    if (want) {
      assert.equal(meta(a[0]!, 'harrier_probe'), 'path-traversal');
      assert.equal(meta(a[0]!, 'harrier_observed'), '3');
      assert.equal(meta(a[0]!, 'harrier_answered_2xx'), '3');
      assert.match(meta(a[0]!, 'harrier_explanation') ?? '', /3 distinct path-traversal requests to 10\.2\.0\.9:8080/);
    }
  }
});

test('scan.web path traversal: mixed answers (404s and 200s) count alike; the window bounds the count', () => {
  const s = new Synth();
  exchange(s, 0, ATTACK[0]!, 404, T0);
  exchange(s, 1, ATTACK[1]!, 200, T0 + 1);
  exchange(s, 2, ATTACK[2]!, 403, T0 + 2);
  assert.equal(detectorsOf(s.finish()).filter((d) => d === 'scan.web').length, 1);
  // Three traversals spread over more than the 60 s window: never three in one window.
  const w = new Synth();
  for (let i = 0; i < 3; i++) exchange(w, i, ATTACK[i]!, 200, T0 + i * 61);
  assert.equal(detectorsOf(w.finish()).filter((d) => d === 'scan.web').length, 0);
});

test('scan.web path traversal: benign look-alikes stay quiet', () => {
  const s = new Synth();
  let i = 0;
  // A browser-like client: many distinct pages, dotted file names, one-level relative links in parameters.
  for (let k = 0; k < 15; k++) exchange(s, i++, `/static/app.v${k}.min.js`, 200, T0 + k);
  for (let k = 0; k < 15; k++) exchange(s, i++, `/page?next=../section-${k}.html`, 200, T0 + 20 + k);
  for (let k = 0; k < 5; k++) exchange(s, i++, `/search?q=${k}...${k + 1}`, 200, T0 + 40 + k);
  // The same stray traversal link retried: one distinct request, not probing.
  for (let k = 0; k < 6; k++) exchange(s, i++, '/img/../logo.png', 200, T0 + 50 + k * 0.1);
  assert.deepEqual(detectorsOf(s.finish()).filter((d) => d === 'scan.web'), []);
});
