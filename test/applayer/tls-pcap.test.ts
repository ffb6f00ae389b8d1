/**
 * TLS parser on real captures: Suricata's own regression suite
 * (suricata-verify) states what Suricata logs in `tls` records for its TLS
 * pcaps; every such expectation on tls.* fields is checked against our
 * transactions (same count of matching transactions). tshark comparisons
 * live in tls-tshark.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { createTlsParser, probeTls, type TlsTx } from '../../src/applayer/tls/index.js';
import { Probe } from '../../src/applayer/parser.js';
import { runStream, type TcpStream } from './tls-support.js';
import { readCaptureStreams } from './tls-pcapfile.js';
import { sharedPath, skipWithoutShared } from '../support/shared.js';

const SV = 'suricata-verify/tests';
const skip = skipWithoutShared(SV);

/**
 * Expectations we knowingly do not meet, with the reason.
 * - bug-5713-02-ja4: Suricata 8 hashes JA4_c with a trailing '_' when there
 *   are no signature algorithms; the JA4 spec (and FoxIO, ja4 issue #146)
 *   says the string then ends without the underscore. We follow the spec.
 */
const KNOWN_DEVIATIONS = new Set(['bug-5713-02-ja4']);
/** Fields outside this parser's scope (Suricata 8 handshake dumps, STARTTLS origin). */
const OUT_OF_SCOPE = /^tls\.(client_handshake|server_handshake|from_proto)/;

/** Flatten an EVE object the way suricata-verify addresses fields: a.b, a[0]. */
function flatten(o: unknown, prefix: string, out: Map<string, unknown>): void {
  if (Array.isArray(o)) o.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
  else if (o !== null && typeof o === 'object') for (const [k, v] of Object.entries(o)) flatten(v, prefix === '' ? k : `${prefix}.${k}`, out);
  else out.set(prefix, o);
}

interface Case { name: string; pcap: string; filters: { count: number; match: Record<string, unknown> }[] }

/** Fields of the EVE envelope that the pipeline, not the parser, produces. */
const ENVELOPE = new Set(['event_type', 'src_ip', 'dest_ip', 'src_port', 'dest_port', 'proto', 'pcap_cnt', 'pkt_src', 'app_proto']);

function loadCases(root: string): Case[] {
  const cases: Case[] = [];
  const dirs: string[] = [];
  for (const d of readdirSync(root)) {
    if (/tls|ssl|ja4/.test(d)) {
      if (existsSync(join(root, d, 'test.yaml'))) dirs.push(d);
      else if (existsSync(join(root, d))) for (const s of readdirSync(join(root, d))) if (existsSync(join(root, d, s, 'test.yaml'))) dirs.push(join(d, s));
    }
  }
  for (const d of dirs.sort()) {
    const dir = join(root, d);
    const y = parseYaml(readFileSync(join(dir, 'test.yaml'), 'utf8')) as Record<string, unknown>;
    const args = JSON.stringify(y.args ?? '');
    // Tests about configuration we do not model (bypass, custom field lists) are not parser facts.
    if (/encryption-handling|custom/.test(args)) continue;
    const pcapRel = typeof y.pcap === 'string' ? y.pcap : readdirSync(dir).find((f) => /\.pcapn?g?$/.test(f));
    if (pcapRel === undefined) continue;
    const pcap = join(dir, pcapRel);
    if (!existsSync(pcap)) continue;
    const filters: Case['filters'] = [];
    for (const chk of (y.checks ?? []) as Record<string, unknown>[]) {
      const f = chk.filter as { count?: number; match?: Record<string, unknown> } | undefined;
      if (f?.match?.event_type !== 'tls' || typeof f.count !== 'number') continue;
      const keys = Object.keys(f.match);
      if (!keys.some((k) => k.startsWith('tls.'))) continue;
      if (!keys.every((k) => k.startsWith('tls.') || ENVELOPE.has(k))) continue;
      if (keys.some((k) => OUT_OF_SCOPE.test(k))) continue;
      const match: Record<string, unknown> = {};
      for (const k of keys) if (k.startsWith('tls.')) match[k] = f.match[k];
      filters.push({ count: f.count, match });
    }
    if (filters.length > 0 && !KNOWN_DEVIATIONS.has(d)) cases.push({ name: d, pcap, filters });
  }
  return cases;
}

const decl = createTlsParser({ eve: { ja4: true, alpn: true, subjectaltname: true, client: true } });

/** Streams that start as TLS (STARTTLS and CONNECT upgrades are the pipeline's business). */
function tlsStreams(streams: Iterable<TcpStream>): TcpStream[] {
  const out: TcpStream[] = [];
  for (const s of streams) {
    const first = s.chunks.find((c) => c.data !== null);
    if (first?.data && probeTls(first.dir, first.data, 0, first.data.length) === Probe.YES) out.push(s);
  }
  return out;
}

test('suricata-verify TLS expectations', { skip }, async (t) => {
  const cases = loadCases(sharedPath(SV)!);
  assert.ok(cases.length >= 15, `found ${cases.length} suricata-verify TLS cases`);
  let compared = 0;
  for (const cs of cases) {
    await t.test(cs.name, () => {
      const flat: Map<string, unknown>[] = [];
      for (const s of tlsStreams(readCaptureStreams(cs.pcap))) {
        const ctx = runStream(decl, s.chunks);
        assert.ok(ctx.txs.length <= 1, 'one transaction per flow');
        const tx = ctx.txs[0] as TlsTx | undefined;
        if (tx !== undefined) {
          const m = new Map<string, unknown>();
          flatten(tx.eve(), 'tls', m);
          flat.push(m);
        }
      }
      for (const f of cs.filters) {
        const n = flat.filter((m) => Object.entries(f.match).every(([k, v]) => m.get(k) === v)).length;
        assert.equal(n, f.count, `${JSON.stringify(f.match)}: ${n} matching transactions, Suricata logs ${f.count}\nours: ${JSON.stringify(flat.map((m) => Object.fromEntries(m)), null, 1)}`);
        compared++;
      }
    });
  }
  assert.ok(compared >= 30, `${compared} expectations compared`);
});
