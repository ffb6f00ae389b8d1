/**
 * Chunk boundaries and truncation: the parser must give the same records
 * whatever the chunking, and a capture cut anywhere must end cleanly with the
 * complete records before the cut.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { HarrierError } from '../../src/errors.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { sharedPath, skipWithoutShared } from '../support/shared.js';
import { bytes, epb, idb, ngBlock, parseChunked, parseSplitAt, prng, shb, spb, u32, type Rec } from './helpers.js';

const rnd = prng(3);

/** input, the end offsets of its packet records, and of all its units (header, blocks, records). */
interface Sample {
  input: Buffer;
  ends: number[];
  bounds: number[];
}

function smallPcap(): Sample {
  const w = PcapWriter.memory(1, { nanos: true });
  const ends: number[] = [];
  for (let i = 0; i < 6; i++) {
    const p = bytes(i === 3 ? 0 : 10 + i * 9, rnd); // one empty record
    w.write(100 + i, i, p, 0, p.length);
    ends.push(w.bytes);
  }
  return { input: w.toBuffer(), ends, bounds: [24, ...ends] };
}

function smallPcapng(le: boolean): Sample {
  const parts: Buffer[] = [];
  const ends: number[] = [];
  const bounds: number[] = [];
  let len = 0;
  const add = (b: Buffer, isPacket: boolean): void => {
    parts.push(b);
    len += b.length;
    bounds.push(len);
    if (isPacket) ends.push(len);
  };
  add(shb(le), false);
  add(idb(le, 1, 0), false);
  add(idb(le, 101, 0, { tsresol: 9 }), false);
  add(epb(le, 0, 1n, bytes(33, rnd)), true);
  add(ngBlock(5, Buffer.alloc(16), le), false);
  add(epb(le, 1, 1700000000_000000001n, bytes(60, rnd)), true);
  add(spb(le, bytes(17, rnd)), true);
  add(ngBlock(4, u32(0, le), le), false);
  add(shb(!le), false);
  add(idb(!le, 113, 0), false);
  add(epb(!le, 0, 7n, bytes(5, rnd)), true);
  return { input: Buffer.concat(parts), ends, bounds };
}

const samples: [string, Sample][] = [
  ['pcap', smallPcap()],
  ['pcapng LE', smallPcapng(true)],
  ['pcapng BE', smallPcapng(false)],
];

for (const [name, { input }] of samples) {
  test(`${name}: identical output at every split point, in 1-byte chunks and in random chunks`, () => {
    const whole = parseChunked(input);
    assert.ok(whole.recs.length >= 4);
    assert.equal(whole.summary.truncated, false);
    for (let at = 0; at <= input.length; at++) {
      const r = parseSplitAt(input, at);
      assert.deepEqual(r.recs, whole.recs, `split at ${at}`);
      assert.deepEqual(r.summary, whole.summary, `split at ${at}`);
    }
    assert.deepEqual(parseChunked(input, [1]), whole);
    const r = prng(5);
    for (let k = 0; k < 50; k++) {
      const sizes = Array.from({ length: 7 }, () => 1 + (r() % 90));
      assert.deepEqual(parseChunked(input, sizes), whole, `sizes ${sizes}`);
    }
  });

  test(`${name}: truncated at every byte → complete records kept, "truncated" with the cut record's position`, () => {
    const { ends, bounds } = samples.find((s) => s[0] === name)![1];
    const whole = parseChunked(input).recs;
    const headerLen = name === 'pcap' ? 24 : shb(true).length;
    for (let cut = 0; cut < input.length; cut++) {
      const part = input.subarray(0, cut);
      if (cut < headerLen) {
        assert.throws(() => parseChunked(part), (e: unknown) => e instanceof HarrierError && e.code === 'HARRIER_ERR_CAPTURE_FORMAT', `cut ${cut}`);
        continue;
      }
      for (const sizes of [[cut || 1], [3]]) {
        const { recs, summary } = parseChunked(part, sizes);
        const complete = ends.filter((e) => e <= cut).length;
        assert.deepEqual(recs, whole.slice(0, complete), `cut ${cut}`);
        // A cut exactly between units is not truncation: the file just ends there.
        assert.equal(summary.truncated, !bounds.includes(cut), `cut ${cut}`);
        if (summary.truncated) {
          assert.equal(summary.warnings.length, 1);
          const m = /^capture truncated: last record cut at byte (\d+) \((\d+) bytes missing\)$/.exec(summary.warnings[0]);
          assert.ok(m, summary.warnings[0]);
          const at = Number(m[1]);
          assert.ok(at < cut && at >= (complete ? ends[complete - 1] : 0), `cut ${cut}: at ${at}`);
          assert.ok(Number(m[2]) > 0);
        } else {
          assert.deepEqual(summary.warnings, []);
        }
      }
    }
    // A cut inside a packet is always reported, with the exact bytes missing for pcap.
    if (name === 'pcap') {
      const cut = ends[2] - 3;
      const { summary } = parseChunked(input.subarray(0, cut));
      assert.deepEqual(summary.warnings, [`capture truncated: last record cut at byte ${ends[1]} (3 bytes missing)`]);
    }
  });
}

test('records straddling chunks of a real capture: file vs 1-byte-ish pushes', { skip: skipWithoutShared('pcaps/chrissanders/http_google.pcapng') }, () => {
  const input = readFileSync(sharedPath('pcaps/chrissanders/http_google.pcapng')!);
  const whole = parseChunked(input);
  assert.equal(whole.summary.records, 12);
  for (const sizes of [[1], [2, 3, 5, 7], [4096], [61]]) {
    assert.deepEqual(parseChunked(input, sizes), whole);
  }
  const recsOf = (rs: Rec[]): string[] => rs.map((r) => `${r.tsSec}.${r.tsNsec} ${r.capLen}`);
  for (let cut = 1000; cut < input.length; cut += 97) {
    const { recs, summary } = parseChunked(input.subarray(0, cut), [333]);
    assert.deepEqual(recsOf(recs), recsOf(whole.recs.slice(0, recs.length)));
    assert.ok(summary.truncated || summary.warnings.length === 0);
  }
});
