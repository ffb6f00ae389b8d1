// In-protocol TLS upgrades, through the real application-layer stage and
// registry: SMTP STARTTLS (RFC 3207), FTP AUTH TLS (RFC 4217), MySQL's
// SSLRequest, IMAP STARTTLS and POP3 STLS (RFC 2595). For each: the upgrade
// accepted (the TLS handshake that follows is parsed, the flow becomes
// `tls` with `app_proto_orig` the original protocol), refused (it stays),
// pipelined commands with the ClientHello in the same segment, replies split
// across segments at every byte, hostile long lines (bounded, no crash),
// and the probes still recognising each protocol.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppLayer } from '../../src/applayer/stage.js';
import { APP_PARSERS } from '../../src/applayer/registry.js';
import { Probe, type AppParserDecl, type Direction } from '../../src/applayer/parser.js';
import { flowRecord } from '../../src/events/flow-event.js';
import { Flow } from '../../src/flow/flow.js';
import { HEAD, MAX_HELD, type DialogueState } from '../../src/applayer/smtp/dialogue.js';
import { probeSmtp, smtpParser, type SmtpState } from '../../src/applayer/smtp/index.js';
import { ftpParser, probeFtp } from '../../src/applayer/ftp/index.js';
import { mysqlParser, probeMysql } from '../../src/applayer/mysql/index.js';
import { imapParser, probeImap } from '../../src/applayer/imap/index.js';
import { pop3Parser, probePop3 } from '../../src/applayer/pop3/index.js';
import { probeRedis } from '../../src/applayer/redis/index.js';
import { clientHelloBody, hs, record, serverHelloBody, sniExt } from './tls-build.js';

type Rec = Record<string, unknown>;
type Chunk = readonly [Direction, string | Buffer];

const SYN = 0x02;
let nextPort = 41000;

function tcpFlow(serverPort: number): Flow {
  const f = new Flow(4);
  f.proto = 6;
  f.client4 = 0x0a000001;
  f.server4 = 0x0a000002;
  f.clientPort = nextPort++;
  f.serverPort = serverPort;
  f.flowId = nextPort;
  f.tcpFlagsToServer = SYN;
  return f;
}

const clientHello = (sni: string): Buffer => record(0x16, hs(1, clientHelloBody({ ciphers: [0x1301, 0xc02f], exts: [sniExt(sni)] })), 0x0301);
const serverHello = (): Buffer => record(0x16, hs(2, serverHelloBody({ cipher: 0xc02f, exts: [] })));
const bytes = (s: string | Buffer): Buffer => (typeof s === 'string' ? Buffer.from(s, 'latin1') : s);

interface Outcome {
  flow: Flow;
  out: Rec[];
  stats: Record<string, number>;
  sni: (string | undefined)[];
}

/** Feeds the conversation through a fresh stage, one chunk per call, and ends the flow. */
function converse(port: number, chunks: readonly Chunk[]): Outcome {
  const out: Rec[] = [];
  const app = new AppLayer(APP_PARSERS, (r) => out.push(r));
  app.setTime(1_700_000_000, 0);
  const flow = tcpFlow(port);
  for (const [dir, s] of chunks) {
    const b = bytes(s);
    app.tcpData(flow, dir, b, 0, b.length);
  }
  app.flowEnd(flow);
  const sni = out.filter((r) => r.event_type === 'tls').map((r) => (r.tls as Rec).sni as string | undefined);
  return { flow, out, stats: app.stats() as Record<string, number>, sni };
}

function assertTls(o: Outcome, orig: string, sni: string): void {
  assert.equal(o.flow.appProto, 'tls', JSON.stringify(o.stats));
  assert.deepEqual(o.sni, [sni]);
  const rec = flowRecord(o.flow);
  assert.equal(rec.app_proto, 'tls');
  assert.equal(rec.app_proto_orig, orig);
  const tls = o.out.find((r) => r.event_type === 'tls')!;
  assert.equal(tls.app_proto, 'tls');
  assert.equal(tls.src_port, o.flow.clientPort);
}

function assertStays(o: Outcome, proto: string): void {
  assert.equal(o.flow.appProto, proto, JSON.stringify(o.stats));
  assert.deepEqual(o.sni, []);
  assert.equal(flowRecord(o.flow).app_proto_orig, undefined);
}

/** Every way of cutting the server's bytes (or the client's) in two: the outcome must not change. */
function everySplit(port: number, chunks: readonly Chunk[], check: (o: Outcome) => void): void {
  for (let c = 0; c < chunks.length; c++) {
    const whole = bytes(chunks[c]![1]);
    for (let i = 1; i < whole.length; i++) {
      const d = chunks[c]![0];
      const cut: Chunk[] = [...chunks.slice(0, c), [d, whole.subarray(0, i)], [d, whole.subarray(i)], ...chunks.slice(c + 1)];
      check(converse(port, cut));
    }
  }
}

// ---------------------------------------------------------------------------
// SMTP

const smtpOpen: Chunk[] = [
  [1, '220 mx.example ESMTP ready\r\n'],
  [0, 'EHLO client.example\r\n'],
  [1, '250-mx.example\r\n250-PIPELINING\r\n250 STARTTLS\r\n'],
];

test('smtp: STARTTLS answered 220 continues in TLS (SNI parsed, app_proto tls, app_proto_orig smtp)', () => {
  const o = converse(25, [...smtpOpen, [0, 'STARTTLS\r\n'], [1, '220 2.0.0 Ready to start TLS\r\n'], [0, clientHello('mail.example')], [1, serverHello()]]);
  assertTls(o, 'smtp', 'mail.example');
  assert.equal(o.stats['harrier.app_layer.switched.smtp_to_detection'], 1);
  // lower case, LF line ends, and on an unusual port: content decides
  const p = converse(2626, [[1, '220 mx ESMTP\n'], [0, 'ehlo c\n'], [1, '250 ok\n'], [0, 'starttls\n'], [1, '220 go ahead\n'], [0, clientHello('lf.example')]]);
  assertTls(p, 'smtp', 'lf.example');
});

test('smtp: STARTTLS refused (454, 502, 501) stays smtp; a later STARTTLS accepted upgrades', () => {
  for (const refusal of ['454 4.7.0 TLS not available\r\n', '502 5.5.1 Unrecognized command\r\n', '501 Syntax error\r\n']) {
    const o = converse(25, [...smtpOpen, [0, 'STARTTLS\r\n'], [1, refusal], [0, clientHello('no.example')], [0, 'QUIT\r\n'], [1, '221 bye\r\n']]);
    assertStays(o, 'smtp');
  }
  const o = converse(25, [...smtpOpen, [0, 'STARTTLS\r\n'], [1, '454 try again\r\n'], [0, 'STARTTLS\r\n'], [1, '220 ok now\r\n'], [0, clientHello('second.example')]]);
  assertTls(o, 'smtp', 'second.example');
});

test('smtp: pipelined EHLO + STARTTLS + ClientHello in one segment, replies in one segment with the ServerHello', () => {
  const o = converse(25, [
    [1, '220 mx.example ESMTP\r\n'],
    [0, Buffer.concat([bytes('EHLO c.example\r\nSTARTTLS\r\n'), clientHello('pipelined.example')])],
    [1, Buffer.concat([bytes('250-mx.example\r\n250 PIPELINING\r\n220 Ready\r\n'), serverHello()])],
  ]);
  assertTls(o, 'smtp', 'pipelined.example');
  // the 220 greeting is no answer to STARTTLS; the 250 to EHLO is not either: refused by 454 in the same segment
  const r = converse(25, [[1, '220 mx ESMTP\r\n'], [0, 'EHLO a\r\nSTARTTLS\r\n'], [1, '250 ok\r\n454 no TLS\r\n'], [0, 'MAIL FROM:<a@b>\r\n']]);
  assertStays(r, 'smtp');
});

test('smtp: the answer and the conversation split at every byte give the same outcome', () => {
  const conv: Chunk[] = [...smtpOpen, [0, 'STARTTLS\r\n'], [1, Buffer.concat([bytes('220 2.0.0 Ready\r\n'), serverHello()])], [0, clientHello('split.example')]];
  everySplit(25, conv, (o) => assertTls(o, 'smtp', 'split.example'));
  const refused: Chunk[] = [...smtpOpen, [0, 'STARTTLS\r\n'], [1, '454 4.7.0 not now\r\n'], [0, 'QUIT\r\n']];
  everySplit(25, refused, (o) => assertStays(o, 'smtp'));
});

test('smtp: message content after DATA and BDAT chunks are not commands', () => {
  const body = 'Subject: x\r\n\r\nSTARTTLS\r\n';
  const o = converse(25, [
    ...smtpOpen,
    [0, 'MAIL FROM:<a@b>\r\n'], [1, '250 ok\r\n'],
    [0, 'RCPT TO:<c@d>\r\n'], [1, '250 ok\r\n'],
    [0, 'DATA\r\n'], [1, '354 go\r\n'],
    [0, body], [1, '220 not an answer to anything\r\n'],
    [0, '.\r\n'], [1, '250 queued\r\n'],
    [0, 'BDAT 10 LAST\r\nSTARTTLS\r\n'], [1, '220 still nothing\r\n'],
    [0, 'QUIT\r\n'], [1, '221 bye\r\n'],
  ]);
  assertStays(o, 'smtp');
  // DATA refused: the client's next line is a command again
  const p = converse(25, [...smtpOpen, [0, 'DATA\r\n'], [1, '503 need MAIL\r\n'], [0, 'STARTTLS\r\n'], [1, '220 go\r\n'], [0, clientHello('after-data.example')]]);
  assertTls(p, 'smtp', 'after-data.example');
});

test('smtp: hostile long lines are bounded and never read as commands; parsing goes on after them', () => {
  const st = smtpParser.create({ tx() {}, event() {}, abandon() {} }) as SmtpState;
  const long = Buffer.alloc(1 << 20, 0x41);
  smtpParser.parse(st, 1, bytes('220 mx ESMTP\r\n'), 0, 14, 0);
  for (let i = 0; i < 8; i++) smtpParser.parse(st, 0, long, 0, long.length, 0); // 8 MiB without a line end
  smtpParser.parse(st, 0, bytes('STARTTLS\r\n'), 0, 10, 0); // ends the long line: not the command
  assert.equal(st.awaiting, false);
  assert.equal(st.longLines, 1);
  assert.equal(st.head[0].length, HEAD, 'the line buffer never grows');
  smtpParser.parse(st, 1, bytes('500 line too long\r\n'), 0, 19, 0);
  const o = converse(25, [...smtpOpen, [0, Buffer.concat([bytes('X'.repeat(100000)), bytes('STARTTLS\r\n')])], [1, '500 what\r\n'], [1, Buffer.alloc(300000, 0x32)], [1, '\r\n'], [0, 'STARTTLS\r\n'], [1, '220 ok\r\n'], [0, clientHello('late.example')]]);
  assertTls(o, 'smtp', 'late.example');
  // a line whose head reads "STARTTLS" and spaces but that goes on past the head is not the command
  const padded = converse(25, [...smtpOpen, [0, 'STARTTLS' + ' '.repeat(HEAD) + 'x\r\n'], [1, '220 not for you\r\n'], [0, clientHello('pad.example')]]);
  assertStays(padded, 'smtp');
  // held client bytes after STARTTLS are bounded too
  const s2 = smtpParser.create({ tx() {}, event() {}, abandon() {} }) as SmtpState;
  smtpParser.parse(s2, 0, bytes('STARTTLS\r\n'), 0, 10, 0);
  for (let i = 0; i < 4; i++) smtpParser.parse(s2, 0, long, 0, long.length, 0);
  assert.equal(s2.heldLen, MAX_HELD);
});

test('smtp: probes still recognise SMTP (greeting naming ESMTP, EHLO) and not FTP greetings', () => {
  const probe = (dir: Direction, s: string): Probe => probeSmtp(dir, bytes(s), 0, s.length);
  assert.equal(probe(1, '220 mx.example ESMTP Postfix\r\n'), Probe.YES);
  assert.equal(probe(0, 'EHLO x\r\n'), Probe.YES);
  assert.equal(probe(1, '220 ProFTPD Server ready\r\n'), Probe.NO);
  assert.equal(converse(25, smtpOpen).flow.appProto, 'smtp');
});

// ---------------------------------------------------------------------------
// FTP

const ftpOpen: Chunk[] = [[1, '220 FTP server ready\r\n']];

test('ftp: AUTH TLS answered 234 continues in TLS; AUTH SSL too', () => {
  assertTls(converse(21, [...ftpOpen, [0, 'AUTH TLS\r\n'], [1, '234 Proceed with negotiation.\r\n'], [0, clientHello('ftp.example')], [1, serverHello()]]), 'ftp', 'ftp.example');
  assertTls(converse(21, [...ftpOpen, [0, 'auth ssl\r\n'], [1, '234 AUTH SSL ok\r\n'], [0, clientHello('ssl.example')]]), 'ftp', 'ssl.example');
  // an FTPS client opens with AUTH TLS: recognised even when the greeting names nothing
  assertTls(converse(21, [[1, '220 "Authorized users only"\r\n'], [0, 'AUTH TLS\r\n'], [1, '234 go\r\n'], [0, clientHello('anon.example')]]), 'ftp', 'anon.example');
});

test('ftp: AUTH TLS refused (534, 504, 500) stays ftp', () => {
  for (const refusal of ['534 Policy requires SSL.\r\n', '504 Not implemented\r\n', '500 AUTH not understood\r\n']) {
    assertStays(converse(21, [...ftpOpen, [0, 'AUTH TLS\r\n'], [1, refusal], [0, 'USER anonymous\r\n'], [1, '331 pass\r\n']]), 'ftp');
  }
});

test('ftp: multi-line replies end at "ddd " only; 1yz replies are preliminary', () => {
  // a multi-line 234 whose middle lines start with other codes
  const o = converse(21, [
    [1, '220-Welcome\r\n220-to the\r\n220 FTP server\r\n'],
    [0, 'USER a\r\n'], [1, '331 password\r\n'],
    [0, 'PASS b\r\n'], [1, '230-Logged in\r\n500 not the end\r\n230 done\r\n'],
    [0, 'AUTH TLS\r\n'], [1, '234-Here\r\n550 still inside\r\n'], [1, '234 go\r\n'],
    [0, clientHello('multi.example')],
  ]);
  assertTls(o, 'ftp', 'multi.example');
  // 150 then 226 for RETR: the 226 is RETR's, the next reply answers AUTH TLS
  const p = converse(21, [...ftpOpen, [0, 'RETR f\r\nAUTH TLS\r\n'], [1, '150 Opening\r\n226 Done\r\n'], [1, '534 refused\r\n'], [0, clientHello('x.example')]]);
  assertStays(p, 'ftp');
  const conv: Chunk[] = [...ftpOpen, [0, 'AUTH TLS\r\n'], [1, Buffer.concat([bytes('234-a\r\n234 b\r\n'), serverHello()])], [0, clientHello('s.example')]];
  everySplit(21, conv, (r) => assertTls(r, 'ftp', 's.example'));
});

test('ftp: probes recognise the greeting, USER and AUTH TLS; a long line is no probe match', () => {
  const probe = (dir: Direction, s: string): Probe => probeFtp(dir, bytes(s), 0, s.length);
  assert.equal(probe(1, '220 ProFTPD 1.3.5 Server ready\r\n'), Probe.YES);
  assert.equal(probe(0, 'USER anonymous\r\n'), Probe.YES);
  assert.equal(probe(0, 'AUTH TLS\r\n'), Probe.YES);
  assert.equal(probe(0, 'AUTH'), Probe.NEED_MORE);
  assert.equal(probe(0, 'AUTH LOGIN\r\n'), Probe.NO);
  assert.equal(probe(0, 'AUTH TLS' + 'x'.repeat(100)), Probe.NO);
});

// ---------------------------------------------------------------------------
// MySQL

function mysqlGreeting(): Buffer {
  const body = Buffer.concat([
    Buffer.from([10]), bytes('8.0.36\0'), Buffer.from([1, 0, 0, 0]), Buffer.alloc(8, 0x41),
    Buffer.from([0, 0xff, 0xff, 0x21, 2, 0, 0xff, 0xc1, 21]), Buffer.alloc(10), Buffer.alloc(13, 0x42), bytes('caching_sha2_password\0'),
  ]);
  return Buffer.concat([Buffer.from([body.length & 0xff, body.length >> 8, 0, 0]), body]);
}

/** A client packet with sequence id 1 and these capability flags; `extra` payload after the 32-byte fixed part. */
function mysqlClient(caps: number, extra: Buffer = Buffer.alloc(0)): Buffer {
  const payload = Buffer.concat([Buffer.from([caps & 0xff, (caps >> 8) & 0xff, (caps >> 16) & 0xff, caps >>> 24]), Buffer.from([0, 0, 0, 1, 0xff]), Buffer.alloc(23), extra]);
  return Buffer.concat([Buffer.from([payload.length & 0xff, payload.length >> 8, 0, 1]), payload]);
}
const CAPS_SSL = 0x0000aa85 | 0x0800 | 0x0200;
const CAPS_PLAIN = 0x0000a285 | 0x0200;

test('mysql: an SSLRequest after the greeting continues in TLS (alone, with the ClientHello, split at every byte)', () => {
  const ssl = mysqlClient(CAPS_SSL);
  assert.equal(ssl.length, 36);
  assertTls(converse(3306, [[1, mysqlGreeting()], [0, ssl], [0, clientHello('db.example')], [1, serverHello()]]), 'mysql', 'db.example');
  assertTls(converse(3306, [[1, mysqlGreeting()], [0, Buffer.concat([ssl, clientHello('one.example')])]]), 'mysql', 'one.example');
  everySplit(3306, [[1, mysqlGreeting()], [0, Buffer.concat([ssl, clientHello('cut.example')])]], (o) => assertTls(o, 'mysql', 'cut.example'));
  // pre-4.1 form: 2-byte caps + 3-byte max packet size
  const old = Buffer.from([5, 0, 0, 1, 0x85, 0x08, 0, 0, 1]); // CLIENT_SSL without CLIENT_PROTOCOL_41
  assertTls(converse(3306, [[1, mysqlGreeting()], [0, old], [0, clientHello('old.example')]]), 'mysql', 'old.example');
});

test('mysql: a plain login, or CLIENT_SSL on a full handshake response, stays mysql', () => {
  const login = mysqlClient(CAPS_PLAIN, bytes('root\0\x14' + 'p'.repeat(20) + 'mysql_native_password\0'));
  assertStays(converse(3306, [[1, mysqlGreeting()], [0, login], [1, Buffer.from([7, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0])], [0, clientHello('no.example')]]), 'mysql');
  const full = mysqlClient(CAPS_SSL, bytes('root\0\0'));
  assertStays(converse(3306, [[1, mysqlGreeting()], [0, full], [0, clientHello('no2.example')]]), 'mysql');
  // the probe still recognises the greeting, and only it
  assert.equal(probeMysql(1, mysqlGreeting(), 0, mysqlGreeting().length), Probe.YES);
  assert.equal(probeMysql(0, mysqlClient(CAPS_SSL), 0, 36), Probe.NO);
});

// ---------------------------------------------------------------------------
// IMAP

const imapOpen: Chunk[] = [
  [1, '* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n'],
  [0, 'a1 CAPABILITY\r\n'],
  [1, '* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK done\r\n'],
];

test('imap: tagged STARTTLS answered OK continues in TLS; NO or BAD stays imap', () => {
  assertTls(converse(143, [...imapOpen, [0, 'a2 STARTTLS\r\n'], [1, 'a2 OK Begin TLS negotiation now\r\n'], [0, clientHello('imap.example')], [1, serverHello()]]), 'imap', 'imap.example');
  for (const refusal of ['a2 NO not now\r\n', 'a2 BAD unknown\r\n']) {
    assertStays(converse(143, [...imapOpen, [0, 'a2 STARTTLS\r\n'], [1, refusal], [0, 'a3 LOGOUT\r\n'], [1, '* BYE\r\na3 OK\r\n']]), 'imap');
  }
  // untagged and other tags' OKs do not answer it
  assertStays(converse(143, [...imapOpen, [0, 'a2 STARTTLS\r\n'], [1, '* OK still here\r\na1 OK old\r\na2 NO\r\n'], [0, clientHello('x.example')]]), 'imap');
  const conv: Chunk[] = [...imapOpen, [0, 'x STARTTLS\r\n'], [1, Buffer.concat([bytes('x OK go\r\n'), serverHello()])], [0, clientHello('i.example')]];
  everySplit(143, conv, (o) => assertTls(o, 'imap', 'i.example'));
});

test('imap: literals are passed over in both directions', () => {
  const o = converse(143, [
    ...imapOpen,
    // the 13 literal bytes read like a STARTTLS command; they are a user name
    [0, 'a2 LOGIN {13}\r\n'], [1, '+ go ahead\r\n'], [0, 'a2 STARTTLS\r\n pass\r\n'],
    [1, 'a2 OK logged in\r\n'],
    [0, 'a4 STARTTLS\r\n'], [1, 'a4 OK go\r\n'], [0, clientHello('lit.example')],
  ]);
  assertTls(o, 'imap', 'lit.example');
  // a server literal (message text) holding the pending STARTTLS's tagged OK is not the answer
  const p = converse(143, [
    ...imapOpen,
    [0, 'a3 FETCH 1 BODY[]\r\na4 STARTTLS\r\n'],
    [1, '* 1 FETCH (BODY[] {10}\r\na4 OK hi\r\n)\r\na3 OK\r\n'],
    [1, 'a4 NO not now\r\n'],
    [0, 'a5 LOGOUT\r\n'],
  ]);
  assertStays(p, 'imap');
});

test('imap: probes recognise the greeting and a first tagged command; not other protocols', () => {
  const probe = (dir: Direction, s: string): Probe => probeImap(dir, bytes(s), 0, s.length);
  assert.equal(probe(1, '* OK Dovecot ready.\r\n'), Probe.YES);
  assert.equal(probe(1, '* PREAUTH welcome\r\n'), Probe.YES);
  assert.equal(probe(1, '* OK'), Probe.NEED_MORE);
  assert.equal(probe(0, 'a001 CAPABILITY\r\n'), Probe.YES);
  assert.equal(probe(0, '. STARTTLS\r\n'), Probe.YES);
  assert.equal(probe(0, 'GET / HTTP/1.1\r\n'), Probe.NO);
  assert.equal(probe(0, 'EHLO x\r\n'), Probe.NO);
  assert.equal(probe(1, '220 mx ESMTP\r\n'), Probe.NO);
  assert.equal(converse(143, imapOpen).flow.appProto, 'imap');
  assert.equal(converse(9143, imapOpen).flow.appProto, 'imap', 'content, not port');
});

// ---------------------------------------------------------------------------
// POP3

const popOpen: Chunk[] = [
  [1, '+OK POP3 server ready\r\n'],
  [0, 'CAPA\r\n'],
  [1, '+OK Capability list follows\r\nSTLS\r\nUSER\r\n.\r\n'],
];

test('pop3: STLS answered +OK continues in TLS; -ERR stays pop3', () => {
  assertTls(converse(110, [...popOpen, [0, 'STLS\r\n'], [1, '+OK Begin TLS\r\n'], [0, clientHello('pop.example')], [1, serverHello()]]), 'pop3', 'pop.example');
  assertStays(converse(110, [...popOpen, [0, 'STLS\r\n'], [1, '-ERR not available\r\n'], [0, 'USER a\r\n'], [1, '+OK\r\n']]), 'pop3');
  const conv: Chunk[] = [...popOpen, [0, 'STLS\r\n'], [1, Buffer.concat([bytes('+OK go\r\n'), serverHello()])], [0, clientHello('p.example')]];
  everySplit(110, conv, (o) => assertTls(o, 'pop3', 'p.example'));
});

test('pop3: pipelined CAPA + STLS: lines of the CAPA body are not the answer to STLS', () => {
  const o = converse(110, [
    [1, '+OK ready\r\n'],
    [0, 'CAPA\r\nSTLS\r\n'],
    [1, '+OK caps\r\n+OK this line is capability text\r\n.\r\n-ERR no TLS\r\n'],
    [0, 'QUIT\r\n'],
  ]);
  assertStays(o, 'pop3');
  const p = converse(110, [[1, '+OK ready\r\n'], [0, Buffer.concat([bytes('CAPA\r\nSTLS\r\n'), clientHello('pp.example')])], [1, '+OK caps\r\n-ERR text\r\n.\r\n+OK go\r\n']]);
  assertTls(p, 'pop3', 'pp.example');
});

test('pop3: probes recognise the greeting and CAPA/STLS; a bare Redis +OK is not POP3', () => {
  const probe = (dir: Direction, s: string): Probe => probePop3(dir, bytes(s), 0, s.length);
  assert.equal(probe(1, '+OK Dovecot ready.\r\n'), Probe.YES);
  assert.equal(probe(1, '+OK\r\n'), Probe.NO);
  assert.equal(probe(0, 'CAPA\r\n'), Probe.YES);
  assert.equal(probe(0, 'STLS\r\n'), Probe.YES);
  assert.equal(probe(0, 'USER a\r\n'), Probe.YES, 'USER (FTP too: port and registry order decide)');
  assert.equal(probe(0, 'AUTH\r\n'), Probe.YES);
  assert.equal(probe(0, 'USER\r\n'), Probe.NO);
  assert.equal(probeRedis(0, bytes('CAPA\r\n'), 0, 6), Probe.NO);
  assert.equal(converse(110, popOpen).flow.appProto, 'pop3');
  // a session the greeting identified, then USER/PASS: no protocol mismatch (USER is also FTP's first command)
  const o = converse(110, [[1, '+OK ready\r\n'], [0, 'USER bob\r\n'], [1, '+OK\r\n'], [0, 'PASS x\r\n'], [1, '+OK\r\n']]);
  assert.equal(o.flow.appProto, 'pop3');
  assert.equal(o.out.filter((r) => r.event_type === 'anomaly').length, 0, JSON.stringify(o.out));
  assert.equal(converse(21, [[0, 'USER bob\r\n'], [1, '331 pass\r\n']]).flow.appProto, 'ftp');
});

// ---------------------------------------------------------------------------
// All five: hostile input

test('fuzz: mutated, truncated, arbitrarily split conversations never throw; state and heap stay bounded', { timeout: 120_000 }, (t) => {
  const perProtocol = Number(process.env.HARRIER_FUZZ_ITERATIONS ?? 2000);
  const decls: [AppParserDecl<unknown>, Chunk[]][] = [
    [smtpParser as AppParserDecl<unknown>, [...smtpOpen, [0, 'STARTTLS\r\nDATA\r\nBDAT 5\r\n'], [1, '220 go\r\n'], [0, clientHello('f.example')]]],
    [ftpParser as AppParserDecl<unknown>, [...ftpOpen, [0, 'AUTH TLS\r\n'], [1, '234-a\r\n234 b\r\n'], [0, clientHello('f.example')]]],
    [imapParser as AppParserDecl<unknown>, [...imapOpen, [0, 'a2 STARTTLS {5}\r\n'], [1, 'a2 OK {9}\r\n'], [0, clientHello('f.example')]]],
    [pop3Parser as AppParserDecl<unknown>, [...popOpen, [0, 'RETR 1\r\nSTLS\r\n'], [1, '+OK\r\nx\r\n.\r\n+OK\r\n'], [0, clientHello('f.example')]]],
    [mysqlParser as AppParserDecl<unknown>, [[1, mysqlGreeting()], [0, mysqlClient(CAPS_SSL)], [0, clientHello('f.example')]]],
  ];
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 4) % n;
  };
  const ctx = { tx() {}, event() {}, abandon() {} };
  let runs = 0;
  let switched = 0;
  // with --expose-gc (NODE_OPTIONS) the heap is measured after full collections, so growth means retained state
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = Date.now();
  for (const [decl, conv] of decls) {
    for (let iter = 0; iter < perProtocol; iter++) {
      const st = decl.create(ctx);
      for (const [dir, s] of conv) {
        let b = Buffer.from(bytes(s));
        for (let m = rnd(4); m > 0; m--) b[rnd(b.length)] = rnd(256);
        if (rnd(8) === 0) b = b.subarray(0, rnd(b.length + 1)); // truncated
        if (rnd(16) === 0) b = Buffer.concat([b, Buffer.alloc(rnd(600), rnd(256))]); // a run of one byte
        let p = 0;
        while (p < b.length) {
          const n = 1 + rnd(b.length - p);
          decl.parse(st, dir, b, p, n, 0);
          if (decl.switchTo?.(st, ctx)) switched++;
          p += n;
        }
      }
      decl.end?.(st);
      const d = st as Partial<DialogueState>;
      if (d.lineLen !== undefined && d.head !== undefined) {
        assert.ok(d.head[0].length === HEAD && d.head[1].length === HEAD);
        assert.ok((d.heldLen ?? 0) <= MAX_HELD);
      }
      runs++;
    }
  }
  gc?.();
  const growth = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
  t.diagnostic(`${runs} conversations (${perProtocol} × 5 protocols) in ${Date.now() - t0} ms, ${switched} parse calls answered by a switch, heap ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MiB`);
  assert.equal(runs, perProtocol * 5);
  assert.ok(switched > 0, 'some mutated conversations still upgrade');
  assert.ok(growth < 64, `heap grew ${growth.toFixed(1)} MiB`);
});
