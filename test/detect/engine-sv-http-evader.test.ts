/**
 * file_data under the HTTP evasions of suricata-verify's http-evader tests:
 * the response body is read as Suricata's libhtp reads it (lenient chunk
 * sizes, Transfer-Encoding that merely contains "chunked", junk in
 * Content-Encoding, gzip headers zlib refuses, layers that do not decode),
 * so a rule on the decoded body still fires. Hand-made responses check the
 * parser; two suricata-verify captures check the whole path to the alert.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHttpParser, httpParser } from '../../src/applayer/http/index.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { defaultConfig } from '../../src/sensor/config.js';
import { EveCollector } from '../../src/output/eve-writer.js';
import { readCaptureFile } from '../../src/capture/reader.js';
import { parseRule } from '../../src/detect/rules/index.js';
import { SignatureEngine } from '../../src/detect/engine/engine.js';
import { sharedPath, skipWithoutShared } from '../support/shared.js';
import { run } from '../applayer/http-support.js';

const REQ = 'GET /f HTTP/1.1\r\nHost: h\r\n\r\n';
const BODY = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

function body(head: string, payload: Buffer | string): string {
  const p = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  const r = run(httpParser, [[0, REQ], [1, Buffer.concat([Buffer.from(`HTTP/1.1 200 ok\r\n${head}\r\n`, 'latin1'), p])]]);
  assert.equal(r.txs.length, 1);
  return r.txs[0]!.responseBodyBytes.toString('latin1');
}

/** BODY in 15-byte chunks whose size lines are written by `size`. */
function chunked(size: (n: number) => string): string {
  let out = '';
  for (let i = 0; i < BODY.length; i += 15) {
    const part = BODY.slice(i, i + 15);
    out += `${size(part.length)}${part}\r\n`;
  }
  return `${out}0\r\n\r\n`;
}

test('chunk size lines: trailing junk ignored, leading control bytes and empty lines skipped', () => {
  const te = 'Transfer-Encoding: chunked\r\n';
  assert.equal(body(te, chunked((n) => `${n.toString(16)}x\r\n`)), BODY);
  assert.equal(body(te, chunked((n) => `${n.toString(16)}\0\r\n`)), BODY);
  assert.equal(body(te, chunked((n) => ` ${n.toString(16)} x\r\n`)), BODY);
  assert.equal(body(te, chunked((n) => `\r\n\x0b${n.toString(16)}\r\n`)), BODY);
  // no hex digit at all: that line and the rest are body, as sent
  assert.equal(body(te, `3\r\nabc\r\nzz\r\ntail`), 'abczz\r\ntail');
  // not chunked at all although the header says so: 8 bytes without a
  // line end that do not start like a size end the chunk reading
  assert.equal(body(te, BODY), BODY);
});

test('Transfer-Encoding that contains "chunked" dechunks (case, NULs and other codings ignored)', () => {
  for (const v of ['xchunked', 'x-chunked', 'chunked-x', 'CHUNKED', 'chu\0nked', 'xte, chunked, xte', ':chunked']) {
    assert.equal(body(`Transfer-Encoding: ${v}\r\n`, chunked((n) => `${n.toString(16)}\r\n`)), BODY, v);
  }
  // and a body sent with Content-Length under such a header is still seen whole
  assert.equal(body(`Transfer-Encoding: x-chunked\r\nContent-Length: ${BODY.length}\r\n`, BODY), BODY);
});

test('Content-Encoding junk, gzip header flags zlib refuses, layers that do not decode', () => {
  const gz = zlib.gzipSync(Buffer.from(BODY, 'latin1'));
  const df = zlib.deflateSync(Buffer.from(BODY, 'latin1'));
  const h = (ce: string, b: Buffer): string => body(`Content-Length: ${b.length}\r\nContent-Encoding: ${ce}\r\n`, b);
  for (const ce of ['gzip x', 'x_gzip', 'gzip_x', ': gzip', 'gz\0ip']) assert.equal(h(ce, gz), BODY, ce);
  for (const ce of ['x-deflate', ': deflate', 'def\0late']) assert.equal(h(ce, df), BODY, JSON.stringify(ce));
  // more codings named than applied: the ones that fail pass data through
  assert.equal(h('gzip, deflate', gz), BODY);
  assert.equal(h('deflate, gzip', df), BODY);
  // three layers when the limit allows three (suricata-verify sets it to 3)
  const three = zlib.gzipSync(zlib.deflateSync(zlib.gzipSync(Buffer.from(BODY, 'latin1'))));
  const r3 = run(createHttpParser({ maxEncodingLayers: 3 }), [[0, REQ], [1, Buffer.concat([Buffer.from(`HTTP/1.1 200 ok\r\nContent-Length: ${three.length}\r\nContent-Encoding: gzip, deflate, gzip\r\n\r\n`), three])]]);
  assert.equal(r3.txs[0]!.responseBodyBytes.toString('latin1'), BODY);
  assert.equal(h('gzip, deflate, gzip', three).includes('EICAR'), false); // default limit 2: too many layers, kept as sent
  // reserved flag bits (0x80) and a header CRC (FHCRC) that is wrong
  const reserved = Buffer.from(gz);
  reserved[3] = 0x80;
  assert.equal(h('gzip', reserved), BODY);
  const hcrc = Buffer.concat([gz.subarray(0, 10), Buffer.from([0x30, 0x30]), gz.subarray(10)]);
  hcrc[3] = 0x02;
  assert.equal(h('gzip', hcrc), BODY);
  // a corrupt body is still reported, not hidden by the lenient path
  const bad = Buffer.from(gz);
  bad.fill(0xff, 20, 40);
  const r = run(httpParser, [[0, REQ], [1, Buffer.concat([Buffer.from(`HTTP/1.1 200 ok\r\nContent-Length: ${bad.length}\r\nContent-Encoding: gzip\r\n\r\n`), bad])]]);
  assert.ok(r.events.includes('http.gzip_decompression_failed'), r.events.join());
});

test('header names: NUL bytes ignored, control bytes before the colon dropped; 204/304 bodies read when framed', () => {
  const ch = chunked((n) => `${n.toString(16)}\r\n`);
  for (const name of ['Transfer-Encoding\0', 'Transfer\0-Encoding', 'Transfer-Encoding\x0b', 'Transfer-Encoding\x0c', 'Transfer-Encoding\r ']) {
    assert.equal(body(`${name}:chunked\r\n`, ch), BODY, JSON.stringify(name));
  }
  const r = run(httpParser, [[0, REQ], [1, `HTTP/1.1 204 No Content\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`]]);
  assert.equal(r.txs[0]!.responseBodyBytes.toString('latin1'), BODY);
  // without framing a 204 still ends at its head
  const n = run(httpParser, [[0, REQ + REQ], [1, 'HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok']]);
  assert.deepEqual(n.txs.map((t) => t.status), [204, 200]);
});

const SV = 'suricata-verify/tests/http-evader';
const RULES = [
  'alert http any any -> any any (msg:"EICAR file data"; file_data; content:"EICAR-STANDARD-ANTIVIRUS-TEST-FILE"; sid:1;)',
  'alert http any any -> any any (msg:"EICAR file data X"; file_data; content:"X5O!P%@AP[4"; sid:2;)',
];

function sids(capture: string): number[] {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-evader-'));
  try {
    const eve = new EveCollector();
    const p = new Pipeline(defaultConfig(), { eve, alertPcap: { dir } });
    const engine = new SignatureEngine({ rules: RULES.map((t, i) => parseRule(t, { vars: { addressGroups: {}, portGroups: {} }, file: 't.rules', line: i + 1 })) }, p.alerts);
    assert.deepEqual(engine.errors, []);
    p.addDetector(engine);
    readCaptureFile(capture, p);
    p.finish();
    return eve.out.filter((r) => r.event_type === 'alert').map((r) => (r.alert as { signature_id: number }).signature_id).sort();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// 009: chunk sizes "fx"; 166: "Content-Encoding:gzip x" (suricata-verify expects sid 1 and 2 once each)
for (const n of ['009', '166']) {
  const rel = `${SV}/http-evader-${n}/input.pcap`;
  test(`http-evader-${n}: both file_data rules fire once, end to end`, { skip: skipWithoutShared(rel) }, () => {
    assert.deepEqual(sids(sharedPath(rel)!), [1, 2]);
  });
}
