/**
 * SSH brute force (the Hydra / Medusa / ncrack pattern): many SSH sessions
 * from one client to one server that end soon after the key exchange — each
 * carries one to a few password attempts and is dropped. Judged when the
 * flow ends: an `ssh` flow (app layer recognised the banner) with at most
 * `max-client-packets` packets from the client and lasting at most
 * `max-duration` seconds is a short session; `sessions` of them per
 * (client, server) within `window` seconds is reported. An interactive or
 * automation session (file copy, ansible) carries far more packets.
 */
import type { DetectorSettings } from '../config.js';
import { BoundedTable, Every, clientKey, finding, flowClientIp, flowServerIp, flowSite, pairKey, serverKey, th, type BehaviourContext, type SubDetector } from './shared.js';

interface Entry {
  start: number;
  sessions: number;
  reported: boolean;
}

export function createBruteforceSsh(ctx: BehaviourContext, s: DetectorSettings): SubDetector {
  const win = th(s, 'window');
  const need = th(s, 'sessions');
  const maxPkts = th(s, 'max-client-packets');
  const maxDur = th(s, 'max-duration');
  const t = new BoundedTable<Entry>(ctx.maxTracked);
  const sweep = new Every(60);
  return {
    name: 'bruteforce.ssh',
    flowEnd(f) {
      if (f.appProto !== 'ssh' || f.proto !== 6) return;
      const dur = f.lastTime - (f.startSec + f.startNsec / 1e9);
      if (f.pktsToServer > maxPkts || dur > maxDur || f.pktsToClient === 0) return;
      const k = pairKey(clientKey(f), serverKey(f));
      const ts = f.startSec;
      let e = t.get(k);
      if (e === undefined || ts - e.start >= win) {
        e = { start: ts, sessions: 0, reported: false };
        t.set(k, e);
      }
      e.sessions++;
      if (!e.reported && e.sessions >= need) {
        e.reported = true;
        const src = flowClientIp(f);
        ctx.report(
          finding('bruteforce.ssh', ctx.identify(src, -1, ts), flowSite(f, 0), {
            explanation: `${src} opened ${e.sessions} short SSH sessions (≤ ${maxPkts} packets, ≤ ${maxDur} s) to ${flowServerIp(f)}:${f.serverPort} within ${win} s`,
            observed: e.sessions,
            baseline: need,
            unit: 'short sessions',
            score: e.sessions / need,
          }),
        );
      }
    },
    tick(tsSec) {
      if (sweep.due(tsSec)) t.sweep((e) => tsSec - e.start > 2 * win);
    },
    counters() {
      return { 'harrier.behaviour.bruteforce_ssh.tracked': t.size, 'harrier.behaviour.bruteforce_ssh.evicted': t.evicted };
    },
  };
}
