/**
 * The flow table: finds or creates the Flow of every decoded packet, keeps
 * per-flow counters and TCP state, ends idle flows, and bounds memory.
 *
 * Layout (no string keys, no per-packet allocation):
 *  - `flows[slot]` holds the Flow objects; `chain[slot]` links the slots of
 *    one hash bucket (`buckets[hash & mask]` is the first slot, -1 = none).
 *    Buckets double when the flow count exceeds twice their number.
 *  - Every flow sits in exactly one of 12 doubly-linked lists (`prev`/`next`,
 *    Int32Array), one per timeout class = protocol class (default, tcp, udp,
 *    icmp) × generic state (new, established, closed). A packet moves its
 *    flow to the tail of its list, so each list is ordered by last activity
 *    and all its flows share one timeout: `expire(now)` pops expired heads
 *    and stops at the first live one, costing O(expired + 12) per call, not a
 *    scan of the table. (Assumes packet time does not go backwards; when a
 *    capture's timestamps do, expiry of the flows concerned is merely late.)
 *  - Memory: each flow counts a fixed cost (FLOW_COST_V4/V6, measured below)
 *    plus whatever attached sources report (the stream stage's buffered
 *    segments). When a new flow would exceed `memcapBytes` or `maxFlows`, the
 *    table enters emergency mode (emergency timeouts; expires at packet time)
 *    and, if still over, evicts the least recently active flows — each still
 *    reported through `onFlowEnd(flow, 'memcap')`, never dropped silently.
 *    Emergency mode ends when use falls below (100 - emergencyRecovery) %.
 *    Sources grow between admissions (a flow's held segments); `expire()`
 *    also evicts when they took the total over the cap, so the cap holds at
 *    every admission and at least once per expire() call.
 *
 * Re-entrancy: `onFlowEnd` may be called from inside `handle()` (eviction,
 * TCP port reuse) for a flow other than the one being returned.
 *
 * Flow lifecycle decisions made here (the stream stage relies on them):
 *  - A SYN (without ACK) on a TCP flow whose state is `closed` (LAST_ACK,
 *    TIME_WAIT, CLOSED) and whose sequence number differs from the flow's
 *    last SYN is a new connection reusing the ports: the old flow ends
 *    ('forced', counted as flow.tcp_reuse) and a new one starts.
 *  - Non-first IP fragments that were not reassembled have no ports: no flow.
 */
import type { Packet } from '../decode/packet.js';
import { Flow, FlowState, type FlowEndReason } from './flow.js';
import {
  STATES_PER_CLASS,
  TIMEOUT_CLASSES,
  protoClass,
  resolveFlowConfig,
  timeoutTable,
  type FlowConfig,
} from './config.js';
import { eq6, flowHash4, flowHash6, keyExtra } from './key.js';
import { tcpTrack } from './tcp-state.js';

export type { FlowConfig, FlowTimeouts } from './config.js';

export interface FlowHooks {
  /** A flow left the table; `flow.endReason` is set. */
  onFlowEnd(flow: Flow, reason: FlowEndReason): void;
}

/**
 * Estimated bytes per flow: V8 heap for the Flow object plus its share of the
 * table's arrays. Measured on Node 20.19 as the growth of heapUsed +
 * arrayBuffers across creating 200k TCP flows, after a forced GC
 * (`node --expose-gc`): 440 B per IPv4 flow, 872 B per IPv6 flow (the two
 * Uint32Array(4) address copies cost the difference).
 */
export const FLOW_COST_V4 = 448;
export const FLOW_COST_V6 = 880;

const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;

/** ICMPv4 error types that embed the offending datagram. */
function isIcmp4Error(t: number): boolean {
  return t === 3 || t === 4 || t === 5 || t === 11 || t === 12;
}

const TWO_31 = 2147483648;

export class FlowTable {
  /** Direction of the last packet handled: 0 toServer, 1 toClient. */
  lastDirection = 0;

  private readonly cfg: FlowConfig;
  private readonly hooks: FlowHooks | null;
  private readonly tmo: Float64Array;
  private readonly etmo: Float64Array;

  private buckets: Int32Array;
  private mask: number;
  private flows: (Flow | null)[] = [];
  private chain: Int32Array;
  private prev: Int32Array;
  private next: Int32Array;
  private readonly head = new Int32Array(TIMEOUT_CLASSES).fill(-1);
  private readonly tail = new Int32Array(TIMEOUT_CLASSES).fill(-1);
  private freeSlots: Int32Array;
  private freeTop = 0;
  private capacity = 0;

  private active = 0;
  private flowMem = 0;
  private readonly sources: (() => number)[] = [];
  private emergency = false;
  private idCounter = 0;
  private idStep = 1;
  private lastNow = 0;

  // counters
  private cTotal = 0;
  private cTcp = 0;
  private cUdp = 0;
  private cIcmp4 = 0;
  private cIcmp6 = 0;
  private cOther = 0;
  private cMemcap = 0;
  private cEmergIn = 0;
  private cEmergOver = 0;
  private cTcpReuse = 0;
  private cIcmpErrAttributed = 0;
  private cActiveMax = 0;
  private readonly cEnd = { timeout: 0, forced: 0, shutdown: 0, memcap: 0 };

  constructor(cfg?: Partial<FlowConfig>, hooks?: FlowHooks) {
    this.cfg = resolveFlowConfig(cfg);
    this.hooks = hooks ?? null;
    this.tmo = timeoutTable(this.cfg.timeouts);
    this.etmo = timeoutTable(this.cfg.emergencyTimeouts);
    let n = 16;
    while (n < this.cfg.hashSize && n < 1 << 24) n <<= 1;
    this.buckets = new Int32Array(n).fill(-1);
    this.mask = n - 1;
    const cap = Math.max(1, Math.min(this.cfg.maxFlows, 1024));
    this.chain = new Int32Array(0);
    this.prev = new Int32Array(0);
    this.next = new Int32Array(0);
    this.freeSlots = new Int32Array(0);
    this.grow(cap);
  }

  /**
   * Count another consumer's memory against the flow memcap (e.g. the stream
   * stage's `() => reassembler.memuse`). Called when a new flow is admitted.
   */
  addMemorySource(fn: () => number): void {
    this.sources.push(fn);
  }

  /** Current memory estimate in bytes (flows + attached sources). */
  memuse(): number {
    let m = this.flowMem;
    for (let i = 0; i < this.sources.length; i++) m += this.sources[i]();
    return m;
  }

  get activeFlows(): number {
    return this.active;
  }

  get inEmergency(): boolean {
    return this.emergency;
  }

  /**
   * Find or create the flow of a decoded packet and update counters/state;
   * returns the flow and sets `lastDirection`. Packets without a flow
   * (ipVersion 0, unreassembled fragments) return null.
   */
  /**
   * Worker `index` of `count` (sensor/parallel.ts): flow ids are drawn from
   * this worker's own residue class, so ids stay unique across workers.
   */
  partitionIds(index: number, count: number): void {
    this.idCounter = index;
    this.idStep = count;
  }

  handle(pkt: Packet): Flow | null {
    const ipv = pkt.ipVersion;
    if (ipv !== 4 && ipv !== 6) return null;
    if (pkt.isFragment && !pkt.reassembled) return null;
    const proto = pkt.proto;
    let sp = 0;
    let dp = 0;
    let seen = true;
    if (proto === 6 || proto === 17 || proto === 132) {
      sp = pkt.sport;
      dp = pkt.dport;
    } else if (proto === 50) {
      // ESP: one flow per SPI, as Suricata's FlowCompareESP; the SPI rides in the two port slots (EVE `spi`)
      if (pkt.espSpi >= 0) {
        sp = pkt.espSpi >>> 16;
        dp = pkt.espSpi & 0xffff;
      }
    } else if (proto === 1 || proto === 58) {
      const t = pkt.icmpType;
      const id = pkt.icmpId >= 0 ? pkt.icmpId & 0xffff : 0;
      // Echo request and reply pair by identifier: the id sits on the side
      // of the requester, so both normalise to the same key.
      if (proto === 1 ? t === 8 : t === 128) sp = id;
      else if (proto === 1 ? t === 0 : t === 129) dp = id;
      else if (proto === 1 && ipv === 4 && isIcmp4Error(t)) {
        seen = false;
        if (pkt.icmpInnerValid && pkt.icmpInnerIpVersion === 4) {
          const ip = pkt.icmpInnerProto;
          const isp = ip === 6 || ip === 17 || ip === 132 ? pkt.icmpInnerSport : 0;
          const idp = ip === 6 || ip === 17 || ip === 132 ? pkt.icmpInnerDport : 0;
          const ex = keyExtra(ip, pkt.vlan0, pkt.vlan1, pkt.tunnel, pkt.tunnelId);
          const h = flowHash4(pkt.icmpInnerSrc4, pkt.icmpInnerDst4, isp, idp, ex);
          const f = this.find4(h, pkt.icmpInnerSrc4, pkt.icmpInnerDst4, isp, idp, ip, pkt);
          if (f !== null) {
            // The error travels back towards the embedded packet's sender.
            const dir = 1 - this.lastDirection;
            this.lastDirection = dir;
            this.cIcmpErrAttributed++;
            this.update(f, pkt, dir, false);
            return f;
          }
        }
      }
    }
    const extra = keyExtra(proto, pkt.vlan0, pkt.vlan1, pkt.tunnel, pkt.tunnelId);
    let h: number;
    let f: Flow | null;
    if (ipv === 4) {
      h = flowHash4(pkt.src4, pkt.dst4, sp, dp, extra);
      f = this.find4(h, pkt.src4, pkt.dst4, sp, dp, proto, pkt);
    } else {
      h = flowHash6(pkt.src6, pkt.dst6, sp, dp, extra);
      f = this.find6(h, sp, dp, proto, pkt);
    }
    if (f !== null) {
      if (
        proto === 6 &&
        (pkt.tcpFlags & (SYN | ACK | RST)) === SYN &&
        f.state === FlowState.CLOSED &&
        f.synSeq !== pkt.tcpSeq
      ) {
        this.cTcpReuse++;
        this.remove(f, 'forced');
      } else {
        this.update(f, pkt, this.lastDirection, seen);
        return f;
      }
    }
    f = this.create(pkt, h, sp, dp);
    this.update(f, pkt, this.lastDirection, seen);
    return f;
  }

  /** Expire idle flows at packet time `now` (seconds since the epoch). */
  expire(now: number): void {
    this.lastNow = now;
    const t = this.emergency ? this.etmo : this.tmo;
    for (let c = 0; c < TIMEOUT_CLASSES; c++) {
      const limit = t[c];
      let s = this.head[c];
      while (s !== -1) {
        const f = this.flows[s] as Flow;
        if (now - f.lastTime < limit) break;
        const n = this.next[s];
        this.remove(f, 'timeout');
        s = n;
      }
    }
    // Memory attached sources gained since the last admission (held stream
    // segments) is settled here at the latest, once per call.
    if (this.active > 0 && this.memuse() > this.cfg.memcapBytes) {
      this.cMemcap++;
      if (!this.emergency) {
        this.emergency = true;
        this.cEmergIn++;
      }
      while (this.active > 0 && this.memuse() > this.cfg.memcapBytes) {
        const o = this.oldestHead();
        if (o === -1) break;
        this.remove(this.flows[o] as Flow, 'memcap');
      }
    }
    this.checkRecovery();
  }

  /** End every flow (end of input), calling onFlowEnd(flow, 'shutdown'), oldest activity first per class. */
  flushAll(): void {
    for (;;) {
      const s = this.oldestHead();
      if (s === -1) break;
      this.remove(this.flows[s] as Flow, 'shutdown');
    }
    this.checkRecovery();
  }

  /**
   * Call `fn` for every flow in the table (slot order). O(capacity): for
   * rare whole-table work such as a rule reload migrating per-flow detection
   * state (detect/engine/reload.ts), never per packet.
   */
  forEachFlow(fn: (flow: Flow) => void): void {
    const fl = this.flows;
    for (let s = 0; s < fl.length; s++) {
      const f = fl[s];
      if (f !== null && f !== undefined) fn(f);
    }
  }

  /** End one flow now (e.g. a stage decided it is finished), reason 'forced'. */
  end(flow: Flow): void {
    if (flow.slot >= 0 && this.flows[flow.slot] === flow) this.remove(flow, 'forced');
  }

  stats(): Record<string, number> {
    return {
      'flow.total': this.cTotal,
      'flow.tcp': this.cTcp,
      'flow.udp': this.cUdp,
      'flow.icmpv4': this.cIcmp4,
      'flow.icmpv6': this.cIcmp6,
      'flow.other': this.cOther,
      'flow.active': this.active,
      'flow.active_max': this.cActiveMax,
      'flow.memuse': this.memuse(),
      'flow.memcap': this.cMemcap,
      'flow.emerg_mode_entered': this.cEmergIn,
      'flow.emerg_mode_over': this.cEmergOver,
      'flow.tcp_reuse': this.cTcpReuse,
      'flow.icmp_error_attributed': this.cIcmpErrAttributed,
      'flow.end.timeout': this.cEnd.timeout,
      'flow.end.forced': this.cEnd.forced,
      'flow.end.shutdown': this.cEnd.shutdown,
      'flow.end.memcap': this.cEnd.memcap,
      'flow.timeout': this.cEnd.timeout,
      'flow.evicted': this.cEnd.memcap,
    };
  }

  // ---- lookup ---------------------------------------------------------------

  private find4(h: number, a: number, b: number, pa: number, pb: number, proto: number, pkt: Packet): Flow | null {
    let s = this.buckets[h & this.mask];
    while (s !== -1) {
      const f = this.flows[s] as Flow;
      if (
        f.hash === h &&
        f.proto === proto &&
        f.ipVersion === 4 &&
        f.vlan0 === pkt.vlan0 &&
        f.vlan1 === pkt.vlan1 &&
        f.tunnelId === pkt.tunnelId &&
        f.tunnel === pkt.tunnel
      ) {
        if (f.client4 === a && f.server4 === b && f.clientPort === pa && f.serverPort === pb) {
          this.lastDirection = 0;
          return f;
        }
        if (f.client4 === b && f.server4 === a && f.clientPort === pb && f.serverPort === pa) {
          this.lastDirection = 1;
          return f;
        }
      }
      s = this.chain[s];
    }
    return null;
  }

  private find6(h: number, sp: number, dp: number, proto: number, pkt: Packet): Flow | null {
    let s = this.buckets[h & this.mask];
    while (s !== -1) {
      const f = this.flows[s] as Flow;
      if (
        f.hash === h &&
        f.proto === proto &&
        f.ipVersion === 6 &&
        f.vlan0 === pkt.vlan0 &&
        f.vlan1 === pkt.vlan1 &&
        f.tunnelId === pkt.tunnelId &&
        f.tunnel === pkt.tunnel
      ) {
        if (f.clientPort === sp && f.serverPort === dp && eq6(f.client6, pkt.src6) && eq6(f.server6, pkt.dst6)) {
          this.lastDirection = 0;
          return f;
        }
        if (f.clientPort === dp && f.serverPort === sp && eq6(f.client6, pkt.dst6) && eq6(f.server6, pkt.src6)) {
          this.lastDirection = 1;
          return f;
        }
      }
      s = this.chain[s];
    }
    return null;
  }

  // ---- per-packet update ----------------------------------------------------

  /**
   * Per-packet flow bookkeeping. Runs for every packet, so it must stay
   * inlinable into handle(): V8 (Node 20) inlines only callees of at most 460
   * bytes of bytecode, and the tunnel byte count took this one from 443 to
   * 461 (handle() then paid a call per packet; bench/RESULTS.md "Session 4").
   * Packet fields are read once into locals, which keeps it at 447 bytes
   * (test/decode/inline-budget.test.ts checks it). Moving the TCP part into a
   * helper was tried and is worse: once update() has optimized code of its
   * own, V8 prices inlining it as its bytecode plus what that code inlined
   * (360 + 164 bytes), and handle(), whose cumulative budget is 920 bytes,
   * then mostly left update() out.
   */
  private update(f: Flow, pkt: Packet, dir: number, seen: boolean): void {
    const sec = pkt.tsSec;
    const nsec = pkt.tsNsec;
    f.lastSec = sec;
    f.lastNsec = nsec;
    f.lastTime = sec + nsec * 1e-9;
    // A tunnelled packet counts as Suricata's tunnel pseudo-packet (the inner part), not the outer frame.
    const bytes = pkt.tunnel !== 0 ? pkt.tunnelLen : pkt.capLen;
    if (dir === 0) {
      f.pktsToServer++;
      f.bytesToServer += bytes;
    } else {
      f.pktsToClient++;
      f.bytesToClient += bytes;
    }
    if (seen) f.seenDirs |= dir === 0 ? 1 : 2;
    const proto = f.proto;
    if (proto === 6 && pkt.proto === 6) {
      const flags = pkt.tcpFlags;
      if (dir === 0) f.tcpFlagsToServer |= flags;
      else f.tcpFlagsToClient |= flags;
      f.tcpFlags |= flags;
      if ((flags & (SYN | ACK)) === SYN) f.synSeq = pkt.tcpSeq;
      tcpTrack(f, dir, flags, pkt.tcpSeq, pkt.tcpAck, pkt.payloadLen);
    } else if (proto !== 6 && f.state === FlowState.NEW && f.seenDirs === 3) {
      f.state = FlowState.ESTABLISHED;
    }
    const cls = protoClass(proto) * STATES_PER_CLASS + f.state;
    const s = f.slot;
    if (cls !== f.tclass) {
      this.unlink(s, f.tclass);
      f.tclass = cls;
      this.append(s, cls);
    } else if (this.tail[cls] !== s) {
      this.unlink(s, cls);
      this.append(s, cls);
    }
  }

  // ---- creation, removal ----------------------------------------------------

  private create(pkt: Packet, h: number, sp: number, dp: number): Flow {
    const v6 = pkt.ipVersion === 6;
    const cost = v6 ? FLOW_COST_V6 : FLOW_COST_V4;
    this.admit(cost, pkt.tsSec + pkt.tsNsec * 1e-9);
    if (this.freeTop === 0) this.grow(Math.min(this.capacity * 2, Math.max(this.cfg.maxFlows, 1)));
    const s = this.freeSlots[--this.freeTop];

    const f = new Flow(pkt.ipVersion);
    // A TCP flow first seen at its SYN/ACK belongs to the receiver of it.
    const swap = pkt.proto === 6 && (pkt.tcpFlags & (SYN | ACK)) === (SYN | ACK);
    f.proto = pkt.proto;
    if (v6) {
      f.client6.set(swap ? pkt.dst6 : pkt.src6);
      f.server6.set(swap ? pkt.src6 : pkt.dst6);
    } else {
      f.client4 = swap ? pkt.dst4 : pkt.src4;
      f.server4 = swap ? pkt.src4 : pkt.dst4;
    }
    f.clientPort = swap ? dp : sp;
    f.serverPort = swap ? sp : dp;
    f.vlanCount = pkt.vlanCount;
    f.vlan0 = pkt.vlan0;
    f.vlan1 = pkt.vlan1;
    f.tunnel = pkt.tunnel;
    f.tunnelId = pkt.tunnelId;
    if (f.proto === 1 || f.proto === 58) {
      f.icmpType = pkt.icmpType;
      f.icmpCode = pkt.icmpCode;
    }
    f.startSec = pkt.tsSec;
    f.startNsec = pkt.tsNsec;
    f.hash = h;
    this.idCounter += this.idStep;
    // 20 hash bits above a 31-bit counter: positive, < 2^51, unique for 2^31 flows.
    f.flowId = (h & 0xfffff) * TWO_31 + (this.idCounter % TWO_31);
    f.slot = s;
    f.tclass = protoClass(f.proto) * STATES_PER_CLASS + FlowState.NEW;

    this.flows[s] = f;
    const b = h & this.mask;
    this.chain[s] = this.buckets[b];
    this.buckets[b] = s;
    this.append(s, f.tclass);

    this.active++;
    this.flowMem += cost;
    if (this.active > this.cActiveMax) this.cActiveMax = this.active;
    this.cTotal++;
    const p = f.proto;
    if (p === 6) this.cTcp++;
    else if (p === 17) this.cUdp++;
    else if (p === 1) this.cIcmp4++;
    else if (p === 58) this.cIcmp6++;
    else this.cOther++;
    if (this.active > this.buckets.length * 2 && this.buckets.length < 1 << 24) this.rehash(this.buckets.length * 2);

    // The creating packet travels toClient when it was a SYN/ACK.
    this.lastDirection = swap ? 1 : 0;
    return f;
  }

  /** Make room for a flow costing `cost` bytes, entering emergency mode if needed. */
  private admit(cost: number, now: number): void {
    if (this.active < this.cfg.maxFlows && this.memuse() + cost <= this.cfg.memcapBytes) {
      if (this.emergency) this.checkRecovery();
      return;
    }
    this.cMemcap++;
    if (!this.emergency) {
      this.emergency = true;
      this.cEmergIn++;
    }
    this.expire(Math.max(now, this.lastNow));
    while (this.active > 0 && (this.active >= this.cfg.maxFlows || this.memuse() + cost > this.cfg.memcapBytes)) {
      const s = this.oldestHead();
      if (s === -1) break;
      this.remove(this.flows[s] as Flow, 'memcap');
    }
  }

  private checkRecovery(): void {
    if (!this.emergency) return;
    const keep = 1 - this.cfg.emergencyRecovery / 100;
    if (this.active <= this.cfg.maxFlows * keep && this.memuse() <= this.cfg.memcapBytes * keep) {
      this.emergency = false;
      this.cEmergOver++;
    }
  }

  private remove(f: Flow, reason: FlowEndReason): void {
    const s = f.slot;
    // unlink from the bucket chain
    const b = f.hash & this.mask;
    let p = this.buckets[b];
    if (p === s) this.buckets[b] = this.chain[s];
    else {
      while (p !== -1 && this.chain[p] !== s) p = this.chain[p];
      if (p !== -1) this.chain[p] = this.chain[s];
    }
    this.unlink(s, f.tclass);
    this.flows[s] = null;
    this.freeSlots[this.freeTop++] = s;
    f.slot = -1;
    this.active--;
    this.flowMem -= f.ipVersion === 6 ? FLOW_COST_V6 : FLOW_COST_V4;
    this.cEnd[reason]++;
    f.endReason = reason;
    if (this.hooks !== null) this.hooks.onFlowEnd(f, reason);
  }

  private oldestHead(): number {
    let best = -1;
    let bestT = Infinity;
    for (let c = 0; c < TIMEOUT_CLASSES; c++) {
      const s = this.head[c];
      if (s !== -1) {
        const t = (this.flows[s] as Flow).lastTime;
        if (t < bestT || best === -1) {
          best = s;
          bestT = t;
        }
      }
    }
    return best;
  }

  // ---- lists and storage ----------------------------------------------------

  private append(s: number, c: number): void {
    const t = this.tail[c];
    this.prev[s] = t;
    this.next[s] = -1;
    if (t === -1) this.head[c] = s;
    else this.next[t] = s;
    this.tail[c] = s;
  }

  private unlink(s: number, c: number): void {
    const p = this.prev[s];
    const n = this.next[s];
    if (p === -1) this.head[c] = n;
    else this.next[p] = n;
    if (n === -1) this.tail[c] = p;
    else this.prev[n] = p;
  }

  private grow(cap: number): void {
    const old = this.capacity;
    if (cap <= old) cap = old + 1;
    const chain = new Int32Array(cap);
    chain.set(this.chain);
    this.chain = chain;
    const prev = new Int32Array(cap);
    prev.set(this.prev);
    this.prev = prev;
    const next = new Int32Array(cap);
    next.set(this.next);
    this.next = next;
    const free = new Int32Array(cap);
    free.set(this.freeSlots.subarray(0, this.freeTop));
    // new slots pushed so that the lowest index is handed out first
    for (let s = cap - 1; s >= old; s--) free[this.freeTop++] = s;
    this.freeSlots = free;
    for (let s = old; s < cap; s++) this.flows.push(null);
    this.capacity = cap;
  }

  private rehash(n: number): void {
    this.buckets = new Int32Array(n).fill(-1);
    this.mask = n - 1;
    for (let s = 0; s < this.capacity; s++) {
      const f = this.flows[s];
      if (f === null) continue;
      const b = f.hash & this.mask;
      this.chain[s] = this.buckets[b];
      this.buckets[b] = s;
    }
  }
}
