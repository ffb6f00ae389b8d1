/**
 * Micro benchmark: the multi-pattern matcher (src/detect/engine/mpm.ts) and
 * content inspection (src/detect/engine/inspect.ts) over the payloads of
 * ../shared/data/bench/public-mix.pcap (×1: every TCP/UDP payload, 45 MB of
 * capture, decoded once up front).
 *
 * Pattern sets are drawn from ET Open 2024-04 (../shared/data/rules): for
 * each rule its longest content, Suricata's default fast-pattern choice
 * (nocase as the rule says), seeded sample of ~1,000 and ~10,000, and all
 * of them (~23k, the "one global prefilter" case of DESIGN.md). Also the
 * http.uri/http_uri fast patterns alone, the size of one per-buffer group.
 *
 * Figures: MB/s of payload scanned per CPU-second (best of 3; the machine is
 * shared), average distinct ids found per payload, build time, table memory.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCaptureFile } from '../src/capture/reader.js';
import { Decoder } from '../src/decode/decoder.js';
import { Packet } from '../src/decode/packet.js';
import { MultiPatternMatcher, MatchSet } from '../src/detect/engine/mpm.js';
import { compileProgram, runProgram, InspectState, RuleVars } from '../src/detect/engine/inspect.js';
import type { ContentOp } from '../src/detect/rules/ast.js';
import { SHARED } from './corpus.js';

const pcap = join(SHARED, 'data', 'bench', 'public-mix.pcap');
const rulesDir = join(SHARED, 'data', 'rules', 'et-open-2024-04');
try {
  readdirSync(rulesDir);
  readFileSync(pcap, { flag: 'r' }).length;
} catch {
  console.log('skipped: ../shared/data/bench/public-mix.pcap or rules/et-open-2024-04 not present');
  process.exit(0);
}

// ---- payloads ------------------------------------------------------------
const chunks: Buffer[] = [];
let total = 0;
const lens: number[] = [];
{
  const pkt = new Packet();
  const dec = new Decoder({ checksumValidation: false });
  readCaptureFile(pcap, {
    frame(data, off, capLen, origLen, tsSec, tsNsec, linkType, ifIndex) {
      pkt.load(data, off, capLen, origLen, tsSec, tsNsec, linkType, ifIndex);
      if (!dec.decode(pkt) || pkt.payloadLen === 0) return;
      chunks.push(Buffer.from(pkt.data.subarray(pkt.payloadOff, pkt.payloadOff + pkt.payloadLen)));
      lens.push(pkt.payloadLen);
      total += pkt.payloadLen;
    },
  });
}
const all = Buffer.concat(chunks);
const offs = new Int32Array(lens.length);
for (let i = 1; i < lens.length; i++) offs[i] = offs[i - 1] + lens[i - 1];
const plen = Int32Array.from(lens);
console.log(`payloads: ${lens.length.toLocaleString('en-US')} packets, ${(total / 1e6).toFixed(1)} MB`);

// ---- pattern sets -----------------------------------------------------------
interface Pat {
  bytes: Uint8Array;
  nocase: boolean;
  http: boolean;
  uri: boolean;
}
function decodeContent(s: string): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === '|') {
      const e = s.indexOf('|', i + 1);
      if (e < 0) break;
      for (const h of s.slice(i + 1, e).trim().split(/\s+/)) if (h) out.push(parseInt(h, 16) & 0xff);
      i = e + 1;
    } else if (s[i] === '\\' && i + 1 < s.length) {
      out.push(s.charCodeAt(i + 1) & 0xff);
      i += 2;
    } else out.push(s.charCodeAt(i++) & 0xff);
  }
  return Uint8Array.from(out);
}
const fast: Pat[] = [];
for (const f of readdirSync(rulesDir).filter((x) => x.endsWith('.rules'))) {
  for (const line of readFileSync(join(rulesDir, f), 'utf8').split('\n')) {
    if (!line.startsWith('alert')) continue;
    let best: Pat | null = null;
    for (const m of line.matchAll(/content:\s*(!?)"((?:[^"\\]|\\.)*)"\s*;([^]*?)(?=content:|pcre:|$)/g)) {
      if (m[1] === '!') continue;
      const bytes = decodeContent(m[2]);
      const mods = m[3];
      if (bytes.length && (best === null || bytes.length > best.bytes.length)) {
        best = { bytes, nocase: /\bnocase\b/.test(mods), http: /http/.test(line), uri: /http\.uri|http_uri/.test(mods) || /http\.uri;\s*content/.test(line) };
      }
    }
    if (best) fast.push(best);
  }
}
function sample(n: number, seed: number): Pat[] {
  let a = seed;
  const r = (): number => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 4294967296;
  };
  const idx = fast.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, Math.min(n, idx.length)).map((i) => fast[i]);
}

// ---- measurement -----------------------------------------------------------
function measure(name: string, pats: Pat[]): void {
  const t0 = process.hrtime.bigint();
  const m = new MultiPatternMatcher();
  pats.forEach((p, i) => m.add(p.bytes, p.nocase, i));
  m.build();
  const buildMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const hits = new MatchSet(pats.length);
  let best = Infinity;
  let found = 0;
  for (let pass = 0; pass < 3; pass++) {
    found = 0;
    const c0 = process.cpuUsage();
    for (let i = 0; i < plen.length; i++) {
      hits.reset();
      m.scan(all, offs[i], plen[i], hits);
      found += hits.count;
    }
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1e6);
  }
  console.log(`| ${name} | ${pats.length.toLocaleString('en-US')} | ${(total / 1e6 / best).toFixed(0)} | ${(found / plen.length).toFixed(2)} | ${buildMs.toFixed(0)} | ${(m.memoryBytes() / 1e6).toFixed(1)} |`);
}

console.log('| pattern set (ET Open 2024-04 fast patterns) | patterns | MB/s per CPU-s | ids found per payload | build ms | tables MB |');
console.log('| --- | --- | --- | --- | --- | --- |');
measure('rules naming http.uri (one buffer group)', fast.filter((p) => p.uri));
measure('sample ~1k', sample(1000, 1));
measure('sample ~10k', sample(10000, 2));
measure('all (one global prefilter)', fast);

// ---- content inspection ----------------------------------------------------
// Single-content programs (the work after a prefilter hit): exact and nocase,
// a two-content relative chain, run over every payload.
function content(s: string, o: Partial<ContentOp> = {}): ContentOp {
  return { kind: 'content', bytes: Buffer.from(s), nocase: false, negated: false, offset: null, depth: null, distance: null, within: null, startsWith: false, endsWith: false, fastPattern: false, fastPatternOnly: false, fastPatternChop: null, rawbytes: false, ...o };
}
const st = new InspectState();
console.log('');
console.log('| inspection program over every payload | MB/s per CPU-s | matches |');
console.log('| --- | --- | --- |');
for (const [name, ops] of [
  ['content:"Mozilla/"', [content('Mozilla/')]],
  ['content:"mozilla/"; nocase', [content('mozilla/', { nocase: true })]],
  ['content:"HTTP/1."; content:"|0d 0a|"; distance:0; within:40', [content('HTTP/1.'), content('\r\n', { distance: 0, within: 40 })]],
] as [string, ContentOp[]][]) {
  const p = compileProgram({ buffer: 'pkt_data', ops }, new RuleVars());
  let best = Infinity;
  let n = 0;
  for (let pass = 0; pass < 3; pass++) {
    n = 0;
    const c0 = process.cpuUsage();
    for (let i = 0; i < plen.length; i++) if (runProgram(p, all, offs[i], plen[i], st)) n++;
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1e6);
  }
  console.log(`| ${name} | ${(total / 1e6 / best).toFixed(0)} | ${n.toLocaleString('en-US')} |`);
}
