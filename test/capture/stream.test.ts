/**
 * Reading from pipes: a child process's stdout delivers the capture in pipe-
 * sized chunks that cut records anywhere.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Readable } from 'node:stream';
import { HarrierError } from '../../src/errors.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import type { FrameSink } from '../../src/capture/frame.js';
import { assertSupportedLinkType, CaptureParser, readCaptureFile, readCaptureStream } from '../../src/capture/reader.js';
import { sharedPath, skipWithoutProgram, skipWithoutShared } from '../support/shared.js';
import { bytes, CollectSink, prng } from './helpers.js';

const BENCH = 'bench/public-mix.pcap';
const NG = 'pcaps/chrissanders/http_espn.pcapng';

async function viaChild(cmd: string, args: string[]): Promise<{ sink: CollectSink; summary: Awaited<ReturnType<typeof readCaptureStream>>; code: number | null }> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const sink = new CollectSink();
  const summary = await readCaptureStream(child.stdout, sink, { source: cmd });
  return { sink, summary, code: await exited };
}

for (const rel of [NG, 'pcaps/ndpi/tests/cfgs/default/pcap/someip_sd_sample.pcap']) {
  test(`cat ${rel} | readCaptureStream == readCaptureFile`, { skip: skipWithoutShared(rel) }, async () => {
    const path = sharedPath(rel)!;
    const fromFile = new CollectSink();
    const fileSummary = readCaptureFile(path, fromFile);
    const { sink, summary, code } = await viaChild('cat', [path]);
    assert.equal(code, 0);
    assert.deepEqual(summary, fileSummary);
    assert.deepEqual(sink.recs, fromFile.recs);
  });
}

/** Hashes every record (bytes, lengths, timestamps): equal digests mean identical delivery. */
class HashSink implements FrameSink {
  readonly h = createHash('sha256');
  private readonly meta = Buffer.alloc(24);
  n = 0;
  frame(data: Buffer, off: number, capLen: number, origLen: number, tsSec: number, tsNsec: number, linkType: number, ifIndex: number): void {
    const m = this.meta;
    m.writeUInt32LE(capLen, 0);
    m.writeUInt32LE(origLen, 4);
    m.writeUInt32LE(tsSec >>> 0, 8);
    m.writeUInt32LE(tsNsec, 12);
    m.writeUInt32LE(linkType, 16);
    m.writeUInt32LE(ifIndex, 20);
    this.h.update(m);
    this.h.update(data.subarray(off, off + capLen));
    this.n++;
  }
}

test('45 MB benchmark corpus: file (256 KiB reads), pipe (64 KiB reads) and one in-memory push deliver identical records', { skip: skipWithoutShared(BENCH) }, async () => {
  const path = sharedPath(BENCH)!;
  const viaFile = new HashSink();
  readCaptureFile(path, viaFile);
  const viaPipe = new HashSink();
  const summary = await readCaptureStream(spawn('cat', [path], { stdio: ['ignore', 'pipe', 'ignore'] }).stdout, viaPipe);
  const whole = new HashSink();
  const p = new CaptureParser(whole);
  p.push(readFileSync(path));
  p.end();
  assert.equal(summary.records, 168207);
  assert.equal(summary.truncated, false);
  assert.equal(viaFile.n, 168207);
  assert.equal(viaPipe.n, 168207);
  const d = whole.h.digest('hex');
  assert.equal(viaFile.h.digest('hex'), d);
  assert.equal(viaPipe.h.digest('hex'), d);
});

test('tcpdump -r file -w - | readCaptureStream', { skip: skipWithoutShared(NG) || skipWithoutProgram('tcpdump') }, async () => {
  const path = sharedPath(NG)!;
  const fromFile = new CollectSink();
  readCaptureFile(path, fromFile);
  const { sink, summary } = await viaChild('tcpdump', ['-n', '-r', path, '-w', '-']);
  // tcpdump rewrites pcapng as classic pcap (µs); the records are the same.
  assert.equal(summary.format, 'pcap');
  assert.deepEqual(summary.linkTypes, [1]);
  assert.equal(sink.recs.length, fromFile.recs.length);
  assert.deepEqual(sink.recs, fromFile.recs);
});

test('a stream cut mid-record ends with truncated: true', async () => {
  const w = PcapWriter.memory(1);
  const rnd = prng(1);
  for (let i = 0; i < 10; i++) w.write(i, 0, bytes(100, rnd), 0, 100);
  const all = w.toBuffer();
  const cut = all.subarray(0, all.length - 50);
  const chunks = [cut.subarray(0, 77), cut.subarray(77, 500), cut.subarray(500)];
  const sink = new CollectSink();
  const summary = await readCaptureStream(Readable.from(chunks), sink, { source: 'pipe' });
  assert.equal(sink.recs.length, 9);
  assert.equal(summary.truncated, true);
  assert.deepEqual(summary.warnings, [`capture truncated: last record cut at byte ${24 + 9 * 116} (50 bytes missing)`]);
});

test('stream errors become HARRIER_ERR_INPUT_OPEN; a refused link type stops the stream', async () => {
  const failing = new Readable({
    read() {
      this.destroy(new Error('EIO: boom'));
    },
  });
  await assert.rejects(readCaptureStream(failing, new CollectSink(), { source: 'pipe' }), (e: unknown) => {
    assert.ok(e instanceof HarrierError);
    assert.equal(e.code, 'HARRIER_ERR_INPUT_OPEN');
    assert.equal(e.message, 'pipe: cannot read: EIO: boom');
    return true;
  });
  const w = PcapWriter.memory(127);
  w.write(1, 0, Buffer.alloc(10), 0, 10);
  const s = Readable.from([w.toBuffer(), Buffer.alloc(100)]);
  await assert.rejects(
    readCaptureStream(s, new CollectSink(), { onLinkType: (lt) => assertSupportedLinkType(lt, 'standard input') }),
    { code: 'HARRIER_ERR_LINKTYPE', message: 'standard input: link type 127 IEEE802_11_RADIOTAP (radiotap 802.11) is not supported' },
  );
  assert.ok(s.destroyed);
  await assert.rejects(readCaptureStream(Readable.from([]), new CollectSink(), { source: 'pipe' }), {
    code: 'HARRIER_ERR_CAPTURE_FORMAT',
    message: 'pipe: empty input, not a pcap or pcapng capture',
  });
});
