/**
 * The recognition-only protocols (src/applayer/recognisers.ts) and QUIC:
 *  - each probe says YES to a hand-built first message in the direction
 *    that sends it, and never NO to any prefix of it (a message split at
 *    any byte is still recognised once complete);
 *  - no probe claims HTTP, TLS, SSH or DNS bytes, and random bytes almost never;
 *  - QUIC: RFC 9001 Appendix A key derivation, and a client Initial built
 *    and encrypted here yields the ClientHello's SNI and JA3;
 *  - on nDPI's captures, the flows nDPI names with these protocols get the
 *    same app_proto (the product registry may not list the recognisers yet,
 *    so the pipeline here adds them; ndpi-agreement.test.ts measures the product);
 *  - fuzz: mutated and truncated inputs never throw, hang or grow memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { Probe, type AppParserDecl, type AppTx, type Direction } from '../../src/applayer/parser.js';
import { RECOGNISERS } from '../../src/applayer/recognisers.js';
import { APP_PARSERS, validateParsers } from '../../src/applayer/registry.js';
import { QuicTx, quicParser } from '../../src/applayer/quic/index.js';
import { clientInitialKeys } from '../../src/applayer/quic/initial.js';
import { md5Hex } from '../../src/applayer/tls/fingerprint.js';
import { clientHelloBody, groupsExt, hs, pointFormatsExt, sniExt, u16 } from './tls-build.js';
import { compareFile, emptyReport, NDPI_REL, pipelineWithRecognisers } from './ndpi-agreement.js';
import { sharedPath, skipWithoutShared } from '../support/shared.js';
import { EVE_SCHEMA, eveSchemaErrors } from '../support/eve-schema.js';
import { EveCollector } from '../../src/output/eve-writer.js';
import { assertSupportedLinkType, readCaptureFile } from '../../src/capture/reader.js';

type AnyDecl = AppParserDecl<unknown>;
const byName = (name: string, transport: 'tcp' | 'udp'): AnyDecl => {
  const d = RECOGNISERS.find((r) => r.name === name && (r.transport === transport || r.transport === 'both'));
  assert.ok(d, `${name}/${transport} not in RECOGNISERS`);
  return d;
};
const probe = (d: AnyDecl, dir: Direction, b: Buffer): Probe => d.probe(dir, b, 0, b.length);

const be32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
const pgStartup = (): Buffer => {
  const params = Buffer.from('user\0alice\0database\0shop\0\0', 'latin1');
  return Buffer.concat([be32(8 + params.length), be32(196608), params]);
};
const mysqlGreeting = (): Buffer => {
  const body = Buffer.concat([
    Buffer.from([10]),
    Buffer.from('8.0.36\0', 'latin1'),
    Buffer.from([1, 0, 0, 0]),
    Buffer.alloc(8, 0x41),
    Buffer.from([0, 0xff, 0xf7, 0x21, 2, 0, 0xff, 0xc1, 21]),
    Buffer.alloc(10),
    Buffer.alloc(13, 0x42),
    Buffer.from('caching_sha2_password\0', 'latin1'),
  ]);
  return Buffer.concat([Buffer.from([body.length & 0xff, body.length >> 8, 0, 0]), body]);
};
const mqttConnect = (): Buffer => {
  const vh = Buffer.concat([Buffer.from('\x00\x04MQTT', 'latin1'), Buffer.from([4, 2, 0, 60]), Buffer.from('\x00\x04abcd', 'latin1')]);
  return Buffer.concat([Buffer.from([0x10, vh.length]), vh]);
};
const kafkaRequest = (): Buffer => {
  const id = Buffer.from('rdkafka', 'latin1');
  const body = Buffer.concat([u16(18), u16(3), be32(1), u16(id.length), id, Buffer.alloc(4)]);
  return Buffer.concat([be32(body.length), body]);
};
const smb2 = (): Buffer => {
  const h = Buffer.alloc(64);
  Buffer.from([0xfe, 0x53, 0x4d, 0x42]).copy(h);
  h[4] = 64;
  return Buffer.concat([Buffer.from([0, 0, 0, 64]), h]);
};
const rdpCr = (): Buffer => {
  const cookie = Buffer.from('Cookie: mstshash=admin\r\n', 'latin1');
  const neg = Buffer.from([1, 0, 8, 0, 3, 0, 0, 0]);
  const x224 = Buffer.concat([Buffer.from([0, 0xe0, 0, 0, 0, 0, 0]), cookie, neg]);
  x224[0] = x224.length - 1;
  return Buffer.concat([Buffer.from([3, 0]), u16(x224.length + 4), x224]);
};
const rdpCc = (): Buffer => {
  const x224 = Buffer.concat([Buffer.from([14, 0xd0, 0, 0, 0x12, 0x34, 0]), Buffer.from([2, 0, 8, 0, 1, 0, 0, 0])]);
  return Buffer.concat([Buffer.from([3, 0]), u16(x224.length + 4), x224]);
};

/** [name, transport, direction, first message] that must be recognised. */
const FIRST_MESSAGES: [string, 'tcp' | 'udp', Direction, Buffer][] = [
  ['smtp', 'tcp', 1, Buffer.from('220 mail.example.com ESMTP Postfix\r\n')],
  ['smtp', 'tcp', 0, Buffer.from('EHLO client.example.com\r\n')],
  ['smtp', 'tcp', 0, Buffer.from('helo x\r\n')],
  ['ftp', 'tcp', 1, Buffer.from('220 (vsFTPd 3.0.3)\r\n')],
  ['ftp', 'tcp', 0, Buffer.from('USER anonymous\r\n')],
  ['redis', 'tcp', 0, Buffer.from('*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n')],
  ['pgsql', 'tcp', 0, pgStartup()],
  ['pgsql', 'tcp', 0, Buffer.concat([be32(8), be32(80877103)])],
  ['pgsql', 'tcp', 1, Buffer.from([0x52, 0, 0, 0, 12, 0, 0, 0, 5, 1, 2, 3, 4])],
  ['mysql', 'tcp', 1, mysqlGreeting()],
  ['mqtt', 'tcp', 0, mqttConnect()],
  ['kafka', 'tcp', 0, kafkaRequest()],
  ['stratum', 'tcp', 0, Buffer.from('{"id":1,"method":"mining.subscribe","params":["cgminer/4.10"]}\n')],
  ['stratum', 'tcp', 0, Buffer.from('{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"4A...","pass":"x"}}\n')],
  ['bittorrent', 'tcp', 0, Buffer.concat([Buffer.from('\x13BitTorrent protocol', 'latin1'), Buffer.alloc(48, 7)])],
  ['bittorrent', 'tcp', 1, Buffer.concat([Buffer.from('\x13BitTorrent protocol', 'latin1'), Buffer.alloc(48, 7)])],
  ['bittorrent', 'udp', 0, Buffer.from('BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\n\r\n')],
  ['bittorrent-dht', 'udp', 0, Buffer.concat([Buffer.from('d1:ad2:id20:'), Buffer.alloc(20, 1), Buffer.from('e1:q4:ping1:t2:aa1:y1:qe')])],
  ['bittorrent-dht', 'udp', 1, Buffer.concat([Buffer.from('d1:rd2:id20:'), Buffer.alloc(20, 1), Buffer.from('e1:t2:aa1:y1:re')])],
  ['smb', 'tcp', 0, smb2()],
  ['rdp', 'tcp', 0, rdpCr()],
  ['rdp', 'tcp', 1, rdpCc()],
];

test('recognisers: valid declarations, alongside the registry', () => {
  validateParsers([...APP_PARSERS.filter((a) => !RECOGNISERS.includes(a)), ...RECOGNISERS]);
});

test('recognisers: hand-built first messages, split at every byte', () => {
  for (const [name, transport, dir, msg] of FIRST_MESSAGES) {
    const d = byName(name, transport);
    assert.equal(probe(d, dir, msg), Probe.YES, `${name} ${dir}: ${msg.toString('latin1').slice(0, 40)}`);
    if (transport === 'udp') continue; // a datagram is never split
    for (let n = 1; n < msg.length; n++) {
      assert.notEqual(probe(d, dir, msg.subarray(0, n)), Probe.NO, `${name} said NO to the first ${n} bytes of its own message`);
    }
  }
});

test('recognisers: near misses are refused', () => {
  const no: [string, 'tcp' | 'udp', Direction, Buffer][] = [
    ['smtp', 'tcp', 1, Buffer.from('220 (vsFTPd 3.0.3)\r\n')],
    ['ftp', 'tcp', 1, Buffer.from('220 mail.example.com ESMTP Postfix\r\n')],
    ['redis', 'tcp', 0, Buffer.from('*0\r\n')],
    ['pgsql', 'tcp', 0, Buffer.concat([be32(9), be32(80877103)])],
    ['mysql', 'tcp', 1, Buffer.concat([Buffer.from([60, 0, 0, 1, 10]), Buffer.alloc(60, 0x35)])],
    ['mqtt', 'tcp', 0, Buffer.from([0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 9, 2, 0, 60, 0, 0])],
    ['rdp', 'tcp', 0, Buffer.from([3, 0, 0, 22, 17, 0xe0, 0, 0, 0, 1, 0, 0xc1, 2, 1, 0, 0xc2, 2, 1, 2, 0xc0, 1, 10])], // S7comm COTP CR
    ['smb', 'tcp', 0, Buffer.from([0, 0, 0, 64, 0x53, 0x4d, 0x42, 0xff])],
  ];
  for (const [name, transport, dir, msg] of no) assert.equal(probe(byName(name, transport), dir, msg), Probe.NO, `${name} claimed a near miss`);
});

/** First bytes of the protocols Harrier parses fully; no recogniser may claim them. */
function otherProtocols(): Buffer[] {
  const ch = hs(1, clientHelloBody({ ciphers: [0x1301, 0xc02f], exts: [sniExt('example.com'), groupsExt([29])] }));
  const tls = Buffer.concat([Buffer.from([22, 3, 1]), u16(ch.length), ch]);
  const dnsQ = Buffer.from('123401000001000000000000076578616d706c6503636f6d0000010001', 'hex');
  return [
    Buffer.from('GET / HTTP/1.1\r\nHost: example.com\r\n\r\n'),
    Buffer.from('POST /api HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}'),
    Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'),
    tls,
    Buffer.from([21, 3, 3, 0, 2, 2, 40]),
    Buffer.from('SSH-2.0-OpenSSH_9.6\r\n'),
    dnsQ,
    Buffer.concat([u16(dnsQ.length), dnsQ]),
  ];
}

test('recognisers: never claim HTTP, TLS, SSH or DNS bytes; random bytes almost never', () => {
  const all = [...RECOGNISERS, quicParser as AnyDecl];
  for (const b of otherProtocols()) {
    for (const d of all) {
      for (const dir of [0, 1] as const) assert.notEqual(probe(d, dir, b), Probe.YES, `${d.name} claimed ${b.toString('latin1').slice(0, 30)}`);
    }
  }
  // Random bytes: a deterministic generator, 20k buffers of 1–600 bytes.
  let seed = 12345;
  const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) & 0xff;
  const claims = new Map<string, number>();
  const N = 20000;
  for (let i = 0; i < N; i++) {
    const b = Buffer.alloc(1 + ((rnd() << 8) | rnd()) % 600);
    for (let k = 0; k < b.length; k++) b[k] = rnd();
    for (const d of all) {
      if (probe(d, (i & 1) as Direction, b) === Probe.YES) claims.set(d.name, (claims.get(d.name) ?? 0) + 1);
    }
  }
  // QUIC's long header is only a few bits and a version; everything else must be far rarer.
  for (const [name, n] of claims) assert.ok(n <= (name === 'quic' ? N / 500 : N / 2000), `${name} claimed ${n} of ${N} random buffers`);
});

/** A QUIC v1 client Initial carrying `hello` in one CRYPTO frame, protected as RFC 9001 §5 says. */
function buildInitial(dcid: Buffer, hello: Buffer): Buffer {
  const keys = clientInitialKeys(1, Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex'), dcid);
  const crypto = Buffer.concat([Buffer.from([0x06, 0x00, 0x40 | (hello.length >> 8), hello.length & 0xff]), hello]);
  const plain = Buffer.concat([crypto, Buffer.alloc(1162 - crypto.length)]); // PADDING to a 1200-byte datagram
  const pn = Buffer.from([0, 0, 0, 2]);
  const length = pn.length + plain.length + 16;
  const header = Buffer.concat([
    Buffer.from([0xc3]),
    be32(1),
    Buffer.from([dcid.length]),
    dcid,
    Buffer.from([0]),
    Buffer.from([0]), // token length
    Buffer.from([0x40 | (length >> 8), length & 0xff]),
    pn,
  ]);
  const nonce = Buffer.from(keys.iv);
  nonce[11]! ^= 2;
  const gcm = createCipheriv('aes-128-gcm', keys.key, nonce);
  gcm.setAAD(header);
  const ct = Buffer.concat([gcm.update(plain), gcm.final(), gcm.getAuthTag()]);
  const pkt = Buffer.concat([header, ct]);
  const pnOff = header.length - 4;
  const ecb = createCipheriv('aes-128-ecb', keys.hp, null);
  const mask = ecb.update(pkt.subarray(pnOff + 4, pnOff + 20));
  pkt[0]! ^= mask[0]! & 0x0f;
  for (let i = 0; i < 4; i++) pkt[pnOff + i]! ^= mask[1 + i]!;
  return pkt;
}

test('quic: RFC 9001 A.1 keys; an Initial built here yields SNI and JA3', () => {
  const k = clientInitialKeys(1, Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex'), Buffer.from('8394c8f03e515708', 'hex'));
  assert.equal(k.key.toString('hex'), '1f369613dd76d5467730efcbe3b1a22d');
  assert.equal(k.iv.toString('hex'), 'fa044b2f42a3fd3b46fb255c');
  assert.equal(k.hp.toString('hex'), '9f50449e04a0e810283a1e9933adedd2');

  const hello = hs(1, clientHelloBody({ ciphers: [0x1301, 0x1302], exts: [sniExt('quic.example.org'), groupsExt([29, 23]), pointFormatsExt([0])] }));
  const pkt = buildInitial(Buffer.from('8394c8f03e515708', 'hex'), hello);
  assert.equal(pkt.length, 1200);
  assert.equal(quicParser.probe(0, pkt, 0, pkt.length), Probe.YES);
  const txs: AppTx[] = [];
  const st = quicParser.create({ tx: (t) => txs.push(t), event: () => {}, abandon: () => {} });
  quicParser.parse(st, 0, pkt, 0, pkt.length, 0);
  assert.equal(txs.length, 1);
  const tx = txs[0] as QuicTx;
  assert.equal(tx.sni, 'quic.example.org');
  assert.equal(tx.ja3, '771,4865-4866,0-10-11,29-23,0');
  assert.deepEqual(tx.eve(), { sni: 'quic.example.org', ja3: { hash: md5Hex('771,4865-4866,0-10-11,29-23,0'), string: '771,4865-4866,0-10-11,29-23,0' } });
  // A flipped ciphertext byte fails the AEAD tag: no transaction, a counted event.
  const bad = Buffer.from(pkt);
  bad[100]! ^= 1;
  const events: string[] = [];
  const st2 = quicParser.create({ tx: (t) => txs.push(t), event: (e) => events.push(e), abandon: () => {} });
  quicParser.parse(st2, 0, bad, 0, bad.length, 0);
  assert.equal(txs.length, 1);
  assert.deepEqual(events, ['quic.initial_decrypt_failed']);
});

/** nDPI captures of each protocol: [capture, nDPI master names, flows allowed to disagree]. */
const REAL: [string, string[], number][] = [
  ['smtp.pcap', ['SMTP'], 0],
  ['smtp-starttls.pcap', ['SMTP'], 0],
  ['ftp.pcap', ['FTP_CONTROL'], 0],
  ['ftp_failed.pcap', ['FTP_CONTROL'], 0],
  ['pgsql.pcap', ['PostgreSQL'], 0],
  // its one connection opens with an SSLRequest answered 'S': Harrier, as Suricata, hands it to TLS
  // (flow app_proto tls, app_proto_orig pgsql); nDPI names it by its first protocol, which app_proto_orig matches
  ['pgsql2.pcapng', ['PostgreSQL'], 0],
  // likewise its second connection's SSLRequest (app_proto tls, app_proto_orig mysql)
  ['mysql.pcapng', ['MySQL'], 0],
  ['mqtt.pcap', ['MQTT'], 0],
  ['kafka.pcapng', ['Kafka'], 0],
  ['mining.pcapng', ['Mining'], 0],
  ['bittorrent.pcap', ['BitTorrent'], 0],
  ['bittorrent_utp.pcap', ['BitTorrent'], 0],
  ['bt_search.pcap', ['BitTorrent'], 0],
  ['smbv1.pcap', ['SMBv1', 'SMBv23'], 0],
  ['smb_deletefile.pcap', ['SMBv1', 'SMBv23'], 0],
  ['rdp.pcap', ['RDP'], 0],
  ['quic.pcap', ['QUIC'], 0],
  ['quic-v2.pcapng', ['QUIC'], 0],
  ['quic-29.pcap', ['QUIC'], 0],
  ['quic-mvfst-22.pcap', ['QUIC'], 0],
  ['quic_q50.pcap', ['QUIC'], 0],
  ['quic_t51.pcap', ['QUIC'], 0],
  ['quic_frags_ch_in_multiple_packets.pcapng', ['QUIC'], 0],
  ['quic_interop_V.pcapng', ['QUIC'], 0],
];

test('recognisers on nDPI captures: same protocol, QUIC SNI and JA3', { skip: skipWithoutShared(NDPI_REL), timeout: 60_000 }, (t) => {
  const base = sharedPath(NDPI_REL)!;
  let compared = 0;
  for (const [capture, masters, allowed] of REAL) {
    if (sharedPath(`${NDPI_REL}/pcap/${capture}`) === null) continue;
    const r = emptyReport();
    if (!compareFile(base, capture, r, pipelineWithRecognisers, masters)) continue;
    compared += r.proto.total;
    const wrong = r.mismatches.filter((m) => m.what === 'proto');
    assert.ok(wrong.length <= allowed, `${capture}: ${JSON.stringify(wrong)}`);
    assert.deepEqual(r.mismatches.filter((m) => m.what !== 'proto'), [], capture);
  }
  t.diagnostic(`${compared} nDPI flows compared`);
  assert.ok(compared >= 100, `only ${compared} flows compared`);
});

test('quic and flow records of recognised flows validate against Suricata 7.0.4 EVE schema', { skip: skipWithoutShared(NDPI_REL) || skipWithoutShared(EVE_SCHEMA), timeout: 60_000 }, () => {
  const protos = new Set<string>();
  let quic = 0;
  for (const capture of ['quic.pcap', 'quic-v2.pcapng', 'quic_q50.pcap', 'quic-mvfst-22.pcap', 'pgsql.pcap', 'bittorrent_utp.pcap', 'rdp.pcap']) {
    const path = sharedPath(`${NDPI_REL}/pcap/${capture}`);
    if (path === null) continue;
    const eve = new EveCollector();
    const p = pipelineWithRecognisers(eve);
    readCaptureFile(path, p, { onLinkType: (lt) => assertSupportedLinkType(lt, path) });
    p.finish();
    for (const rec of eve.out) {
      if (rec.event_type !== 'quic' && rec.event_type !== 'flow') continue;
      if (typeof rec.app_proto === 'string') protos.add(rec.app_proto);
      if (rec.event_type === 'quic') quic++;
      assert.deepEqual(eveSchemaErrors(rec), [], `${capture}: ${JSON.stringify(rec)}`);
    }
  }
  assert.ok(quic >= 8, `only ${quic} quic records`);
  for (const name of ['quic', 'pgsql', 'bittorrent-dht', 'rdp']) assert.ok(protos.has(name), `no ${name} flow among ${[...protos].join(',')}`);
});

test('recognisers: fuzz (mutated, truncated first messages and QUIC Initials)', { timeout: 120_000 }, (t) => {
  const iterations = Number(process.env.HARRIER_FUZZ_ITERATIONS ?? 20000);
  const hello = hs(1, clientHelloBody({ ciphers: [0x1301], exts: [sniExt('fuzz.example'), groupsExt([29])] }));
  const seeds = [...FIRST_MESSAGES.map((m) => m[3]), buildInitial(Buffer.from('0011223344556677', 'hex'), hello)];
  let seed = 99;
  const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 4) % n;
  const all = [...RECOGNISERS, quicParser as AnyDecl];
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = Date.now();
  for (let i = 0; i < iterations; i++) {
    const src = seeds[rnd(seeds.length)]!;
    // Half whole (so the QUIC seed reaches decryption and frame walking), half truncated.
    const b = Buffer.from(rnd(2) === 0 ? src : src.subarray(0, 1 + rnd(src.length)));
    for (let k = rnd(4); k > 0; k--) b[rnd(b.length)] = rnd(256);
    for (const d of all) {
      const dir = (i & 1) as Direction;
      d.probe(dir, b, 0, b.length);
      const st = d.create({ tx: () => {}, event: () => {}, abandon: () => {} });
      d.parse(st, dir, b, 0, b.length, 0);
    }
  }
  const ms = Date.now() - t0;
  const grown = process.memoryUsage().heapUsed - heap0;
  t.diagnostic(`${iterations} inputs × ${all.length} protocols in ${ms} ms, heap +${(grown / 1048576).toFixed(1)} MiB`);
  assert.ok(grown < 64 * 1024 * 1024, `heap grew ${grown} bytes`);
  assert.ok(ms < 100_000, `${iterations} iterations took ${ms} ms`);
});
