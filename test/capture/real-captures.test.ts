/**
 * Real captures from ../shared/data/pcaps, checked against Wireshark's tools
 * (capinfos, editcap, tshark) where they are installed.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { HarrierError } from '../../src/errors.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { assertSupportedLinkType, readCaptureFile } from '../../src/capture/reader.js';
import { sharedPath, skipWithoutProgram, skipWithoutShared } from '../support/shared.js';
import { CollectSink, type Rec } from './helpers.js';

const noop = { frame(): void {} };

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

const isCaptureName = (p: string): boolean => /\.(pcap|pcapng|cap)$/.test(p);

test('every file under pcaps/: a capture parses, anything else is a one-line format error; counts match capinfos', { skip: skipWithoutShared('pcaps') }, () => {
  const root = sharedPath('pcaps')!;
  const files = walk(root).filter((p) => !p.endsWith('.out'));
  const counts = new Map<string, number>();
  const truncated = new Set<string>();
  let captures = 0;
  for (const f of files) {
    try {
      const s = readCaptureFile(f, noop);
      captures++;
      counts.set(f, s.records);
      if (s.truncated) truncated.add(f);
      assert.equal(s.bytes, statSync(f).size);
    } catch (e) {
      assert.ok(e instanceof HarrierError, `${f}: ${String(e)}`);
      assert.equal(e.code, 'HARRIER_ERR_CAPTURE_FORMAT', e.message);
      assert.ok(e.message.startsWith(f) && !e.message.includes('\n'));
      assert.ok(!isCaptureName(f), `${f} has a capture name but was refused: ${e.message}`);
    }
  }
  assert.ok(captures > 4000, `only ${captures} captures`);
  if (skipWithoutProgram('capinfos') !== false) return;
  // Every third capture, in one capinfos run (it is fast; tshark would not be).
  const sample = [...counts.keys()].filter((_, i) => i % 3 === 0);
  // capinfos exits non-zero when one file is damaged (a fuzzed one is) but still prints the rest.
  const out = spawnSync('capinfos', ['-T', '-r', '-c', '-M', ...sample.map((f) => relative(root, f))], {
    cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20,
  }).stdout;
  let compared = 0;
  for (const line of out.trim().split('\n')) {
    const [rel, c] = line.split('\t');
    const f = join(root, rel);
    const theirs = Number(c);
    const ours = counts.get(f);
    assert.ok(ours !== undefined, rel);
    // Wireshark counts a record cut by the end of file as a packet; we do not deliver it.
    if (truncated.has(f)) assert.ok(theirs === ours || theirs === ours + 1, `${rel}: capinfos ${theirs}, ours ${ours}`);
    else assert.equal(ours, theirs, rel);
    compared++;
  }
  assert.ok(compared > sample.length * 0.95, `capinfos compared only ${compared} of ${sample.length}`);
});

test('chrissanders: every .pcapng parses; 802.11 captures are refused by link type with a one-line message', { skip: skipWithoutShared('pcaps/chrissanders') }, () => {
  const dir = sharedPath('pcaps/chrissanders')!;
  const refused: string[] = [];
  let parsed = 0;
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.pcapng'))) {
    const path = join(dir, name);
    try {
      const s = readCaptureFile(path, noop, { onLinkType: (lt) => assertSupportedLinkType(lt, name) });
      assert.equal(s.format, 'pcapng');
      assert.ok(s.records > 0, name);
      assert.deepEqual(s.warnings, [], name);
      parsed++;
    } catch (e) {
      assert.ok(e instanceof HarrierError, String(e));
      assert.equal(e.code, 'HARRIER_ERR_LINKTYPE');
      assert.match(e.message, new RegExp(`^${name.replace(/\./g, '\\.')}: link type (105|127) IEEE802_11.* is not supported$`));
      refused.push(name);
    }
  }
  assert.ok(parsed >= 60, `parsed ${parsed}`);
  assert.ok(refused.includes('80211beacon.pcapng'), refused.join());
  assert.ok(refused.every((n) => /80211|wep|wpa/.test(n)), refused.join());
});

function recsOf(path: string): Rec[] {
  const sink = new CollectSink();
  readCaptureFile(path, sink);
  return sink.recs;
}

const usec = (r: Rec): Rec => ({ ...r, tsNsec: Math.floor(r.tsNsec / 1000) * 1000 });
const noIf = (r: Rec): Rec => ({ ...r, ifIndex: 0 });

test('editcap conversions (pcapng, nanosecond pcap, µs pcap, modified pcap) give the same records', { skip: skipWithoutShared('pcaps') || skipWithoutProgram('editcap') }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-editcap-'));
  try {
    const inputs = [
      'pcaps/ndpi/tests/cfgs/default/pcap/sites.pcapng', // 22 interfaces
      'pcaps/ndpi/tests/cfgs/default/pcap/someip_sd_sample.pcap', // nanosecond pcap
      'pcaps/ndpi/tests/cfgs/default/pcap/nfsv3.pcap', // big-endian pcap
      'pcaps/chrissanders/http_google.pcapng',
      'pcaps/dns-tunnels/iodine.pcap',
    ].filter((p) => sharedPath(p) !== null);
    assert.ok(inputs.length >= 3);
    for (const rel of inputs) {
      const src = sharedPath(rel)!;
      const orig = recsOf(src);
      assert.ok(orig.length > 0, rel);
      for (const fmt of ['pcapng', 'nsecpcap', 'pcap', 'modpcap']) {
        const out = join(dir, `out.${fmt}`);
        execFileSync('editcap', ['-F', fmt, src, out], { stdio: 'ignore' });
        const conv = recsOf(out);
        const keepsIf = fmt === 'pcapng';
        const expect = orig.map((r) => (fmt === 'pcap' || fmt === 'modpcap' ? usec(r) : r)).map((r) => (keepsIf ? r : noIf(r)));
        assert.deepEqual(keepsIf ? conv : conv.map(noIf), expect, `${rel} → ${fmt}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tshark agrees on timestamps, lengths and interface ids of a multi-interface pcapng', { skip: skipWithoutShared('pcaps/ndpi/tests/cfgs/default/pcap/sites.pcapng') || skipWithoutProgram('tshark') }, () => {
  const path = sharedPath('pcaps/ndpi/tests/cfgs/default/pcap/sites.pcapng')!;
  const out = execFileSync('tshark', ['-n', '-r', path, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.cap_len', '-e', 'frame.len', '-e', 'frame.interface_id'], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20,
  });
  const theirs = out.trim().split('\n');
  const ours = recsOf(path).map((r) => `${r.tsSec}.${String(r.tsNsec).padStart(9, '0')}\t${r.capLen}\t${r.origLen}\t${r.ifIndex}`);
  assert.ok(ours.length > 100);
  assert.deepEqual(ours, theirs);
});

test('reading a real pcap and writing it back with PcapWriter reproduces the file byte for byte', { skip: skipWithoutShared('pcaps/dns-tunnels') }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-rewrite-'));
  try {
    let checked = 0;
    for (const rel of ['pcaps/dns-tunnels/iodine.pcap', 'pcaps/dns-tunnels/dnscat2.pcap', 'pcaps/dns-tunnels/sods.pcap', 'pcaps/dns-tunnels/dns2tcp.pcap']) {
      const src = sharedPath(rel);
      if (!src) continue;
      const orig = readFileSync(src);
      // Only little-endian µs files with zero thiszone/sigfigs can come back identical.
      if (orig.readUInt32LE(0) !== 0xa1b2c3d4 || orig.readUInt32LE(8) !== 0 || orig.readUInt32LE(12) !== 0) continue;
      const out = join(dir, 'out.pcap');
      const w = PcapWriter.open(out, orig.readUInt32LE(20), { snaplen: orig.readUInt32LE(16) });
      readCaptureFile(src, { frame: (d, o, cap, origLen, s, ns) => w.write(s, ns, d, o, cap, origLen) });
      w.close();
      assert.ok(readFileSync(out).equals(orig), rel);
      checked++;
    }
    assert.ok(checked > 0, 'no suitable capture found');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
