/**
 * Micro benchmark of the intel store (src/detect/intel/): a deterministic
 * synthetic indicator set is compiled, written to disk, then loaded in a FRESH
 * process (so its RSS is the loaded store's, not the builder's) where IPv4,
 * IPv6 and domain lookups are timed single thread (one process, one thread;
 * wall clock and this process's CPU time).
 *
 * Default scale (well under a minute): 2M IPv4 (incl. 100k CIDRs), 200k
 * IPv6, 1M domains. HARRIER_INTEL_BENCH_SCALE=full gives the scale:
 * 20M IPv4 (incl. 1M CIDRs), 1M IPv6, 9M domains (a few minutes, ~2 GB).
 *
 * What the generator bypasses: the indicators are generated as numbers and
 * bytes and handed to the builder's raw entry points (`metaId`,
 * `addIPv4Net`, `addIPv6Net`, `addDomainBytes`) — the same ones `add()`
 * calls after parsing an Indicator's text — so formatting 30M strings and
 * parsing them back (parseIPNet, normalizeDomain) is skipped. Everything
 * from there on (deduplication, sorting, sets, the sweep, the domain table
 * and its markers, writing, loading) is the code `harrier intel update`
 * runs. The text path's own rate is measured on a 1M sample (`text path`
 * row) so its cost at any scale can be added.
 *
 * Lookup mixes (queries prepared before timing):
 * - IPv4: half listed addresses, half random (most random addresses fall in
 *   one of the random CIDRs: the hit rate is printed).
 * - domains, "50 % hits": half are `www.api.<listed>` (the parent walk finds
 *   the listed name), half `www.n<random>.<tld>` (a different unknown
 *   registrable name every time, so a miss is a real cache miss, not the
 *   same hot slot). Real DNS traffic is mostly misses and repeats popular
 *   names (cache-hot); uniformly random names over the whole table are the
 *   worst case. "1 % hits" is the same with 1 in 100 a hit.
 * Every query mix is run over JS strings (`lookupDomain`) and over bytes in
 * one Buffer (`lookupDomainBytes`, what the DNS/TLS parsers hand over).
 * Output: Markdown table rows.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { IntelStoreBuilder } from '../src/detect/intel/builder.js';
import { loadIntelStore, writeIntelStore } from '../src/detect/intel/store.js';
import { peakRssMb, REPO } from './corpus.js';

const full = process.env.HARRIER_INTEL_BENCH_SCALE === 'full';
const N_V4 = full ? 20_000_000 : 2_000_000;
const N_CIDR = full ? 1_000_000 : 100_000;
const N_V6 = full ? 1_000_000 : 200_000;
const N_DOM = full ? 9_000_000 : 1_000_000;
const QUERIES = 2_000_000;
const TEXT_SAMPLE = 1_000_000;
const file = join(REPO, 'bench', 'out', `intel-${full ? 'full' : 'default'}.hrn`);

/** xorshift32: deterministic across runs and machines. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>>= 0);
  };
}

const TLDS = ['com', 'net', 'org', 'ru', 'xyz', 'top', 'info', 'io', 'cn', 'de'].map((t) => Buffer.from(t, 'latin1'));

function putBase(out: Uint8Array, pos: number, v: number, base: number): number {
  // Digits of v in `base` (lowercase letters above 9), most significant first.
  let n = 0;
  let x = v;
  do {
    n++;
    x = Math.floor(x / base);
  } while (x > 0);
  for (let k = pos + n - 1; k >= pos; k--) {
    const d = v % base;
    out[k] = d < 10 ? 48 + d : 87 + d;
    v = Math.floor(v / base);
  }
  return pos + n;
}

/**
 * Listed domain i as bytes into out at pos: `d<i base 36>x<hash>.<tld>`,
 * distinct by construction. Returns the end.
 */
function domainBytes(i: number, out: Uint8Array, pos: number): number {
  out[pos++] = 100; // d
  pos = putBase(out, pos, i, 36);
  out[pos++] = 120; // x
  pos = putBase(out, pos, (i * 2654435761) % 99991, 10);
  out[pos++] = 46;
  const t = TLDS[i % TLDS.length];
  out.set(t, pos);
  return pos + t.length;
}

const ipText = (v: number): string => `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
const FEEDS = ['feed-a', 'feed-b', 'feed-c', 'feed-d'];
const CATS = ['c2', 'malware', 'mining', 'scanner'];

function build(): void {
  const r = rng(42);
  const b = new IntelStoreBuilder();
  const base = FEEDS.map((f, i) => b.metaId(f, CATS[i], null, -1, 0));
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N_V4; i++) {
    const f = i & 3;
    let start: number;
    let prefix = 32;
    if (i < N_CIDR) {
      prefix = 16 + (r() % 13);
      start = (r() & (0xffffffff << (32 - prefix))) >>> 0;
    } else start = r();
    const meta = i % 50 === 0 ? b.metaId(FEEDS[f], CATS[f], null, -1, 1 + (r() % 65535)) : base[f];
    b.addIPv4Net(start, prefix, meta);
  }
  const w = new Uint32Array(4);
  for (let i = 0; i < N_V6; i++) {
    const g0 = 0x2000 | (r() & 0xfff);
    const g1 = r() & 0xffff;
    const g2 = r() & 0xffff;
    const g3 = r() & 0xffff;
    const g4 = r() & 0xffff;
    const g7 = r() & 0xffff;
    const cidr = i % 10 === 0;
    w[0] = ((g0 << 16) | g1) >>> 0;
    w[1] = cidr ? (g2 << 16) >>> 0 : ((g2 << 16) | g3) >>> 0;
    w[2] = cidr ? 0 : (g4 << 16) >>> 0;
    w[3] = cidr ? 0 : g7;
    b.addIPv6Net(w, cidr ? 48 : 128, base[i & 3]);
  }
  const d = new Uint8Array(64);
  for (let i = 0; i < N_DOM; i++) b.addDomainBytes(d, 0, domainBytes(i, d, 0), base[i & 3]);
  const t1 = process.hrtime.bigint();
  const c1 = process.cpuUsage(c0);
  const store = b.build();
  const t2 = process.hrtime.bigint();
  const c2 = process.cpuUsage(c0);
  mkdirSync(join(REPO, 'bench', 'out'), { recursive: true });
  const size = writeIntelStore(store, file);
  const t3 = process.hrtime.bigint();
  const c3 = process.cpuUsage(c0);
  const peak = peakRssMb();
  const s = (a: bigint, c: bigint): string => (Number(c - a) / 1e9).toFixed(1);
  const cpu = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1e6;
  console.log(`| scale | indicators | generate + add s wall (CPU) | compile s wall (CPU) | write s wall (CPU) | file MB | build peak RSS MB |`);
  console.log(`| --- | --- | --- | --- | --- | --- | --- |`);
  console.log(
    `| ${full ? 'full' : 'default'} | ${(N_V4 + N_V6 + N_DOM).toLocaleString('en')} (v4 ${N_V4.toLocaleString('en')} incl. ${N_CIDR.toLocaleString('en')} CIDR, v6 ${N_V6.toLocaleString('en')}, domains ${N_DOM.toLocaleString('en')}) | ${s(t0, t1)} (${cpu(c1).toFixed(1)}) | ${s(t1, t2)} (${(cpu(c2) - cpu(c1)).toFixed(1)}) | ${s(t2, t3)} (${(cpu(c3) - cpu(c2)).toFixed(1)}) | ${(size / 1e6).toFixed(1)} | ${peak.toFixed(0)} |`,
  );
  console.log(`counts: ${JSON.stringify(store.counts())}`);
  textPath();
}

/**
 * The text path on a sample: Indicator objects with string values through
 * `add()` (parseIPNet / normalizeDomain), as feed parsers deliver them.
 * Same proportions as the full set (2/3 IPv4, 1/3 domains).
 */
function textPath(): void {
  const b = new IntelStoreBuilder();
  const r = rng(99);
  const n4 = Math.round((TEXT_SAMPLE * 2) / 3);
  const ind = { kind: 'ipv4' as 'ipv4' | 'domain', value: '', port: 0, confidence: -1, category: null, tag: null };
  const d = Buffer.alloc(64);
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < TEXT_SAMPLE; i++) {
    if (i < n4) {
      ind.kind = 'ipv4';
      ind.value = ipText(r());
    } else {
      ind.kind = 'domain';
      ind.value = d.toString('latin1', 0, domainBytes(i, d, 0));
    }
    b.add(FEEDS[i & 3], CATS[i & 3], ind);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cu = process.cpuUsage(c0);
  console.log(
    `text path (format + add() of ${TEXT_SAMPLE.toLocaleString('en')} text indicators, 2/3 IPv4, 1/3 domains): ${(TEXT_SAMPLE / secs / 1e6).toFixed(2)} M/s wall, ${(TEXT_SAMPLE / ((cu.user + cu.system) / 1e6) / 1e6).toFixed(2)} M per CPU-second`,
  );
}

function lookups(): void {
  const rss0 = process.memoryUsage().rss;
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const s = loadIntelStore(file);
  const t1 = process.hrtime.bigint();
  const c1 = process.cpuUsage(c0);
  const loadMs = Number(t1 - t0) / 1e6;
  const loadCpuMs = (c1.user + c1.system) / 1000;
  const rssLoaded = process.memoryUsage().rss;

  // Hits re-derive listed entries from the same generator.
  const r = rng(42);
  const listed = new Uint32Array(Math.min(N_V4 - N_CIDR, QUERIES));
  for (let i = 0; i < N_CIDR; i++) {
    r();
    r();
    if (i % 50 === 0) r();
  }
  for (let i = 0; i < listed.length; i++) {
    listed[i] = r();
    if ((N_CIDR + i) % 50 === 0) r();
  }
  const q = rng(7);
  const v4q = new Uint32Array(QUERIES);
  for (let i = 0; i < QUERIES; i++) v4q[i] = i & 1 ? q() : listed[q() % listed.length];
  const v6q = Buffer.alloc(16 * QUERIES);
  for (let i = 0; i < QUERIES; i++) for (let k = 0; k < 4; k++) v6q.writeUInt32BE(k === 0 ? (0x20000000 | (q() & 0x0fffffff)) >>> 0 : q(), 16 * i + 4 * k);
  const domainQueries = (hitEvery: number): { strs: string[]; bytes: Buffer; off: Uint32Array } => {
    const bytes = Buffer.alloc(QUERIES * 40);
    const off = new Uint32Array(QUERIES + 1);
    const strs = new Array<string>(QUERIES);
    let pos = 0;
    for (let i = 0; i < QUERIES; i++) {
      off[i] = pos;
      pos += bytes.write('www.', pos, 'latin1');
      if (i % hitEvery === 0) {
        pos += bytes.write('api.', pos, 'latin1');
        pos = domainBytes(q() % N_DOM, bytes, pos);
      } else {
        bytes[pos++] = 110; // n
        pos = putBase(bytes, pos, q(), 36);
        bytes[pos++] = 46;
        const t = TLDS[q() % TLDS.length];
        bytes.set(t, pos);
        pos += t.length;
      }
      strs[i] = bytes.toString('latin1', off[i], pos);
    }
    off[QUERIES] = pos;
    return { strs, bytes, off };
  };
  const half = domainQueries(2);
  const rare = domainQueries(100);

  // Wall clock and this process's CPU time per pass: on the shared machine the
  // wall clock counts time the process waited for a core; CPU time does not.
  const time = (fn: () => number): { perSec: number; perCpuSec: number; hits: number } => {
    let best = Infinity;
    let bestCpu = Infinity;
    let hits = 0;
    for (let pass = 0; pass < 5; pass++) {
      const a = process.hrtime.bigint();
      const ca = process.cpuUsage();
      hits = fn();
      const secs = Number(process.hrtime.bigint() - a) / 1e9;
      const cu = process.cpuUsage(ca);
      best = Math.min(best, secs);
      bestCpu = Math.min(bestCpu, (cu.user + cu.system) / 1e6);
    }
    return { perSec: QUERIES / best, perCpuSec: QUERIES / bestCpu, hits };
  };
  const v4 = time(() => {
    let h = 0;
    for (let i = 0; i < QUERIES; i++) if (s.lookupIPv4(v4q[i]) >= 0) h++;
    return h;
  });
  const v6 = time(() => {
    let h = 0;
    for (let i = 0; i < QUERIES; i++) if (s.lookupIPv6(v6q, 16 * i) >= 0) h++;
    return h;
  });
  const domStr = (m: { strs: string[] }) => () => {
    let h = 0;
    for (let i = 0; i < QUERIES; i++) if (s.lookupDomain(m.strs[i]) >= 0) h++;
    return h;
  };
  const domBytes = (m: { bytes: Buffer; off: Uint32Array }) => () => {
    let h = 0;
    for (let i = 0; i < QUERIES; i++) if (s.lookupDomainBytes(m.bytes, m.off[i], m.off[i + 1]) >= 0) h++;
    return h;
  };
  const out = new Int32Array(QUERIES);
  const hitsOf = (): number => {
    let h = 0;
    for (let i = 0; i < QUERIES; i++) if (out[i] >= 0) h++;
    return h;
  };
  const v4b = time(() => {
    s.lookupIPv4Batch(v4q, out);
    return hitsOf();
  });
  const domBatchB = (m: { bytes: Buffer; off: Uint32Array }) => () => {
    s.lookupDomainBytesBatch(m.bytes, m.off, out);
    return hitsOf();
  };
  const domBatchS = (m: { strs: string[] }) => () => {
    s.lookupDomainBatch(m.strs, out);
    return hitsOf();
  };
  const dHalfBB = time(domBatchB(half));
  const dHalfBS = time(domBatchS(half));
  const dHalfS = time(domStr(half));
  const dHalfB = time(domBytes(half));
  const dRareS = time(domStr(rare));
  const dRareB = time(domBytes(rare));
  const M = (x: { perSec: number; perCpuSec: number }): string => `${(x.perSec / 1e6).toFixed(2)} M (${(x.perCpuSec / 1e6).toFixed(2)} M)`;
  const pct = (x: { hits: number }): string => ((100 * x.hits) / QUERIES).toFixed(1);
  const hp = process.env.GLIBC_TUNABLES?.includes('hugetlb=1') ? ' (THP via GLIBC_TUNABLES)' : '';
  console.log('');
  console.log(`| batched lookups${hp} (lookupIPv4Batch, lookupDomainBatch / lookupDomainBytesBatch; 32 per stage) | IPv4/s wall (CPU) | domains 50 % hits, string / bytes, wall (CPU) |`);
  console.log(`| --- | --- | --- |`);
  console.log(`| same queries, same store | ${M(v4b)} | ${M(dHalfBS)} / ${M(dHalfBB)} |`);
  if (v4b.hits !== v4.hits || dHalfBB.hits !== dHalfB.hits || dHalfBS.hits !== dHalfS.hits) throw new Error('batched and single lookups disagree');
  console.log('');
  console.log(`| lookups one at a time${hp}: load s wall (CPU) | RSS after load MB (store part) | IPv4/s wall (CPU) | IPv6/s wall (CPU) | domains 50 % hits, string / bytes, wall (CPU) | domains 1 % hits, string / bytes, wall (CPU) | hit % IPv4 / dom 50 / dom 1 |`);
  console.log(`| --- | --- | --- | --- | --- | --- | --- |`);
  console.log(
    `| ${(loadMs / 1000).toFixed(2)} (${(loadCpuMs / 1000).toFixed(2)}) | ${(rssLoaded / 1e6).toFixed(0)} (${((rssLoaded - rss0) / 1e6).toFixed(0)}) | ${M(v4)} | ${M(v6)} | ${M(dHalfS)} / ${M(dHalfB)} | ${M(dRareS)} / ${M(dRareB)} | ${pct(v4)} / ${pct(dHalfS)} / ${pct(dRareS)} |`,
  );
  if (dHalfS.hits !== dHalfB.hits || dRareS.hits !== dRareB.hits) throw new Error('string and byte domain lookups disagree');
  // The targets (at full scale): load ≤ 10 s, RSS ≤ 1.5 GB, ≥ 5 M IPv4 and ≥ 2 M domain lookups/s.
  const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  console.log(
    `targets (CPU time; wall in brackets): load ≤ 10 s ${verdict(loadCpuMs <= 10_000)} (${verdict(loadMs <= 10_000)}); RSS ≤ 1.5 GB ${verdict(rssLoaded <= 1.5e9)}; IPv4 ≥ 5 M/s one at a time ${verdict(v4.perCpuSec >= 5e6)} (${verdict(v4.perSec >= 5e6)}), batched ${verdict(v4b.perCpuSec >= 5e6)} (${verdict(v4b.perSec >= 5e6)}); domains ≥ 2 M/s at 50 % hits one at a time ${verdict(Math.min(dHalfS.perCpuSec, dHalfB.perCpuSec) >= 2e6)} (${verdict(Math.min(dHalfS.perSec, dHalfB.perSec) >= 2e6)}), batched ${verdict(Math.min(dHalfBS.perCpuSec, dHalfBB.perCpuSec) >= 2e6)} (${verdict(Math.min(dHalfBS.perSec, dHalfBB.perSec) >= 2e6)}) (load average ${loadavg()[0].toFixed(1)} on ${cpus().length} CPUs while measuring)`,
  );
}

if (process.argv[2] === 'lookups') lookups();
else {
  if (process.argv[2] !== 'lookups-only') build();
  let status = 0;
  const variants: Array<Record<string, string>> = [{}];
  // Transparent huge pages for the store's buffers (glibc ≥ 2.35 madvises its mmapped chunks): fewer TLB misses.
  if (process.env.HARRIER_INTEL_BENCH_THP !== '0') variants.push({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' });
  for (const extra of variants) {
    const child = spawnSync(process.execPath, [process.argv[1], 'lookups'], { stdio: 'inherit', env: { ...process.env, ...extra } });
    status ||= child.status ?? 1;
  }
  if (!process.env.HARRIER_INTEL_BENCH_KEEP) rmSync(file, { force: true });
  process.exit(status);
}
