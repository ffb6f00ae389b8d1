/**
 * HTTP brute force: a burst of 401/403 answers to one client on one route
 * (host + path, query dropped) of one server — password guessing against a
 * login form or basic-auth endpoint, token guessing against an API.
 * Counted per (client, server, route) in a tumbling window; one string is
 * made per HTTP transaction with such a status, never per packet.
 */
import { HttpTx } from '../../../applayer/http/tx.js';
import type { DetectorSettings } from '../config.js';
import { BoundedTable, Every, clientKey, finding, flowClientIp, flowServerIp, flowSite, hashString, mix32, pairKey, serverKey, th, type BehaviourContext, type SubDetector } from './shared.js';

interface Entry {
  start: number;
  failures: number;
  reported: boolean;
}

/** Host and path of a request (no query), as text. */
export function routeOf(tx: HttpTx): string {
  const uri = tx.uri ?? tx.uriRaw;
  let end = uri.indexOf(0x3f); // '?'
  if (end < 0) end = uri.length;
  const host = tx.host;
  return (host !== null ? host.toString('latin1') : '') + uri.toString('latin1', 0, Math.min(end, 256));
}

export function createBruteforceHttp(ctx: BehaviourContext, s: DetectorSettings): SubDetector {
  const win = th(s, 'window');
  const need = th(s, 'failures');
  const t = new BoundedTable<Entry>(ctx.maxTracked);
  const sweep = new Every(60);
  return {
    name: 'bruteforce.http',
    tx(flow, tx) {
      if (!(tx instanceof HttpTx) || (tx.status !== 401 && tx.status !== 403)) return;
      const route = routeOf(tx);
      const k = pairKey(clientKey(flow), mix32(serverKey(flow) >>> 0, hashString(route)));
      const ts = flow.lastSec;
      let e = t.get(k);
      if (e === undefined || ts - e.start >= win) {
        e = { start: ts, failures: 0, reported: false };
        t.set(k, e);
      }
      e.failures++;
      if (!e.reported && e.failures >= need) {
        e.reported = true;
        const src = flowClientIp(flow);
        ctx.report(
          finding('bruteforce.http', ctx.identify(src, -1, ts), { ...flowSite(flow, 0), tx }, {
            explanation: `${src} got ${e.failures} HTTP 401/403 answers from ${flowServerIp(flow)} on ${route} within ${win} s`,
            observed: e.failures,
            baseline: need,
            unit: 'auth failures',
            score: e.failures / need,
            extra: { route },
          }),
        );
      }
    },
    tick(tsSec) {
      if (sweep.due(tsSec)) t.sweep((e) => tsSec - e.start > 2 * win);
    },
    counters() {
      return { 'harrier.behaviour.bruteforce_http.tracked': t.size, 'harrier.behaviour.bruteforce_http.evicted': t.evicted };
    },
  };
}
