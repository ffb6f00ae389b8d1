/**
 * The decoded view of one captured frame.
 *
 * One `Packet` object is reused for every frame a pipeline decodes: the
 * decoder overwrites its numeric fields in place and records offsets into
 * the frame's bytes instead of copying them. This keeps the hot path free of
 * per-packet allocation (the design guide's first rule for speed). Anything
 * that must outlive the current packet (a stream segment kept out of order,
 * a packet kept for an alert pcap) copies the bytes it needs.
 *
 * Addresses: IPv4 addresses are unsigned 32-bit numbers (`src4`, `dst4`).
 * IPv6 addresses are four unsigned 32-bit words in `src6`/`dst6` (network
 * order, word 0 is the most significant). `ipVersion` says which is valid.
 */
import { MAX_PACKET_EVENTS } from './events.js';

export const enum IpProto {
  HOPOPT = 0,
  ICMP = 1,
  IPIP = 4,
  TCP = 6,
  UDP = 17,
  IPV6 = 41,
  IPV6_ROUTE = 43,
  IPV6_FRAG = 44,
  GRE = 47,
  ESP = 50,
  AH = 51,
  ICMPV6 = 58,
  IPV6_NONXT = 59,
  IPV6_OPTS = 60,
  SCTP = 132,
}

/** TCP flag bits as they sit in the header's flags byte (plus ECE/CWR). */
export const enum TcpFlag {
  FIN = 0x01,
  SYN = 0x02,
  RST = 0x04,
  PSH = 0x08,
  ACK = 0x10,
  URG = 0x20,
  ECE = 0x40,
  CWR = 0x80,
}

/** Encapsulations that carried the analysed (inner) packet. */
export const enum TunnelKind {
  NONE = 0,
  VXLAN = 1,
  GENEVE = 2,
  IPIP = 3, // IPv4-in-IPv4 and the IPv6 variants (4in6, 6in4, 6in6)
  GRE = 4,
  TEREDO = 5, // IPv6 in UDP (RFC 4380)
}

export class Packet {
  // ---- capture ---------------------------------------------------------
  /** Bytes holding the frame; the frame is `data[frameOff, frameOff+capLen)`. */
  data: Buffer = Buffer.alloc(0);
  frameOff = 0;
  capLen = 0;
  /** Length on the wire; larger than capLen when the capture snapped it. */
  origLen = 0;
  /** Timestamp: whole seconds since the epoch and nanoseconds within it. */
  tsSec = 0;
  tsNsec = 0;
  /** Link type (LINKTYPE_* number) and pcapng interface index of the frame. */
  linkType = 0;
  ifIndex = 0;
  /** Running packet number within the input, from 1. */
  num = 0;

  // ---- layer 2 -----------------------------------------------------------
  /** Up to two VLAN ids (outer first); vlanCount says how many are valid. */
  vlanCount = 0;
  vlan0 = 0;
  vlan1 = 0;

  // ---- tunnel (outermost encapsulation kept; the inner packet is decoded) --
  tunnel: TunnelKind = TunnelKind.NONE;
  /**
   * For a tunnelled packet: the length of the innermost tunnel payload, from
   * where Suricata starts its tunnel pseudo-packet (inner Ethernet for VXLAN,
   * Geneve and GRE/TEB, the ERSPAN header for ERSPAN, inner IP otherwise) to
   * the end of the outer datagram. Flow byte counters use it (as Suricata's
   * do) instead of capLen. 0 when not tunnelled.
   */
  tunnelLen = 0;
  /** VXLAN VNI / Geneve VNI / GRE key; 0 when the tunnel has none. */
  tunnelId = 0;
  /** Outer tunnel endpoints (IPv4 as numbers; for IPv6 outer, see 6 variants). */
  tunnelIpVersion = 0;
  tunnelSrc4 = 0;
  tunnelDst4 = 0;
  readonly tunnelSrc6 = new Uint32Array(4);
  readonly tunnelDst6 = new Uint32Array(4);

  // ---- layer 3 -----------------------------------------------------------
  /** 4 or 6 when an IP header was decoded, otherwise 0. */
  ipVersion = 0;
  /** Offset of the (innermost) IP header within `data`. */
  l3Off = 0;
  /** Length of the IP header, including IPv6 extension headers. */
  l3HdrLen = 0;
  /** Total IP length (header + payload) as the header states, clipped to capture. */
  l3Len = 0;
  src4 = 0;
  dst4 = 0;
  readonly src6 = new Uint32Array(4);
  readonly dst6 = new Uint32Array(4);
  ttl = 0;
  ipId = 0;
  /** IPv4 TOS / IPv6 traffic class. */
  tos = 0;
  /** IPv6 flow label. */
  flowLabel = 0;
  /** IPv4 flags and fragment offset as on the wire (3 bits + 13 bits). */
  fragBits = 0;
  /** True when this packet is one fragment (not yet reassembled). */
  isFragment = false;
  /** True when the IP layer was rebuilt by defragmentation. */
  reassembled = false;
  /** IPv4 options present (bit per option type seen, see decode/ipv4.ts). */
  ipOpts = 0;
  /** Transport protocol number after extension headers. */
  proto = 0;

  // ---- layer 4 -----------------------------------------------------------
  l4Off = 0;
  l4HdrLen = 0;
  sport = 0;
  dport = 0;
  /** TCP */
  tcpFlags = 0;
  tcpSeq = 0;
  tcpAck = 0;
  tcpWin = 0;
  tcpUrgPtr = 0;
  /** TCP options; -1 where absent. */
  tcpMss = -1;
  tcpWscale = -1;
  tcpSackPermitted = false;
  /** Number of SACK blocks carried (0..4). */
  tcpSackBlocks = 0;
  tcpTsVal = -1;
  tcpTsEcr = -1;
  /** ICMP / ICMPv6 */
  icmpType = -1;
  icmpCode = -1;
  icmpId = -1;
  icmpSeq = -1;
  /** ESP (RFC 4303): the security parameter index, -1 when not ESP or shorter than its 8-byte header. */
  espSpi = -1;
  /**
   * For ICMP errors, the embedded original datagram's header fields
   * (the protocol and ports of the packet that caused the error).
   */
  icmpInnerValid = false;
  icmpInnerProto = 0;
  icmpInnerIpVersion = 0;
  icmpInnerSrc4 = 0;
  icmpInnerDst4 = 0;
  icmpInnerSport = 0;
  icmpInnerDport = 0;
  /** For an ICMPv6 error, the embedded IPv6 addresses (valid when icmpInnerIpVersion is 6). */
  readonly icmpInnerSrc6 = new Uint32Array(4);
  readonly icmpInnerDst6 = new Uint32Array(4);

  // ---- payload (application bytes of this packet) -------------------------
  payloadOff = 0;
  payloadLen = 0;

  // ---- checksum results (only set when validation is on) -----------------
  /** -1 not checked, 0 bad, 1 good. */
  ipCsumOk = -1;
  l4CsumOk = -1;

  // ---- decoder events raised on this packet (ids from decode/events.ts) ----
  readonly events = new Uint16Array(MAX_PACKET_EVENTS);
  eventCount = 0;

  /**
   * Point this packet at a new frame (the capture fields). The pipeline calls
   * it once per frame, as do tests and tools that decode frames themselves;
   * `Decoder.decode` then clears the decoded fields itself.
   */
  load(data: Buffer, off: number, capLen: number, origLen: number, tsSec: number, tsNsec: number, linkType: number, ifIndex = 0): void {
    this.data = data;
    this.frameOff = off;
    this.capLen = capLen;
    this.origLen = origLen;
    this.tsSec = tsSec;
    this.tsNsec = tsNsec;
    this.linkType = linkType;
    this.ifIndex = ifIndex;
  }

  /** Reset every per-packet field before decoding the next frame. */
  reset(): void {
    this.vlanCount = 0;
    this.vlan0 = 0;
    this.vlan1 = 0;
    this.tunnel = TunnelKind.NONE;
    this.tunnelLen = 0;
    this.tunnelId = 0;
    this.tunnelIpVersion = 0;
    this.tunnelSrc4 = 0;
    this.tunnelDst4 = 0;
    this.resetNetwork();
    this.eventCount = 0;
  }

  /**
   * Reset the layer 3 and 4 fields only: the decoder calls this on entering
   * a tunnel, so the inner packet's fields start clean while the link and
   * tunnel fields (and the events raised so far) stay.
   */
  resetNetwork(): void {
    this.ipVersion = 0;
    this.l3Off = 0;
    this.l3HdrLen = 0;
    this.l3Len = 0;
    this.src4 = 0;
    this.dst4 = 0;
    this.ttl = 0;
    this.ipId = 0;
    this.tos = 0;
    this.flowLabel = 0;
    this.fragBits = 0;
    this.isFragment = false;
    this.reassembled = false;
    this.ipOpts = 0;
    this.proto = 0;
    this.l4Off = 0;
    this.l4HdrLen = 0;
    this.sport = 0;
    this.dport = 0;
    this.tcpFlags = 0;
    this.tcpSeq = 0;
    this.tcpAck = 0;
    this.tcpWin = 0;
    this.tcpUrgPtr = 0;
    this.tcpMss = -1;
    this.tcpWscale = -1;
    this.tcpSackPermitted = false;
    this.tcpSackBlocks = 0;
    this.tcpTsVal = -1;
    this.tcpTsEcr = -1;
    this.icmpType = -1;
    this.icmpCode = -1;
    this.icmpId = -1;
    this.icmpSeq = -1;
    this.espSpi = -1;
    this.icmpInnerValid = false;
    this.icmpInnerProto = 0;
    this.icmpInnerIpVersion = 0;
    this.icmpInnerSrc4 = 0;
    this.icmpInnerDst4 = 0;
    this.icmpInnerSport = 0;
    this.icmpInnerDport = 0;
    this.payloadOff = 0;
    this.payloadLen = 0;
    this.ipCsumOk = -1;
    this.l4CsumOk = -1;
  }

  /** Timestamp as fractional seconds (for timeouts and arithmetic). */
  get time(): number {
    return this.tsSec + this.tsNsec / 1e9;
  }

  /** The application payload as a view (allocates a view object; not for hot loops). */
  payload(): Buffer {
    return this.data.subarray(this.payloadOff, this.payloadOff + this.payloadLen);
  }
}
