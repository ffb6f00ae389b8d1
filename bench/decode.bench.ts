/**
 * Micro benchmark: decode only (src/decode/decoder.ts) over
 * ../shared/data/bench/public-mix.pcap (45 MB, 168k packets). The frames are
 * first copied into one Buffer so that the timing holds decoding alone (no
 * file reading); then the whole corpus is decoded `PASSES` times per run,
 * with checksum validation off (the default, and Suricata's `-k none` used
 * for the reference figures) and on. A second figure reads the file through
 * src/capture/reader.ts and decodes on the fly (reader + decoder).
 *
 * Figures are MB of captured bytes per second of this process's CPU time
 * (user + system, `process.cpuUsage`), best of 3 runs: the machine is shared
 * with other jobs, and wall time on a loaded 2-core box measured anything from
 * 1x to 3x the CPU time. Target for decode alone: far above 600 MB/s.
 * Output: Markdown table rows.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { readCaptureFile } from '../src/capture/reader.js';
import { Decoder } from '../src/decode/decoder.js';
import { Packet } from '../src/decode/packet.js';
import { SHARED } from './corpus.js';

const src = join(SHARED, 'data', 'bench', 'public-mix.pcap');
let size = 0;
try {
  size = statSync(src).size;
} catch {
  console.log('skipped: ../shared/data/bench/public-mix.pcap not present');
  process.exit(0);
}

// Gather frames into one contiguous Buffer plus an index (offset, length, link type, ts).
const chunks: Buffer[] = [];
const offs: number[] = [];
const lens: number[] = [];
const lts: number[] = [];
const secs: number[] = [];
let total = 0;
readCaptureFile(src, {
  frame(data, off, capLen, _orig, tsSec, _tsNsec, linkType) {
    chunks.push(Buffer.from(data.subarray(off, off + capLen)));
    offs.push(total);
    lens.push(capLen);
    lts.push(linkType);
    secs.push(tsSec);
    total += capLen;
  },
});
const all = Buffer.concat(chunks);
chunks.length = 0;
const n = offs.length;
const OFF = Int32Array.from(offs);
const LEN = Int32Array.from(lens);
const LT = Int32Array.from(lts);
const SEC = Float64Array.from(secs);

/** CPU seconds (user + system) since `from`. */
function cpuSecs(from: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1e6;
}

function decodeAll(dec: Decoder, pkt: Packet, passes: number): number {
  let ip = 0;
  let lastExpire = 0;
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < n; i++) {
      pkt.data = all;
      pkt.frameOff = OFF[i];
      pkt.capLen = LEN[i];
      pkt.origLen = LEN[i];
      pkt.tsSec = SEC[i] + p * 1e6;
      pkt.tsNsec = 0;
      pkt.linkType = LT[i];
      if (dec.decode(pkt)) ip++;
      if (pkt.tsSec - lastExpire >= 1) {
        dec.expire(pkt.tsSec);
        lastExpire = pkt.tsSec;
      }
    }
  }
  return ip;
}

const PASSES = Number(process.env.HARRIER_BENCH_PASSES ?? 8);
console.log(`corpus: ${n} frames, ${(total / 1e6).toFixed(1)} MB captured bytes (file ${(size / 1e6).toFixed(1)} MB), ${PASSES} passes per run`);
console.log('| benchmark | MB/s (CPU time) | Mpkt/s (CPU time) | MB/s (wall) | IP packets |');
console.log('|---|---|---|---|---|');
for (const checksums of [false, true]) {
  let best = Infinity;
  let bestWall = Infinity;
  let ipCount = 0;
  for (let run = 0; run < 3; run++) {
    const dec = new Decoder({ checksumValidation: checksums });
    const pkt = new Packet();
    const t0 = process.cpuUsage();
    const w0 = process.hrtime.bigint();
    ipCount = decodeAll(dec, pkt, PASSES);
    const s = cpuSecs(t0);
    const w = Number(process.hrtime.bigint() - w0) / 1e9;
    if (s < best) best = s;
    if (w < bestWall) bestWall = w;
  }
  const mbs = (total * PASSES) / 1e6 / best;
  console.log(`| decode only, checksums ${checksums ? 'on' : 'off'} | ${mbs.toFixed(0)} | ${((n * PASSES) / 1e6 / best).toFixed(2)} | ${((total * PASSES) / 1e6 / bestWall).toFixed(0)} | ${ipCount / PASSES} |`);
}
{
  let best = Infinity;
  let bestWall = Infinity;
  for (let run = 0; run < 3; run++) {
    const dec = new Decoder();
    const pkt = new Packet();
    const t0 = process.cpuUsage();
    const w0 = process.hrtime.bigint();
    readCaptureFile(src, {
      frame(data, off, capLen, origLen, tsSec, tsNsec, linkType, ifIndex) {
        pkt.load(data, off, capLen, origLen, tsSec, tsNsec, linkType, ifIndex);
        dec.decode(pkt);
      },
    });
    const s = cpuSecs(t0);
    const w = Number(process.hrtime.bigint() - w0) / 1e9;
    if (s < best) best = s;
    if (w < bestWall) bestWall = w;
  }
  console.log(`| read file + decode | ${(size / 1e6 / best).toFixed(0)} | ${(n / 1e6 / best).toFixed(2)} | ${(size / 1e6 / bestWall).toFixed(0)} | |`);
}
