/**
 * Peer-to-peer file sharing.
 *  - `p2p.bittorrent`: flows the app layer recognised as BitTorrent (peer
 *    handshake, uTP, LSD) or its DHT (KRPC): `flows` of them from one host
 *    within `window` seconds (default 1: recognition is itself the evidence).
 *  - `p2p.fanout`: one UDP socket (address and port) sending to `peers`
 *    distinct hosts on unprivileged ports within `window` seconds — the DHT
 *    and uTP swarm pattern, seen even when no packet is recognisable.
 *    DNS clients, QUIC and WebRTC use a fresh port per peer or talk to a few,
 *    so they do not accumulate.
 * The packet hook compares the flow's app_proto (an interned string) and,
 * for the fan-out, looks at a flow's first packet only.
 */
import type { Flow } from '../../../flow/flow.js';
import type { DetectorSettings } from '../config.js';
import { BoundedTable, DistinctCounter, Every, clientKey, finding, flowClientIp, flowServerIp, flowSite, pairKey, serverKey, th, type BehaviourContext, type SubDetector } from './shared.js';

interface Entry {
  start: number;
  flows: number;
  peers: DistinctCounter;
  reported: boolean;
}

function entry(t: BoundedTable<Entry>, k: number, ts: number, win: number): Entry {
  let e = t.get(k);
  if (e === undefined || ts - e.start >= win) {
    e = { start: ts, flows: 0, peers: new DistinctCounter(), reported: false };
    t.set(k, e);
  }
  return e;
}

export function createP2p(ctx: BehaviourContext, bt: DetectorSettings, fan: DetectorSettings): SubDetector {
  const btWin = th(bt, 'window');
  const btNeed = th(bt, 'flows');
  const fanWin = th(fan, 'window');
  const fanNeed = th(fan, 'peers');
  const bySrc = new BoundedTable<Entry>(ctx.maxTracked);
  const bySocket = new BoundedTable<Entry>(ctx.maxTracked);
  const counted = new WeakSet<Flow>();
  const sweep = new Every(60);
  return {
    name: 'p2p',
    packet(pkt, flow, dir) {
      if (flow === null) return;
      const ap = flow.appProto;
      if (bt.enabled && ap !== null && (ap === 'bittorrent' || ap === 'bittorrent-dht') && !counted.has(flow)) {
        counted.add(flow);
        const ts = pkt.tsSec;
        const e = entry(bySrc, clientKey(flow), ts, btWin);
        e.flows++;
        e.peers.add(serverKey(flow));
        if (!e.reported && e.flows >= btNeed) {
          e.reported = true;
          const src = flowClientIp(flow);
          ctx.report(
            finding('p2p.bittorrent', ctx.identify(src, -1, ts), flowSite(flow, dir, ts, pkt.tsNsec), {
              explanation: `${src} speaks ${ap} (${flow.proto === 6 ? 'TCP' : 'UDP'}) with ${flowServerIp(flow)}:${flow.serverPort}; ${e.flows} BitTorrent flows within ${btWin} s`,
              observed: e.flows,
              baseline: btNeed,
              unit: 'BitTorrent flows',
              score: e.flows / btNeed,
              extra: { app_proto: ap },
            }),
          );
        }
      }
      if (!fan.enabled || flow.proto !== 17 || dir !== 0 || flow.pktsToServer !== 1 || flow.pktsToClient !== 0) return;
      if (flow.clientPort < 1024 || flow.serverPort < 1024) return;
      const ts = pkt.tsSec;
      const e = entry(bySocket, pairKey(clientKey(flow), flow.clientPort), ts, fanWin);
      e.flows++;
      e.peers.add(serverKey(flow));
      const n = e.peers.estimate();
      if (!e.reported && n >= fanNeed) {
        e.reported = true;
        const src = flowClientIp(flow);
        ctx.report(
          finding('p2p.fanout', ctx.identify(src, -1, ts), flowSite(flow, 0, ts, pkt.tsNsec), {
            explanation: `${src}:${flow.clientPort}/udp sent to ${n} distinct peers on unprivileged ports within ${fanWin} s`,
            observed: n,
            baseline: fanNeed,
            unit: 'distinct peers from one UDP socket',
            score: n / fanNeed,
          }),
        );
      }
    },
    tick(tsSec) {
      if (!sweep.due(tsSec)) return;
      bySrc.sweep((e) => tsSec - e.start > 2 * btWin);
      bySocket.sweep((e) => tsSec - e.start > 2 * fanWin);
    },
    counters() {
      return { 'harrier.behaviour.p2p.tracked': bySrc.size + bySocket.size, 'harrier.behaviour.p2p.evicted': bySrc.evicted + bySocket.evicted };
    },
  };
}
