/**
 * Raw record iteration speed (header parsing only, empty sink):
 *   node dist/test/capture/bench-capture.js [capture=../shared/data/bench/public-mix.pcap]
 * Prints, best and median of 7: readCaptureFile (disk/page cache + parse) and
 * CaptureParser over the file already in memory in FILE_CHUNK pieces (parse only).
 * Rates are given per wall-clock second and per CPU second of this process
 * (user + system): on a shared, loaded machine the second is the steadier.
 */
import { readFileSync, statSync } from 'node:fs';
import { CaptureParser, FILE_CHUNK, readCaptureFile } from '../../src/capture/reader.js';
import { sharedPath } from '../support/shared.js';

const path = process.argv[2] ?? sharedPath('bench/public-mix.pcap');
if (!path) {
  console.log('skipped: ../shared/data/bench/public-mix.pcap not present');
  process.exit(0);
}
const size = statSync(path).size;
let sum = 0;
const sink = { frame: (_d: Buffer, _o: number, capLen: number): void => void (sum += capLen) };
const data = readFileSync(path);
const fileRates: number[] = [];
const memRates: number[] = [];
const fileCpu: number[] = [];
const memCpu: number[] = [];
let records = 0;
const cpuMs = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1000;
for (let k = 0; k < 7; k++) {
  let t0 = performance.now();
  let c0 = process.cpuUsage();
  records = readCaptureFile(path, sink).records;
  fileRates.push(size / (performance.now() - t0) / 1e6);
  fileCpu.push(size / cpuMs(process.cpuUsage(c0)) / 1e6);
  t0 = performance.now();
  c0 = process.cpuUsage();
  const p = new CaptureParser(sink);
  for (let o = 0; o < data.length; o += FILE_CHUNK) p.push(data.subarray(o, o + FILE_CHUNK));
  p.end();
  memRates.push(size / (performance.now() - t0) / 1e6);
  memCpu.push(size / cpuMs(process.cpuUsage(c0)) / 1e6);
}
const fmt = (r: number[]): string => {
  const s = [...r].sort((a, b) => b - a);
  return `best ${s[0].toFixed(2)} GB/s, median ${s[3].toFixed(2)} GB/s`;
};
console.log(`${path}: ${(size / 1e6).toFixed(1)} MB, ${records} records, chunk ${FILE_CHUNK} bytes`);
console.log(`readCaptureFile:        wall ${fmt(fileRates)}; CPU ${fmt(fileCpu)}`);
console.log(`CaptureParser (memory): wall ${fmt(memRates)}; CPU ${fmt(memCpu)}`);
if (sum === 0) console.log('(no bytes seen)');
