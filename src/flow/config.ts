/**
 * Flow table settings and their defaults.
 *
 * Defaults are Suricata 7's `suricata.yaml` values (`flow:` and
 * `flow-timeouts:`), so that flows end when Suricata's would and EVE flow
 * records line up: default new 30 / established 300 / closed 0, tcp 60 / 600
 * / 60, udp and icmp 30 / 300; emergency: default 10 / 100 / 0, tcp 5 / 100 /
 * 10, udp and icmp 10 / 100; memcap 128 MiB, hash-size 65536,
 * emergency-recovery 30 %.
 */

/** Idle timeouts in seconds by generic flow state, with per-protocol overrides. */
export interface FlowTimeouts {
  new: number;
  established: number;
  closed: number;
  tcpNew?: number;
  tcpEstablished?: number;
  tcpClosed?: number;
  udpNew?: number;
  udpEstablished?: number;
  udpClosed?: number;
  icmpNew?: number;
  icmpEstablished?: number;
  icmpClosed?: number;
}

export interface FlowConfig {
  /** Memory budget for flows (fixed cost per flow + bytes reported by attached sources). */
  memcapBytes: number;
  /** Hard bound on concurrent flows. */
  maxFlows: number;
  /** Initial number of hash buckets (rounded up to a power of two; grows with the flow count). */
  hashSize: number;
  timeouts: FlowTimeouts;
  /** Timeouts used while in emergency mode (memcap reached). */
  emergencyTimeouts: FlowTimeouts;
  /**
   * Emergency mode ends when memory use and flow count are both below
   * (100 - emergencyRecovery) % of their limits.
   */
  emergencyRecovery: number;
}

export const DEFAULT_TIMEOUTS: Readonly<Required<FlowTimeouts>> = {
  new: 30,
  established: 300,
  closed: 0,
  tcpNew: 60,
  tcpEstablished: 600,
  tcpClosed: 60,
  udpNew: 30,
  udpEstablished: 300,
  udpClosed: 0,
  icmpNew: 30,
  icmpEstablished: 300,
  icmpClosed: 0,
};

export const DEFAULT_EMERGENCY_TIMEOUTS: Readonly<Required<FlowTimeouts>> = {
  new: 10,
  established: 100,
  closed: 0,
  tcpNew: 5,
  tcpEstablished: 100,
  tcpClosed: 10,
  udpNew: 10,
  udpEstablished: 100,
  udpClosed: 0,
  icmpNew: 10,
  icmpEstablished: 100,
  icmpClosed: 0,
};

export const DEFAULT_FLOW_CONFIG: Readonly<FlowConfig> = {
  memcapBytes: 128 * 1024 * 1024,
  maxFlows: 1 << 22,
  hashSize: 65536,
  timeouts: DEFAULT_TIMEOUTS,
  emergencyTimeouts: DEFAULT_EMERGENCY_TIMEOUTS,
  emergencyRecovery: 30,
};

/** Protocol classes that have their own timeouts. */
export const enum ProtoClass {
  DEFAULT = 0,
  TCP = 1,
  UDP = 2,
  ICMP = 3,
}
export const PROTO_CLASSES = 4;
/** Generic flow states (FlowState) per class. */
export const STATES_PER_CLASS = 3;
export const TIMEOUT_CLASSES = PROTO_CLASSES * STATES_PER_CLASS;

export function protoClass(proto: number): ProtoClass {
  if (proto === 6) return ProtoClass.TCP;
  if (proto === 17) return ProtoClass.UDP;
  if (proto === 1 || proto === 58) return ProtoClass.ICMP;
  return ProtoClass.DEFAULT;
}

/**
 * Flatten timeouts into a table indexed by `protoClass * 3 + FlowState`.
 * A protocol value left out falls back to the generic one (as Suricata does).
 */
export function timeoutTable(t: FlowTimeouts): Float64Array {
  const out = new Float64Array(TIMEOUT_CLASSES);
  const rows: [number | undefined, number | undefined, number | undefined][] = [
    [t.new, t.established, t.closed],
    [t.tcpNew, t.tcpEstablished, t.tcpClosed],
    [t.udpNew, t.udpEstablished, t.udpClosed],
    [t.icmpNew, t.icmpEstablished, t.icmpClosed],
  ];
  const generic = [t.new, t.established, t.closed];
  for (let c = 0; c < PROTO_CLASSES; c++) {
    for (let s = 0; s < STATES_PER_CLASS; s++) {
      const v = rows[c][s] ?? generic[s];
      out[c * STATES_PER_CLASS + s] = Number.isFinite(v) && v >= 0 ? v : 0;
    }
  }
  return out;
}

/**
 * Fill a partial config from the defaults. A `timeouts` object given replaces
 * the default one entirely: its protocol fields left out fall back to its own
 * generic new/established/closed (so `{ new: 5, established: 5, closed: 0 }`
 * means 5 s for every protocol).
 */
export function resolveFlowConfig(cfg: Partial<FlowConfig> = {}): FlowConfig {
  return {
    memcapBytes: cfg.memcapBytes ?? DEFAULT_FLOW_CONFIG.memcapBytes,
    maxFlows: cfg.maxFlows ?? DEFAULT_FLOW_CONFIG.maxFlows,
    hashSize: cfg.hashSize ?? DEFAULT_FLOW_CONFIG.hashSize,
    timeouts: cfg.timeouts ?? DEFAULT_TIMEOUTS,
    emergencyTimeouts: cfg.emergencyTimeouts ?? DEFAULT_EMERGENCY_TIMEOUTS,
    emergencyRecovery: cfg.emergencyRecovery ?? DEFAULT_FLOW_CONFIG.emergencyRecovery,
  };
}
