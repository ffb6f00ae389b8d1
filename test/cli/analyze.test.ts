// End-to-end tests of `harrier analyze` as a user runs it: a child process,
// real capture files, EVE JSON out, one-line errors and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, sharedPath, skipWithoutShared, skipWithoutProgram } from '../support/shared.js';

const BIN = join(REPO_ROOT, 'bin', 'harrier.js');

function harrier(args: string[], input?: Buffer): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'buffer', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}

function eveLines(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A tiny Ethernet/IPv4/UDP capture built here, so these tests need no shared data. */
function tinyCapture(dir: string): string {
  const hdr = Buffer.alloc(24);
  hdr.writeUInt32LE(0xa1b2c3d4, 0);
  hdr.writeUInt16LE(2, 4);
  hdr.writeUInt16LE(4, 6);
  hdr.writeUInt32LE(65535, 16);
  hdr.writeUInt32LE(1, 20);
  const recs: Buffer[] = [hdr];
  for (let i = 0; i < 4; i++) {
    const toServer = i % 2 === 0;
    const payload = Buffer.from(`hello ${i}`);
    const ip = Buffer.alloc(20 + 8 + payload.length);
    ip[0] = 0x45;
    ip.writeUInt16BE(ip.length, 2);
    ip[8] = 64;
    ip[9] = 17;
    const a = [10, 244, 1, 5];
    const b = [10, 244, 2, 7];
    Buffer.from(toServer ? a : b).copy(ip, 12);
    Buffer.from(toServer ? b : a).copy(ip, 16);
    ip.writeUInt16BE(toServer ? 40000 : 5353, 20);
    ip.writeUInt16BE(toServer ? 5353 : 40000, 22);
    ip.writeUInt16BE(8 + payload.length, 24);
    payload.copy(ip, 28);
    const eth = Buffer.concat([Buffer.from('020000000002020000000001', 'hex'), Buffer.from([0x08, 0x00]), ip]);
    const rh = Buffer.alloc(16);
    rh.writeUInt32LE(1_700_000_000 + i, 0);
    rh.writeUInt32LE(1000 * i, 4);
    rh.writeUInt32LE(eth.length, 8);
    rh.writeUInt32LE(eth.length, 12);
    recs.push(rh, eth);
  }
  const p = join(dir, 'tiny.pcap');
  writeFileSync(p, Buffer.concat(recs));
  return p;
}

test('--help and --version exit 0 and print usage / the package version', () => {
  const h = harrier(['--help']);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /analyze/);
  const v = harrier(['--version']);
  assert.equal(v.status, 0);
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(v.stdout.trim(), pkg.version);
});

test('a bad option is a one-line error with exit status 2, no stack trace', () => {
  const r = harrier(['analyze', '--no-such-option', 'x.pcap']);
  assert.equal(r.status, 2);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^harrier: /);
  assert.doesNotMatch(r.stderr, /\s+at\s/);
});

test('an unreadable capture is a one-line error naming the file, exit status 1', () => {
  const r = harrier(['analyze', '/nonexistent/capture.pcap']);
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /\/nonexistent\/capture\.pcap/);
  assert.match(r.stderr, /HARRIER_ERR_INPUT_OPEN/);
});

test('a file that is not a capture is refused in one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-cli-'));
  const p = join(dir, 'notes.txt');
  writeFileSync(p, 'this is not a capture file at all\n');
  const r = harrier(['analyze', p]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /HARRIER_ERR_CAPTURE_FORMAT/);
});

test('a bad config value is a one-line error naming the key, exit status 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-cli-'));
  const cfg = join(dir, 'bad.yaml');
  writeFileSync(cfg, 'flow:\n  memcap: lots\n');
  const r = harrier(['analyze', tinyCapture(dir), '--config', cfg]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /flow\.memcap/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});

test('analyze writes flow and stats EVE records and a summary', () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-cli-'));
  const eve = join(dir, 'out', 'eve.json');
  const r = harrier(['analyze', tinyCapture(dir), '--eve', eve]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /4 packets/);
  assert.match(r.stdout, /flows: 1 \(UDP 1\)/);
  const recs = eveLines(eve);
  const flows = recs.filter((x) => x.event_type === 'flow');
  assert.equal(flows.length, 1);
  const f = flows[0] as { src_ip: string; dest_ip: string; src_port: number; dest_port: number; proto: string; flow: Record<string, unknown> };
  assert.equal(f.src_ip, '10.244.1.5');
  assert.equal(f.dest_ip, '10.244.2.7');
  assert.equal(f.src_port, 40000);
  assert.equal(f.dest_port, 5353);
  assert.equal(f.proto, 'UDP');
  assert.equal(f.flow.pkts_toserver, 2);
  assert.equal(f.flow.pkts_toclient, 2);
  assert.equal(f.flow.start, '2023-11-14T22:13:20.000000+0000');
  assert.equal(f.flow.reason, 'shutdown');
  const stats = recs.filter((x) => x.event_type === 'stats');
  assert.equal(stats.length, 1);
  assert.equal(((stats[0].stats as Record<string, Record<string, number>>).decoder).pkts, 4);
});

test('EVE to standard output keeps the summary on stderr; a capture read from standard input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-cli-'));
  const cap = readFileSync(tinyCapture(dir));
  const r = harrier(['analyze', '-', '--eve', '-'], cap);
  assert.equal(r.status, 0, r.stderr);
  const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(recs.some((x) => x.event_type === 'flow'));
  assert.match(r.stderr, /4 packets/);
});

test('a pipe from tcpdump -w - is analysed like the file', { skip: skipWithoutShared('pcaps/chrissanders/http_google.pcapng') || skipWithoutProgram('tcpdump') }, () => {
  const src = sharedPath('pcaps/chrissanders/http_google.pcapng')!;
  const dir = mkdtempSync(join(tmpdir(), 'harrier-cli-'));
  const piped = execFileSync('tcpdump', ['-r', src, '-w', '-'], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 28 });
  const a = harrier(['analyze', '-', '--eve', join(dir, 'a.json'), '--quiet'], piped);
  const b = harrier(['analyze', src, '--eve', join(dir, 'b.json'), '--quiet']);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(b.status, 0, b.stderr);
  const flows = (p: string): string[] => eveLines(p).filter((x) => x.event_type === 'flow').map((x) => JSON.stringify(x.flow));
  assert.deepEqual(flows(join(dir, 'a.json')), flows(join(dir, 'b.json')));
  assert.ok(flows(join(dir, 'a.json')).length > 0);
});

test('an 802.11 capture is refused with one line naming the link type', { skip: skipWithoutShared('pcaps/chrissanders/80211beacon.pcapng') }, () => {
  const r = harrier(['analyze', sharedPath('pcaps/chrissanders/80211beacon.pcapng')!]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /802\.11/);
  assert.match(r.stderr, /HARRIER_ERR_LINKTYPE/);
});

test('the demo capture shipped with the project analyses cleanly', { skip: existsSync(join(REPO_ROOT, 'examples/demo/demo.pcap')) ? false : 'examples/demo/demo.pcap not made yet' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-cli-'));
  const r = harrier(['analyze', join(REPO_ROOT, 'examples/demo/demo.pcap'), '--eve', join(dir, 'eve.json')]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(eveLines(join(dir, 'eve.json')).filter((x) => x.event_type === 'flow').length > 10);
});
