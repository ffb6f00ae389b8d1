/**
 * Real captures: every TCP stream of the chrissanders http_* pcaps is
 * extracted with tshark (`-z follow,tcp,raw`) at test time, fed through the
 * parser split at random points, and the transactions are compared with
 * tshark's own HTTP dissection (Host, request URI, User-Agent, status code).
 * No capture bytes are stored in the repository.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { httpParser } from '../../src/applayer/http/index.js';
import { Probe, type Direction } from '../../src/applayer/parser.js';
import { probeHttp } from '../../src/applayer/http/probe.js';
import { sharedPath, skipWithoutProgram, skipWithoutShared } from '../support/shared.js';
import { readFileSync } from 'node:fs';
import { run, validate } from './http-support.js';

const DIR = 'pcaps/chrissanders';
const SCHEMA = 'eve-schema/suricata-7.0.4.schema.json';
const FILES = [
  'http_google.pcapng', 'http_espn.pcapng', 'http_espn_fail.pcapng', 'http_post.pcapng',
  'http_dvwa_clearlogin.pcapng', 'http_dvwa_directorytraversal.pcapng', 'http_dvwa_sqlinjection.pcapng',
  'http_dvwa_sqlinjection_passwords.pcapng', 'http_ip4and6.pcapng',
];
const skip = skipWithoutShared(DIR) || skipWithoutShared(SCHEMA) || skipWithoutProgram('tshark');
const HTTP_SCHEMA: Record<string, unknown> = skip ? {} :
  (JSON.parse(readFileSync(sharedPath(SCHEMA)!, 'utf8')) as { properties: { http: Record<string, unknown> } }).properties.http;

function tshark(args: string[]): string {
  return execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
}

/** Streams followed per capture (the files used have at most 26). */
const MAX_STREAMS = 48;
const AGG = '\u0001';

interface Expect { req: string[]; codes: number[] }

/**
 * One tshark run per capture (its start-up dominates): HTTP fields of every
 * packet, then the raw follow output of each stream. Node 0 is taken as the
 * client (swapped below when it is not).
 */
function extract(file: string): { streams: Map<number, [Direction, Buffer][]>; want: Map<number, Expect> } {
  const args = ['-r', file, '-n', '-T', 'fields', '-E', `aggregator=${AGG}`, '-e', 'tcp.stream', '-e', 'http.host',
    '-e', 'http.request.uri', '-e', 'http.user_agent', '-e', 'http.response.code'];
  for (let i = 0; i < MAX_STREAMS; i++) args.push('-z', `follow,tcp,raw,${i}`);
  const text = tshark(args);
  const streams = new Map<number, [Direction, Buffer][]>();
  const want = new Map<number, Expect>();
  const get = (s: number): Expect => { let e = want.get(s); if (!e) { e = { req: [], codes: [] }; want.set(s, e); } return e; };
  let cur: [Direction, Buffer][] | null = null;
  for (const line of text.split('\n')) {
    const m = /^Filter: tcp\.stream eq (\d+)/.exec(line);
    if (m) { cur = []; streams.set(Number(m[1]), cur); continue; }
    if (line.startsWith('=') || line.startsWith('Node ') || line.startsWith('Follow:')) continue;
    if (cur === null) {
      const f = line.split('\t');
      if (f.length < 5 || f[0] === '') continue;
      const e = get(Number(f[0]));
      if (f[2] !== '') {
        const hosts = f[1]!.split(AGG), uris = f[2]!.split(AGG), uas = f[3]!.split(AGG);
        uris.forEach((u, i) => e.req.push(`${hosts[i] ?? ''}|${u}|${uas[i] ?? ''}`));
      }
      if (f[4] !== '') for (const c of f[4]!.split(AGG)) e.codes.push(Number(c));
      continue;
    }
    const dir: Direction = line.startsWith('\t') ? 1 : 0;
    const hex = line.trim();
    if (hex === '' || !/^[0-9a-f]+$/.test(hex)) continue;
    cur.push([dir, Buffer.from(hex, 'hex')]);
  }
  return { streams, want };
}

/** Deterministic pseudo-random cuts. */
function randomCuts(seed: number) {
  let x = seed >>> 0 || 1;
  const rnd = (): number => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
  return (len: number): number[] => {
    const out: number[] = [];
    let left = len;
    while (left > 0) { const n = 1 + (rnd() % Math.min(left, 700)); out.push(n); left -= n; }
    return out;
  };
}

for (const f of FILES) {
  test(`real capture ${f}: host, uri, user agent and status match tshark`, { skip: skip || (sharedPath(`${DIR}/${f}`) === null && `missing ${f}`) }, () => {
    const file = sharedPath(`${DIR}/${f}`)!;
    const { streams, want } = extract(file);
    let compared = 0;
    const eventsSeen = new Map<string, number>();
    for (const [id, script0] of streams) {
      if (script0.length === 0) continue;
      // node 0 is normally the client; swap when it is the server
      const first = script0[0]!;
      let script = script0;
      if (first[0] === 0 && probeHttp(0, first[1] as Buffer, 0, (first[1] as Buffer).length) !== Probe.YES &&
        probeHttp(1, first[1] as Buffer, 0, (first[1] as Buffer).length) === Probe.YES) {
        script = script0.map(([d, b]) => [(1 - d) as Direction, b] as const);
      }
      const e = want.get(id) ?? { req: [], codes: [] };
      const whole = run(httpParser, script);
      const cut = run(httpParser, script, randomCuts(id + 1));
      for (const r of [whole, cut]) {
        const reqs = r.txs.filter((t) => t.hasRequest).map((t) =>
          `${t.requestHeader('host')?.toString('latin1') ?? ''}|${t.uriRaw.toString('latin1')}|${t.userAgent?.toString('latin1') ?? ''}`);
        const codes = r.txs.filter((t) => t.hasResponse).map((t) => t.status);
        assert.deepEqual(reqs, e.req, `${f} stream ${id}: requests`);
        assert.deepEqual(codes, e.codes, `${f} stream ${id}: status codes`);
        assert.deepEqual(r.abandoned, [], `${f} stream ${id}: abandoned`);
      }
      assert.deepEqual(cut.txs.map((t) => t.eve()), whole.txs.map((t) => t.eve()), `${f} stream ${id}: chunking changed EVE`);
      assert.deepEqual(cut.events, whole.events, `${f} stream ${id}: chunking changed events`);
      for (const t of whole.txs) {
        assert.deepEqual(validate(HTTP_SCHEMA, t.eve()), [], `${f} stream ${id} tx ${t.txId}: EVE schema`);
        // gzip bodies from real servers decode
        if (t.responseHeader('content-encoding')?.toString('latin1').trim() === 'gzip' && t.responseComplete && t.responseWireLength > 20) { // 20 bytes: gzip of nothing
          assert.ok(t.responseBodyBytes.length > 0, `${f} stream ${id} tx ${t.txId}: gzip body decoded`);
        }
      }
      for (const ev of whole.events) eventsSeen.set(ev, (eventsSeen.get(ev) ?? 0) + 1);
      assert.ok(!whole.events.includes('http.gzip_decompression_failed'), `${f} stream ${id}: gzip failed`);
      compared += e.req.length;
    }
    assert.ok(compared > 0, `${f}: no HTTP requests compared`);
    if (process.env.HARRIER_VERBOSE) console.log(f, Object.fromEntries(eventsSeen));
  });
}
