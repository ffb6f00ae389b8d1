/**
 * Login failures of clear-text protocols the app layer recognises: FTP
 * (`530` Not logged in, RFC 959) and SMTP AUTH (`535` authentication
 * failed, RFC 4954). The server's reply lines are read from the reassembled
 * to-client stream of `ftp`/`smtp` flows only (every other flow costs one
 * string comparison per chunk); a reply code at the start of a line counts
 * one failure for (client, server).
 */
import type { DetectorSettings } from '../config.js';
import { BoundedTable, Every, clientKey, finding, flowClientIp, flowServerIp, flowSite, pairKey, serverKey, th, type BehaviourContext, type SubDetector } from './shared.js';

interface Entry {
  start: number;
  failures: number;
  reported: boolean;
}

/** Lines of b[off, off+len) starting with the three ASCII digits `code` followed by space or '-'. */
export function countReplies(b: Buffer, off: number, len: number, c0: number, c1: number, c2: number): number {
  let n = 0;
  const end = off + len;
  let p = off;
  while (p + 3 < end) {
    if (b[p] === c0 && b[p + 1] === c1 && b[p + 2] === c2 && (b[p + 3] === 0x20 || b[p + 3] === 0x2d)) n++;
    const nl = b.indexOf(0x0a, p);
    if (nl < 0 || nl >= end) break;
    p = nl + 1;
  }
  return n;
}

export function createBruteforceLogin(ctx: BehaviourContext, s: DetectorSettings): SubDetector {
  const win = th(s, 'window');
  const need = th(s, 'failures');
  const t = new BoundedTable<Entry>(ctx.maxTracked);
  const sweep = new Every(60);
  return {
    name: 'bruteforce.login',
    stream(flow, dir, buf, off, len) {
      if (dir !== 1) return;
      const ap = flow.appProto;
      let n = 0;
      if (ap === 'ftp') n = countReplies(buf, off, len, 0x35, 0x33, 0x30);
      else if (ap === 'smtp') n = countReplies(buf, off, len, 0x35, 0x33, 0x35);
      else return;
      if (n === 0) return;
      const k = pairKey(clientKey(flow), serverKey(flow));
      const ts = flow.lastSec;
      let e = t.get(k);
      if (e === undefined || ts - e.start >= win) {
        e = { start: ts, failures: 0, reported: false };
        t.set(k, e);
      }
      e.failures += n;
      if (!e.reported && e.failures >= need) {
        e.reported = true;
        const src = flowClientIp(flow);
        ctx.report(
          finding('bruteforce.login', ctx.identify(src, -1, ts), flowSite(flow, 0), {
            explanation: `${src} had ${e.failures} ${ap.toUpperCase()} login failures at ${flowServerIp(flow)}:${flow.serverPort} within ${win} s`,
            observed: e.failures,
            baseline: need,
            unit: 'login failures',
            score: e.failures / need,
            extra: { protocol: ap },
          }),
        );
      }
    },
    tick(tsSec) {
      if (sweep.due(tsSec)) t.sweep((e) => tsSec - e.start > 2 * win);
    },
    counters() {
      return { 'harrier.behaviour.bruteforce_login.tracked': t.size, 'harrier.behaviour.bruteforce_login.evicted': t.evicted };
    },
  };
}
