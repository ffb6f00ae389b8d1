/**
 * Beaconing: one source opening connections to one destination (address,
 * port, protocol) at a regular period — implant check-ins, C2 polling.
 *
 * Per (source, destination, port) the start times of the source's new
 * flows give intervals; the last 16 are kept in a ring. With at least
 * `min-intervals` of them, the median period is at least `min-period`
 * seconds and the jitter — 1.4826 × MAD / median, a robust coefficient of
 * variation that one missed or late check-in does not spoil — is at most
 * `max-jitter`, the pair is reported (again only after 16 more intervals).
 * Protocols periodic by design (DNS, NTP, mDNS, LLMNR, NetBIOS: the
 * `beacon-ignore-ports` list) are skipped; Kubernetes probes and scrapes
 * are periodic too and are muted per workload in config. Broadcast,
 * multicast and loopback destinations are skipped (LAN discovery). Work is per new
 * flow, not per packet.
 */
import type { Flow } from '../../../flow/flow.js';
import type { DetectorSettings } from '../config.js';
import { BoundedTable, Every, clientKey, finding, flowClientIp, flowServerIp, flowSite, fmt, mix32, pairKey, serverKey, th, type BehaviourContext, type SubDetector } from './shared.js';

const RING = 16;
const FIRST_SLOTS = 16384;

interface Entry {
  last: number;
  /** Made at the pair's second flow: most pairs never have one. */
  ring: Float64Array | null;
  n: number;
  /** Intervals seen since the last report (a report needs a fresh ring). */
  fresh: number;
}

/**
 * Broadcast, multicast and loopback destinations: LAN discovery (Dropbox
 * LAN sync, device announcements) is periodic by design and never leaves
 * the segment. A /24 broadcast (`.255`) is assumed, as most LANs use it.
 */
function localOnly(f: Flow): boolean {
  if (f.ipVersion === 4) {
    const d = f.server4;
    return d >>> 28 === 0xe || (d & 0xff) === 0xff || d >>> 24 === 127;
  }
  const w0 = f.server6[0]!;
  return w0 >>> 24 === 0xff || (w0 === 0 && f.server6[1] === 0 && f.server6[2] === 0 && f.server6[3] === 1);
}

const scratch = new Float64Array(RING);
const devs = new Float64Array(RING);

/** Median of a[0, n) (n ≤ 16): insertion sort into the scratch array, no allocation. */
function median(a: Float64Array, n: number): number {
  const s = scratch;
  for (let i = 0; i < n; i++) {
    const v = a[i]!;
    let j = i - 1;
    while (j >= 0 && s[j]! > v) {
      s[j + 1] = s[j]!;
      j--;
    }
    s[j + 1] = v;
  }
  return n % 2 === 1 ? s[(n - 1) >> 1]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/** Median interval and robust jitter (1.4826·MAD/median) of the first n values of ring. */
export function periodicity(ring: Float64Array, n: number): { period: number; jitter: number } {
  const m = median(ring, n);
  for (let i = 0; i < n; i++) devs[i] = Math.abs(ring[i]! - m);
  const mad = median(devs, n);
  return { period: m, jitter: m > 0 ? (1.4826 * mad) / m : Infinity };
}

export function createBeacon(ctx: BehaviourContext, s: DetectorSettings): SubDetector {
  const minIntervals = Math.min(RING, Math.max(2, th(s, 'min-intervals')));
  const minPeriod = th(s, 'min-period');
  const maxJitter = th(s, 'max-jitter');
  const t = new BoundedTable<Entry>(ctx.maxTracked);
  const sweep = new Every(300);
  const firstKey = new Float64Array(FIRST_SLOTS).fill(-1);
  const firstTime = new Float64Array(FIRST_SLOTS);
  return {
    name: 'beacon',
    packet(pkt, flow, dir) {
      if (flow === null || dir !== 0 || flow.pktsToServer !== 1 || flow.pktsToClient !== 0) return;
      if (flow.proto !== 6 && flow.proto !== 17) return;
      if (ctx.beaconIgnorePorts.has(flow.serverPort) || localOnly(flow)) return;
      // TCP: count connection openings only (a SYN), not mid-stream pickups.
      if (flow.proto === 6 && (pkt.tcpFlags & 0x12) !== 0x02) return;
      const now = pkt.tsSec + pkt.tsNsec / 1e9;
      const k = pairKey(clientKey(flow), mix32(serverKey(flow) >>> 0, flow.serverPort | (flow.proto << 16)));
      let e = t.get(k);
      if (e === undefined) {
        // First sightings go to a direct-mapped cache of typed arrays; an
        // entry is made at a pair's second flow. Most pairs are seen once,
        // so most new flows allocate nothing here (a collision in the cache
        // only delays a pair's first interval by one flow).
        const slot = k % FIRST_SLOTS;
        if (firstKey[slot] !== k) {
          firstKey[slot] = k;
          firstTime[slot] = now;
          return;
        }
        e = { last: firstTime[slot]!, ring: null, n: 0, fresh: 0 };
        firstKey[slot] = -1;
        t.set(k, e);
      }
      const gap = now - e.last;
      e.last = now;
      if (gap < 0) return;
      const ring = e.ring ?? (e.ring = new Float64Array(RING));
      // Shift in: the ring holds the most recent intervals, oldest dropped.
      if (e.n < RING) ring[e.n++] = gap;
      else {
        ring.copyWithin(0, 1);
        ring[RING - 1] = gap;
      }
      e.fresh++;
      // A gap shorter than the minimum period (a burst of connections) cannot
      // complete a beacon: skip the median work (measured: most new flows end here).
      if (e.n < minIntervals || e.fresh < minIntervals || gap < minPeriod) return;
      const { period, jitter } = periodicity(ring, e.n);
      if (period < minPeriod || jitter > maxJitter) return;
      // Reported again only after the ring has been refilled: an ongoing
      // beacon is one incident, renewed every RING intervals, not every flow.
      e.fresh = minIntervals - RING;
      const src = flowClientIp(flow);
      const dst = `${flowServerIp(flow)}:${flow.serverPort}`;
      ctx.report(
        finding('beacon', ctx.identify(src, -1, pkt.tsSec), flowSite(flow, 0, pkt.tsSec, pkt.tsNsec), {
          explanation: `${src} connects to ${dst}/${flow.proto === 6 ? 'tcp' : 'udp'} every ${fmt(period)} s with ${fmt(jitter * 100)}% jitter over ${e.n} intervals (jitter threshold ${fmt(maxJitter * 100)}%)`,
          observed: e.n,
          baseline: minIntervals,
          unit: 'regular intervals',
          score: jitter > 0 ? Math.min(100, maxJitter / jitter) : 100,
          extra: { period_sec: period.toFixed(2), jitter: jitter.toFixed(4), destination: dst },
        }),
      );
    },
    tick(tsSec) {
      if (sweep.due(tsSec)) t.sweep((e) => tsSec - e.last > 86400);
    },
    counters() {
      return { 'harrier.behaviour.beacon.tracked': t.size, 'harrier.behaviour.beacon.evicted': t.evicted };
    },
  };
}
