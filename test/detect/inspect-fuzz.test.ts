/**
 * Random programs (every op kind, random modifiers, variables) on random
 * buffers never throw and always finish; seeded so a failure reproduces.
 * HARRIER_FUZZ_ITERATIONS raises the count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BufferOp, NumOrVar } from '../../src/detect/rules/ast.js';
import { compileProgram, runProgram, InspectState, RuleVars, InspectCompileError } from '../../src/detect/engine/inspect.js';
import { DatasetRegistry } from '../../src/detect/engine/datasets.js';
import { mulberry32 as rng } from '../support/random.js';


test('random programs on random buffers never throw', () => {
  const iterations = Number(process.env.HARRIER_FUZZ_ITERATIONS ?? 3000);
  const r = rng(42);
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const st = new InspectState(2);
  const datasets = new DatasetRegistry();
  let compiled = 0;
  let matched = 0;
  const t0 = performance.now();
  for (let it = 0; it < iterations; it++) {
    const alphabet = pick([[0x61, 0x62], [0x00, 0x01, 0xff], [0x30, 0x31, 0x39, 0x61, 0x2b, 0x3d]]);
    const vars: string[] = [];
    const nv = (): NumOrVar => (vars.length && r() < 0.3 ? pick(vars) : int(-5, 20));
    const pat = (): Uint8Array => Uint8Array.from({ length: int(1, 3) }, () => pick(alphabet));
    const ops: BufferOp[] = [];
    const nOps = int(1, 6);
    for (let i = 0; i < nOps; i++) {
      const k = int(0, 9);
      const rel = r() < 0.5;
      if (k <= 2) {
        ops.push({ kind: 'content', bytes: pat(), nocase: r() < 0.3, negated: r() < 0.2, offset: rel || r() < 0.5 ? null : nv(), depth: rel || r() < 0.5 ? null : nv(), distance: rel ? nv() : null, within: rel && r() < 0.7 ? nv() : null, startsWith: r() < 0.05, endsWith: r() < 0.1, fastPattern: false, fastPatternOnly: false, fastPatternChop: null, rawbytes: false });
      } else if (k === 3) {
        ops.push({ kind: 'pcre', source: pick(['a+b', '^\\x00', '[0-9]+', '(a|b)*b', 'b$', '(?=a)a']), jsFlags: pick(['', 'i', 's']), negated: r() < 0.2, relative: rel, anchored: r() < 0.2, raw: '', overrideLimits: false, captures: {} });
      } else if (k === 4) {
        ops.push({ kind: 'byte_test', nbytes: int(1, 4), operator: pick(['<', '>', '=', '<=', '>=', '&', '^'] as const), negated: r() < 0.3, value: nv(), offset: nv(), relative: rel, endian: pick(['big', 'little', 'dce'] as const), string: pick([null, 'dec', 'hex', 'oct'] as const), bitmask: r() < 0.2 ? int(1, 255) : null });
      } else if (k === 5) {
        ops.push({ kind: 'byte_jump', nbytes: int(1, 4), offset: nv(), relative: rel, multiplier: int(1, 3), endian: pick(['big', 'little'] as const), string: pick([null, 'dec'] as const), align: r() < 0.2, fromBeginning: r() < 0.2, fromEnd: false, postOffset: int(-4, 4), bitmask: null });
      } else if (k === 6) {
        const name = `v${i}`;
        ops.push({ kind: 'byte_extract', nbytes: int(1, 4), offset: int(-2, 6), name, relative: rel, multiplier: int(1, 2), endian: pick(['big', 'little'] as const), string: pick([null, 'dec', 'hex'] as const), align: pick([0, 2, 4]), bitmask: null });
        vars.push(name);
      } else if (k === 7) {
        const name = `m${i}`;
        ops.push({ kind: 'byte_math', nbytes: int(1, 4), offset: nv(), oper: pick(['+', '-', '*', '/', '<<', '>>'] as const), rvalue: nv(), result: name, relative: rel, endian: 'big', string: null, bitmask: null });
        vars.push(name);
      } else if (k === 8) {
        ops.push({ kind: 'isdataat', offset: nv(), relative: rel, negated: r() < 0.5 });
      } else {
        ops.push(r() < 0.5 ? { kind: 'bsize', cmp: { op: pick(['=', '<', '>', '<>', '-'] as const), value: int(0, 10), hi: int(0, 20) } } : { kind: 'dataset', cmd: pick(['set', 'isset', 'isnotset', 'unset'] as const), name: 'fz', type: 'string', load: null, state: null });
      }
    }
    if (r() < 0.1) ops.push({ kind: 'base64_decode', bytes: r() < 0.5 ? null : int(0, 20), offset: int(0, 3), relative: r() < 0.5 });
    let prog;
    try {
      prog = compileProgram({ buffer: 'pkt_data', ops }, new RuleVars(), { datasets, base64Data: { buffer: 'base64_data', ops: [{ kind: 'content', bytes: pat(), nocase: false, negated: r() < 0.3, offset: null, depth: null, distance: null, within: null, startsWith: false, endsWith: false, fastPattern: false, fastPatternOnly: false, fastPatternChop: null, rawbytes: false }] } });
    } catch (e) {
      // Refusing a program is fine; it must be with the engine's own error.
      assert.ok(e instanceof InspectCompileError, String(e));
      continue;
    }
    compiled++;
    for (let b = 0; b < 4; b++) {
      const len = int(0, 40);
      const buf = Buffer.from(Array.from({ length: len + 6 }, () => pick(alphabet)));
      if (runProgram(prog, buf, 3, len, st)) matched++;
    }
  }
  assert.ok(compiled > iterations / 2, `compiled ${compiled}`);
  assert.ok(matched > 0);
  assert.ok(performance.now() - t0 < 30000);
});
