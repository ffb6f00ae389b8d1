/**
 * Mutation fuzzing of the capture parser, shared by the test (~20k inputs)
 * and the long-running script fuzz-capture.ts (1M and more).
 *
 * Each input is a seed capture mutated (bit flips, interesting 32-bit values
 * over length fields, truncation, duplicated or inserted ranges, splices of
 * two seeds) and fed in random chunk sizes. The parser must only ever throw
 * HarrierError, every frame it delivers must lie inside the buffer it passes,
 * and a fed input must account for all its bytes.
 */
import { readFileSync } from 'node:fs';
import type { FrameSink } from '../../src/capture/frame.js';
import { HarrierError } from '../../src/errors.js';
import { CaptureParser } from '../../src/capture/reader.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { sharedPath } from '../support/shared.js';
import { bytes, epb, idb, ngBlock, opb, prng, shb, spb, u32 } from './helpers.js';

const INTERESTING32 = [0, 1, 3, 4, 7, 8, 11, 12, 16, 28, 31, 32, 0x7f, 0xff, 0xfff, 0xffff, 0x10000, 0x40000, 0x100000, 0x7fffffff, 0x80000000, 0xfffffff0, 0xfffffffc, 0xffffffff];

/** Synthetic seeds, so the fuzz test runs without ../shared/data. */
export function syntheticSeeds(): Buffer[] {
  const rnd = prng(42);
  const seeds: Buffer[] = [];
  for (const nanos of [false, true]) {
    for (const bigEndian of [false, true]) {
      const w = PcapWriter.memory(1, { nanos, bigEndian });
      for (let i = 0; i < 6; i++) w.write(1700000000 + i, i * 1000, bytes(20 + i * 11, rnd), 0, 20 + i * 11);
      seeds.push(w.toBuffer());
    }
  }
  for (const le of [true, false]) {
    seeds.push(
      Buffer.concat([
        shb(le),
        idb(le, 1, 0),
        idb(le, 101, 128, { tsresol: 9, tsoffset: -5n }),
        epb(le, 0, 123456789n, bytes(40, rnd)),
        ngBlock(5, Buffer.alloc(20), le),
        epb(le, 1, 1700000000123456789n, bytes(70, rnd), 90, true),
        spb(le, bytes(33, rnd)),
        opb(le, 1, 99n, bytes(12, rnd)),
        ngBlock(4, u32(0, le), le),
        shb(!le),
        idb(!le, 113, 0, { tsresol: 0x80 | 20 }),
        epb(!le, 0, 5n << 20n, bytes(25, rnd)),
      ]),
    );
  }
  return seeds;
}

/** Small real captures of each kind (pcap LE/BE/ns, pcapng with several interfaces), when present. */
const REAL_SEEDS = [
  'pcaps/chrissanders/http_google.pcapng',
  'pcaps/chrissanders/dns_query_response.pcapng',
  'pcaps/ndpi/tests/cfgs/default/pcap/someip_sd_sample.pcap',
  'pcaps/ndpi/tests/cfgs/default/pcap/fuzz-2006-06-26-2594.pcap',
  'pcaps/ndpi/tests/cfgs/default/pcap/nfsv3.pcap',
  'pcaps/ndpi/tests/cfgs/default/pcap/stun.pcap',
  'pcaps/esnet/tcp/control/exhaustive/one_way/one_way_A.pcap',
];

/** Synthetic seeds plus the real ones present; only their first 8 KiB (headers matter most, small inputs keep runs fast). */
export function fuzzSeeds(): Buffer[] {
  const real = REAL_SEEDS.map((p) => sharedPath(p))
    .filter((p): p is string => p !== null)
    .map((p) => readFileSync(p).subarray(0, 8192));
  return [...syntheticSeeds(), ...real];
}

export interface FuzzStats {
  inputs: number;
  ok: number;
  harrierErrors: number;
  truncated: number;
  corrupt: number;
  records: number;
  maxMs: number;
  /** Index of the slowest input (replay: same seeds, same seed, count = slowest + 1). */
  slowest: number;
}

/** A sink checking that every frame lies inside its buffer and has sane timestamps. */
class CheckingSink implements FrameSink {
  n = 0;
  frame(data: Buffer, off: number, capLen: number, _origLen: number, tsSec: number, tsNsec: number): void {
    if (!(off >= 0 && capLen >= 0 && off + capLen <= data.length)) {
      throw new Error(`frame out of bounds: off ${off} capLen ${capLen} buffer ${data.length}`);
    }
    if (!(tsNsec >= 0 && tsNsec < 1e9) || !Number.isFinite(tsSec)) throw new Error(`bad timestamp ${tsSec}.${tsNsec}`);
    this.n++;
  }
}

export function mutate(seeds: Buffer[], rnd: () => number): Buffer {
  let b = Buffer.from(seeds[rnd() % seeds.length]);
  const rounds = 1 + (rnd() % 4);
  for (let r = 0; r < rounds; r++) {
    const at = b.length ? rnd() % b.length : 0;
    switch (rnd() % 8) {
      case 0: // bit flips
        for (let k = 1 + (rnd() % 4); k > 0 && b.length; k--) b[rnd() % b.length] ^= 1 << (rnd() % 8);
        break;
      case 1: // random byte
        if (b.length) b[at] = rnd() & 0xff;
        break;
      case 2: // interesting 32-bit value, aligned like header fields
      case 3: {
        const o = at & ~3;
        if (o + 4 <= b.length) {
          const v = INTERESTING32[rnd() % INTERESTING32.length];
          if (rnd() & 1) b.writeUInt32LE(v, o);
          else b.writeUInt32BE(v, o);
        }
        break;
      }
      case 4: // truncate
        b = b.subarray(0, at);
        break;
      case 5: { // duplicate a range
        const len = rnd() % 64;
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
        break;
      }
      case 6: // insert random bytes
        b = Buffer.concat([b.subarray(0, at), bytes(rnd() % 16, rnd), b.subarray(at)]);
        break;
      default: { // splice with another seed
        const other = seeds[rnd() % seeds.length];
        b = Buffer.concat([b.subarray(0, at), other.subarray(other.length ? rnd() % other.length : 0)]);
      }
    }
  }
  return b;
}

/** Runs `count` mutated inputs; throws on the first input that breaks a rule (with its seed for replay). */
export function fuzzCapture(seeds: Buffer[], count: number, seed = 1): FuzzStats {
  const rnd = prng(seed);
  const stats: FuzzStats = { inputs: 0, ok: 0, harrierErrors: 0, truncated: 0, corrupt: 0, records: 0, maxMs: 0, slowest: -1 };
  for (let i = 0; i < count; i++) {
    const input = mutate(seeds, rnd);
    const sink = new CheckingSink();
    const t0 = performance.now();
    try {
      const p = new CaptureParser(sink, { source: 'fuzz' });
      // Chunked like a pipe: sometimes whole, sometimes tiny pieces.
      const step = rnd() % 3 === 0 ? input.length || 1 : 1 + (rnd() % 200);
      for (let o = 0; o < input.length; o += step) p.push(input.subarray(o, o + step));
      const s = p.end();
      if (s.bytes !== input.length) throw new Error(`summary.bytes ${s.bytes} != ${input.length}`);
      if (s.records !== sink.n) throw new Error(`summary.records ${s.records} != delivered ${sink.n}`);
      stats.ok++;
      stats.records += s.records;
      if (s.truncated) stats.truncated++;
      if (s.corrupt) stats.corrupt++;
    } catch (e) {
      if (e instanceof HarrierError && !e.message.includes('\n')) stats.harrierErrors++;
      else {
        const err = new Error(`fuzz input ${i} (seed ${seed}, ${input.length} bytes, hex ${input.toString('hex', 0, 256)}): ${String(e)}`);
        throw err;
      }
    }
    const ms = performance.now() - t0;
    if (ms > stats.maxMs) {
      stats.maxMs = ms;
      stats.slowest = i;
    }
    stats.inputs++;
  }
  return stats;
}
