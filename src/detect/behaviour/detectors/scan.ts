/**
 * Port scans: vertical (one source, many ports of one host) and horizontal
 * sweeps (one source, one port, many hosts), TCP and UDP.
 *
 * Judged when a flow ends, because only then is it known whether the
 * attempt failed: a *probe* is a flow the source opened that
 *  - TCP: got no SYN-ACK (filtered / dropped), or was refused with a RST
 *    before any data, or was opened and torn down at once (≤ 3 client
 *    packets, ≤ 2 server packets: a connect() scan of an open port);
 *  - UDP: got no datagram back (an ICMP unreachable is no reply: the flow
 *    table files it under the flow without marking the direction seen).
 * Successful connections carrying data never count, so a busy client
 * talking to many services of one host is not a scanner.
 *
 * State: per (source, host) and per (source, port) a tumbling window with a
 * distinct counter (exact to 64, then a 128-byte bitmap) (shared.ts DistinctCounter) — masscan's 1,001
 * ports cost the same memory as 20. One finding per window crossing; the
 * reporter folds repeats of an ongoing scan into one incident.
 */
import type { Flow } from '../../../flow/flow.js';
import type { DetectorSettings } from '../config.js';
import {
  BoundedTable,
  DistinctCounter,
  Every,
  clientKey,
  finding,
  flowClientIp,
  flowServerIp,
  flowSite,
  pairKey,
  serverKey,
  th,
  type BehaviourContext,
  type SubDetector,
} from './shared.js';

const SYN = 0x02;
const RST = 0x04;

interface Entry {
  start: number;
  distinct: DistinctCounter;
  probes: number;
  /** Report when the distinct count reaches this (the threshold, then doubling: the incident's update carries the latest figure). */
  nextAt: number;
}

/** Whether a flow that ended was a probe (failed or empty attempt); null when it was not an attempt at all. */
export function isProbe(f: Flow): boolean | null {
  if (f.pktsToServer === 0) return null;
  if (f.proto === 6) {
    if ((f.tcpFlagsToServer & SYN) === 0) return null; // picked up mid-stream
    if ((f.tcpFlagsToClient & SYN) === 0) return true;
    if ((f.tcpFlagsToClient & RST) !== 0 && f.pktsToServer <= 3) return true;
    return f.pktsToServer <= 3 && f.pktsToClient <= 2;
  }
  if (f.proto === 17) return (f.seenDirs & 2) === 0;
  return null;
}

function protoText(p: number): string {
  return p === 6 ? 'TCP' : 'UDP';
}

function entryFor(t: BoundedTable<Entry>, k: number, ts: number, window: number): Entry {
  let e = t.get(k);
  if (e === undefined || ts - e.start >= window) {
    // A new window is a new entry at the table's back (keeps it ordered by start for sweeps).
    e = { start: ts, distinct: new DistinctCounter(), probes: 0, nextAt: 0 };
    t.set(k, e);
  }
  return e;
}

export function createScan(ctx: BehaviourContext, vertical: DetectorSettings, horizontal: DetectorSettings): SubDetector {
  const vWin = th(vertical, 'window');
  const vPorts = th(vertical, 'ports');
  const hWin = th(horizontal, 'window');
  const hHosts = th(horizontal, 'hosts');
  const byHost = new BoundedTable<Entry>(ctx.maxTracked);
  const byPort = new BoundedTable<Entry>(ctx.maxTracked);
  const sweep = new Every(60);

  return {
    name: 'scan',
    flowEnd(f) {
      if (f.proto !== 6 && f.proto !== 17) return;
      // Only probes are counted: ordinary flows cost no table lookup at all.
      if (isProbe(f) !== true) return;
      const ts = f.startSec;
      // A Service's virtual IP never opens a flow. A UDP datagram "from" one
      // is the reply to a request kube-proxy sent on to a backend pod, after
      // its reverse NAT: the request was seen toward the pod's address, so
      // the reply looks like an unanswered flow from the Service to the
      // client's ephemeral port. Counted as probes, every busy DNS client
      // became a port scan by kube-dns.
      if (f.proto === 17 && ctx.identify(flowClientIp(f), -1, ts).kind === 'service') return;
      const src = clientKey(f);
      const portKey = f.serverPort | (f.proto << 16);
      if (vertical.enabled) {
        const e = entryFor(byHost, pairKey(src, serverKey(f)), ts, vWin);
        e.probes++;
        e.distinct.add(portKey);
        const n = e.distinct.estimate();
        if (n >= Math.max(vPorts, e.nextAt)) {
          e.nextAt = 2 * n;
          const srcIp = flowClientIp(f);
          const dst = flowServerIp(f);
          ctx.report(
            finding('scan.vertical', ctx.identify(srcIp, -1, ts), flowSite(f, 0), {
              explanation: `${srcIp} probed ${n} ports of ${dst} within ${vWin} s (${protoText(f.proto)}, ${e.probes} failed or empty attempts)`,
              observed: n,
              baseline: vPorts,
              unit: 'distinct ports',
              score: n / vPorts,
              extra: { target: dst, proto: protoText(f.proto) },
            }),
          );
        }
      }
      if (horizontal.enabled) {
        const e = entryFor(byPort, pairKey(src, portKey), ts, hWin);
        e.probes++;
        e.distinct.add(serverKey(f));
        const n = e.distinct.estimate();
        if (n >= Math.max(hHosts, e.nextAt)) {
          e.nextAt = 2 * n;
          const srcIp = flowClientIp(f);
          ctx.report(
            finding('scan.horizontal', ctx.identify(srcIp, -1, ts), flowSite(f, 0), {
              explanation: `${srcIp} probed ${protoText(f.proto)} port ${f.serverPort} on ${n} hosts within ${hWin} s (${e.probes} failed or empty attempts)`,
              observed: n,
              baseline: hHosts,
              unit: 'distinct hosts',
              score: n / hHosts,
              extra: { port: String(f.serverPort), proto: protoText(f.proto) },
            }),
          );
        }
      }
    },
    tick(tsSec) {
      if (!sweep.due(tsSec)) return;
      byHost.sweep((e) => tsSec - e.start > 2 * vWin);
      byPort.sweep((e) => tsSec - e.start > 2 * hWin);
    },
    counters() {
      return {
        'harrier.behaviour.scan.tracked': byHost.size + byPort.size,
        'harrier.behaviour.scan.evicted': byHost.evicted + byPort.evicted,
      };
    },
  };
}
