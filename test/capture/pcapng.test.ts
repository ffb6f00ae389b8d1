import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HarrierError } from '../../src/errors.js';
import { CaptureParser } from '../../src/capture/reader.js';
import { bytes, CollectSink, epb, idb, ngBlock, ngOption, opb, parseChunked, prng, shb, spb, u32 } from './helpers.js';

const rnd = prng(11);
const pk = Array.from({ length: 8 }, (_, i) => bytes(21 + i * 13, rnd));

/** Reference split with BigInt: what the parser must produce without it. */
function refSplit(ts: bigint, units: bigint): [number, number] {
  return [Number(ts / units), Number(((ts % units) * 1000000000n) / units)];
}

for (const le of [true, false]) {
  test(`pcapng ${le ? 'little' : 'big'}-endian: three interfaces, different link types and resolutions, other blocks skipped`, () => {
    const input = Buffer.concat([
      shb(le, [ngOption(4, Buffer.from('harrier test'), le)]),
      idb(le, 1, 65535, { name: 'eth0' }), // default resolution: µs
      ngBlock(4, Buffer.concat([u32(0, le)]), le), // NRB (empty record list)
      idb(le, 101, 0, { tsresol: 9, tsoffset: 100n }), // ns, +100 s
      idb(le, 113, 262144, { tsresol: 0x80 | 20 }), // 2^-20 s
      epb(le, 0, 1700000000_654321n, pk[0], 1000),
      epb(le, 1, 1700000000_123456789n, pk[1]),
      ngBlock(5, Buffer.alloc(20), le), // ISB
      epb(le, 2, (1700000000n << 20n) + 524288n, pk[2], pk[2].length, true),
      ngBlock(0x00000bad, Buffer.concat([u32(32473, le), Buffer.from('custom')]), le), // custom block
      ngBlock(0x12345678, Buffer.alloc(8), le), // unknown type
      ngBlock(10, Buffer.alloc(12), le), // DSB
      opb(le, 1, 5_000000001n, pk[3]),
    ]);
    const { recs, summary } = parseChunked(input);
    assert.equal(summary.format, 'pcapng');
    assert.deepEqual(summary.warnings, []);
    assert.deepEqual(summary.linkTypes, [1, 101, 113]);
    assert.equal(summary.records, 4);
    assert.deepEqual(recs[0], { data: pk[0].toString('hex'), capLen: pk[0].length, origLen: 1000, tsSec: 1700000000, tsNsec: 654321000, linkType: 1, ifIndex: 0 });
    assert.deepEqual(recs[1], { data: pk[1].toString('hex'), capLen: pk[1].length, origLen: pk[1].length, tsSec: 1700000100, tsNsec: 123456789, linkType: 101, ifIndex: 1 });
    assert.deepEqual(recs[2], { data: pk[2].toString('hex'), capLen: pk[2].length, origLen: pk[2].length, tsSec: 1700000000, tsNsec: 500000000, linkType: 113, ifIndex: 2 });
    assert.deepEqual(recs[3], { data: pk[3].toString('hex'), capLen: pk[3].length, origLen: pk[3].length, tsSec: 105, tsNsec: 1, linkType: 101, ifIndex: 1 });
  });
}

test('pcapng timestamps: every resolution agrees with a BigInt reference', () => {
  const r = prng(99);
  const resols = [0, 1, 3, 6, 7, 9, 10, 11, 12, 15, 0x80 | 0, 0x80 | 10, 0x80 | 20, 0x80 | 24, 0x80 | 30, 0x80 | 32, 0x80 | 34, 0x80 | 40, 0x80 | 62];
  const le = true;
  const blocks: Buffer[] = [shb(le)];
  const expected: [number, number][] = [];
  resols.forEach((res, i) => {
    blocks.push(idb(le, 1, 0, { tsresol: res }));
    const units = res & 0x80 ? 1n << BigInt(res & 0x7f) : 10n ** BigInt(res);
    // Around "now" in this resolution, plus a fully random 64-bit value, plus edges.
    const now = 1700000000n * units + (BigInt(r()) % units);
    const rand64 = (BigInt(r()) << 32n) | BigInt(r());
    for (const ts of [now, rand64, 0n, units - 1n, units, (1n << 64n) - 1n, now - (now % units)]) {
      if (ts < 0n || ts >= 1n << 64n) continue;
      blocks.push(epb(le, i, ts, pk[0]));
      expected.push(refSplit(ts, units));
    }
  });
  const { recs, summary } = parseChunked(Buffer.concat(blocks));
  assert.deepEqual(summary.warnings, []);
  assert.equal(recs.length, expected.length);
  recs.forEach((rec, k) => assert.deepEqual([rec.tsSec, rec.tsNsec], expected[k], `record ${k}`));
});

test('pcapng SPB: interface 0, caplen = min(snaplen, origLen, block space)', () => {
  const le = true;
  const data = bytes(100, rnd);
  const input = Buffer.concat([
    shb(le),
    idb(le, 1, 64),
    spb(le, data, 1514), // snaplen 64 wins
    spb(le, data.subarray(0, 30), 30), // whole packet
    spb(le, data.subarray(0, 31), 29), // origLen 29 < space 32 (padding): 29
  ]);
  const { recs } = parseChunked(input);
  assert.deepEqual(
    recs.map((r) => [r.capLen, r.origLen, r.data, r.tsSec, r.tsNsec, r.linkType, r.ifIndex]),
    [
      [64, 1514, data.toString('hex', 0, 64), 0, 0, 1, 0],
      [30, 30, data.toString('hex', 0, 30), 0, 0, 1, 0],
      [29, 29, data.toString('hex', 0, 29), 0, 0, 1, 0],
    ],
  );
  const noSnap = parseChunked(Buffer.concat([shb(le), idb(le, 1, 0), spb(le, data, 1514)]));
  assert.equal(noSnap.recs[0].capLen, 100);
});

test('pcapng: a new SHB changes byte order and restarts interface numbering', () => {
  const input = Buffer.concat([
    shb(true),
    idb(true, 1, 0),
    idb(true, 1, 0),
    epb(true, 1, 1_000000n, pk[0]),
    shb(false),
    idb(false, 113, 0, { tsresol: 9 }),
    epb(false, 0, 2_000000005n, pk[1]),
    epb(false, 1, 3n, pk[2]), // interface 1 belonged to the previous section
    shb(true),
    idb(true, 101, 0),
    epb(true, 0, 4_000000n, pk[3]),
  ]);
  const { recs, summary } = parseChunked(input);
  assert.deepEqual(
    recs.map((r) => [r.data, r.tsSec, r.tsNsec, r.linkType, r.ifIndex]),
    [
      [pk[0].toString('hex'), 1, 0, 1, 1],
      [pk[1].toString('hex'), 2, 5, 113, 0],
      [pk[3].toString('hex'), 4, 0, 101, 0],
    ],
  );
  assert.deepEqual(summary.linkTypes, [1, 113, 101]);
  assert.equal(summary.warnings.length, 1);
  assert.match(summary.warnings[0], /names interface 1 but the section declares 1; skipped/);
  assert.equal(summary.corrupt, false);
});

test('pcapng link-type callback fires per interface and can refuse one', () => {
  const input = Buffer.concat([shb(true), idb(true, 1, 0), epb(true, 0, 1n, pk[0]), idb(true, 127, 0), epb(true, 1, 1n, pk[1])]);
  const calls: [number, number][] = [];
  const sink = new CollectSink();
  const p = new CaptureParser(sink, {
    onLinkType: (lt, i) => {
      calls.push([lt, i]);
      if (lt === 127) throw new HarrierError('HARRIER_ERR_LINKTYPE', 'refused');
    },
  });
  assert.throws(() => p.push(input), { code: 'HARRIER_ERR_LINKTYPE' });
  assert.deepEqual(calls, [[1, 0], [127, 1]]);
  assert.equal(sink.recs.length, 1);
});

test('pcapng corruption stops cleanly with a warning; earlier packets kept', () => {
  const le = true;
  const good = Buffer.concat([shb(le), idb(le, 1, 0), epb(le, 0, 1n, pk[0])]);
  const badLen = epb(le, 0, 2n, pk[1]);
  badLen.writeUInt32LE(13, 4); // not a multiple of 4
  const badTrail = epb(le, 0, 2n, pk[1]);
  badTrail.writeUInt32LE(8, badTrail.length - 4);
  const badCap = epb(le, 0, 2n, pk[1]);
  badCap.writeUInt32LE(100000, 20); // caplen beyond the block
  const huge = epb(le, 0, 2n, pk[1]);
  huge.writeUInt32LE(0x7ffffffc, 4);
  const badShb = shb(le);
  badShb.writeUInt32LE(0x01020304, 8);
  const v2 = shb(le);
  v2.writeUInt16LE(2, 12);
  const cases: [Buffer, RegExp][] = [
    [badLen, /block length 13 is invalid/],
    [badTrail, /trailing length 8 differs/],
    [badCap, /packet length 100000 exceeds its block/],
    [huge, /block length 2147483644 is invalid/],
    [badShb, /byte-order magic 0x1020304 is invalid/],
    [v2, /pcapng version 2 is not supported/],
  ];
  for (const [bad, re] of cases) {
    const input = Buffer.concat([good, bad, epb(le, 0, 3n, pk[2])]);
    for (const sizes of [[input.length], [5], [64, 1]]) {
      const { recs, summary } = parseChunked(input, sizes);
      assert.equal(recs.length, 1, String(re));
      assert.equal(summary.corrupt, true);
      assert.equal(summary.truncated, false);
      assert.equal(summary.warnings.length, 1);
      assert.match(summary.warnings[0], new RegExp(`^capture corrupt at byte ${good.length}: `));
      assert.match(summary.warnings[0], re);
    }
  }
});

test('pcapng: a corrupt first section header is a format error', () => {
  const bad = shb(true);
  bad.writeUInt32LE(0x01020304, 8);
  const p = new CaptureParser(new CollectSink(), { source: 'x.pcapng' });
  assert.throws(() => p.push(bad), (e: unknown) => {
    assert.ok(e instanceof HarrierError);
    assert.equal(e.code, 'HARRIER_ERR_CAPTURE_FORMAT');
    assert.match(e.message, /^x\.pcapng: pcapng section header is corrupt: /);
    return true;
  });
});

test('pcapng: packets before any IDB, and malformed IDB options, are warnings', () => {
  const le = true;
  const badOpt = idb(le, 1, 0, { tsresol: 9 });
  badOpt.writeUInt16LE(200, 18); // option length overruns the block
  const input = Buffer.concat([shb(le), spb(le, pk[0]), epb(le, 0, 1n, pk[0]), badOpt, epb(le, 0, 1_000000n, pk[1])]);
  const { recs, summary } = parseChunked(input);
  assert.equal(recs.length, 1);
  // The bad option was ignored, so the default (µs) resolution applies.
  assert.deepEqual([recs[0].tsSec, recs[0].tsNsec], [1, 0]);
  assert.equal(summary.warnings.length, 3);
  assert.match(summary.warnings[2], /option 9 overruns the block/);
});

test('warnings are capped, the rest counted', () => {
  const le = true;
  const input = Buffer.concat([shb(le), ...Array.from({ length: 50 }, () => epb(le, 3, 1n, pk[0]))]);
  const { summary } = parseChunked(input);
  assert.equal(summary.warnings.length, 21);
  assert.equal(summary.warnings[20], '30 more warnings not shown');
});
