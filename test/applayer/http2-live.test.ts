/**
 * Real HTTP/2 traffic made at test time: Node's own http2 client and server
 * (cleartext, prior knowledge) on 127.0.0.1, captured with tcpdump on lo.
 * The TCP payloads are taken back out with `tshark -z follow,tcp,raw`, fed to
 * the parser in the captured segment order, and the transactions compared
 * with what the client did and with tshark's HTTP/2 dissection (every
 * header name/value pair it decoded, as a multiset). Covers a large header
 * set (split over CONTINUATION frames), a POST body, HPACK dynamic-table
 * reuse across requests, and a gRPC-shaped exchange with trailers.
 * No capture bytes are stored. Skips without root, tcpdump or tshark.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Direction } from '../../src/applayer/parser.js';
import { http2Parser } from '../../src/applayer/http2/index.js';
import { collector, run, summary } from './http2-support.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { defaultConfig } from '../../src/sensor/config.js';
import { readCaptureFile } from '../../src/capture/reader.js';
import type { Flow } from '../../src/flow/flow.js';
import type { Http2State } from '../../src/applayer/http2/parser.js';
import type { Http2Tx } from '../../src/applayer/http2/tx.js';
import { eveSchemaErrors, EVE_SCHEMA } from '../support/eve-schema.js';
import { sharedPath } from '../support/shared.js';
import { AppLayer } from '../../src/applayer/stage.js';
import { APP_PARSERS } from '../../src/applayer/registry.js';
import type { AppParserDecl } from '../../src/applayer/parser.js';
import { EveCollector } from '../../src/output/eve-writer.js';
import { skipUnlessRoot, skipWithoutProgram } from '../support/shared.js';

const skip = skipUnlessRoot() || skipWithoutProgram('tcpdump') || skipWithoutProgram('tshark');

const BIG_HEADERS: Record<string, string> = {};
for (let i = 0; i < 90; i++) BIG_HEADERS[`x-big-${i}`] = `v${i}-` + 'abcdefghij'.repeat(20);
const BODY = Buffer.alloc(70000, 0x42);

function startServer(): Promise<http2.Http2Server> {
  const srv = http2.createServer({ settings: { maxHeaderListSize: 1 << 20 } });
  srv.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    const path = String(headers[':path']);
    if (String(headers['content-type'] ?? '').startsWith('application/grpc')) {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '5', 'grpc-message': 'not found' }));
      stream.on('data', () => {});
      stream.on('end', () => {
        const msg = Buffer.from([0, 0, 0, 0, 3, 1, 2, 3]);
        stream.end(msg);
      });
      return;
    }
    let n = 0;
    stream.on('data', (c: Buffer) => { n += c.length; });
    stream.on('end', () => {
      if (path === '/missing') {
        stream.respond({ ':status': 404 });
        stream.end();
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'text/plain', 'x-got': String(n) });
      stream.end('hello from ' + path);
    });
  });
  return new Promise((res) => srv.listen(0, '127.0.0.1', () => res(srv)));
}

function request(c: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer): Promise<{ status: number; bytes: number }> {
  return new Promise((res, rej) => {
    const s = c.request(headers, { endStream: body === undefined });
    let status = 0;
    let bytes = 0;
    s.on('response', (h) => { status = Number(h[':status']); });
    s.on('data', (d: Buffer) => { bytes += d.length; });
    s.on('end', () => res({ status, bytes }));
    s.on('error', rej);
    if (body !== undefined) s.end(body);
  });
}

interface Segment { dir: Direction; data: Buffer }

/** `-z follow,tcp,raw,0` keeping segment order (node 1's lines start with a tab). */
function follow(file: string): Segment[] {
  const text = execFileSync('tshark', ['-r', file, '-n', '-q', '-z', 'follow,tcp,raw,0'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const out: Segment[] = [];
  let body = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('Node 1:')) { body = true; continue; }
    if (!body || line.startsWith('=') || line.trim() === '') continue;
    out.push({ dir: line.startsWith('\t') ? 1 : 0, data: Buffer.from(line.trim(), 'hex') });
  }
  return out;
}

/**
 * The capture through Harrier's own capture reader, decoder, flow table and
 * TCP reassembler (app layer off); the reassembled bytes of each flow go to
 * an HTTP/2 parser of its own.
 */
function viaPipeline(file: string): { txs: Http2Tx[]; events: string[] } {
  const states = new Map<Flow, Http2State>();
  const { r, ctx } = collector();
  const get = (f: Flow): Http2State => {
    let st = states.get(f);
    if (st === undefined) states.set(f, (st = http2Parser.create(ctx)));
    return st;
  };
  const p = new Pipeline(defaultConfig(), {
    appLayer: false,
    stream: {
      data: (f, dir, buf, off, len) => http2Parser.parse(get(f), dir, buf, off, len, 0),
      gap: (f, dir, len) => http2Parser.gap!(get(f), dir, len),
    },
  });
  readCaptureFile(file, p);
  p.finish();
  for (const st of states.values()) http2Parser.end!(st);
  return { txs: r.txs, events: r.events };
}

/**
 * The whole sensor: the pipeline with the registered parsers plus HTTP/2
 * (until the registry lists it, the test swaps in an app-layer stage that
 * has it), writing EVE records.
 */
function sensorRecords(file: string): Record<string, unknown>[] {
  const eve = new EveCollector();
  const p = new Pipeline(defaultConfig(), { eve });
  const parsers = APP_PARSERS.some((d) => d.name === 'http2') ? APP_PARSERS : [...APP_PARSERS, http2Parser as AppParserDecl<unknown>];
  (p as unknown as { app: AppLayer }).app = new AppLayer(parsers, (rec) => eve.write(rec));
  readCaptureFile(file, p);
  p.finish();
  return eve.out;
}

/** Every (name, value) tshark decoded from HEADERS/CONTINUATION/PUSH_PROMISE, sorted. */
function tsharkHeaders(file: string, port: number): string[] {
  const text = execFileSync('tshark', ['-r', file, '-n', '-d', `tcp.port==${port},http2`, '-T', 'fields', '-E', 'aggregator=\u0001',
    '-e', 'http2.header.name', '-e', 'http2.header.value'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const [n, v] = line.split('\t');
    const names = (n ?? '').split('\u0001');
    const values = (v ?? '').split('\u0001');
    if (names.length === 1 && names[0] === '') continue;
    names.forEach((name, i) => out.push(`${name}: ${values[i] ?? ''}`));
  }
  return out.sort();
}

test('Node http2 client/server on lo: transactions match the client and tshark', { skip, timeout: 30000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrier-h2-'));
  const pcap = join(dir, 'h2.pcap');
  const srv = await startServer();
  const port = (srv.address() as AddressInfo).port;
  const results: { status: number; bytes: number }[] = [];
  const dump = spawn('tcpdump', ['-i', 'lo', '-n', '--immediate-mode', '-U', '-Z', 'root', '-s', '0', '-w', pcap, `tcp port ${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    await new Promise<void>((res, rej) => {
      let err = '';
      dump.stderr.on('data', (d: Buffer) => { err += d.toString(); if (err.includes('listening on')) res(); });
      dump.on('exit', (code) => rej(new Error(`tcpdump exited ${code}: ${err}`)));
    });
    const c = http2.connect(`http://127.0.0.1:${port}`);
    results.push(await request(c, { ':path': '/hello', 'user-agent': 'harrier-test/1' }));
    results.push(await request(c, { ':path': '/hello?again=1', 'user-agent': 'harrier-test/1' }));
    results.push(await request(c, { ':path': '/big', ...BIG_HEADERS }));
    results.push(await request(c, { ':method': 'POST', ':path': '/upload', 'content-type': 'application/octet-stream' }, BODY));
    results.push(await request(c, { ':method': 'POST', ':path': '/helloworld.Greeter/SayHello', 'content-type': 'application/grpc+proto', te: 'trailers' }, Buffer.from([0, 0, 0, 0, 2, 8, 1])));
    results.push(await request(c, { ':path': '/missing' }));
    await new Promise<void>((res) => c.close(() => res()));
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    dump.kill('SIGINT');
    await new Promise((r) => dump.once('exit', r));
    await new Promise((r) => srv.close(r));
  }
  try {
    const segs = follow(pcap);
    assert.ok(segs.length > 10, 'captured segments');
    const r = run(http2Parser, segs.map((s) => [s.dir, s.data] as const));
    assert.deepEqual(r.events, []);
    assert.deepEqual(r.abandoned, []);
    const txs = [...r.txs].sort((a, b) => a.streamId - b.streamId);
    assert.deepEqual(txs.map((t) => t.streamId), [1, 3, 5, 7, 9, 11]);
    assert.ok(txs.every((t) => !t.incomplete));
    const str = (b: Buffer | null): string | null => (b === null ? null : b.toString('latin1'));
    assert.deepEqual(txs.map((t) => [str(t.method), str(t.path), t.status]), [
      ['GET', '/hello', 200], ['GET', '/hello?again=1', 200], ['GET', '/big', 200], ['POST', '/upload', 200],
      ['POST', '/helloworld.Greeter/SayHello', 200], ['GET', '/missing', 404],
    ]);
    assert.ok(txs.every((t) => str(t.authority) === `127.0.0.1:${port}`));
    assert.equal(str(txs[0]!.userAgent), 'harrier-test/1');
    // Large header set: all 90 fields came through (over CONTINUATION frames).
    for (const [k, v] of Object.entries(BIG_HEADERS)) {
      assert.ok(txs[2]!.requestHeaders.some((h) => str(h.name) === k && str(h.value) === v), k);
    }
    assert.equal(txs[3]!.requestDataBytes, BODY.length);
    assert.equal(txs[3]!.responseDataBytes, results[3]!.bytes);
    assert.equal(str(txs[3]!.responseHeaders.find((h) => str(h.name) === 'x-got')?.value ?? null), String(BODY.length));
    assert.deepEqual(txs[4]!.grpc, { service: 'helloworld.Greeter', method: 'SayHello', status: 5, message: 'not found' });
    assert.equal(txs[4]!.requestDataBytes, 7);
    assert.equal(txs[4]!.responseDataBytes, 8);
    assert.equal(txs[5]!.grpc, null);
    // The same through Harrier's own reassembly.
    const viaP = viaPipeline(pcap);
    assert.deepEqual(viaP.events, []);
    assert.deepEqual(viaP.txs.map(summary).sort((a, b) => (a.stream as number) - (b.stream as number)), txs.map(summary));
    // The sensor writes one `http` record per stream with app_proto http2, and a flow record; all validate.
    const recs = sensorRecords(pcap);
    const httpRecs = recs.filter((x) => x.event_type === 'http');
    if (process.env.HARRIER_KEEP) console.log(JSON.stringify(httpRecs.find((x) => (x.http as { url: string }).url.startsWith("/helloworld"))));
    assert.equal(httpRecs.length, 6);
    assert.ok(httpRecs.every((x) => x.app_proto === 'http2' && x.dest_port === port));
    const urls = httpRecs.map((x) => (x.http as { url: string }).url).sort();
    assert.deepEqual(urls, ['/big', '/hello', '/hello?again=1', '/helloworld.Greeter/SayHello', '/missing', '/upload']);
    const flowRec = recs.find((x) => x.event_type === 'flow');
    assert.equal(flowRec?.app_proto, 'http2');
    if (sharedPath(EVE_SCHEMA) !== null) {
      for (const rec of [...httpRecs, flowRec!]) assert.deepEqual(eveSchemaErrors(rec), [], JSON.stringify(rec).slice(0, 200));
    }
    // tshark's HPACK decoding agrees, field for field.
    const ours: string[] = [];
    for (const t of txs) for (const h of [...t.requestHeaders, ...t.requestTrailers, ...t.responseHeaders, ...t.responseTrailers]) ours.push(`${str(h.name)}: ${str(h.value)}`);
    assert.deepEqual(ours.sort(), tsharkHeaders(pcap, port));
  } finally {
    if (!process.env.HARRIER_KEEP) rmSync(dir, { recursive: true, force: true });
  }
});
