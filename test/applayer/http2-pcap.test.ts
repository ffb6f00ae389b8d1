/**
 * A real third-party capture (nDPI's http2.pcapng test file, read from
 * ../shared/data at test time, never copied): the TCP payloads extracted with
 * `tshark -z follow,tcp,raw` in segment order go through the parser; every
 * header field must equal tshark's own HPACK decoding, and each stream must
 * become one transaction.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { Direction } from '../../src/applayer/parser.js';
import { http2Parser } from '../../src/applayer/http2/index.js';
import { run } from './http2-support.js';
import { sharedPath, skipWithoutProgram, skipWithoutShared } from '../support/shared.js';

const FILE = 'pcaps/ndpi/tests/cfgs/default/pcap/http2.pcapng';
const skip = skipWithoutShared(FILE) || skipWithoutProgram('tshark');

function tshark(args: string[]): string {
  return execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
}

test('nDPI http2.pcapng: headers equal tshark\'s HPACK decoding, one transaction per stream', { skip }, () => {
  const file = sharedPath(FILE)!;
  const segs: [Direction, Buffer][] = [];
  let body = false;
  for (const line of tshark(['-r', file, '-n', '-q', '-z', 'follow,tcp,raw,0']).split('\n')) {
    if (line.startsWith('Node 1:')) { body = true; continue; }
    if (!body || line.startsWith('=') || line.trim() === '') continue;
    segs.push([line.startsWith('\t') ? 1 : 0, Buffer.from(line.trim(), 'hex')]);
  }
  assert.ok(segs.length > 0);
  const r = run(http2Parser, segs);
  assert.deepEqual(r.abandoned, []);
  const ours: string[] = [];
  for (const t of r.txs) for (const h of [...t.requestHeaders, ...t.requestTrailers, ...t.responseHeaders, ...t.responseTrailers]) ours.push(`${h.name.toString('latin1')}: ${h.value.toString('latin1')}`);
  const theirs: string[] = [];
  const streams = new Set<number>();
  const port = tshark(['-r', file, '-n', '-T', 'fields', '-e', 'tcp.dstport', '-c', '1']).trim();
  for (const line of tshark(['-r', file, '-n', '-d', `tcp.port==${port},http2`, '-T', 'fields', '-E', 'aggregator=\u0001',
    '-e', 'http2.header.name', '-e', 'http2.header.value', '-e', 'http2.streamid']).split('\n')) {
    const [n, v, s] = line.split('\t');
    for (const id of (s ?? '').split('\u0001')) if (id !== '' && id !== '0') streams.add(Number(id));
    if (!n) continue;
    const vs = (v ?? '').split('\u0001');
    n.split('\u0001').forEach((name, i) => theirs.push(`${name}: ${vs[i] ?? ''}`));
  }
  assert.ok(theirs.length > 0, 'tshark decoded headers');
  assert.deepEqual(ours.sort(), theirs.sort());
  assert.deepEqual(r.txs.map((t) => t.streamId).sort((a, b) => a - b), [...streams].sort((a, b) => a - b));
});
