/**
 * ICMP tunnelling (ptunnel, icmpsh, icmptunnel, hans): data carried in the
 * payload of echo requests and replies.
 *
 * Ordinary pings carry a fixed pattern: Linux, BSD and macOS ping an
 * incrementing byte sequence after an optional 8–16-byte timestamp,
 * Windows the repeating alphabet `abcdefghijklmnopqrstuvw`, many tools a
 * constant fill, and a pinger repeats the same payload in every packet.
 * An echo payload is *unusual* when, after the first 16 bytes, it is
 * neither an incrementing run (≥ 75% of it) nor periodic with a period up
 * to 32 bytes (≥ 90% of it), is at least `min-payload` bytes long and has a
 * normalised byte entropy (bits / log2(min(len, 256))) of at least
 * `min-entropy`. `packets` unusual echo packets (either direction) between
 * one requester and one host within `window` seconds are reported. Only
 * echo packets are examined (at most 256 bytes of each), so the cost is
 * nil for every other packet.
 */
import type { DetectorSettings } from '../config.js';
import { BoundedTable, Every, byteEntropyNorm, clientKey, finding, flowClientIp, flowServerIp, flowSite, pairKey, serverKey, th, type BehaviourContext, type SubDetector } from './shared.js';

interface Entry {
  start: number;
  echoes: number;
  unusual: number;
  bytes: number;
  reported: boolean;
}

const SCAN_MAX = 256;

/** The payload follows a known ping pattern (incrementing bytes, or periodic with period ≤ 32, after a 16-byte timestamp). */
export function isUsualPing(b: Buffer, off: number, len: number): boolean {
  const skip = len > 24 ? 16 : 0;
  const s = off + skip;
  const e = off + Math.min(len, SCAN_MAX);
  const n = e - s;
  if (n <= 1) return true;
  let inc = 0;
  for (let i = s + 1; i < e; i++) if (b[i] === ((b[i - 1]! + 1) & 255)) inc++;
  if (inc >= 0.75 * (n - 1)) return true;
  for (let p = 1; p <= 32 && p < n; p++) {
    let same = 0;
    for (let i = s + p; i < e; i++) if (b[i] === b[i - p]) same++;
    if (same >= 0.9 * (n - p)) return true;
  }
  return false;
}

export function createIcmpTunnel(ctx: BehaviourContext, s: DetectorSettings): SubDetector {
  const win = th(s, 'window');
  const need = th(s, 'packets');
  const minPayload = th(s, 'min-payload');
  const minEntropy = th(s, 'min-entropy');
  const t = new BoundedTable<Entry>(ctx.maxTracked);
  const sweep = new Every(60);
  return {
    name: 'icmp.tunnel',
    packet(pkt, flow, dir) {
      const p = pkt.proto;
      if ((p !== 1 && p !== 58) || flow === null) return;
      const ty = pkt.icmpType;
      if (p === 1 ? ty !== 8 && ty !== 0 : ty !== 128 && ty !== 129) return;
      const len = pkt.payloadLen;
      const ts = pkt.tsSec;
      const k = pairKey(clientKey(flow), serverKey(flow));
      let e = t.get(k);
      if (e === undefined || ts - e.start >= win) {
        e = { start: ts, echoes: 0, unusual: 0, bytes: 0, reported: false };
        t.set(k, e);
      }
      e.echoes++;
      if (len < minPayload || isUsualPing(pkt.data, pkt.payloadOff, len)) return;
      if (byteEntropyNorm(pkt.data, pkt.payloadOff, Math.min(len, SCAN_MAX)) < minEntropy) return;
      e.unusual++;
      e.bytes += len;
      if (!e.reported && e.unusual >= need) {
        e.reported = true;
        const src = flowClientIp(flow);
        ctx.report(
          finding('icmp.tunnel', ctx.identify(src, -1, ts), flowSite(flow, dir, ts, pkt.tsNsec), {
            explanation: `${src} ↔ ${flowServerIp(flow)}: ${e.unusual} of ${e.echoes} ICMP echo packets carry non-ping payloads (${e.bytes} bytes) within ${win} s`,
            observed: e.unusual,
            baseline: need,
            unit: 'unusual echo packets',
            score: e.unusual / need,
            extra: { payload_bytes: String(e.bytes) },
          }),
        );
      }
    },
    tick(tsSec) {
      if (sweep.due(tsSec)) t.sweep((e) => tsSec - e.start > 2 * win);
    },
    counters() {
      return { 'harrier.behaviour.icmp_tunnel.tracked': t.size, 'harrier.behaviour.icmp_tunnel.evicted': t.evicted };
    },
  };
}
