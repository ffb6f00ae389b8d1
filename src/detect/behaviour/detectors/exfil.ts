/**
 * Exfiltration without a baseline: a large volume leaving the internal
 * networks (`internal-networks`) for one external address within a short
 * time — `bytes` (default 100 MiB) within `window` seconds (default 600),
 * whichever side opened the connection (an upload from a pod, or an
 * outsider downloading from one). The "far above this workload's usual"
 * variant belongs to the baselines part.
 *
 * Cost: the per-packet hook only tests whether this packet's bytes carried
 * its flow's direction counter across a 1 MiB boundary; only then (once
 * per MiB) is the pair looked up and the addresses classified. The
 * remainder below 1 MiB is added when the flow ends. Frame bytes are
 * counted, as in the flow record.
 */
import type { Flow } from '../../../flow/flow.js';
import type { DetectorSettings } from '../config.js';
import { BoundedTable, Every, clientKey, finding, flowClientIp, flowServerIp, flowSite, fmt, pairKey, serverKey, th, type BehaviourContext, type SubDetector } from './shared.js';

const MIB = 1024 * 1024;
const SMALL = 64 * 1024;

interface Entry {
  start: number;
  bytes: number;
  /** Next volume to report at (threshold, then doubling). */
  nextAt: number;
}

export function createExfil(ctx: BehaviourContext, s: DetectorSettings): SubDetector {
  const win = th(s, 'window');
  const need = th(s, 'bytes');
  const t = new BoundedTable<Entry>(ctx.maxTracked);
  const sweep = new Every(60);

  function internal(f: Flow, server: boolean): boolean {
    return f.ipVersion === 4 ? ctx.isInternal4(server ? f.server4 : f.client4) : ctx.isInternal6(server ? f.server6 : f.client6);
  }

  /** Add `n` bytes sent by one side (dir 0: client) of f, if it is inside and the other outside. */
  function account(f: Flow, dir: 0 | 1, n: number, ts: number, tsNsec: number): void {
    const fromServer = dir === 1;
    if (!internal(f, fromServer) || internal(f, !fromServer)) return;
    const k = fromServer ? pairKey(serverKey(f), clientKey(f)) : pairKey(clientKey(f), serverKey(f));
    let e = t.get(k);
    // Flows leaving less than 64 KiB start no entry (most flows): an
    // exfiltration of `bytes` through only such flows is not counted.
    if (e === undefined && n < SMALL) return;
    if (e === undefined || ts - e.start >= win) {
      e = { start: ts, bytes: 0, nextAt: 0 };
      t.set(k, e);
    }
    e.bytes += n;
    if (e.bytes < Math.max(need, e.nextAt)) return;
    e.nextAt = 2 * e.bytes;
    const src = fromServer ? flowServerIp(f) : flowClientIp(f);
    const dst = fromServer ? flowClientIp(f) : flowServerIp(f);
    ctx.report(
      finding('exfil.volume', ctx.identify(src, fromServer ? f.serverPort : -1, ts), flowSite(f, dir, ts, tsNsec), {
        explanation: `${src} sent ${fmt(e.bytes / MIB)} MiB to external ${dst} within ${win} s (threshold ${fmt(need / MIB)} MiB)`,
        observed: e.bytes,
        baseline: need,
        unit: 'bytes out',
        score: e.bytes / need,
        extra: { destination: dst },
      }),
    );
  }

  return {
    name: 'exfil.volume',
    packet(pkt, flow, dir) {
      if (flow === null) return;
      const now = dir === 0 ? flow.bytesToServer : flow.bytesToClient;
      if (Math.floor(now / MIB) === Math.floor((now - pkt.capLen) / MIB)) return;
      account(flow, dir, MIB, pkt.tsSec, pkt.tsNsec);
    },
    flowEnd(f) {
      const rs = f.bytesToServer % MIB;
      const rc = f.bytesToClient % MIB;
      if (rs > 0) account(f, 0, rs, f.lastSec, f.lastNsec);
      if (rc > 0) account(f, 1, rc, f.lastSec, f.lastNsec);
    },
    tick(tsSec) {
      if (sweep.due(tsSec)) t.sweep((e) => tsSec - e.start > 2 * win);
    },
    counters() {
      return { 'harrier.behaviour.exfil.tracked': t.size, 'harrier.behaviour.exfil.evicted': t.evicted };
    },
  };
}
