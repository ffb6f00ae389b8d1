import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { HarrierError } from '../../src/errors.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { assertSupportedLinkType, CaptureParser, readCaptureFile } from '../../src/capture/reader.js';
import { bytes, CollectSink, parseChunked, pcapHeader, pcapRecord, prng } from './helpers.js';

const rnd = prng(7);
const packets = Array.from({ length: 5 }, (_, i) => bytes(40 + i * 17, rnd));

for (const le of [true, false]) {
  for (const nanos of [false, true]) {
    test(`pcap hand-built, ${le ? 'little' : 'big'}-endian, ${nanos ? 'ns' : 'µs'}`, () => {
      const magic = nanos ? 0xa1b23c4d : 0xa1b2c3d4;
      const input = Buffer.concat([
        pcapHeader(le, magic, 65535, 1),
        ...packets.map((p, i) => pcapRecord(le, 1700000000 + i, nanos ? 123456789 + i : 123456 + i, p, p.length + i)),
      ]);
      const { recs, summary } = parseChunked(input);
      assert.equal(summary.format, 'pcap');
      assert.equal(summary.records, 5);
      assert.equal(summary.bytes, input.length);
      assert.equal(summary.truncated, false);
      assert.deepEqual(summary.linkTypes, [1]);
      assert.deepEqual(summary.warnings, []);
      recs.forEach((r, i) => {
        assert.equal(r.data, packets[i].toString('hex'));
        assert.equal(r.capLen, packets[i].length);
        assert.equal(r.origLen, packets[i].length + i);
        assert.equal(r.tsSec, 1700000000 + i);
        assert.equal(r.tsNsec, nanos ? 123456789 + i : (123456 + i) * 1000);
        assert.equal(r.linkType, 1);
        assert.equal(r.ifIndex, 0);
      });
    });
  }
}

test('pcap writer round trip: memory and file, µs and ns, both byte orders', () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-pcap-'));
  try {
    for (const nanos of [false, true]) {
      for (const bigEndian of [false, true]) {
        const path = join(dir, `w-${nanos}-${bigEndian}.pcap`);
        // A tiny buffer forces several flushes on the file writer.
        const fw = PcapWriter.open(path, 113, { nanos, bigEndian, bufferSize: 100 });
        const mw = PcapWriter.memory(113, { nanos, bigEndian });
        packets.forEach((p, i) => {
          const big = Buffer.concat([Buffer.alloc(3), p]);
          fw.write(1600000000 + i, 987654321, big, 3, p.length, 1500);
          mw.write(1600000000 + i, 987654321, big, 3, p.length, 1500);
        });
        fw.close();
        const fromFile = readFileSync(path);
        assert.deepEqual(fromFile, mw.toBuffer());
        assert.equal(fromFile.length, fw.bytes);
        assert.equal(fromFile.readUInt32BE(0), bigEndian ? (nanos ? 0xa1b23c4d : 0xa1b2c3d4) : nanos ? 0x4d3cb2a1 : 0xd4c3b2a1);
        const sink = new CollectSink();
        const summary = readCaptureFile(path, sink);
        assert.equal(summary.records, packets.length);
        assert.deepEqual(summary.linkTypes, [113]);
        sink.recs.forEach((r, i) => {
          assert.equal(r.data, packets[i].toString('hex'));
          assert.equal(r.origLen, 1500);
          assert.equal(r.tsSec, 1600000000 + i);
          assert.equal(r.tsNsec, nanos ? 987654321 : 987654000);
          assert.equal(r.linkType, 113);
        });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pcap writer cuts records to its snaplen', () => {
  const w = PcapWriter.memory(1, { snaplen: 20 });
  w.write(1, 0, packets[2], 0, packets[2].length);
  const { recs } = parseChunked(w.toBuffer());
  assert.equal(recs[0].capLen, 20);
  assert.equal(recs[0].origLen, packets[2].length);
  assert.equal(recs[0].data, packets[2].toString('hex', 0, 20));
});

test('pcap link type: FCS flag bits are masked; callback sees it before records', () => {
  const input = Buffer.concat([pcapHeader(true, 0xa1b2c3d4, 65535, 0x10000000 | 101), pcapRecord(true, 1, 0, packets[0])]);
  const seen: string[] = [];
  const sink = { frame: (): void => void seen.push('frame') };
  const p = new CaptureParser(sink, { onLinkType: (lt, i) => void seen.push(`lt ${lt} if ${i}`) });
  p.push(input);
  assert.deepEqual(p.end().linkTypes, [101]);
  assert.deepEqual(seen, ['lt 101 if 0', 'frame']);
});

test('unsupported link type is refused with a one-line message', () => {
  const input = Buffer.concat([pcapHeader(true, 0xa1b2c3d4, 65535, 127), pcapRecord(true, 1, 0, packets[0])]);
  const sink = new CollectSink();
  const p = new CaptureParser(sink, { onLinkType: (lt) => assertSupportedLinkType(lt, 'capture.pcap') });
  assert.throws(() => p.push(input), (e: unknown) => {
    assert.ok(e instanceof HarrierError);
    assert.equal(e.code, 'HARRIER_ERR_LINKTYPE');
    assert.equal(e.message, 'capture.pcap: link type 127 IEEE802_11_RADIOTAP (radiotap 802.11) is not supported');
    return true;
  });
  assert.equal(sink.recs.length, 0);
  assert.throws(() => assertSupportedLinkType(300, 'x.pcap'), /^HarrierError: x\.pcap: link type 300 is not supported$/);
  for (const ok of [0, 1, 101, 113, 276]) assertSupportedLinkType(ok, 'x');
});

test('modified (Kuznetzov) pcap: 24-byte record headers', () => {
  const hdr = pcapHeader(true, 0xa1b2cd34, 65535, 1);
  const rec = Buffer.concat([pcapRecord(true, 5, 6, Buffer.alloc(0), 3).subarray(0, 16), Buffer.alloc(8, 0xaa), Buffer.from('abc')]);
  rec.writeUInt32LE(3, 8);
  const { recs } = parseChunked(Buffer.concat([hdr, rec, rec]));
  assert.equal(recs.length, 2);
  assert.equal(recs[1].data, '616263');
  assert.equal(recs[0].tsNsec, 6000);
});

test('sub-second field ≥ 1 s is carried into seconds', () => {
  const input = Buffer.concat([pcapHeader(true, 0xa1b2c3d4, 65535, 1), pcapRecord(true, 10, 2_500_000, packets[0])]);
  const { recs } = parseChunked(input);
  assert.equal(recs[0].tsSec, 12);
  assert.equal(recs[0].tsNsec, 500_000_000);
});

test('absurd record length is corruption: earlier records kept, parsing stops with a warning', () => {
  const bad = pcapRecord(true, 3, 0, Buffer.alloc(0));
  bad.writeUInt32LE(0x7fffffff, 8);
  const input = Buffer.concat([
    pcapHeader(true, 0xa1b2c3d4, 65535, 1),
    pcapRecord(true, 1, 0, packets[0]),
    pcapRecord(true, 2, 0, packets[1]),
    bad,
    Buffer.alloc(5000, 1),
  ]);
  for (const sizes of [[input.length], [7], [100, 3]]) {
    const { recs, summary } = parseChunked(input, sizes);
    assert.equal(recs.length, 2);
    assert.equal(summary.corrupt, true);
    assert.equal(summary.truncated, false);
    const at = 24 + 16 + packets[0].length + 16 + packets[1].length;
    assert.deepEqual(summary.warnings, [`capture corrupt at byte ${at}: record length 2147483647 exceeds 1048576; rest of input ignored`]);
    assert.equal(summary.bytes, input.length);
  }
});

test('not a capture, empty, too short, header cut, missing, unreadable → HarrierError naming the input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-pcap-'));
  try {
    const cases: [string, Buffer | null, string, RegExp][] = [
      ['text.pcap', Buffer.from('Guess what, this is text\n'), 'HARRIER_ERR_CAPTURE_FORMAT', /text\.pcap: not a pcap or pcapng capture \(starts with 0x47756573\)$/],
      ['gz.pcap', Buffer.from([0x1f, 0x8b, 8, 0, 0, 0]), 'HARRIER_ERR_CAPTURE_FORMAT', /gz\.pcap: .*gzip-compressed/],
      ['empty.pcap', Buffer.alloc(0), 'HARRIER_ERR_CAPTURE_FORMAT', /empty\.pcap: empty input/],
      ['short.pcap', Buffer.from([0xd4, 0xc3]), 'HARRIER_ERR_CAPTURE_FORMAT', /short\.pcap: too short \(2 bytes\)/],
      ['cut.pcap', pcapHeader(true, 0xa1b2c3d4, 65535, 1).subarray(0, 10), 'HARRIER_ERR_CAPTURE_FORMAT', /cut\.pcap: pcap file header truncated \(10 of 24 bytes\)/],
      ['missing.pcap', null, 'HARRIER_ERR_INPUT_OPEN', /missing\.pcap: cannot open: no such file/],
    ];
    for (const [name, content, code, re] of cases) {
      const path = join(dir, name);
      if (content) writeFileSync(path, content);
      assert.throws(() => readCaptureFile(path, new CollectSink()), (e: unknown) => {
        assert.ok(e instanceof HarrierError, String(e));
        assert.equal(e.code, code);
        assert.match(e.message, re);
        assert.ok(e.message.startsWith(path), e.message);
        assert.ok(!e.message.includes('\n'));
        return true;
      });
    }
    assert.throws(() => readCaptureFile(dir, new CollectSink()), { code: 'HARRIER_ERR_INPUT_OPEN', message: `${dir}: cannot read: is a directory` });
    if (process.getuid?.() !== 0) {
      const p = join(dir, 'noperm.pcap');
      writeFileSync(p, pcapHeader(true, 0xa1b2c3d4, 65535, 1));
      chmodSync(p, 0);
      assert.throws(() => readCaptureFile(p, new CollectSink()), { code: 'HARRIER_ERR_INPUT_OPEN' });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a header-only capture is valid and empty', () => {
  const { recs, summary } = parseChunked(pcapHeader(false, 0xa1b2c3d4, 0, 1));
  assert.equal(recs.length, 0);
  assert.equal(summary.records, 0);
  assert.equal(summary.truncated, false);
});

test('frames point into the pushed chunk (no per-record copy); only a straddling record is stitched', () => {
  const w = PcapWriter.memory(1);
  packets.forEach((p, i) => w.write(i, 0, p, 0, p.length));
  const input = w.toBuffer();
  const seen: { data: Buffer; off: number }[] = [];
  const sink = { frame: (data: Buffer, off: number): void => void seen.push({ data, off }) };
  let p = new CaptureParser(sink);
  p.push(input);
  p.end();
  let expectOff = 24;
  seen.forEach((s, i) => {
    assert.equal(s.data, input);
    assert.equal(s.off, expectOff + 16);
    expectOff += 16 + packets[i].length;
  });
  // Cut inside record 2: records 0, 1 come from `a`, record 2 from the scratch buffer, 3 and 4 from `b`.
  const cut = 24 + 16 + packets[0].length + 16 + packets[1].length + 20;
  const a = input.subarray(0, cut);
  const b = input.subarray(cut);
  seen.length = 0;
  p = new CaptureParser(sink);
  p.push(a);
  p.push(b);
  p.end();
  assert.equal(seen.length, 5);
  assert.ok(seen[0].data === a && seen[1].data === a);
  assert.ok(seen[2].data !== a && seen[2].data !== b);
  assert.ok(seen[3].data === b && seen[4].data === b);
});
