/**
 * DNS fuzzing: mutated and truncated messages through the codec, the EVE
 * formatter, the UDP and TCP parsers (random chunking) and the answer table.
 * Asserts: nothing throws, no input takes long (no hang), and memory stays
 * bounded (heap after GC, and the parsers' own buffers within their limits).
 * 20k inputs by default; HARRIER_FUZZ_ITERATIONS=1000000 for a long run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type DnsMessageInit, decodeDnsMessage, encodeDnsMessage, isDnsDecodeError } from '../../src/applayer/dns/codec.js';
import { DnsAnswerTable } from '../../src/applayer/dns/answers.js';
import { dnsParser, dnsTcpParser } from '../../src/applayer/dns/index.js';
import { MAX_PENDING } from '../../src/applayer/dns/parser.js';
import { Collect } from './dns-support.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const ITER = Number(process.env.HARRIER_FUZZ_ITERATIONS ?? 20_000);

let seed = 0x9e3779b9;
function rnd(n: number): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
}

const SEEDS: DnsMessageInit[] = [
  { id: 1, rd: true, questions: [{ name: 'www.example.com', type: 1, class: 1 }] },
  {
    id: 2, qr: true, rd: true, ra: true,
    questions: [{ name: 'www.example.com', type: 65, class: 1 }],
    answers: [
      { name: 'www.example.com', type: 5, ttl: 5, data: { kind: 'name', name: 'cdn.example.net' } },
      { name: 'cdn.example.net', type: 1, ttl: 5, data: { kind: 'a', address: '192.0.2.1' } },
      { name: 'cdn.example.net', type: 28, ttl: 5, data: { kind: 'aaaa', address: '2001:db8::1' } },
      { name: 'cdn.example.net', type: 16, ttl: 5, data: { kind: 'txt', strings: ['a', 'bb'] } },
      { name: 'cdn.example.net', type: 15, ttl: 5, data: { kind: 'mx', preference: 1, exchange: 'mx.example.net' } },
      { name: 's.example.net', type: 33, ttl: 5, data: { kind: 'srv', priority: 1, weight: 1, port: 1, target: 't.example.net' } },
      { name: 'www.example.com', type: 65, ttl: 5, data: { kind: 'svcb', priority: 1, target: '.', alpn: ['h2', 'h3'], port: 443, ipv4hint: ['192.0.2.9'], ipv6hint: ['2001:db8::9'] } },
    ],
    authorities: [{ name: 'example.net', type: 6, ttl: 5, data: { kind: 'soa', mname: 'ns.example.net', rname: 'h.example.net', serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5 } }],
    additionals: [{ name: '', type: 41, data: { kind: 'opt', udpSize: 1232, extRcode: 1, version: 0, dnssecOk: true, z: 0, options: [{ code: 10, data: Buffer.alloc(8, 1) }] } }],
  },
  { id: 3, qr: true, rcode: 3, questions: [{ name: 'nx.example', type: 28, class: 1 }], authorities: [{ name: 'example', type: 6, ttl: 1, data: { kind: 'soa', mname: 'a', rname: 'b', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 1 } }] },
];
const WIRES = SEEDS.map((s) => encodeDnsMessage(s));

function mutate(src: Buffer): Buffer {
  const b = Buffer.from(src);
  const kind = rnd(6);
  if (kind === 0) return b.subarray(0, rnd(b.length + 1)); // truncate
  const flips = 1 + rnd(8);
  for (let i = 0; i < flips; i++) {
    const at = rnd(b.length);
    switch (rnd(5)) {
      case 0: b[at] = rnd(256); break;
      case 1: b[at] = 0xc0; if (at + 1 < b.length) b[at + 1] = rnd(b.length); break; // compression pointer
      case 2: b[at] = rnd(64); break; // label length
      case 3: b[at] ^= 1 << rnd(8); break;
      default: if (at + 1 < b.length) b.writeUInt16BE(rnd(65536), at); // counts / lengths
    }
  }
  if (kind === 5) return Buffer.concat([b, b.subarray(rnd(b.length))]); // splice
  return b;
}

test(`dns fuzz: ${ITER} mutated/truncated inputs — no throw, no hang, bounded memory`, () => {
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const udpCtx = new Collect();
  const udp = dnsParser.create(udpCtx);
  const table = new DnsAnswerTable({ maxEntries: 1000 });
  let tcpCtx = new Collect();
  let tcp = dnsTcpParser.create(tcpCtx);
  let decoded = 0;
  let worst = 0;
  for (let i = 0; i < ITER; i++) {
    const input = mutate(WIRES[rnd(WIRES.length)]);
    const t0 = process.cpuUsage();
    const m = decodeDnsMessage(input, 0, input.length);
    if (!isDnsDecodeError(m)) {
      decoded++;
      table.addResponse(`10.0.${rnd(4)}.1`, m, i);
    }
    dnsParser.parse(udp, rnd(2) as 0 | 1, input, 0, input.length, i);
    // TCP: length prefix (sometimes lying), random chunks.
    const framed = Buffer.concat([Buffer.from([input.length >> 8, input.length & 0xff]), input]);
    if (rnd(8) === 0) framed.writeUInt16BE(rnd(65536), 0);
    for (let p = 0; p < framed.length; ) {
      const n = 1 + rnd(framed.length - p);
      dnsTcpParser.parse(tcp, 0, framed, p, n, i);
      p += n;
    }
    for (const t of udpCtx.txs) JSON.stringify(t.eve());
    for (const t of tcpCtx.txs) JSON.stringify(t.eve());
    udpCtx.txs.length = 0;
    tcpCtx.txs.length = 0;
    udpCtx.events.length = 0;
    const c = process.cpuUsage(t0);
    const dt = (c.user + c.system) / 1e3;
    if (dt > worst) worst = dt;
    if (tcpCtx.abandoned !== null || i % 1000 === 0) {
      tcpCtx = new Collect();
      tcp = dnsTcpParser.create(tcpCtx);
    }
    assert.ok(udp.pending.length <= MAX_PENDING);
    assert.ok(table.size <= 1000);
  }
  gc();
  const grown = (process.memoryUsage().heapUsed - heap0) / 1e6;
  console.log(`# dns fuzz: ${ITER} inputs, ${decoded} decoded, worst ${worst.toFixed(1)} ms CPU per input, heap +${grown.toFixed(1)} MB`);
  assert.ok(decoded > ITER / 20, 'the mutations still produce decodable messages');
  assert.ok(worst < 200, `an input took ${worst} ms of CPU`);
  assert.ok(grown < 64, `heap grew ${grown} MB`);
});

test('worst-case pointer chains: a 64 KiB message of maximal chains decodes in bounded time', () => {
  // Record 0 is a NULL record whose rdata is a chain of 126 pointers, each to
  // the next, ending in a root label; every further record's owner name
  // enters the chain near its start, at one of 32 points in turn (so the
  // per-message name cache cannot short-cut them).
  const chainStart = 12 + 1 + 10;
  const chain = Buffer.alloc(254);
  for (let i = 0; i < 126; i++) chain.writeUInt16BE(0xc000 | (chainStart + 2 * (i + 1)), 2 * i);
  const rr0 = Buffer.concat([Buffer.from([0, 0, 10, 0, 1, 0, 0, 0, 1, 0, 254]), chain]);
  const rr = (k: number): Buffer => Buffer.from([0xc0, chainStart + 2 * k, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 192, 0, 2, 1]);
  const n = Math.floor((65535 - 12 - rr0.length) / 16);
  const msg = Buffer.concat([Buffer.from('000181800000000000000000', 'hex'), rr0, ...Array.from({ length: n }, (_, i) => rr(i % 32))]);
  msg.writeUInt16BE(n + 1, 6);
  const t0 = process.cpuUsage();
  const m = decodeDnsMessage(msg, 0, msg.length);
  const c = process.cpuUsage(t0);
  const ms = (c.user + c.system) / 1e3;
  console.log(`# dns worst-case pointer message (${msg.length} B): ${ms.toFixed(1)} ms CPU, ${isDnsDecodeError(m) ? m.code : 'decoded'}`);
  assert.ok(isDnsDecodeError(m) && m.code === 'too_many_pointers');
  assert.ok(ms < 50, `${ms} ms`);
});
