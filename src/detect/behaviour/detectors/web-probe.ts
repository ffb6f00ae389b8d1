/**
 * Web content probing: one client asking one server for many distinct URIs
 * that do not exist (404, 410, 405, 400 answers) in a short time — directory
 * brute forcing (dirb, gobuster), vulnerability scanners (nikto, nmap's
 * http scripts and -sV probes). A browser meets a missing favicon, not a
 * handful of distinct missing paths a minute. Distinct URIs are counted
 * approximately (exact to 64, then a 1,024-bit bitmap) per (client, server) in a tumbling window.
 *
 * Second signal, path traversal (traversal.ts): distinct requests whose
 * target climbs out of the web root with dot-dot segments (any encoding) or
 * names a file read through traversal (/etc/passwd, the service-account
 * token, …), counted WHATEVER the answer — a traversal that works is
 * answered 200, so the error count alone misses the successful ones.
 * Default `traversals` 3: one such request is a stray (a broken client, the
 * single `../../../etc/passwd` payload inside sqlmap's or a generic
 * scanner's heuristics); someone testing traversal tries several depths,
 * encodings or target files, and three distinct ones within the window are
 * deliberate. Legitimate clients send none (they remove dot segments before
 * sending, RFC 3986 §5.2.4), so the bar can be this low without firing on
 * ordinary traffic.
 */
import { HttpTx } from '../../../applayer/http/tx.js';
import type { DetectorSettings } from '../config.js';
import { DOT_DOT, SENSITIVE, traversalSignals } from './traversal.js';
import { BoundedTable, DistinctCounter, Every, clientKey, finding, flowClientIp, flowServerIp, flowSite, hashString, pairKey, serverKey, th, type BehaviourContext, type SubDetector } from './shared.js';

interface Entry {
  start: number;
  uris: DistinctCounter;
  answers: number;
  /** Next figure to report at (threshold, then doubling). */
  nextAt: number;
  /** Distinct traversal requests (made on the first one: most pairs never send any). */
  trav: DistinctCounter | null;
  /** Traversal requests answered 2xx (the server may have served the file). */
  travOk: number;
  travNextAt: number;
}

const NOT_FOUND = new Set([400, 404, 405, 410, 501]);

export function createWebProbe(ctx: BehaviourContext, s: DetectorSettings): SubDetector {
  const win = th(s, 'window');
  const need = th(s, 'uris');
  const needTrav = th(s, 'traversals');
  const t = new BoundedTable<Entry>(ctx.maxTracked);
  const sweep = new Every(60);
  return {
    name: 'scan.web',
    tx(flow, tx) {
      if (!(tx instanceof HttpTx) || !tx.hasRequest) return;
      const missing = NOT_FOUND.has(tx.status);
      const sig = traversalSignals(tx.uriRaw);
      if (!missing && sig === 0) return;
      const k = pairKey(clientKey(flow), serverKey(flow));
      const ts = flow.lastSec;
      let e = t.get(k);
      if (e === undefined || ts - e.start >= win) {
        e = { start: ts, uris: new DistinctCounter(), answers: 0, nextAt: 0, trav: null, travOk: 0, travNextAt: 0 };
        t.set(k, e);
      }
      const uri = tx.uriRaw;
      const h = hashString(tx.method.toString('latin1') + ' ' + uri.toString('latin1', 0, Math.min(uri.length, 512)));
      if (missing) {
        e.answers++;
        e.uris.add(h);
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
              extra: { probe: 'missing-uris' },
            }),
          );
        }
      }
      if (sig !== 0) {
        const tr = (e.trav ??= new DistinctCounter());
        tr.add(h);
        if (tx.status >= 200 && tx.status < 300) e.travOk++;
        const n = tr.estimate();
        if (n >= Math.max(needTrav, e.travNextAt)) {
          e.travNextAt = 2 * n;
          const src = flowClientIp(flow);
          const what = (sig & DOT_DOT ? 'dot-dot segments' : '') + (sig === (DOT_DOT | SENSITIVE) ? ' and ' : '') + (sig & SENSITIVE ? 'sensitive file names' : '');
          ctx.report(
            finding('scan.web', ctx.identify(src, -1, ts), { ...flowSite(flow, 0), tx }, {
              explanation: `${src} sent ${n} distinct path-traversal requests to ${flowServerIp(flow)}:${flow.serverPort} within ${win} s (${e.travOk} answered 2xx; last: ${what})`,
              observed: n,
              baseline: needTrav,
              unit: 'distinct path-traversal requests',
              score: n / needTrav,
              extra: { probe: 'path-traversal', answered_2xx: String(e.travOk) },
            }),
          );
        }
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
