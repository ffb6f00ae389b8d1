/**
 * Test helpers for HTTP/2: frame and header-block builders (an HPACK encoder
 * of our own, literal fields with optional Huffman coding and indexing), and
 * a driver that feeds a conversation in chosen pieces and collects what the
 * parser reports.
 */
import type { AppParserContext, AppParserDecl, Direction } from '../../src/applayer/parser.js';
import type { Http2State } from '../../src/applayer/http2/parser.js';
import type { Http2Tx } from '../../src/applayer/http2/tx.js';
import { huffmanEncode } from '../../src/applayer/http2/huffman.js';

export function frame(type: number, flags: number, stream: number, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  const h = Buffer.alloc(9);
  h.writeUIntBE(p.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream >>> 0, 5);
  return Buffer.concat([h, p]);
}

/** HPACK integer with an n-bit prefix, first byte or-ed with `first`. */
export function hpackInt(v: number, n: number, first = 0): Buffer {
  const max = (1 << n) - 1;
  if (v < max) return Buffer.from([first | v]);
  const out = [first | max];
  v -= max;
  while (v >= 128) {
    out.push((v % 128) | 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

export function hpackStr(s: string | Buffer, huff = false): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
  const body = huff ? huffmanEncode(b) : b;
  return Buffer.concat([hpackInt(body.length, 7, huff ? 0x80 : 0), body]);
}

export type Field = readonly [string, string];

/** A header block: every field a literal (with incremental indexing when `index`), strings Huffman-coded when `huff`. */
export function block(fields: readonly Field[], opts: { huff?: boolean; index?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const [n, v] of fields) {
    parts.push(opts.index ? Buffer.from([0x40]) : Buffer.from([0x00]));
    parts.push(hpackStr(n, opts.huff), hpackStr(v, opts.huff));
  }
  return Buffer.concat(parts);
}

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
export const SETTINGS = (pairs: [number, number][] = []): Buffer => {
  const p = Buffer.alloc(pairs.length * 6);
  pairs.forEach(([id, v], i) => { p.writeUInt16BE(id, i * 6); p.writeUInt32BE(v, i * 6 + 2); });
  return frame(4, 0, 0, p);
};

export interface Run {
  txs: Http2Tx[];
  events: string[];
  abandoned: string[];
  state: Http2State;
}

export function collector(): { r: Omit<Run, 'state'>; ctx: AppParserContext } {
  const r = { txs: [] as Http2Tx[], events: [] as string[], abandoned: [] as string[] };
  const ctx: AppParserContext = {
    tx: (t) => { r.txs.push(t as Http2Tx); },
    event: (n) => { r.events.push(n); },
    abandon: (why) => { r.abandoned.push(why); },
  };
  return { r, ctx };
}

/** Feeds messages in order, each cut into `cut(len, idx)` pieces (default whole), each piece at an offset in a larger buffer. */
export function run(
  decl: AppParserDecl<Http2State>,
  script: readonly (readonly [Direction, Buffer])[],
  cut?: (len: number, idx: number) => number[],
  end = true,
): Run {
  const { r, ctx } = collector();
  const st = decl.create(ctx);
  script.forEach(([dir, b], idx) => {
    const pieces = cut ? cut(b.length, idx) : [b.length];
    let at = 0;
    for (const n of pieces) {
      const framed = Buffer.alloc(n + 7, 0x5a);
      b.copy(framed, 3, at, at + n);
      decl.parse(st, dir, framed, 3, n, 0);
      at += n;
    }
    if (at < b.length) decl.parse(st, dir, b, at, b.length - at, 0);
  });
  if (end) decl.end?.(st);
  return { ...r, state: st };
}

/** A transaction as plain data, for deep comparisons. */
export function summary(t: Http2Tx): Record<string, unknown> {
  const hs = (l: readonly { name: Buffer; value: Buffer }[]): string[] => l.map((h) => `${h.name.toString('latin1')}: ${h.value.toString('latin1')}`);
  return {
    stream: t.streamId,
    req: hs(t.requestHeaders),
    res: hs(t.responseHeaders),
    trailers: hs(t.responseTrailers),
    reqBytes: t.requestDataBytes,
    resBytes: t.responseDataBytes,
    rst: [...t.rstCode],
    incomplete: t.incomplete,
  };
}
