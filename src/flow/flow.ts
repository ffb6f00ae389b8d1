/**
 * One bidirectional flow: the record the flow table keeps per 5-tuple (plus
 * VLAN ids and tunnel id) and hands to every later stage.
 *
 * Orientation: the *client* is the side that sent the first packet seen,
 * except for TCP when that first packet is a SYN/ACK — then its receiver is
 * the client (Suricata does the same). Direction 0 (`DIR_TO_SERVER`) is
 * client→server, 1 (`DIR_TO_CLIENT`) is server→client.
 *
 * A Flow is allocated once per flow (never per packet). After
 * `FlowHooks.onFlowEnd` returns, the table forgets it; a stage that wants to
 * keep one past that point may (it is not recycled), but it will not change.
 */

export const DIR_TO_SERVER = 0;
export const DIR_TO_CLIENT = 1;
export type FlowDirection = 0 | 1;

/** Suricata's generic flow states (EVE `flow.state`). */
export const enum FlowState {
  NEW = 0,
  ESTABLISHED = 1,
  CLOSED = 2,
}
export const FLOW_STATE_NAMES: readonly string[] = ['new', 'established', 'closed'];

/**
 * TCP session states, named as Suricata names them in EVE `tcp.state`.
 * Ordered so that `>= TcpState.LAST_ACK` means "closing down for good".
 */
export const enum TcpState {
  NONE = 0,
  SYN_SENT = 1,
  SYN_RECV = 2,
  ESTABLISHED = 3,
  FIN_WAIT1 = 4,
  FIN_WAIT2 = 5,
  CLOSING = 6,
  CLOSE_WAIT = 7,
  LAST_ACK = 8,
  TIME_WAIT = 9,
  CLOSED = 10,
}
export const TCP_STATE_NAMES: readonly string[] = [
  'none',
  'syn_sent',
  'syn_recv',
  'established',
  'fin_wait1',
  'fin_wait2',
  'closing',
  'close_wait',
  'last_ack',
  'time_wait',
  'closed',
];

/** Why a flow left the table (EVE `flow.reason`-like). */
export type FlowEndReason = 'timeout' | 'forced' | 'shutdown' | 'memcap';

/**
 * What the flow layer needs to know about a stream stage's per-direction
 * state (the stream stage owns the concrete type). Declared here so the flow
 * module does not import a later stage.
 */
export interface FlowStreamState {
  /** Bytes this direction currently holds (out-of-order segments). */
  readonly bufferedBytes: number;
}

/**
 * Slots of `Flow.ext`, one per later stage that keeps per-flow state, so
 * each finds its own without a Map lookup per packet.
 */
export const enum FlowExt {
  /** output/flow-pcap.ts: the flow's packet head and alert pcap. */
  PCAP = 0,
  /** detect/engine: flowbits, flowints, inspection progress. */
  SIGNATURES = 1,
  /** detect/intel: which indicators already alerted on this flow. */
  INTEL = 2,
  /** detect/behaviour: per-flow features. */
  BEHAVIOUR = 3,
}

export class Flow {
  /** Stable id: positive, below 2^51, unique within the run (EVE `flow_id`). */
  flowId = 0;
  /** 4 or 6. */
  ipVersion = 0;
  /** IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, …). */
  proto = 0;
  /** IPv4 client/server addresses (unsigned 32-bit) when ipVersion is 4. */
  client4 = 0;
  server4 = 0;
  /** IPv6 addresses (four network-order words) when ipVersion is 6; empty for IPv4. */
  client6: Uint32Array;
  server6: Uint32Array;
  /**
   * Ports; for ICMP echo flows the identifier sits in the port of the side that
   * sent the request (clientPort), serverPort is 0; other ICMP flows use 0/0.
   * ESP flows hold the SPI: high 16 bits in clientPort, low in serverPort.
   */
  clientPort = 0;
  serverPort = 0;
  /** VLAN ids of the first packet (part of the key). */
  vlanCount = 0;
  vlan0 = 0;
  vlan1 = 0;
  /** Tunnel kind (decode TunnelKind) and VNI/key (part of the key). */
  tunnel = 0;
  tunnelId = 0;
  /** ICMP/ICMPv6 flows: type and code of the packet that created the flow (EVE `icmp_type`/`icmp_code`); -1 otherwise. */
  icmpType = -1;
  icmpCode = -1;

  /** First and last packet time. */
  startSec = 0;
  startNsec = 0;
  lastSec = 0;
  lastNsec = 0;
  /** lastSec + lastNsec/1e9, kept for cheap timeout arithmetic. */
  lastTime = 0;

  pktsToServer = 0;
  pktsToClient = 0;
  /**
   * Frame bytes (captured length incl. link header, as Suricata's flow bytes);
   * for a tunnelled flow the inner part of each frame (decode Packet.tunnelLen),
   * as Suricata counts its tunnel pseudo-packets.
   */
  bytesToServer = 0;
  bytesToClient = 0;

  /** OR of TCP flags seen per direction and overall. */
  tcpFlagsToServer = 0;
  tcpFlagsToClient = 0;
  tcpFlags = 0;
  /** TcpState for TCP flows (NONE for others). */
  tcpState: TcpState = TcpState.NONE;
  /** Generic state: new / established / closed. */
  state: FlowState = FlowState.NEW;
  /** Sequence number just after each side's FIN (seq + len + 1), for ACK tracking; -1 = none. */
  finAckToServer = -1;
  finAckToClient = -1;

  /** Some detector raised an alert on this flow. */
  alerted = false;
  /** Set just before onFlowEnd. */
  endReason: FlowEndReason | null = null;

  /** Application protocol once detected (`http`, `tls`, …), null until known. */
  appProto: string | null = null;
  /**
   * The protocol the flow had before the app layer ended it mid-flow and ran
   * detection again (HTTP CONNECT, PostgreSQL SSLRequest): EVE `app_proto_orig`
   * (Suricata's alproto_orig). null when there was no change.
   */
  appProtoOrig: string | null = null;
  /**
   * What each direction was recognised as, set only when it differs from
   * `appProto` (the two directions disagreed): EVE `app_proto_ts`/`app_proto_tc`.
   */
  appProtoToServer: string | null = null;
  appProtoToClient: string | null = null;
  /** Per-direction stream-stage state (the stream stage's own type). */
  toServerStream: FlowStreamState | null = null;
  toClientStream: FlowStreamState | null = null;
  /** Parser state of the application-layer stage. */
  appState: unknown = null;
  /** Free slots for later stages (detection flowbits, behaviour features, …). */
  ext: unknown[] | null = null;

  // ---- table bookkeeping (owned by FlowTable) ---------------------------
  /** Symmetric key hash. */
  hash = 0;
  /** Sequence number of the client's last SYN (TCP port-reuse detection); -1 none. */
  synSeq = -1;
  /** Directions seen with a packet of the flow's own protocol: bit 0 toServer, bit 1 toClient. */
  seenDirs = 0;
  /** Slot index in the table's arrays, -1 once removed. */
  slot = -1;
  /** Timeout class the flow is listed in (see table.ts). */
  tclass = 0;

  constructor(ipVersion: number) {
    this.ipVersion = ipVersion;
    // IPv4 flows share one empty array: no per-flow allocation for them.
    this.client6 = ipVersion === 6 ? new Uint32Array(4) : EMPTY_U32;
    this.server6 = ipVersion === 6 ? new Uint32Array(4) : EMPTY_U32;
  }

  get pkts(): number {
    return this.pktsToServer + this.pktsToClient;
  }

  get bytes(): number {
    return this.bytesToServer + this.bytesToClient;
  }

  /** EVE `flow.state`. */
  get stateName(): string {
    return FLOW_STATE_NAMES[this.state];
  }

  /** EVE `tcp.state`. */
  get tcpStateName(): string {
    return TCP_STATE_NAMES[this.tcpState];
  }
}

const EMPTY_U32 = new Uint32Array(0);
