/**
 * Fuzz: mutated, truncated and re-split TLS streams never make the parser
 * throw or hang, and its buffers stay within the configured limits.
 * 20k iterations by default; HARRIER_FUZZ_ITERATIONS=1000000 for a long run
 * (HARRIER_FUZZ_SEED to replay one).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Direction } from '../../src/applayer/parser.js';
import { createTlsParser, probeTls, type TlsState } from '../../src/applayer/tls/index.js';
import { RecordingContext } from './tls-support.js';
import { readCaptureStreams } from './tls-pcapfile.js';
import {
  alpnExt, certificateBody, clientHelloBody, clientVersionsExt, ext, groupsExt, handshakeRecords, hs,
  keyShareClientExt, pointFormatsExt, record, serverHelloBody, serverVersionExt, sigAlgsExt, sniExt,
} from './tls-build.js';
import { sharedPath } from '../support/shared.js';

type Flight = [Direction, Buffer];

const ITER = Number(process.env.HARRIER_FUZZ_ITERATIONS ?? 20_000);
const SEED = Number(process.env.HARRIER_FUZZ_SEED ?? 0x5eed1234);

/** xorshift32: reproducible from the seed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
}

function seeds(): Flight[][] {
  const ch = hs(1, clientHelloBody({
    ciphers: [0x0a0a, 0x1301, 0xc02f, 0x009c], sessionId: Buffer.alloc(32, 1),
    exts: [ext(0x1a1a), sniExt('fuzz.example'), alpnExt(['h2', 'http/1.1']), groupsExt([0x2a2a, 29, 23]), pointFormatsExt([0]),
      sigAlgsExt([0x0403, 0x0804]), clientVersionsExt([0x3a3a, 0x0304, 0x0303]), keyShareClientExt([29])],
  }));
  // A fake "certificate": DER-shaped garbage exercises the X.509 error path too.
  const fakeCert = Buffer.concat([Buffer.from([0x30, 0x82, 0x01, 0x00]), Buffer.alloc(256, 0x5a)]);
  const sh12 = hs(2, serverHelloBody({ cipher: 0xc02f, exts: [ext(0xff01, Buffer.from([0])), alpnExt(['h2'])] }));
  const tls12: Flight[] = [
    [0, record(22, ch, 0x0301)],
    [1, Buffer.concat([record(22, sh12), handshakeRecords(hs(11, certificateBody([fakeCert, fakeCert])), 300), record(22, hs(14, Buffer.alloc(0)))])],
    [0, Buffer.concat([record(22, hs(16, Buffer.alloc(33))), record(20, Buffer.from([1])), record(22, Buffer.alloc(40))])],
    [1, Buffer.concat([record(20, Buffer.from([1])), record(22, Buffer.alloc(40)), record(23, Buffer.alloc(64))])],
    [0, Buffer.concat([record(21, Buffer.from([1, 0])), record(24, Buffer.alloc(20))])],
  ];
  const sh13 = hs(2, serverHelloBody({ cipher: 0x1301, sessionId: Buffer.alloc(32, 1), exts: [serverVersionExt(0x0304), ext(0x0033, Buffer.alloc(36, 1))] }));
  const tls13: Flight[] = [[0, handshakeRecords(ch, 50)], [1, Buffer.concat([record(22, sh13), record(20, Buffer.from([1])), record(23, Buffer.alloc(100))])]];
  const v2body = Buffer.from([1, 3, 1, 0, 3, 0, 0, 0, 16, 0, 0, 0x35, ...Buffer.alloc(16, 1)]);
  const sslv2: Flight[] = [[0, Buffer.concat([Buffer.from([0x80, v2body.length]), v2body])], [1, record(22, sh12, 0x0301)]];
  const out = [tls12, tls13, sslv2];
  // Real streams, when the shared data is there.
  for (const rel of ['suricata-verify/tests/tls/tls-cert-issuer/tls.pcap', 'pcaps/ndpi/tests/cfgs/default/pcap/tls_2_reasms.pcapng']) {
    const p = sharedPath(rel);
    if (p === null) continue;
    for (const s of readCaptureStreams(p).slice(0, 2)) {
      out.push(s.chunks.filter((c) => c.data !== null).map((c) => [c.dir, c.data!] as Flight));
    }
  }
  return out;
}

function mutate(b: Buffer, r: () => number): Buffer {
  const m = Buffer.from(b);
  const k = Math.floor(r() * 6);
  const n = 1 + Math.floor(r() * 4);
  switch (k) {
    case 0: for (let i = 0; i < n && m.length > 0; i++) m[Math.floor(r() * m.length)]! ^= 1 << Math.floor(r() * 8); return m;
    case 1: for (let i = 0; i < n && m.length > 0; i++) m[Math.floor(r() * m.length)] = Math.floor(r() * 256); return m;
    case 2: return m.subarray(0, Math.floor(r() * m.length));
    case 3: { const at = Math.floor(r() * m.length); return Buffer.concat([m.subarray(0, at), Buffer.from(Array.from({ length: n * 3 }, () => Math.floor(r() * 256))), m.subarray(at)]); }
    case 4: { // a length byte (record or handshake header position) set to an extreme
      const at = Math.floor(r() * Math.min(m.length, 12));
      if (m.length > 0) m[at] = r() < 0.5 ? 0xff : 0x00;
      return m;
    }
    default: { const a = Math.floor(r() * m.length); const len = Math.floor(r() * 64); return Buffer.concat([m, m.subarray(a, a + len)]); }
  }
}

test(`fuzz: ${ITER} mutated streams, no throw, no hang, bounded buffers`, { timeout: 600_000 }, () => {
  const limits = { maxHelloBytes: 4096, maxCertBytes: 16384 };
  const decl = createTlsParser({ limits, eve: { ja4: true, alpn: true, subjectaltname: true, client: true } });
  const corpus = seeds();
  const r = rng(SEED);
  const heap0 = process.memoryUsage().heapUsed;
  let slowest = 0;
  let txs = 0;
  for (let it = 0; it < ITER; it++) {
    const base = corpus[Math.floor(r() * corpus.length)]!;
    const flights: Flight[] = base.map(([d, b]) => [d, r() < 0.3 ? mutate(b, r) : b]);
    const t0 = performance.now();
    const ctx = new RecordingContext();
    const st: TlsState = decl.create(ctx);
    try {
      for (const [dir, b] of flights) {
        probeTls(dir, b, 0, b.length);
        // Random split points, sometimes a gap.
        let p = 0;
        while (p < b.length && ctx.abandoned === null) {
          const n = 1 + Math.floor(r() * (r() < 0.2 ? 8 : b.length));
          if (r() < 0.002) decl.gap!(st, dir, n);
          else decl.parse(st, dir, b, p, Math.min(n, b.length - p), 0);
          p += n;
        }
        for (const d of st.dirs) {
          const held = d.hsBuf?.length ?? 0;
          assert.ok(held <= Math.max(limits.maxHelloBytes, limits.maxCertBytes), `buffer ${held} over limit (seed ${SEED}, iteration ${it})`);
        }
      }
      if (ctx.abandoned === null) decl.end!(st);
      for (const tx of ctx.txs) JSON.stringify(tx.eve());
      txs += ctx.txs.length;
      assert.ok(ctx.txs.length <= 1, 'one transaction per flow');
    } catch (e) {
      assert.fail(`iteration ${it} (HARRIER_FUZZ_SEED=${SEED}) threw: ${(e as Error).stack}`);
    }
    const dt = performance.now() - t0;
    if (dt > slowest) slowest = dt;
  }
  const grown = (process.memoryUsage().heapUsed - heap0) / 1048576;
  assert.ok(slowest < 1000, `slowest iteration ${slowest.toFixed(1)} ms`);
  assert.ok(grown < 256, `heap grew ${grown.toFixed(0)} MiB`);
  assert.ok(txs > ITER / 4, `only ${txs} transactions: mutations too destructive to exercise the parser`);
});
