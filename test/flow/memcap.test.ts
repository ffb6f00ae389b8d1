import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowTable } from '../../src/flow/table.js';
import { Packet } from '../../src/decode/packet.js';
import type { Flow, FlowEndReason } from '../../src/flow/flow.js';

/**
 * A SYN flood of one million distinct flows (random-looking sources, 100k
 * packets per second of capture time, expire() called every capture second
 * as the pipeline does) against a 4 MiB flow memcap: memory must stay under
 * the cap, every flow must be reported exactly once (evicted or flushed),
 * and the evictions must be counted.
 */
test('SYN flood of 1M flows stays under the memcap with evictions counted', (t) => {
  const N = 1_000_000;
  const MEMCAP = 4 << 20;
  let ended = 0;
  const reasons: Record<FlowEndReason, number> = { timeout: 0, forced: 0, shutdown: 0, memcap: 0 };
  let maxMem = 0;
  const table = new FlowTable(
    { memcapBytes: MEMCAP },
    {
      onFlowEnd(_f: Flow, r: FlowEndReason) {
        ended++;
        reasons[r]++;
      },
    },
  );
  const p = new Packet();
  p.ipVersion = 4;
  p.proto = 6;
  p.tcpFlags = 0x02;
  p.dst4 = 0x0a000001;
  p.dport = 80;
  p.capLen = 74;
  let lastSec = 0;
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  for (let i = 0; i < N; i++) {
    // spread sources like a spoofed flood: multiplicative scramble of i
    p.src4 = Math.imul(i + 1, 0x9e3779b1) >>> 0;
    p.sport = (i * 7919) & 0xffff;
    p.tcpSeq = Math.imul(i, 2654435761) >>> 0;
    const ts = 1_700_000_000 + i / 100_000;
    p.tsSec = Math.floor(ts);
    p.tsNsec = Math.round((ts - p.tsSec) * 1e9) % 1_000_000_000;
    if (p.tsSec !== lastSec) {
      table.expire(p.tsSec);
      lastSec = p.tsSec;
    }
    const f = table.handle(p);
    assert.ok(f !== null);
    if ((i & 1023) === 0) {
      const m = table.memuse();
      if (m > maxMem) maxMem = m;
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - w0;
  const st = table.stats();
  assert.ok(maxMem <= MEMCAP, `memuse ${maxMem} over memcap ${MEMCAP}`);
  assert.ok(st['flow.memuse'] <= MEMCAP);
  assert.equal(st['flow.total'], N);
  assert.equal(ended + st['flow.active'], N, 'every flow is either active or reported as ended');
  assert.ok(st['flow.memcap'] > 0);
  assert.ok(st['flow.emerg_mode_entered'] >= 1);
  assert.equal(st['flow.end.memcap'], reasons.memcap);
  assert.ok(reasons.memcap > 0);
  table.flushAll();
  assert.equal(ended, N);
  assert.equal(table.stats()['flow.active'], 0);
  t.diagnostic(
    `1M SYN flood, memcap ${MEMCAP} B: max memuse ${maxMem} B, active max ${st['flow.active_max']}, ` +
      `memcap hits ${st['flow.memcap']}, evicted (memcap) ${reasons.memcap}, timed out ${reasons.timeout}, ` +
      `emergency entered ${st['flow.emerg_mode_entered']} / over ${st['flow.emerg_mode_over']}; ` +
      `${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU, ${wall.toFixed(0)} ms wall`,
  );
});
