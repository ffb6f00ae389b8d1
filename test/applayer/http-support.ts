/**
 * Test helpers for the HTTP parser: drive a flow from a script of
 * (direction, bytes) messages, optionally re-chunked, and collect what the
 * parser reports.
 */
import type { AppParserContext, AppParserDecl, Direction } from '../../src/applayer/parser.js';
import type { HttpState } from '../../src/applayer/http/parser.js';
import type { HttpTx } from '../../src/applayer/http/tx.js';

export type Script = readonly (readonly [Direction, Buffer | string])[];

export interface Run {
  txs: HttpTx[];
  events: string[];
  abandoned: string[];
  state: HttpState;
}

function bytes(b: Buffer | string): Buffer {
  return typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
}

/**
 * Feed the script; each message is cut into pieces by `cut(dirIndex, len)`
 * (returning piece lengths) — default: whole. Pieces are fed from a larger
 * buffer at an offset so off/len handling is exercised too.
 */
export function run(decl: AppParserDecl<HttpState>, script: Script, cut?: (len: number, msgIndex: number) => number[], end = true): Run {
  const r: Run = { txs: [], events: [], abandoned: [], state: undefined as unknown as HttpState };
  const ctx: AppParserContext = {
    tx: (t) => { r.txs.push(t as HttpTx); },
    event: (n) => { r.events.push(n); },
    abandon: (why) => { r.abandoned.push(why); },
  };
  const st = decl.create(ctx);
  r.state = st;
  script.forEach(([dir, m], idx) => {
    const b = bytes(m);
    const pieces = cut ? cut(b.length, idx) : [b.length];
    let at = 0;
    for (const n of pieces) {
      const framed = Buffer.alloc(n + 7, 0x5a); // junk around the piece
      b.copy(framed, 3, at, at + n);
      decl.parse(st, dir, framed, 3, n, 0);
      at += n;
    }
    if (at < b.length) decl.parse(st, dir, b, at, b.length - at, 0);
  });
  if (end) decl.end?.(st);
  return r;
}

/** Pieces: split once at `k`. */
export const splitAt = (k: number) => (len: number): number[] => (k <= 0 || k >= len ? [len] : [k, len - k]);
/** Pieces: one byte each. */
export const bytewise = (len: number): number[] => Array.from({ length: len }, () => 1);

/**
 * A small JSON-schema checker covering what the Suricata EVE schema uses
 * for `http`: type (string/integer/object/array), properties,
 * additionalProperties:false, items, minItems. Returns error paths.
 */
export function validate(schema: Record<string, unknown>, v: unknown, path = '$'): string[] {
  const errs: string[] = [];
  const t = schema.type as string | undefined;
  if (t === 'string' && typeof v !== 'string') errs.push(`${path}: not a string`);
  if (t === 'integer' && !(typeof v === 'number' && Number.isInteger(v))) errs.push(`${path}: not an integer`);
  if (t === 'boolean' && typeof v !== 'boolean') errs.push(`${path}: not a boolean`);
  if (t === 'object') {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return [`${path}: not an object`];
    const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      if (props[k]) errs.push(...validate(props[k], val, `${path}.${k}`));
      else if (schema.additionalProperties === false) errs.push(`${path}.${k}: not in schema`);
    }
  }
  if (t === 'array') {
    if (!Array.isArray(v)) return [`${path}: not an array`];
    if (typeof schema.minItems === 'number' && v.length < schema.minItems) errs.push(`${path}: fewer than ${schema.minItems} items`);
    const items = schema.items as Record<string, unknown> | undefined;
    if (items) v.forEach((x, i) => errs.push(...validate(items, x, `${path}[${i}]`)));
  }
  return errs;
}

/** Everything observable about a run, as plain data (for comparing chunkings). */
export function summary(r: Run): unknown {
  return {
    events: [...r.events].sort(),
    abandoned: r.abandoned,
    switched: r.state.switched,
    switchOffset: r.state.switchOffset,
    // (handoff is left out: which bytes arrive in the switching call depends on the chunking)
    txs: r.txs.map((t) => ({
      id: t.txId,
      eve: t.eve(),
      uri: t.uri?.toString('latin1') ?? null,
      host: t.host?.toString('latin1') ?? null,
      rqh: t.requestHeaderBuffer?.toString('latin1') ?? null,
      rsh: t.responseHeaderBuffer?.toString('latin1') ?? null,
      rqraw: t.requestHeadersRaw.toString('latin1'),
      rqBody: t.requestBodyBytes.toString('latin1'),
      rsBody: t.responseBodyBytes.toString('latin1'),
      rqDone: t.requestComplete,
      rsDone: t.responseComplete,
      status: t.status,
      switched: t.switched,
      headers: t.requestHeaders.map((h) => [h.lname, h.value.toString('latin1')]),
      rsHeaders: t.responseHeaders.map((h) => [h.lname, h.value.toString('latin1')]),
    })),
  };
}
