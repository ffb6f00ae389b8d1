/**
 * SSH fuzzing: mutated, truncated and randomly chunked sessions through the
 * parser. Asserts nothing throws, nothing hangs, memory stays bounded.
 * 20k inputs by default; HARRIER_FUZZ_ITERATIONS=1000000 for a long run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { sshParser } from '../../src/applayer/ssh/index.js';
import { Collect } from './dns-support.js';
import { TO_CLIENT, TO_SERVER } from './ssh-support.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const ITER = Number(process.env.HARRIER_FUZZ_ITERATIONS ?? 20_000);

let seed = 0x2545f491;
function rnd(n: number): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
}

function mutate(src: Buffer): Buffer {
  const b = Buffer.from(src);
  if (rnd(5) === 0) return b.subarray(0, rnd(b.length + 1));
  const flips = 1 + rnd(6);
  for (let i = 0; i < flips; i++) {
    const at = rnd(b.length);
    switch (rnd(4)) {
      case 0: b[at] = rnd(256); break;
      case 1: b[at] = [0x0a, 0x0d, 0x2d, 0x20][rnd(4)]; break; // line/banner syntax
      case 2: if (at + 3 < b.length) b.writeUInt32BE(rnd(2) ? rnd(1 << 20) : rnd(64), at); break; // lengths
      default: b[at] = [20, 21, 0][rnd(3)];
    }
  }
  return b;
}

function feed(st: ReturnType<typeof sshParser.create>, dir: 0 | 1, data: Buffer): void {
  for (let p = 0; p < data.length; ) {
    const n = 1 + rnd(data.length - p);
    sshParser.parse(st, dir, data, p, n, 0);
    p += n;
  }
}

test(`ssh fuzz: ${ITER} mutated sessions — no throw, no hang, bounded memory`, () => {
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  let worst = 0;
  let txs = 0;
  for (let i = 0; i < ITER; i++) {
    const s = mutate(TO_SERVER);
    const c = mutate(TO_CLIENT);
    const t0 = process.cpuUsage();
    const ctx = new Collect();
    const st = sshParser.create(ctx);
    feed(st, 0, s);
    feed(st, 1, c);
    if (rnd(4) === 0) sshParser.gap?.(st, rnd(2) as 0 | 1, 10);
    feed(st, 0, s.subarray(0, rnd(s.length + 1)));
    sshParser.end?.(st);
    for (const t of ctx.txs) JSON.stringify(t.eve());
    txs += ctx.txs.length;
    const cu = process.cpuUsage(t0);
    const dt = (cu.user + cu.system) / 1e3;
    if (dt > worst) worst = dt;
  }
  gc();
  const grown = (process.memoryUsage().heapUsed - heap0) / 1e6;
  console.log(`# ssh fuzz: ${ITER} sessions, ${txs} transactions, worst ${worst.toFixed(1)} ms CPU, heap +${grown.toFixed(1)} MB`);
  assert.ok(txs > ITER / 4);
  assert.ok(worst < 200, `a session took ${worst} ms of CPU`);
  assert.ok(grown < 64, `heap grew ${grown} MB`);
});
