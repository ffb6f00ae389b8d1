/**
 * End to end on real traffic: payloads of ../shared/data/bench/public-mix.pcap
 * through the prefilter (MultiPatternMatcher) and the inspection engine,
 * with seeded random content programs cut from those payloads.
 *  - runProgram agrees with an independent brute-force reference (every
 *    combination of occurrences tried; Suricata's backtracking must find a
 *    match exactly when one exists for content chains);
 *  - prefilter + inspection finds exactly the matches of inspecting every
 *    program on every payload (the prefilter never loses a match).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readCaptureFile } from '../../src/capture/reader.js';
import { Decoder } from '../../src/decode/decoder.js';
import { Packet } from '../../src/decode/packet.js';
import type { ContentOp } from '../../src/detect/rules/ast.js';
import { compileProgram, runProgram, InspectState, RuleVars, type CompiledProgram } from '../../src/detect/engine/inspect.js';
import { MultiPatternMatcher, MatchSet, FOLD } from '../../src/detect/engine/mpm.js';
import { sharedPath, skipWithoutShared } from '../support/shared.js';
import { mulberry32 as rng } from '../support/random.js';


function content(bytes: Uint8Array, o: Partial<ContentOp> = {}): ContentOp {
  return { kind: 'content', bytes, nocase: false, negated: false, offset: null, depth: null, distance: null, within: null, startsWith: false, endsWith: false, fastPattern: false, fastPatternOnly: false, fastPatternChop: null, rawbytes: false, ...o };
}

/** Occurrences of c in b[lo, hi) (relative indices), as plain loops. */
function occurrences(b: Buffer, c: ContentOp, lo: number, hi: number): number[] {
  const out: number[] = [];
  const m = c.bytes.length;
  for (let i = Math.max(0, lo); i + m <= Math.min(hi, b.length); i++) {
    let k = 0;
    while (k < m && (c.nocase ? FOLD[b[i + k]] === FOLD[c.bytes[k]] : b[i + k] === c.bytes[k])) k++;
    if (k === m) out.push(i);
  }
  return out;
}

/** Brute force: does some choice of occurrences satisfy every content of the chain? */
function reference(ops: ContentOp[], b: Buffer, i = 0, prevEnd = 0): boolean {
  if (i === ops.length) return true;
  const c = ops[i];
  let lo: number;
  let hi: number;
  if (c.distance !== null || c.within !== null) {
    const d = (c.distance as number | null) ?? 0;
    lo = Math.max(0, prevEnd + d);
    hi = c.within !== null ? prevEnd + d + (c.within as number) : b.length;
  } else {
    lo = (c.offset as number | null) ?? 0;
    hi = c.depth !== null ? lo + (c.depth as number) : b.length;
  }
  for (const at of occurrences(b, c, lo, hi)) if (reference(ops, b, i + 1, at + c.bytes.length)) return true;
  return false;
}

test('content chains on real payloads: engine = brute-force reference; prefilter loses nothing', { skip: skipWithoutShared('bench/public-mix.pcap') }, () => {
  const payloads: Buffer[] = [];
  const pkt = new Packet();
  const dec = new Decoder({ checksumValidation: false });
  readCaptureFile(sharedPath('bench/public-mix.pcap') as string, {
    frame(data, off, capLen, origLen, tsSec, tsNsec, linkType, ifIndex) {
      if (payloads.length >= 1000) return;
      pkt.load(data, off, capLen, origLen, tsSec, tsNsec, linkType, ifIndex);
      if (dec.decode(pkt) && pkt.payloadLen > 8) payloads.push(Buffer.from(pkt.data.subarray(pkt.payloadOff, pkt.payloadOff + pkt.payloadLen)));
    },
  });
  assert.ok(payloads.length >= 900);
  const r = rng(99);
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  // Programs: 1–3 contents cut from random payloads, so they often match.
  const progs: { ops: ContentOp[]; compiled: CompiledProgram }[] = [];
  for (let k = 0; k < 120; k++) {
    const src = payloads[int(0, payloads.length - 1)];
    const ops: ContentOp[] = [];
    let pos = int(0, Math.max(0, src.length - 8));
    const n = int(1, 3);
    for (let j = 0; j < n && pos < src.length; j++) {
      const len = int(1, Math.min(6, src.length - pos));
      const bytes = Uint8Array.from(src.subarray(pos, pos + len));
      const nocase = r() < 0.3;
      if (j === 0) ops.push(content(bytes, r() < 0.3 ? { nocase, offset: int(0, pos), depth: pos + len + int(0, 20) } : { nocase }));
      else {
        const gap = int(0, 10);
        ops.push(content(bytes, { nocase, distance: r() < 0.2 ? -int(0, 5) : int(0, gap), within: r() < 0.7 ? len + int(0, 30) : null }));
      }
      pos += len + int(0, 10);
    }
    progs.push({ ops, compiled: compileProgram({ buffer: 'pkt_data', ops }, new RuleVars()) });
  }
  const st = new InspectState();
  let matches = 0;
  const full = new Set<string>();
  for (let p = 0; p < payloads.length; p++) {
    for (let k = 0; k < progs.length; k++) {
      const got = runProgram(progs[k].compiled, payloads[p], 0, payloads[p].length, st);
      const want = reference(progs[k].ops, payloads[p]);
      if (got !== want) assert.fail(`program ${k} ${JSON.stringify(progs[k].ops.map((o) => ({ b: Buffer.from(o.bytes).toString('latin1'), o: o.offset, d: o.depth, di: o.distance, w: o.within, n: o.nocase })))} on payload ${p}: engine ${got}, reference ${want}`);
      if (got) {
        matches++;
        full.add(`${p}/${k}`);
      }
    }
  }
  assert.ok(matches > 100, `only ${matches} matches`);
  assert.equal(st.recursionLimitHits, 0);

  // Prefilter on each program's first content (its "fast pattern"), then inspect only the hits.
  const mpm = new MultiPatternMatcher();
  progs.forEach((p, k) => mpm.add(p.ops[0].bytes, p.ops[0].nocase, k));
  mpm.build();
  const hits = new MatchSet(progs.length);
  const viaPrefilter = new Set<string>();
  for (let p = 0; p < payloads.length; p++) {
    hits.reset();
    mpm.scan(payloads[p], 0, payloads[p].length, hits);
    for (let h = 0; h < hits.count; h++) {
      const k = hits.ids[h];
      if (runProgram(progs[k].compiled, payloads[p], 0, payloads[p].length, st)) viaPrefilter.add(`${p}/${k}`);
    }
  }
  assert.deepEqual([...viaPrefilter].sort(), [...full].sort());
});
