/**
 * Floods against one destination: SYN floods (a high rate of connection
 * openings, most never completed — the half-open ratio), UDP floods and
 * ICMP echo floods (packet rates).
 *
 * Per destination address a tumbling window of `window` seconds counts
 * connection openings (first SYN of a flow), completed handshakes (the
 * client's ACK as its second packet after the server's SYN-ACK), UDP
 * datagrams and ICMP echo requests. A flood is reported as soon as a count
 * reaches rate × window within one window, so a flood is seen within the
 * window rather than at its end. One Map lookup per counted packet (numeric
 * key), no allocation after a destination's first packet.
 */
import { BoundedTable, Every, finding, flowSite, hash6, th, type BehaviourContext, type SubDetector } from './shared.js';
import type { DetectorSettings } from '../config.js';
import { ipv4ToString, ipv6ToString } from '../../../events/format.js';
import type { Packet } from '../../../decode/packet.js';

const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;

interface Entry {
  start: number;
  syn: number;
  est: number;
  udp: number;
  icmp: number;
  /** Bit 0 SYN, 1 UDP, 2 ICMP: reported in this window. */
  reported: number;
}

function dstKey(pkt: Packet): number {
  return pkt.ipVersion === 4 ? pkt.dst4 : 0x100000000 + hash6(pkt.dst6);
}

function dstText(pkt: Packet): string {
  return pkt.ipVersion === 4 ? ipv4ToString(pkt.dst4) : ipv6ToString(pkt.dst6);
}

export function createFlood(ctx: BehaviourContext, syn: DetectorSettings, udp: DetectorSettings, icmp: DetectorSettings): SubDetector {
  // One window for all three (flood.syn's `window`), each with its own rate.
  const win = Math.max(1, th(syn, 'window'));
  const synNeed = th(syn, 'syn-rate') * win;
  const halfOpen = th(syn, 'half-open-ratio');
  const udpNeed = th(udp, 'packet-rate') * win;
  const icmpNeed = th(icmp, 'packet-rate') * win;
  const byDst = new BoundedTable<Entry>(ctx.maxTracked);
  const sweep = new Every(60);

  function entry(pkt: Packet): Entry {
    const k = dstKey(pkt);
    let e = byDst.get(k);
    if (e === undefined || pkt.tsSec - e.start >= win) {
      e = { start: pkt.tsSec, syn: 0, est: 0, udp: 0, icmp: 0, reported: 0 };
      byDst.set(k, e);
    }
    return e;
  }

  return {
    name: 'flood',
    packet(pkt, flow, dir) {
      const p = pkt.proto;
      if (p === 6) {
        if (!syn.enabled || flow === null) return;
        const fl = pkt.tcpFlags & (SYN | ACK | RST);
        if (fl === SYN && dir === 0 && flow.pktsToServer === 1) {
          const e = entry(pkt);
          e.syn++;
          if ((e.reported & 1) === 0 && e.syn >= synNeed) {
            const ratio = 1 - e.est / e.syn;
            if (ratio >= halfOpen) {
              e.reported |= 1;
              const dst = dstText(pkt);
              const rate = e.syn / win;
              ctx.report(
                finding('flood.syn', ctx.identify(dst, pkt.dport, pkt.tsSec), flowSite(flow, 0, pkt.tsSec, pkt.tsNsec), {
                  explanation: `${dst}:${pkt.dport} received ${Math.round(rate)} connection openings/s, ${Math.round(ratio * 100)}% never completed (threshold ${th(syn, 'syn-rate')}/s, ${Math.round(halfOpen * 100)}%)`,
                  observed: Math.round(rate),
                  baseline: th(syn, 'syn-rate'),
                  unit: 'SYN/s',
                  score: rate / th(syn, 'syn-rate'),
                  extra: { half_open_ratio: ratio.toFixed(2) },
                }),
              );
            }
          }
        } else if (fl === ACK && dir === 0 && flow.pktsToServer === 2 && (flow.tcpFlagsToClient & SYN) !== 0) {
          entry(pkt).est++;
        }
      } else if (p === 17) {
        if (!udp.enabled) return;
        const e = entry(pkt);
        e.udp++;
        if ((e.reported & 2) === 0 && e.udp >= udpNeed) {
          e.reported |= 2;
          const dst = dstText(pkt);
          const rate = e.udp / win;
          ctx.report(
            finding('flood.udp', ctx.identify(dst, pkt.dport, pkt.tsSec), flow !== null ? flowSite(flow, dir, pkt.tsSec, pkt.tsNsec) : { flow: null, dir: 0, tsSec: pkt.tsSec, tsNsec: pkt.tsNsec, pkt }, {
              explanation: `${dst} received ${Math.round(rate)} UDP datagrams/s (threshold ${th(udp, 'packet-rate')}/s)`,
              observed: Math.round(rate),
              baseline: th(udp, 'packet-rate'),
              unit: 'datagrams/s',
              score: rate / th(udp, 'packet-rate'),
            }),
          );
        }
      } else if (p === 1 || p === 58) {
        if (!icmp.enabled || pkt.icmpType !== (p === 1 ? 8 : 128)) return;
        const e = entry(pkt);
        e.icmp++;
        if ((e.reported & 4) === 0 && e.icmp >= icmpNeed) {
          e.reported |= 4;
          const dst = dstText(pkt);
          const rate = e.icmp / win;
          ctx.report(
            finding('flood.icmp', ctx.identify(dst, -1, pkt.tsSec), flow !== null ? flowSite(flow, dir, pkt.tsSec, pkt.tsNsec) : { flow: null, dir: 0, tsSec: pkt.tsSec, tsNsec: pkt.tsNsec, pkt }, {
              explanation: `${dst} received ${Math.round(rate)} ICMP echo requests/s (threshold ${th(icmp, 'packet-rate')}/s)`,
              observed: Math.round(rate),
              baseline: th(icmp, 'packet-rate'),
              unit: 'echo requests/s',
              score: rate / th(icmp, 'packet-rate'),
            }),
          );
        }
      }
    },
    tick(tsSec) {
      if (sweep.due(tsSec)) byDst.sweep((e) => tsSec - e.start > 2 * win);
    },
    counters() {
      return { 'harrier.behaviour.flood.tracked': byDst.size, 'harrier.behaviour.flood.evicted': byDst.evicted };
    },
  };
}
