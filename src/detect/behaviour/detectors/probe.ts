/**
 * Stealth and OS-fingerprint TCP probes: connections opened with a flag
 * combination no TCP stack sends to start a connection — NULL, FIN, Xmas
 * (FIN|PSH|URG), SYN|FIN, SYN|FIN|PSH|URG, SYN|RST… These are nmap's -sN/-sF/
 * -sX scans and its OS detection tests T2–T7, and masscan's/hping's odd
 * probes. A first packet carrying ACK is left out: a capture that starts
 * mid-connection begins with ACKs all the time (nmap's ACK scan is missed
 * for that reason). Counted per source in a tumbling window; the packet
 * hook costs one flag test unless the packet opens a flow.
 */
import { BoundedTable, Every, clientKey, finding, flowClientIp, flowServerIp, flowSite, th, type BehaviourContext, type SubDetector } from './shared.js';
import type { DetectorSettings } from '../config.js';

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;
const URG = 0x20;

interface Entry {
  start: number;
  probes: number;
  /** Bit per flag combination seen (low 6 flag bits). */
  combos: bigint;
  reported: boolean;
}

/** The flags of a connection's first packet are ones no stack opens with. */
export function isOddOpening(flags: number): boolean {
  const f = flags & (FIN | SYN | RST | PSH | ACK | URG);
  if ((f & ACK) !== 0) return false;
  if (f === SYN || f === RST || f === (RST | FIN)) return false;
  return true;
}

function flagText(f: number): string {
  if ((f & 0x3f) === 0) return 'NULL';
  let s = '';
  if (f & SYN) s += 'S';
  if (f & FIN) s += 'F';
  if (f & RST) s += 'R';
  if (f & PSH) s += 'P';
  if (f & URG) s += 'U';
  return s;
}

export function createProbe(ctx: BehaviourContext, s: DetectorSettings): SubDetector {
  const win = th(s, 'window');
  const need = th(s, 'probes');
  const bySrc = new BoundedTable<Entry>(ctx.maxTracked);
  const sweep = new Every(60);
  return {
    name: 'scan.probe',
    packet(pkt, flow, dir) {
      if (pkt.proto !== 6 || flow === null || dir !== 0 || flow.pktsToServer !== 1) return;
      const flags = pkt.tcpFlags;
      if (!isOddOpening(flags)) return;
      const ts = pkt.tsSec;
      const k = clientKey(flow);
      let e = bySrc.get(k);
      if (e === undefined || ts - e.start >= win) {
        e = { start: ts, probes: 0, combos: 0n, reported: false };
        bySrc.set(k, e);
      }
      e.probes++;
      e.combos |= 1n << BigInt(flags & 0x3f);
      if (!e.reported && e.probes >= need) {
        e.reported = true;
        const src = flowClientIp(flow);
        const kinds: string[] = [];
        for (let i = 0; i < 64; i++) if ((e.combos >> BigInt(i)) & 1n) kinds.push(flagText(i));
        ctx.report(
          finding('scan.probe', ctx.identify(src, -1, ts), flowSite(flow, 0, ts, pkt.tsNsec), {
            explanation: `${src} opened ${e.probes} TCP connections with flags no stack opens with (${kinds.join(', ')}), last to ${flowServerIp(flow)}:${flow.serverPort}`,
            observed: e.probes,
            baseline: need,
            unit: 'odd-flag openings',
            score: e.probes / need,
            extra: { flags: kinds.join(',') },
          }),
        );
      }
    },
    tick(tsSec) {
      if (sweep.due(tsSec)) bySrc.sweep((e) => tsSec - e.start > 2 * win);
    },
    counters() {
      return { 'harrier.behaviour.probe.tracked': bySrc.size, 'harrier.behaviour.probe.evicted': bySrc.evicted };
    },
  };
}
