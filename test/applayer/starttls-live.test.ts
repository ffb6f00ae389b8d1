/**
 * Real STARTTLS sessions made at test time: curl as the client (SMTP with
 * `--ssl-reqd` and with `--ssl` against a server that refuses, FTP with
 * `--ssl-reqd`, which tries `AUTH SSL` — refused here — then `AUTH TLS`),
 * small SMTP/FTP responders in this process that upgrade the socket with
 * `tls.TLSSocket` (a throw-away self-signed certificate made with openssl),
 * all on 127.0.0.1 and captured with tcpdump on lo. The capture goes
 * through the whole pipeline: the upgraded sessions are `tls` flows with
 * app_proto_orig `smtp`/`ftp` whose TLS record has the SNI curl sent, the
 * certificate's subject, and the JA3 tshark computes from the same capture;
 * the refused session stays `smtp`. No capture bytes are stored.
 * Skips without root, curl, openssl, tcpdump or tshark.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { readCaptureFile } from '../../src/capture/reader.js';
import { EveCollector } from '../../src/output/eve-writer.js';
import { defaultConfig } from '../../src/sensor/config.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { run } from '../support/tshark.js';
import { skipUnlessRoot, skipWithoutProgram } from '../support/shared.js';

type Rec = Record<string, unknown>;

const skip = skipUnlessRoot() || skipWithoutProgram('curl') || skipWithoutProgram('openssl') || skipWithoutProgram('tcpdump') || skipWithoutProgram('tshark');
const HOST = 'starttls.test';

interface Session {
  reply(s: string): void;
  startTls(): void;
  end(): void;
  readonly secure: boolean;
}

/** A line-oriented server: `greeting` on connect, then `onLine` for each line (in TLS after `startTls`). */
function lineServer(greeting: string, creds: { key: Buffer; cert: Buffer }, onLine: (line: string, s: Session) => void): Promise<net.Server> {
  const srv = net.createServer((raw) => {
    let sock: net.Socket = raw;
    let buf = '';
    let secure = false;
    const session: Session = {
      reply: (s) => void sock.write(s),
      startTls() {
        raw.removeAllListeners('data');
        const t = new tls.TLSSocket(raw, { isServer: true, key: creds.key, cert: creds.cert });
        t.on('data', onData);
        t.on('error', () => raw.destroy());
        sock = t;
        secure = true;
        buf = '';
      },
      end: () => void sock.end(),
      get secure() {
        return secure;
      },
    };
    function onData(d: Buffer): void {
      buf += d.toString('latin1');
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).replace(/\r$/, '');
        buf = buf.slice(i + 1);
        const before = sock;
        onLine(line, session);
        if (sock !== before) return; // upgraded: what follows is TLS, read by the TLS socket
      }
    }
    raw.on('data', onData);
    raw.on('error', () => raw.destroy());
    raw.write(greeting);
  });
  return new Promise((res) => srv.listen(0, '127.0.0.1', () => res(srv)));
}

function smtpServer(creds: { key: Buffer; cert: Buffer }, refuse: boolean): Promise<net.Server> {
  let data = false;
  return lineServer(`220 ${HOST} ESMTP harrier-test\r\n`, creds, (line, s) => {
    if (data) {
      if (line === '.') {
        data = false;
        s.reply('250 2.0.0 queued\r\n');
      }
      return;
    }
    const verb = line.split(' ')[0]!.toUpperCase();
    if (verb === 'EHLO') s.reply(s.secure ? `250-${HOST}\r\n250 PIPELINING\r\n` : `250-${HOST}\r\n250-PIPELINING\r\n250 STARTTLS\r\n`);
    else if (verb === 'STARTTLS') {
      if (refuse) s.reply('454 4.7.0 TLS not available due to temporary reason\r\n');
      else {
        s.reply('220 2.0.0 Ready to start TLS\r\n');
        s.startTls();
      }
    } else if (verb === 'MAIL' || verb === 'RCPT') s.reply('250 2.1.0 Ok\r\n');
    else if (verb === 'DATA') {
      data = true;
      s.reply('354 End data with <CR><LF>.<CR><LF>\r\n');
    } else if (verb === 'QUIT') {
      s.reply('221 2.0.0 Bye\r\n');
      s.end();
    } else s.reply('502 5.5.2 Error: command not recognized\r\n');
  });
}

function ftpServer(creds: { key: Buffer; cert: Buffer }): Promise<net.Server> {
  return lineServer('220 harrier-test FTP server ready\r\n', creds, (line, s) => {
    const [verb = '', arg = ''] = line.split(' ');
    switch (verb.toUpperCase()) {
      case 'AUTH':
        if (arg.toUpperCase() === 'TLS') {
          s.reply('234 Proceed with negotiation.\r\n');
          s.startTls();
        } else s.reply('504 Unknown AUTH type.\r\n');
        return;
      case 'USER': return s.reply('331 Please specify the password.\r\n');
      case 'PASS': return s.reply('230 Login successful.\r\n');
      case 'PBSZ': return s.reply('200 PBSZ=0\r\n');
      case 'PROT': return s.reply('200 PROT now Private.\r\n');
      case 'PWD': return s.reply('257 "/" is the current directory\r\n');
      case 'MDTM': return s.reply('213 20240101000000\r\n');
      case 'TYPE': return s.reply('200 Switching to Binary mode.\r\n');
      case 'SIZE': return s.reply('213 5\r\n');
      case 'REST': return s.reply('350 Restart position accepted (0).\r\n');
      case 'QUIT':
        s.reply('221 Goodbye.\r\n');
        return s.end();
      default: return s.reply('502 Command not implemented.\r\n');
    }
  });
}

/** curl, asynchronously (the servers run on this event loop); resolves with its exit code and stderr. */
function curl(args: string[]): Promise<{ code: number | null; err: string }> {
  return new Promise((res) => {
    const c = spawn('curl', ['-sS', '--max-time', '10', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('exit', (code) => res({ code, err }));
  });
}

test('curl SMTP STARTTLS (accepted and refused) and FTP AUTH TLS on lo: TLS parsed after the upgrade, agreeing with tshark', { skip, timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-starttls-'));
  const pcap = join(dir, 'starttls.pcap');
  const servers: net.Server[] = [];
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${HOST}`,
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const creds = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
    writeFileSync(join(dir, 'mail.txt'), 'Subject: test\r\n\r\nSTARTTLS\r\nhello\r\n');
    const smtp = await smtpServer(creds, false);
    const smtpNo = await smtpServer(creds, true);
    const ftp = await ftpServer(creds);
    servers.push(smtp, smtpNo, ftp);
    const [pS, pN, pF] = [smtp, smtpNo, ftp].map((s) => (s.address() as AddressInfo).port) as [number, number, number];

    const dump = spawn('tcpdump', ['-i', 'lo', '-n', '--immediate-mode', '-U', '-Z', 'root', '-s', '0', '-w', pcap, `tcp port ${pS} or tcp port ${pN} or tcp port ${pF}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      await new Promise<void>((res, rej) => {
        let err = '';
        dump.stderr.on('data', (d: Buffer) => { err += d.toString(); if (err.includes('listening on')) res(); });
        dump.on('exit', (code) => rej(new Error(`tcpdump exited ${code}: ${err}`)));
      });
      const mail = ['--mail-from', 'a@example.org', '--mail-rcpt', 'c@example.org', '-T', join(dir, 'mail.txt'), '-k'];
      const r1 = await curl([`smtp://${HOST}:${pS}`, '--resolve', `${HOST}:${pS}:127.0.0.1`, '--ssl-reqd', ...mail]);
      assert.equal(r1.code, 0, `curl smtp --ssl-reqd: ${r1.err}`);
      // --ssl (try): after the 454 curl carries on in clear
      const r2 = await curl([`smtp://${HOST}:${pN}`, '--resolve', `${HOST}:${pN}:127.0.0.1`, '--ssl', ...mail]);
      assert.equal(r2.code, 0, `curl smtp --ssl, refused: ${r2.err}`);
      const r3 = await curl([`ftp://${HOST}:${pF}/file.txt`, '--resolve', `${HOST}:${pF}:127.0.0.1`, '--ssl-reqd', '-k', '-I', '-u', 'user:secret']);
      assert.equal(r3.code, 0, `curl ftp --ssl-reqd: ${r3.err}`);
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      dump.kill('SIGINT');
      await new Promise((r) => dump.once('exit', r));
    }

    const eve = new EveCollector();
    const p = new Pipeline(defaultConfig(), { eve });
    readCaptureFile(pcap, p);
    p.finish();
    const flowOn = (port: number): Rec => {
      const f = eve.out.filter((r) => r.event_type === 'flow' && r.dest_port === port);
      assert.equal(f.length, 1, `one flow to port ${port}`);
      return f[0]!;
    };
    const tlsOn = (port: number): Rec[] => eve.out.filter((r) => r.event_type === 'tls' && r.dest_port === port);

    // tshark, told these ports carry SMTP and FTP, follows the upgrades itself
    const t = run('tshark', ['-r', pcap, '-n', '-d', `tcp.port==${pS},smtp`, '-d', `tcp.port==${pN},smtp`, '-d', `tcp.port==${pF},ftp`,
      '-Y', 'tls.handshake.type == 1', '-T', 'fields', '-e', 'tcp.dstport', '-e', 'tls.handshake.extensions_server_name', '-e', 'tls.handshake.ja3']);
    assert.equal(t.status, 0, t.stderr);
    const hellos = new Map(t.stdout.split('\n').filter((l) => l !== '').map((l) => { const [port, sni, ja3] = l.split('\t'); return [Number(port), { sni, ja3 }] as const; }));
    assert.deepEqual([...hellos.keys()].sort(), [pS, pF].sort(), 'tshark: ClientHellos on the two upgraded sessions only');

    for (const [port, orig] of [[pS, 'smtp'], [pF, 'ftp']] as const) {
      const f = flowOn(port);
      assert.equal(f.app_proto, 'tls', `${orig}: flow app_proto`);
      assert.equal(f.app_proto_orig, orig);
      const recs = tlsOn(port);
      assert.equal(recs.length, 1, `${orig}: one tls record`);
      const body = recs[0]!.tls as Rec;
      assert.equal(body.sni, HOST);
      assert.equal(body.sni, hellos.get(port)!.sni);
      assert.equal((body.ja3 as Rec).hash, hellos.get(port)!.ja3);
      // TLS 1.3 hides the certificate; curl/OpenSSL 3 and Node negotiate 1.3, so only 1.2 sessions carry a subject
      if (body.version !== 'TLS 1.3') assert.equal(body.subject, `CN=${HOST}`);
    }
    const refused = flowOn(pN);
    assert.equal(refused.app_proto, 'smtp');
    assert.equal(refused.app_proto_orig, undefined);
    assert.equal(tlsOn(pN).length, 0);
  } finally {
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
