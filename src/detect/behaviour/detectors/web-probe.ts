/**
 * Web content probing: one client asking one server for many distinct URIs
 * that do not exist (404, 410, 405, 400 answers) in a short time — directory
 * brute forcing (dirb, gobuster), vulnerability scanners (nikto, nmap's
 * http scripts and -sV probes). A browser meets a missing favicon, not a
 * handful of distinct missing paths a minute. Distinct URIs are counted
 * approximately (exact to 64, then a 1,024-bit bitmap) per (client, server) in a tumbling window.
 */
import { HttpTx } from '../../../applayer/http/tx.js';
import type { DetectorSettings } from '../config.js';
import { BoundedTable, DistinctCounter, Every, clientKey, finding, flowClientIp, flowServerIp, flowSite, hashString, pairKey, serverKey, th, type BehaviourContext, type SubDetector } from './shared.js';

interface Entry {
  start: number;
  uris: DistinctCounter;
  answers: number;
  /** Next figure to report at (threshold, then doubling). */
  nextAt: number;
}

const NOT_FOUND = new Set([400, 404, 405, 410, 501]);

export function createWebProbe(ctx: BehaviourContext, s: DetectorSettings): SubDetector {
  const win = th(s, 'window');
  const need = th(s, 'uris');
  const t = new BoundedTable<Entry>(ctx.maxTracked);
  const sweep = new Every(60);
  return {
    name: 'scan.web',
    tx(flow, tx) {
      if (!(tx instanceof HttpTx) || !NOT_FOUND.has(tx.status)) return;
      const k = pairKey(clientKey(flow), serverKey(flow));
      const ts = flow.lastSec;
      let e = t.get(k);
      if (e === undefined || ts - e.start >= win) {
        e = { start: ts, uris: new DistinctCounter(), answers: 0, nextAt: 0 };
        t.set(k, e);
      }
      e.answers++;
      const uri = tx.uriRaw;
      e.uris.add(hashString(tx.method.toString('latin1') + ' ' + uri.toString('latin1', 0, Math.min(uri.length, 512))));
      const n = e.uris.estimate();
      if (n >= Math.max(need, e.nextAt)) {
        e.nextAt = 2 * n;
        const src = flowClientIp(flow);
        ctx.report(
          finding('scan.web', ctx.identify(src, -1, ts), { ...flowSite(flow, 0), tx }, {
            explanation: `${src} requested ${n} distinct missing URIs from ${flowServerIp(flow)}:${flow.serverPort} within ${win} s (${e.answers} error answers)`,
            observed: n,
            baseline: need,
            unit: 'distinct URIs not found',
            score: n / need,
          }),
        );
      }
    },
    tick(tsSec) {
      if (sweep.due(tsSec)) t.sweep((e) => tsSec - e.start > 2 * win);
    },
    counters() {
      return { 'harrier.behaviour.web_probe.tracked': t.size, 'harrier.behaviour.web_probe.evicted': t.evicted };
    },
  };
}
