/**
 * TLS parser on hand-built messages: fingerprints against published values
 * and the JA3/JA4 rules, version strings, certificate field formats, record
 * and handshake reassembly split at every byte, TLS 1.3 and SSLv2, limits,
 * and the EVE object against Suricata 7.0.4's schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Probe, type Direction } from '../../src/applayer/parser.js';
import { createTlsParser, probeTls, tlsParser, tlsVersionString, TlsTx } from '../../src/applayer/tls/index.js';
import { suricataDate, suricataName, rawSerial } from '../../src/applayer/tls/cert.js';
import { isGrease } from '../../src/applayer/tls/version.js';
import { RecordingContext, type Chunk, runStream } from './tls-support.js';
import {
  alpnExt, certificateBody, clientHelloBody, clientVersionsExt, ext, groupsExt, handshakeRecords, hs,
  keyShareClientExt, pointFormatsExt, record, serverHelloBody, serverVersionExt, sigAlgsExt, sniExt, u16,
} from './tls-build.js';
import { loadEveTlsSchema, validate } from './tls-schema.js';
import { sharedPath, skipWithoutProgram, skipWithoutShared } from '../support/shared.js';

const sha12 = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 12);
const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

const FULL = createTlsParser({ eve: { ja4: true, alpn: true, subjectaltname: true, client: true } });

function txOf(chunks: Chunk[], decl = FULL): { tx: TlsTx | undefined; ctx: RecordingContext } {
  const ctx = runStream(decl, chunks);
  return { tx: ctx.txs[0] as TlsTx | undefined, ctx };
}
const c = (dir: Direction, data: Buffer): Chunk => ({ dir, data, gap: 0 });

// Chrome 143 ClientHello as published by browserleaks (ja3_text, ja4, ja4_ro), with GREASE added
// the way Chrome sends it; GREASE must not change any fingerprint.
const CHROME = {
  ciphers: [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035],
  extOrder: [0x002d, 0x0033, 0x0010, 0xfe0d, 0x0017, 0x44cd, 0x0000, 0x000b, 0x000a, 0x002b, 0xff01, 0x0023, 0x0012, 0x0005, 0x000d, 0x001b],
  groups: [4588, 29, 23, 24],
  sigalgs: [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601],
  ja3: '771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,45-51-16-65037-23-17613-0-11-10-43-65281-35-18-5-13-27,4588-29-23-24,0',
  ja3Hash: '98487aa16281980e7d1120d399efb6a4',
  ja4: 't13d1516h2_8daaf6152771_d8a2da3f94cd',
};

function chromeHello(opts: { grease?: boolean; sni?: string | null; alpn?: (string | Buffer)[] | null } = {}): Buffer {
  const grease = opts.grease ?? true;
  const exts = CHROME.extOrder.map((t) => {
    switch (t) {
      case 0x0000: return opts.sni === null ? null : sniExt(opts.sni ?? 'tls.browserleaks.com');
      case 0x0010: return opts.alpn === null ? null : alpnExt(opts.alpn ?? ['h2', 'http/1.1']);
      case 0x000a: return groupsExt(grease ? [0x3a3a, ...CHROME.groups] : CHROME.groups);
      case 0x000b: return pointFormatsExt([0]);
      case 0x000d: return sigAlgsExt(CHROME.sigalgs);
      case 0x002b: return clientVersionsExt(grease ? [0x5a5a, 0x0304, 0x0303] : [0x0304, 0x0303]);
      case 0x0033: return keyShareClientExt(grease ? [0x3a3a, 4588, 29] : [4588, 29]);
      default: return ext(t, Buffer.from([1, 0]));
    }
  }).filter((e) => e !== null);
  if (grease) {
    exts.unshift(ext(0x1a1a));
    exts.push(ext(0x2a2a, Buffer.from([0])));
  }
  return hs(1, clientHelloBody({ version: 0x0303, sessionId: Buffer.alloc(32, 9), ciphers: grease ? [0x0a0a, ...CHROME.ciphers] : CHROME.ciphers, exts }));
}

test('GREASE values (RFC 8701) are recognised', () => {
  const g: number[] = [];
  for (let v = 0; v < 0x10000; v++) if (isGrease(v)) g.push(v);
  assert.equal(g.length, 16);
  assert.deepEqual(g.slice(0, 3), [0x0a0a, 0x1a1a, 0x2a2a]);
  assert.equal(g[15], 0xfafa);
});

test('JA3 and JA4 of a published Chrome ClientHello, GREASE ignored', () => {
  for (const grease of [true, false]) {
    const { tx, ctx } = txOf([c(0, record(22, chromeHello({ grease }), 0x0301))]);
    assert.deepEqual(ctx.events, []);
    assert.ok(tx);
    assert.equal(tx.data.ja3, CHROME.ja3);
    assert.equal(tx.ja3Hash, CHROME.ja3Hash);
    assert.equal(tx.ja4, CHROME.ja4);
    assert.equal(tx.data.sni, 'tls.browserleaks.com');
    assert.deepEqual(tx.data.clientAlpns, ['h2', 'http/1.1']);
    assert.equal(tx.data.clientVersion, 0x0303);
  }
});

test('JA4 rules: SNI flag, ALPN characters, counts, empty lists', () => {
  const ja4Of = (h: Buffer): string => txOf([c(0, record(22, h))]).tx!.ja4!;
  // No SNI extension → 'i'; SNI/ALPN are counted in a but left out of c.
  const noSni = ja4Of(chromeHello({ sni: null }));
  assert.equal(noSni.slice(0, 10), 't13i1515h2');
  assert.equal(noSni.slice(11), CHROME.ja4.slice(11), 'b and c do not depend on SNI');
  // No ALPN → "00".
  assert.equal(ja4Of(chromeHello({ alpn: null })).slice(0, 10), 't13d151500');
  // http/1.1 → first and last character.
  assert.equal(ja4Of(chromeHello({ alpn: ['http/1.1'] })).slice(8, 10), 'h1');
  // A non-alphanumeric end → first and last hex digit of the value.
  assert.equal(ja4Of(chromeHello({ alpn: [Buffer.from([0xab, 0x61, 0xcd])] })).slice(8, 10), 'ad');
  assert.equal(ja4Of(chromeHello({ alpn: ['h'] })).slice(8, 10), 'hh');
  // TLS 1.0 without extensions: legacy version, i, 00 extensions, c = zeros.
  const old = ja4Of(hs(1, clientHelloBody({ version: 0x0301, ciphers: [0x0035, 0x002f, 0x000a], exts: null })));
  assert.equal(old, `t10i030000_${sha12('000a,002f,0035')}_000000000000`);
  // Extensions but no signature_algorithms: c hashes the extension list alone (no '_').
  const noSig = ja4Of(hs(1, clientHelloBody({ version: 0x0303, ciphers: [0x1301], exts: [sniExt('a.b'), groupsExt([29]), ext(0xff01, Buffer.from([0]))] })));
  assert.equal(noSig, `t12d010300_${sha12('1301')}_${sha12('000a,ff01')}`);
  // More than 99 ciphers: the count saturates at 99.
  const many = Array.from({ length: 120 }, (_, i) => 0x0100 + i);
  assert.equal(ja4Of(hs(1, clientHelloBody({ ciphers: many, exts: [sigAlgsExt([0x0403])] }))).slice(4, 8), '9901');
});

test('JA3 rules: missing extension lists are empty fields; JA3S of a ServerHello', () => {
  const ch = hs(1, clientHelloBody({ version: 0x0301, ciphers: [0x0a0a, 5, 47], exts: [ext(0), ext(35)] }));
  const sh = hs(2, serverHelloBody({ version: 0x0301, cipher: 5, exts: [ext(0xff01, Buffer.from([0])), ext(35)] }));
  const { tx } = txOf([c(0, record(22, ch)), c(1, record(22, sh))]);
  assert.equal(tx!.data.ja3, '769,5-47,0-35,,');
  assert.equal(tx!.ja3Hash, md5('769,5-47,0-35,,'));
  assert.equal(tx!.data.ja3s, '769,5,65281-35');
  assert.equal(tx!.ja3sHash, md5('769,5,65281-35'));
});

test('Suricata version strings', () => {
  assert.equal(tlsVersionString(0), 'UNDETERMINED');
  assert.equal(tlsVersionString(0x0200), 'SSLv2');
  assert.equal(tlsVersionString(0x0300), 'SSLv3');
  assert.equal(tlsVersionString(0x0301), 'TLSv1');
  assert.equal(tlsVersionString(0x0302), 'TLS 1.1');
  assert.equal(tlsVersionString(0x0303), 'TLS 1.2');
  assert.equal(tlsVersionString(0x0304), 'TLS 1.3');
  assert.equal(tlsVersionString(0x7f12), 'TLS 1.3 draft-18');
  assert.equal(tlsVersionString(0x7f01), 'TLS 1.3 draft-<16');
  assert.equal(tlsVersionString(0xfb1a), 'TLS 1.3 draft-26-fb');
  assert.equal(tlsVersionString(0x1234), '0x1234');
});

test('certificate name, date and serial formats', () => {
  assert.equal(suricataName('C=FR\nST=IDF\nO=Acme\\, Inc.\nCN=x\nemailAddress=a@b.c'), 'C=FR, ST=IDF, O=Acme, Inc., CN=x, Email=a@b.c');
  assert.equal(suricataName('CN=a\\0Ab'), 'CN=a\nb');
  assert.equal(suricataDate('Feb 12 18:07:27 2015 GMT'), '2015-02-12T18:07:27');
  assert.equal(suricataDate('Dec  1 06:47:31 2022 GMT'), '2022-12-01T06:47:31');
  assert.equal(suricataDate('Dec 31 00:00:00 1969 GMT'), '1969-12-31T00:00:00');
  assert.equal(suricataDate('garbage'), null);
  assert.equal(rawSerial(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05])), null, 'not a certificate');
});

/** A throwaway certificate made by openssl for this run (no third-party bytes). */
function makeCert(): Buffer | null {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '30', '-set_serial', '0x97E647098EEAC9B4',
      '-subj', '/C=FR/ST=IDF/O=Acme\\, Inc./CN=test.example/emailAddress=a@b.c',
      '-addext', 'subjectAltName=DNS:test.example,DNS:www.test.example,IP:10.0.0.1'], { stdio: 'ignore' });
    return new X509Certificate(readFileSync(join(dir, 'c.pem'))).raw;
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const opensslSkip = skipWithoutProgram('openssl');
const CERT = opensslSkip === false ? makeCert() : null;

/** A TLS 1.2 full handshake as flights: [dir, bytes][]. */
function tls12Flights(cert: Buffer, opts: { oneRecord?: boolean; fragment?: number } = {}): [Direction, Buffer][] {
  const ch = chromeHello({ grease: true });
  const sh = hs(2, serverHelloBody({ cipher: 0xc02f, exts: [ext(0xff01, Buffer.from([0])), ext(0x000b, Buffer.from([1, 0])), alpnExt(['h2'])] }));
  const crt = hs(11, certificateBody([cert, cert]));
  const shd = hs(14, Buffer.alloc(0));
  const ske = hs(12, Buffer.alloc(100, 3));
  const serverHs = opts.oneRecord === true ? record(22, Buffer.concat([sh, crt, ske, shd])) :
    opts.fragment !== undefined ? handshakeRecords(Buffer.concat([sh, crt, ske, shd]), opts.fragment) :
    Buffer.concat([record(22, sh), record(22, crt), record(22, ske), record(22, shd)]);
  return [
    [0, opts.fragment !== undefined ? handshakeRecords(ch, opts.fragment, 0x0301) : record(22, ch, 0x0301)],
    [1, serverHs],
    [0, Buffer.concat([record(22, hs(16, Buffer.alloc(66, 4))), record(20, Buffer.from([1])), record(22, Buffer.alloc(40, 5))])],
    [1, Buffer.concat([record(20, Buffer.from([1])), record(22, Buffer.alloc(40, 6))])],
    [0, record(23, Buffer.alloc(300, 7))],
    [1, record(23, Buffer.alloc(500, 8))],
  ];
}

test('TLS 1.2 handshake: certificate fields, EVE object, one transaction when done', { skip: opensslSkip }, () => {
  assert.ok(CERT, 'openssl made a certificate');
  const x = new X509Certificate(CERT);
  const flights = tls12Flights(CERT);
  const ctx = new RecordingContext();
  const decl = createTlsParser({ eve: { ja4: true, alpn: true, subjectaltname: true } });
  const st = decl.create(ctx);
  for (let i = 0; i < flights.length; i++) {
    const [dir, b] = flights[i]!;
    decl.parse(st, dir, b, 0, b.length, 0);
    // Done after both ChangeCipherSpecs (flight 3), not before.
    assert.equal(ctx.txs.length, i >= 3 ? 1 : 0, `after flight ${i}`);
  }
  decl.end!(st);
  assert.equal(ctx.txs.length, 1);
  assert.deepEqual(ctx.events, []);
  const tx = ctx.txs[0] as TlsTx;
  assert.equal(tx.data.serverChainLength, 2);
  const e = tx.eve();
  assert.deepEqual(Object.keys(e), ['subject', 'issuerdn', 'serial', 'fingerprint', 'sni', 'version', 'notbefore', 'notafter', 'ja3', 'ja3s', 'ja4', 'client_alpns', 'server_alpns', 'subjectaltname']);
  assert.equal(e.subject, 'C=FR, ST=IDF, O=Acme, Inc., CN=test.example, Email=a@b.c');
  assert.equal(e.issuerdn, e.subject);
  assert.equal(e.serial, '00:97:E6:47:09:8E:EA:C9:B4');
  assert.equal(e.fingerprint, createHash('sha1').update(CERT).digest('hex').match(/../g)!.join(':'));
  assert.equal(e.notbefore, new Date(x.validFrom).toISOString().slice(0, 19));
  assert.equal(e.notafter, new Date(x.validTo).toISOString().slice(0, 19));
  assert.equal(e.version, 'TLS 1.2');
  assert.equal(e.sni, 'tls.browserleaks.com');
  assert.deepEqual(e.server_alpns, ['h2']);
  assert.deepEqual(e.subjectaltname, ['test.example', 'www.test.example']);
  assert.deepEqual(e.ja3s, { hash: md5('771,49199,65281-11-16'), string: '771,49199,65281-11-16' });
  // Records counted up to the moment the handshake completed (the server's CCS):
  // client CH, CKE, CCS, Finished; server SH, Certificate, SKE, SHD, CCS.
  assert.deepEqual(tx.data.records, [4, 5]);
});

test('split at every byte: same transaction, no events', { skip: opensslSkip }, () => {
  const flights = tls12Flights(CERT!);
  const whole = txOf(flights.map(([d, b]) => c(d, b))).tx!.eve();
  for (let f = 0; f < flights.length; f++) {
    const [dir, b] = flights[f]!;
    for (let i = 1; i < b.length; i++) {
      const chunks: Chunk[] = [];
      flights.forEach(([d, bb], k) => {
        if (k === f) chunks.push(c(d, bb.subarray(0, i)), c(d, bb.subarray(i)));
        else chunks.push(c(d, bb));
      });
      const { tx, ctx } = txOf(chunks);
      assert.deepEqual(ctx.events, [], `flight ${f} split at ${i}`);
      assert.deepEqual(tx?.eve(), whole, `flight ${f} (dir ${dir}) split at ${i}`);
    }
  }
  // Byte by byte, every flight.
  const bytes: Chunk[] = [];
  for (const [d, b] of flights) for (let i = 0; i < b.length; i++) bytes.push(c(d, b.subarray(i, i + 1)));
  assert.deepEqual(txOf(bytes).tx?.eve(), whole);
});

test('handshake messages spanning records, and several messages in one record', { skip: opensslSkip }, () => {
  const base = txOf(tls12Flights(CERT!).map(([d, b]) => c(d, b))).tx!.eve();
  for (const opts of [{ oneRecord: true }, { fragment: 1 }, { fragment: 7 }, { fragment: 100 }, { fragment: 1000 }]) {
    const { tx, ctx } = txOf(tls12Flights(CERT!, opts).map(([d, b]) => c(d, b)));
    assert.deepEqual(ctx.events, [], JSON.stringify(opts));
    assert.deepEqual(tx?.eve(), base, JSON.stringify(opts));
  }
});

test('client certificate and session resumption', { skip: opensslSkip }, () => {
  const sid = Buffer.alloc(32, 0x42);
  const ch = hs(1, clientHelloBody({ sessionId: sid, ciphers: [0xc02f], exts: [sniExt('r.example')] }));
  // Resumed: the server echoes the session id, no Certificate, CCS straight away.
  const sh = hs(2, serverHelloBody({ sessionId: sid, cipher: 0xc02f, exts: null }));
  const resumed = txOf([
    c(0, record(22, ch)), c(1, Buffer.concat([record(22, sh), record(20, Buffer.from([1])), record(22, Buffer.alloc(40))])),
    c(0, Buffer.concat([record(20, Buffer.from([1])), record(22, Buffer.alloc(40))])),
  ]).tx!;
  assert.equal(resumed.eve().session_resumed, true);
  assert.equal(resumed.eve().subject, undefined);
  // A new session id from the server is not a resumption; a client certificate goes under `client`.
  const sh2 = hs(2, serverHelloBody({ sessionId: Buffer.alloc(32, 0x43), cipher: 0xc02f, exts: null }));
  const full = txOf([
    c(0, record(22, ch)),
    c(1, Buffer.concat([record(22, sh2), record(22, hs(11, certificateBody([CERT!]))), record(22, hs(14, Buffer.alloc(0)))])),
    c(0, Buffer.concat([record(22, hs(11, certificateBody([CERT!]))), record(20, Buffer.from([1]))])),
    c(1, record(20, Buffer.from([1]))),
  ]).tx!;
  const e = full.eve();
  assert.equal(e.session_resumed, undefined);
  assert.equal((e.client as Record<string, unknown>).serial, '00:97:E6:47:09:8E:EA:C9:B4');
});

test('TLS 1.3: version from supported_versions, emitted when the server encrypts', () => {
  const ch = chromeHello();
  const sh = hs(2, serverHelloBody({ version: 0x0303, sessionId: Buffer.alloc(32, 9), cipher: 0x1301, exts: [serverVersionExt(0x0304), ext(0x0033, Buffer.concat([u16(29), u16(32), Buffer.alloc(32)]))] }));
  const ctx = new RecordingContext();
  const st = tlsParser.create(ctx);
  const feed = (dir: Direction, b: Buffer): void => tlsParser.parse(st, dir, b, 0, b.length, 0);
  feed(0, record(22, ch, 0x0301));
  feed(1, Buffer.concat([record(22, sh), record(20, Buffer.from([1]))]));
  assert.equal(ctx.txs.length, 0, 'the compatibility CCS is not the end of the handshake');
  feed(1, record(23, Buffer.alloc(2000, 1)));
  assert.equal(ctx.txs.length, 1);
  const e = ctx.txs[0]!.eve();
  assert.equal(e.version, 'TLS 1.3');
  assert.equal(e.ja3s && (e.ja3s as { string: string }).string, '771,4865,43-51');
  assert.equal(e.ja4, undefined, 'ja4 is off by default (Suricata 7 does not log it)');
  // Encrypted records afterwards are only counted, even if they look like handshakes.
  feed(1, record(22, Buffer.alloc(50, 0xff)));
  feed(0, Buffer.concat([record(20, Buffer.from([1])), record(23, Buffer.alloc(60, 2))]));
  tlsParser.end!(st);
  assert.equal(ctx.txs.length, 1);
  assert.deepEqual(ctx.events, []);
});

test('flow direction guessed wrongly: roles follow the hellos', () => {
  const ch = chromeHello();
  const sh = hs(2, serverHelloBody({ cipher: 0x1301, exts: [serverVersionExt(0x0304)] }));
  const { tx } = txOf([c(1, record(22, ch)), c(0, record(22, sh)), c(0, record(23, Buffer.alloc(10)))]);
  assert.equal(tx?.data.sni, 'tls.browserleaks.com');
  assert.equal(tx?.eve().version, 'TLS 1.3');
});

test('SSLv2-compatible ClientHello: version detection, then TLS records', () => {
  // SSLv2 CLIENT-HELLO: len(2, top bit), type 1, version 3.1, cipher-specs 3, session-id 0, challenge 16.
  const body = Buffer.concat([Buffer.from([1, 3, 1]), u16(3), u16(0), u16(16), Buffer.from([0, 0, 0x35]), Buffer.alloc(16, 1)]);
  const v2 = Buffer.concat([u16(0x8000 | body.length), body]);
  assert.equal(probeTls(0, v2, 0, v2.length), Probe.YES);
  const sh = hs(2, serverHelloBody({ version: 0x0301, cipher: 0x0035, exts: null }));
  const { tx, ctx } = txOf([c(0, v2), c(1, record(22, sh, 0x0301))]);
  assert.deepEqual(ctx.events, []);
  assert.equal(tx?.data.clientVersion, 0x0301);
  assert.equal(tx?.eve().version, 'TLSv1');
  assert.equal(tx?.data.ja3, null, 'no JA3 for an SSLv2 hello');
  // A pure SSLv2 server hello reports SSLv2.
  const srv = Buffer.concat([Buffer.from([4, 0, 1, 0, 2]), u16(0), u16(0), u16(0)]);
  const { tx: tx2 } = txOf([c(0, v2), c(1, Buffer.concat([u16(0x8000 | srv.length), srv]))]);
  assert.equal(tx2?.eve().version, 'SSLv2');
});

test('probe', () => {
  const rec = record(22, chromeHello());
  assert.equal(probeTls(0, rec, 0, rec.length), Probe.YES);
  assert.equal(probeTls(0, rec, 0, 3), Probe.NEED_MORE);
  assert.equal(probeTls(0, rec, 0, 0), Probe.NEED_MORE);
  assert.equal(probeTls(0, Buffer.from('GET / HTTP/1.1\r\n'), 0, 16), Probe.NO);
  assert.equal(probeTls(0, Buffer.from([0x16, 0x03, 0x05, 0, 10, 1]), 0, 6), Probe.NO);
  assert.equal(probeTls(0, Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 1]), 0, 6), Probe.NO);
  assert.equal(probeTls(0, Buffer.from([0x16, 0x03, 0x01, 0, 10, 9]), 0, 6), Probe.NO);
  // A session picked up after its handshake: application data, alert and
  // ChangeCipherSpec records are TLS when their header is strictly valid.
  assert.equal(probeTls(0, Buffer.from([0x17, 0x03, 0x03, 0, 10]), 0, 5), Probe.YES);
  assert.equal(probeTls(1, Buffer.from([0x15, 0x03, 0x03, 0, 2]), 0, 5), Probe.YES);
  assert.equal(probeTls(1, Buffer.from([0x14, 0x03, 0x01, 0, 1]), 0, 5), Probe.YES);
  assert.equal(probeTls(0, Buffer.from([0x17, 0x03, 0x03]), 0, 3), Probe.NEED_MORE);
  assert.equal(probeTls(0, Buffer.from([0x17, 0x03, 0x05, 0, 10]), 0, 5), Probe.NO);
  assert.equal(probeTls(0, Buffer.from([0x17, 0x03, 0x03, 0xff, 0xff]), 0, 5), Probe.NO);
  assert.equal(probeTls(0, Buffer.from([0x17, 0x03, 0x03, 0, 0]), 0, 5), Probe.NO);
  assert.equal(probeTls(0, Buffer.from([0x14, 0x03, 0x03, 0, 5]), 0, 5), Probe.NO);
  assert.equal(probeTls(0, Buffer.from([0x15, 0x03, 0x03, 0x10, 0]), 0, 5), Probe.NO);
});

test('a session picked up mid-stream (application data first) is TLS and parses without events', () => {
  const appData = Buffer.concat([record(23, Buffer.alloc(300, 7)), record(23, Buffer.alloc(40, 9))]);
  assert.equal(probeTls(0, appData, 0, appData.length), Probe.YES);
  const { ctx } = txOf([c(0, appData), c(1, record(23, Buffer.alloc(1000, 3)))]);
  assert.deepEqual(ctx.events, []);
});

test('limits and bad input: events, no throw, bounded buffers', () => {
  // A ClientHello announcing 1 MiB: not buffered, counted.
  const huge = Buffer.concat([Buffer.from([1]), Buffer.from([0x10, 0, 0])]);
  const ctx1 = txOf([c(0, record(22, huge)), c(0, record(22, Buffer.alloc(16000)))]).ctx;
  assert.ok(ctx1.events.includes('tls.handshake_invalid_length'));
  // Garbage that is not TLS: abandoned.
  const ctx2 = txOf([c(0, Buffer.from('HELO example.org\r\n'))]).ctx;
  assert.deepEqual(ctx2.events, ['tls.invalid_record_type']);
  assert.notEqual(ctx2.abandoned, null);
  // A malformed ClientHello: named event, and the flow carries on.
  const bad = hs(1, Buffer.concat([u16(0x0303), Buffer.alloc(32), Buffer.from([40])]));
  const ctx3 = txOf([c(0, record(22, bad))]).ctx;
  assert.deepEqual(ctx3.events, ['tls.invalid_handshake_message']);
  // A gap before the handshake finished: event, direction given up, transaction still flushed at end.
  const { tx, ctx: ctx4 } = txOf([c(0, record(22, chromeHello())), { dir: 1, data: null, gap: 100 }, c(1, record(22, Buffer.alloc(10)))]);
  assert.deepEqual(ctx4.events, ['tls.stream_gap']);
  assert.equal(tx?.data.sni, 'tls.browserleaks.com');
});

const schemaRel = 'eve-schema/suricata-7.0.4.schema.json';
test('EVE tls objects validate against Suricata 7.0.4 schema', { skip: skipWithoutShared(schemaRel) || opensslSkip }, () => {
  const { root, tls } = loadEveTlsSchema(sharedPath(schemaRel)!);
  const defaults = txOf(tls12Flights(CERT!).map(([d, b]) => c(d, b)), tlsParser).tx!.eve();
  assert.deepEqual(validate(root, tls, defaults), []);
  const withClient = txOf(tls12Flights(CERT!).map(([d, b]) => c(d, b)), createTlsParser({ eve: { client: true } })).tx!.eve();
  assert.deepEqual(validate(root, tls, withClient), []);
  // Suricata 8 fields are opt-in because 7.0.4's schema rejects them — the checker must notice.
  const v8 = txOf(tls12Flights(CERT!).map(([d, b]) => c(d, b)), createTlsParser({ eve: { ja4: true } })).tx!.eve();
  assert.deepEqual(validate(root, tls, v8), ['$.ja4: not allowed by the schema']);
});
