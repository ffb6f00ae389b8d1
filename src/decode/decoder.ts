/**
 * The packet decoder: link layer → (tunnels) → IP → transport, filling the
 * reused `Packet` in place.
 *
 * Speed rules followed here (the decoder sees every byte of traffic):
 * - fields are read with `b[i]` and shifts on the frame's Buffer: measured on
 *   Node 20 here, `(b[o] << 8) | b[o + 1]` is 2.8x faster than `readUInt16BE`
 *   (no bounds-checking call); see checksum.ts for the figures;
 * - measured throughput (bench/decode.bench.ts, public-mix.pcap in memory):
 *   about 2.5 GB/s (10 M packets/s) decode alone with checksums off, about
 *   1.05 GB/s with checksum validation on (CPU time, one thread, 2026-11-28);
 * - no allocation per packet: counters are a Float64Array indexed by const
 *   enum ids, events are numeric ids, ports for tunnels are a byte table;
 *   only defragmentation allocates (copies of fragments, the rebuilt datagram);
 * - every layer is a method returning a boolean so V8 can inline the common
 *   Ethernet → IPv4 → TCP/UDP chain.
 *
 * Semantics follow Suricata 7 (decode-*.c): the same checks, the same event
 * names. Differences, chosen on purpose:
 * - a truncated IP datagram (capture shorter than the IP total length) is
 *   clipped and decoded as far as it goes, with decoder.ipvN.trunc_pkt;
 * - for tunnels only the inner packet is analysed (Suricata also passes the
 *   outer one on); the outermost tunnel's endpoints, kind and id stay on the
 *   packet. When the inner frame is not IP (ARP inside VXLAN), decode returns
 *   false;
 * - malformed IPv4 options raise their event but do not stop decoding;
 * - a broken TCP or UDP header (too short, bad header length) raises its
 *   event, counts the packet in decoder.invalid, and decode returns false:
 *   without ports the packet belongs to no flow (Suricata's DecodeTCP and
 *   DecodeUDP also stop before flow handling; test/sensor/conform-flows
 *   checks it on real captures).
 * ICMP/ICMPv6 leave sport/dport at 0; their identity is icmpType/icmpCode
 * (and icmpId for echo).
 */
import { C, EVENT_BASE, TOTAL_COUNTERS, counterRecord } from './counters.js';
import { pseudo4, pseudo6, fold, sum16 } from './checksum.js';
import { DEFAULT_DEFRAG_OPTIONS, Defragmenter, DefragFlag, type DefragOptions } from './defrag.js';
import { MAX_PACKET_EVENTS, decoderEventId } from './events.js';
import {
  ICMP4_MAX_CODE,
  ICMP6_EXPERIMENT,
  ICMP6_MAX_CODE,
  ICMP6_UNASSIGNED,
  icmp4HasIdSeq,
  icmp4IsError,
  icmp6IsError,
  icmp6IsMld,
} from './icmp-types.js';
import { parseIpv4Options } from './ipv4-options.js';
import { Packet, TunnelKind } from './packet.js';
import type { EventSink } from './sink.js';
import { parseTcpOptions } from './tcp-options.js';

export interface DecoderOptions {
  /** Verify IPv4 header, TCP, UDP and ICMP checksums (Suricata's checksum-validation). */
  checksumValidation: boolean;
  /** UDP destination ports decoded as VXLAN (4789 IANA; 8472 Linux/Flannel default). */
  vxlanPorts: number[];
  /** UDP destination ports decoded as Geneve. */
  genevePorts: number[];
  /** UDP ports (either side) whose payload is tried as Teredo (RFC 4380; Suricata's decoder.teredo.ports). */
  teredoPorts: number[];
  /** Most headers (Ethernet, VLAN, IP, tunnel) one packet may stack before decoder.too_many_layers. */
  maxLayers: number;
  defrag: DefragOptions;
}

/** What the constructor takes: any subset, defrag settings included one by one. */
export type DecoderInit = Partial<Omit<DecoderOptions, 'defrag'>> & { defrag?: Partial<DefragOptions> };

export const DEFAULT_DECODER_OPTIONS: Readonly<DecoderOptions> = {
  checksumValidation: false,
  vxlanPorts: [4789, 8472],
  genevePorts: [6081],
  teredoPorts: [3544],
  maxLayers: 16,
  defrag: DEFAULT_DEFRAG_OPTIONS,
};

const enum Port {
  NONE = 0,
  VXLAN = 1,
  GENEVE = 2,
}

const enum EtherType {
  IPV4 = 0x0800,
  ARP = 0x0806,
  VLAN = 0x8100,
  IPV6 = 0x86dd,
  QINQ = 0x88a8,
  QINQ_OLD = 0x9100,
  TEB = 0x6558, // transparent Ethernet bridging (GRE, Geneve)
  PPP = 0x880b,
  ERSPAN2 = 0x88be,
  ERSPAN3 = 0x22eb,
  PPPOE_SESSION = 0x8864,
  MPLS = 0x8847,
  MPLS_MULTICAST = 0x8848,
  PPPOE_DISCOVERY = 0x8863,
  DCE = 0x8903, // Cisco FabricPath (DCE): 2 bytes, then a whole Ethernet frame
  VNTAG = 0x8926,
  NSH = 0x894f,
}

// Event ids, resolved once at load (the hot path only sees numbers).
const ev = decoderEventId;
const E_ETH_SMALL = ev('decoder.ethernet.pkt_too_small');
const E_VLAN_SMALL = ev('decoder.vlan.header_too_small');
const E_VLAN_TOO_MANY = ev('decoder.vlan.too_many_layers');
const E_SLL_SMALL = ev('decoder.sll.pkt_too_small');
const E_SLL2_SMALL = ev('decoder.sll2.pkt_too_small');
const E_NULL_SMALL = ev('decoder.ltnull.pkt_too_small');
const E_NULL_TYPE = ev('decoder.ltnull.unsupported_type');
const E_PPP_SMALL = ev('decoder.ppp.pkt_too_small');
const E_PPP_UNSUP = ev('decoder.ppp.unsup_proto');
const E_PPP_IP4_SMALL = ev('decoder.ppp.ip4_pkt_too_small');
const E_PPP_IP6_SMALL = ev('decoder.ppp.ip6_pkt_too_small');
const E_RAW_VERSION = ev('decoder.ipraw.invalid_ip_version');
const E_IP4_SMALL = ev('decoder.ipv4.pkt_too_small');
const E_IP4_HLEN = ev('decoder.ipv4.hlen_too_small');
const E_IP4_IPLEN = ev('decoder.ipv4.iplen_smaller_than_hlen');
const E_IP4_TRUNC = ev('decoder.ipv4.trunc_pkt');
const E_IP4_VERSION = ev('decoder.ipv4.wrong_ip_version');
const E_IP4_CSUM = ev('decoder.ipv4.csum_invalid');
const E_IP4_FRAG_LARGE = ev('decoder.ipv4.frag_pkt_too_large');
const E_IP4_FRAG_OVERLAP = ev('decoder.ipv4.frag_overlap');
const E_IP4_FRAG_IGNORED = ev('decoder.ipv4.frag_ignored');
const E_IP4_ICMPV6 = ev('decoder.ipv4.icmpv6');
const E_6IN4_SMALL = ev('decoder.ipv4.ipv6_in_ipv4_too_small');
const E_6IN4_VERSION = ev('decoder.ipv4.ipv6_in_ipv4_wrong_version');
const E_IPIP_SMALL = ev('decoder.ipip.pkt_too_small');
const E_IP6_SMALL = ev('decoder.ipv6.pkt_too_small');
const E_IP6_TRUNC = ev('decoder.ipv6.trunc_pkt');
const E_IP6_TRUNC_EXT = ev('decoder.ipv6.trunc_exthdr');
const E_IP6_DUPL_FH = ev('decoder.ipv6.exthdr_dupl_fh');
const E_IP6_USELESS_FH = ev('decoder.ipv6.exthdr_useless_fh');
const E_IP6_DUPL_RH = ev('decoder.ipv6.exthdr_dupl_rh');
const E_IP6_DUPL_HH = ev('decoder.ipv6.exthdr_dupl_hh');
const E_IP6_DUPL_DH = ev('decoder.ipv6.exthdr_dupl_dh');
const E_IP6_DUPL_AH = ev('decoder.ipv6.exthdr_dupl_ah');
const E_IP6_INVALID_OPTLEN = ev('decoder.ipv6.exthdr_invalid_optlen');
const E_IP6_VERSION = ev('decoder.ipv6.wrong_ip_version');
const E_IP6_AH_RES = ev('decoder.ipv6.exthdr_ah_res_not_null');
const E_IP6_HOP_UNKNOWN = ev('decoder.ipv6.hopopts_unknown_opt');
const E_IP6_HOP_PADDING = ev('decoder.ipv6.hopopts_only_padding');
const E_IP6_DST_UNKNOWN = ev('decoder.ipv6.dstopts_unknown_opt');
const E_IP6_DST_PADDING = ev('decoder.ipv6.dstopts_only_padding');
const E_IP6_RH0 = ev('decoder.ipv6.rh_type_0');
const E_IP6_ZERO_PADN = ev('decoder.ipv6.zero_len_padn');
const E_IP6_FH_RESERVED = ev('decoder.ipv6.fh_non_zero_reserved_field');
const E_IP6_DATA_AFTER_NONE = ev('decoder.ipv6.data_after_none_header');
const E_IP6_UNKNOWN_NH = ev('decoder.ipv6.unknown_next_header');
const E_IP6_ICMPV4 = ev('decoder.ipv6.icmpv4');
const E_IP6_FRAG_LARGE = ev('decoder.ipv6.frag_pkt_too_large');
const E_IP6_FRAG_OVERLAP = ev('decoder.ipv6.frag_overlap');
const E_IP6_FRAG_LEN = ev('decoder.ipv6.frag_invalid_length');
const E_IP6_FRAG_IGNORED = ev('decoder.ipv6.frag_ignored');
const E_4IN6_SMALL = ev('decoder.ipv6.ipv4_in_ipv6_too_small');
const E_4IN6_VERSION = ev('decoder.ipv6.ipv4_in_ipv6_wrong_version');
const E_6IN6_SMALL = ev('decoder.ipv6.ipv6_in_ipv6_too_small');
const E_6IN6_VERSION = ev('decoder.ipv6.ipv6_in_ipv6_wrong_version');
const E_TCP_SMALL = ev('decoder.tcp.pkt_too_small');
const E_TCP_HLEN = ev('decoder.tcp.hlen_too_small');
const E_TCP_CSUM = ev('decoder.tcp.csum_invalid');
const E_UDP_SMALL = ev('decoder.udp.pkt_too_small');
const E_UDP_HLEN_SMALL = ev('decoder.udp.hlen_too_small');
const E_UDP_HLEN_INVALID = ev('decoder.udp.hlen_invalid');
const E_UDP_LEN_INVALID = ev('decoder.udp.len_invalid');
const E_UDP_CSUM = ev('decoder.udp.csum_invalid');
const E_ICMP4_SMALL = ev('decoder.icmpv4.pkt_too_small');
const E_ICMP4_TYPE = ev('decoder.icmpv4.unknown_type');
const E_ICMP4_CODE = ev('decoder.icmpv4.unknown_code');
const E_ICMP4_INNER_TRUNC = ev('decoder.icmpv4.ipv4_trunc_pkt');
const E_ICMP4_INNER_VER = ev('decoder.icmpv4.ipv4_unknown_ver');
const E_ICMP4_CSUM = ev('decoder.icmpv4.csum_invalid');
const E_ICMP6_TYPE = ev('decoder.icmpv6.unknown_type');
const E_ICMP6_CODE = ev('decoder.icmpv6.unknown_code');
const E_ICMP6_SMALL = ev('decoder.icmpv6.pkt_too_small');
const E_ICMP6_INNER_VER = ev('decoder.icmpv6.ipv6_unknown_version');
const E_ICMP6_INNER_TRUNC = ev('decoder.icmpv6.ipv6_trunc_pkt');
const E_ICMP6_MLD_HL = ev('decoder.icmpv6.mld_message_with_invalid_hl');
const E_ICMP6_UNASSIGNED = ev('decoder.icmpv6.unassigned_type');
const E_ICMP6_EXPERIMENT = ev('decoder.icmpv6.experimentation_type');
const E_ICMP6_CSUM = ev('decoder.icmpv6.csum_invalid');
const E_GRE_SMALL = ev('decoder.gre.pkt_too_small');
const E_GRE_VERSION = ev('decoder.gre.wrong_version');
const E_GRE0_RECUR = ev('decoder.gre.version0_recur');
const E_GRE0_FLAGS = ev('decoder.gre.version0_flags');
const E_GRE0_HDR_BIG = ev('decoder.gre.version0_hdr_too_big');
const E_GRE0_SRE = ev('decoder.gre.version0_malformed_sre_hdr');
const E_GRE1_CSUM = ev('decoder.gre.version1_chksum');
const E_GRE1_ROUTE = ev('decoder.gre.version1_route');
const E_GRE1_SSR = ev('decoder.gre.version1_ssr');
const E_GRE1_RECUR = ev('decoder.gre.version1_recur');
const E_GRE1_FLAGS = ev('decoder.gre.version1_flags');
const E_GRE1_NO_KEY = ev('decoder.gre.version1_no_key');
const E_GRE1_PROTO = ev('decoder.gre.version1_wrong_protocol');
const E_GRE1_HDR_BIG = ev('decoder.gre.version1_hdr_too_big');
const E_ERSPAN_SMALL = ev('decoder.erspan.header_too_small');
const E_ERSPAN_VERSION = ev('decoder.erspan.unsupported_version');
const E_VXLAN_SMALL = ev('decoder.vxlan.pkt_too_small');
const E_GENEVE_TYPE = ev('decoder.geneve.unknown_payload_type');
const E_GENEVE_SMALL = ev('decoder.geneve.pkt_too_small');
const E_TOO_MANY_LAYERS = ev('decoder.too_many_layers');
const E_PPPOE_SMALL = ev('decoder.pppoe.pkt_too_small');
const E_PPPOE_CODE = ev('decoder.pppoe.wrong_code');
const E_MPLS_SMALL = ev('decoder.mpls.header_too_small');
const E_MPLS_PAYLOAD = ev('decoder.mpls.unknown_payload_type');
const E_DCE_SMALL = ev('decoder.dce.pkt_too_small');
const E_VNTAG_SMALL = ev('decoder.vntag.header_too_small');
const E_VNTAG_TYPE = ev('decoder.vntag.unknown_type');
const E_NSH_SMALL = ev('decoder.nsh.header_too_small');
const E_NSH_VERSION = ev('decoder.nsh.unsupported_version');
const E_NSH_LEN = ev('decoder.nsh.bad_header_length');
const E_NSH_RESERVED = ev('decoder.nsh.reserved_type');
const E_NSH_TYPE = ev('decoder.nsh.unsupported_type');
const E_NSH_PAYLOAD = ev('decoder.nsh.unknown_payload');

// IPv6 extension header "seen" bits, for duplicate detection.
const X_HH = 1;
const X_RH = 2;
const X_FH = 4;
const X_AH = 16;

/**
 * Upper layers that end an IPv6 header chain without decoder.ipv6.unknown_next_header:
 * TCP, UDP, ICMPv6, SCTP, IPv4/IPv6 in IPv6, GRE, ESP, and ICMPv4 (which has its own event).
 */
const IP6_KNOWN_UPPER = new Uint8Array(256);
for (const n of [1, 4, 6, 17, 41, 47, 50, 58, 132]) IP6_KNOWN_UPPER[n] = 1;

export class Decoder implements EventSink {
  readonly options: Readonly<DecoderOptions>;
  readonly defrag: Defragmenter;
  /** Counters by id (see counters.ts); events at EVENT_BASE + event id. */
  private readonly c = new Float64Array(TOTAL_COUNTERS);
  /** UDP destination port → tunnel kind (Port); a table so the UDP path is one load. */
  private readonly udpTunnel = new Uint8Array(65536);
  /** UDP port (source or destination) → 1 when Teredo is tried on it. */
  private readonly udpTeredo = new Uint8Array(65536);
  private readonly csum: boolean;
  private readonly maxLayers: number;
  private readonly defragOn: boolean;
  private layers = 0;
  /** The current packet failed a check that stopped a layer's decoding. */
  private bad = false;
  /** The current IP datagram was clipped by the capture (L4 checksums cannot be verified). */
  private clipped = false;

  constructor(opts: DecoderInit = {}) {
    const defrag = { ...DEFAULT_DEFRAG_OPTIONS, ...(opts.defrag ?? {}) };
    this.options = { ...DEFAULT_DECODER_OPTIONS, ...opts, defrag };
    this.csum = this.options.checksumValidation;
    this.maxLayers = this.options.maxLayers;
    this.defragOn = defrag.enabled;
    this.defrag = new Defragmenter(defrag);
    for (const p of this.options.vxlanPorts) if (p > 0 && p < 65536) this.udpTunnel[p] = Port.VXLAN;
    for (const p of this.options.genevePorts) if (p > 0 && p < 65536) this.udpTunnel[p] = Port.GENEVE;
    for (const p of this.options.teredoPorts) if (p > 0 && p < 65536) this.udpTeredo[p] = 1;
  }

  /**
   * Decode the frame the caller placed in pkt (data/frameOff/capLen/origLen/
   * ts*\/linkType/ifIndex). Returns true when the packet has an IP layer to
   * hand on; false for non-IP frames (ARP), fragments held for reassembly,
   * and undecodable frames (counted, with events). Never throws on input.
   * A rejected packet keeps what was decoded (addresses, proto, events) but
   * payloadLen 0; the pipeline still inspects it without a flow when it has
   * events or is a fragment (decode-event rules).
   *
   * When a fragment completes a datagram, pkt.data is replaced by the
   * reassembled datagram (IP header first, so frameOff/capLen no longer
   * describe it) and pkt.reassembled is true.
   */
  decode(pkt: Packet): boolean {
    pkt.reset();
    this.layers = 0;
    this.bad = false;
    this.clipped = false;
    const c = this.c;
    const b = pkt.data;
    const off = pkt.frameOff;
    let end = off + pkt.capLen;
    if (end > b.length) end = b.length;
    c[C.PKTS]++;
    c[C.BYTES] += pkt.capLen;
    if (pkt.capLen > c[C.MAX_PKT_SIZE]) c[C.MAX_PKT_SIZE] = pkt.capLen;
    let ok: boolean;
    if (off < 0 || off > end) ok = false;
    else {
      switch (pkt.linkType) {
        case 1:
          ok = this.ethernet(pkt, b, off, end);
          break;
        case 113:
          ok = this.sll(pkt, b, off, end);
          break;
        case 276:
          ok = this.sll2(pkt, b, off, end);
          break;
        case 101:
        case 12:
        case 14:
          ok = this.raw(pkt, b, off, end);
          break;
        case 228:
          ok = this.ipv4(pkt, b, off, end);
          break;
        case 229:
          ok = this.ipv6(pkt, b, off, end);
          break;
        case 0:
        case 108:
          ok = this.nullLoop(pkt, b, off, end);
          break;
        case 9:
        case 50:
          ok = this.ppp(pkt, b, off, end);
          break;
        default:
          c[C.UNKNOWN_LINKTYPE]++;
          this.bad = true;
          ok = false;
      }
    }
    if (this.bad) c[C.INVALID]++;
    // A packet decode rejects (held fragment, broken transport header) still
    // reaches detection for decode-event rules, but like Suricata's it has no
    // payload: content rules must not match raw fragment or header bytes.
    if (!ok) pkt.payloadLen = 0;
    return ok;
  }

  /** Counters as a Suricata-style record (built on demand; not for per-packet use). */
  stats(): Record<string, number> {
    this.syncDefragCounters();
    const r = counterRecord(this.c);
    r['defrag.trackers'] = this.defrag.trackerCount;
    r['defrag.memuse'] = this.defrag.memuse;
    return r;
  }

  /** Expire fragment trackers idle past their timeout at packet time `now` (seconds). */
  expire(now: number): void {
    this.defrag.expire(now);
    this.syncDefragCounters();
  }

  /** Raise a decoder event on the packet (recorded up to MAX_PACKET_EVENTS, always counted). */
  event(pkt: Packet, id: number): void {
    this.c[EVENT_BASE + id]++;
    if (pkt.eventCount < MAX_PACKET_EVENTS) pkt.events[pkt.eventCount++] = id;
  }

  /** An event that stopped decoding of its layer: counted as an invalid packet too. */
  private invalid(pkt: Packet, id: number): false {
    this.event(pkt, id);
    this.bad = true;
    return false;
  }

  /** Count one more stacked header; false (with decoder.too_many_layers once) past maxLayers. */
  private layer(pkt: Packet): boolean {
    if (++this.layers <= this.maxLayers) return true;
    if (this.layers === this.maxLayers + 1) {
      this.c[C.TOO_MANY_LAYERS]++;
      this.invalid(pkt, E_TOO_MANY_LAYERS);
    }
    return false;
  }

  // ---- link layers -------------------------------------------------------

  private ethernet(pkt: Packet, b: Buffer, off: number, end: number): boolean {
    if (!this.layer(pkt)) return false;
    this.c[C.ETHERNET]++;
    if (end - off < 14) return this.invalid(pkt, E_ETH_SMALL);
    return this.etherType(pkt, b, off + 14, end, (b[off + 12] << 8) | b[off + 13]);
  }

  /**
   * Hot EtherTypes only. V8 (Node 20) inlines a callee only while its bytecode
   * is at most 460 bytes; with the rarer types (PPPoE, MPLS, FabricPath,
   * VN-Tag, NSH) in this switch it grew to 483 bytes, ethernet() and decode()
   * stopped inlining it, and decoding alone got 7–9 % slower (A/B against the
   * session-2 decoder, bench/RESULTS.md "Session 4"). The rest lives in
   * etherTypeOther(); keep this one small.
   */
  private etherType(pkt: Packet, b: Buffer, off: number, end: number, type: number): boolean {
    switch (type) {
      case EtherType.IPV4:
        return this.ipv4(pkt, b, off, end);
      case EtherType.IPV6:
        return this.ipv6(pkt, b, off, end);
      case EtherType.VLAN:
      case EtherType.QINQ:
      case EtherType.QINQ_OLD:
        return this.vlan(pkt, b, off, end, type);
      case EtherType.ARP:
        this.c[C.ARP]++;
        this.c[C.NOT_IP]++;
        return false;
      default:
        return this.etherTypeOther(pkt, b, off, end, type);
    }
  }

  /** The EtherTypes etherType() leaves out (rare on the wire; kept apart so etherType() stays inlinable). */
  private etherTypeOther(pkt: Packet, b: Buffer, off: number, end: number, type: number): boolean {
    switch (type) {
      case EtherType.PPPOE_SESSION:
        return this.pppoe(pkt, b, off, end);
      case EtherType.MPLS:
      case EtherType.MPLS_MULTICAST:
        return this.mpls(pkt, b, off, end);
      case EtherType.DCE:
        if (!this.layer(pkt)) return false;
        if (end - off < 16) return this.invalid(pkt, E_DCE_SMALL);
        return this.ethernet(pkt, b, off + 2, end);
      case EtherType.VNTAG:
        return this.vntag(pkt, b, off, end);
      case EtherType.NSH:
        return this.nsh(pkt, b, off, end);
      default:
        // 802.3 length fields (< 0x600, LLC/STP), PPPoE discovery, LLDP, …: not IP, counted, not an error.
        // Real EtherTypes the decoder does not know are counted as Suricata's decoder.unknown_ethertype.
        if (type >= 0x600 && type !== EtherType.PPPOE_DISCOVERY) this.c[C.UNKNOWN_ETHERTYPE]++;
        this.c[C.NOT_IP]++;
        return false;
    }
  }

  /** Cisco VN-Tag (802.1Qbh draft): a 4-byte tag, then the EtherType of what follows. */
  private vntag(pkt: Packet, b: Buffer, off: number, end: number): boolean {
    if (!this.layer(pkt)) return false;
    this.c[C.VNTAG]++;
    if (end - off < 6) return this.invalid(pkt, E_VNTAG_SMALL);
    const type = (b[off + 4] << 8) | b[off + 5];
    if (type < 0x600) return this.invalid(pkt, E_VNTAG_TYPE);
    return this.etherType(pkt, b, off + 6, end, type);
  }

  /**
   * Network Service Header (RFC 8300): ver(2) O U TTL(6) length(6, 4-byte words)
   * U(4) MD type(4) next protocol(8), service path(4), context; then IPv4, IPv6,
   * Ethernet or MPLS. MD type 1 has a fixed 24-byte header; type 2 at least 8.
   */
  private nsh(pkt: Packet, b: Buffer, off: number, end: number): boolean {
    if (!this.layer(pkt)) return false;
    this.c[C.NSH]++;
    if (end - off < 8) return this.invalid(pkt, E_NSH_SMALL);
    if (b[off] >> 6 !== 0) return this.invalid(pkt, E_NSH_VERSION);
    const hlen = (b[off + 1] & 0x3f) << 2;
    const md = b[off + 2] & 0x0f;
    if (md === 0 || md === 0x0f) return this.invalid(pkt, E_NSH_RESERVED);
    if (md === 1) {
      if (hlen !== 24) return this.invalid(pkt, E_NSH_LEN);
    } else if (md === 2) {
      if (hlen < 8) return this.invalid(pkt, E_NSH_LEN);
    } else return this.invalid(pkt, E_NSH_TYPE);
    if (end - off < hlen) return this.invalid(pkt, E_NSH_SMALL);
    const p = off + hlen;
    switch (b[off + 3]) {
      case 1:
        return this.ipv4(pkt, b, p, end);
      case 2:
        return this.ipv6(pkt, b, p, end);
      case 3:
        return this.ethernet(pkt, b, p, end);
      case 5:
        return this.mpls(pkt, b, p, end);
      default:
        this.c[C.NOT_IP]++;
        return this.invalid(pkt, E_NSH_PAYLOAD);
    }
  }

  private vlan(pkt: Packet, b: Buffer, off: number, end: number, tpid: number): boolean {
    if (!this.layer(pkt)) return false;
    this.c[C.VLAN]++;
    if (tpid !== EtherType.VLAN) this.c[C.VLAN_QINQ]++;
    if (end - off < 4) return this.invalid(pkt, E_VLAN_SMALL);
    const vid = ((b[off] << 8) | b[off + 1]) & 0x0fff;
    if (pkt.vlanCount === 0) pkt.vlan0 = vid;
    else if (pkt.vlanCount === 1) pkt.vlan1 = vid;
    else return this.invalid(pkt, E_VLAN_TOO_MANY);
    pkt.vlanCount++;
    return this.etherType(pkt, b, off + 4, end, (b[off + 2] << 8) | b[off + 3]);
  }

  /** PPPoE session stage (RFC 2516): ver/type 0x11, code 0, session id, length, then PPP. */
  private pppoe(pkt: Packet, b: Buffer, off: number, end: number): boolean {
    this.c[C.PPPOE]++;
    if (end - off < 8) return this.invalid(pkt, E_PPPOE_SMALL);
    if (b[off + 1] !== 0) return this.invalid(pkt, E_PPPOE_CODE);
    const len = (b[off + 4] << 8) | b[off + 5];
    const stop = off + 6 + len < end ? off + 6 + len : end;
    return this.ppp(pkt, b, off + 6, stop);
  }

  /**
   * MPLS label stack (RFC 3032): 4-byte entries until the bottom-of-stack bit.
   * The payload is IPv4 or IPv6 by the explicit-null labels (0, 2) or, as
   * Suricata does, by the first nibble after the stack.
   */
  private mpls(pkt: Packet, b: Buffer, off: number, end: number): boolean {
    if (!this.layer(pkt)) return false;
    this.c[C.MPLS]++;
    let label = 0;
    for (;;) {
      if (end - off < 4) return this.invalid(pkt, E_MPLS_SMALL);
      label = (b[off] << 12) | (b[off + 1] << 4) | (b[off + 2] >> 4);
      const bottom = (b[off + 2] & 1) !== 0;
      off += 4;
      if (bottom) break;
    }
    if (label === 0) return this.ipv4(pkt, b, off, end);
    if (label === 2) return this.ipv6(pkt, b, off, end);
    const v = off < end ? b[off] >> 4 : 0;
    if (v === 4) return this.ipv4(pkt, b, off, end);
    if (v === 6) return this.ipv6(pkt, b, off, end);
    this.c[C.NOT_IP]++;
    this.event(pkt, E_MPLS_PAYLOAD);
    return false;
  }

  private sll(pkt: Packet, b: Buffer, off: number, end: number): boolean {
    this.c[C.SLL]++;
    // packet type(2) ARPHRD(2) address length(2) address(8) protocol(2)
    if (end - off < 16) return this.invalid(pkt, E_SLL_SMALL);
    return this.etherType(pkt, b, off + 16, end, (b[off + 14] << 8) | b[off + 15]);
  }

  private sll2(pkt: Packet, b: Buffer, off: number, end: number): boolean {
    this.c[C.SLL2]++;
    // protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1) address length(1) address(8)
    if (end - off < 20) return this.invalid(pkt, E_SLL2_SMALL);
    return this.etherType(pkt, b, off + 20, end, (b[off] << 8) | b[off + 1]);
  }

  private raw(pkt: Packet, b: Buffer, off: number, end: number): boolean {
    this.c[C.RAW]++;
    if (end - off < 1) return this.invalid(pkt, E_IP4_SMALL);
    const v = b[off] >> 4;
    if (v === 4) return this.ipv4(pkt, b, off, end);
    if (v === 6) return this.ipv6(pkt, b, off, end);
    return this.invalid(pkt, E_RAW_VERSION);
  }

  /** BSD NULL (host byte order) and OpenBSD LOOP (network order): accept either order. */
  private nullLoop(pkt: Packet, b: Buffer, off: number, end: number): boolean {
    this.c[C.NULL]++;
    if (end - off < 4) return this.invalid(pkt, E_NULL_SMALL);
    const be = ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
    const le = ((b[off + 3] << 24) | (b[off + 2] << 16) | (b[off + 1] << 8) | b[off]) >>> 0;
    if (be === 2 || le === 2) return this.ipv4(pkt, b, off + 4, end);
    // AF_INET6 differs per OS: 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS).
    if (be === 24 || be === 28 || be === 30 || le === 24 || le === 28 || le === 30) return this.ipv6(pkt, b, off + 4, end);
    this.c[C.NOT_IP]++;
    this.event(pkt, E_NULL_TYPE);
    return false;
  }

  /** PPP (RFC 1661), with or without HDLC address/control (0xff 0x03), protocol field possibly compressed. */
  private ppp(pkt: Packet, b: Buffer, off: number, end: number): boolean {
    this.c[C.PPP]++;
    if (end - off < 2) return this.invalid(pkt, E_PPP_SMALL);
    if (b[off] === 0xff && b[off + 1] === 0x03) off += 2;
    if (end - off < 1) return this.invalid(pkt, E_PPP_SMALL);
    let proto: number;
    if ((b[off] & 1) === 1) {
      proto = b[off]; // protocol-field compression: one odd byte
      off += 1;
    } else {
      if (end - off < 2) return this.invalid(pkt, E_PPP_SMALL);
      proto = (b[off] << 8) | b[off + 1];
      off += 2;
    }
    switch (proto) {
      case 0x0021:
        if (end - off < 20) return this.invalid(pkt, E_PPP_IP4_SMALL);
        return this.ipv4(pkt, b, off, end);
      case 0x0057:
        if (end - off < 40) return this.invalid(pkt, E_PPP_IP6_SMALL);
        return this.ipv6(pkt, b, off, end);
      case 0xc021: // LCP
      case 0x8021: // IPCP
      case 0x8057: // IPV6CP
      case 0xc023: // PAP
      case 0xc223: // CHAP
      case 0x80fd: // CCP
      case 0x00fd: // compressed datagram
      case 0x002d: // Van Jacobson compressed TCP/IP
      case 0x002f: // Van Jacobson uncompressed TCP/IP
        this.c[C.NOT_IP]++;
        return false;
      default:
        this.c[C.NOT_IP]++;
        this.event(pkt, E_PPP_UNSUP);
        return false;
    }
  }

  // ---- IPv4 --------------------------------------------------------------

  private ipv4(pkt: Packet, b: Buffer, off: number, end: number): boolean {
    if (!this.layer(pkt)) return false;
    this.c[C.IPV4]++;
    const len = end - off;
    if (len < 20) return this.invalid(pkt, E_IP4_SMALL);
    const vhl = b[off];
    if (vhl >> 4 !== 4) return this.invalid(pkt, E_IP4_VERSION);
    const hlen = (vhl & 15) << 2;
    if (hlen < 20) return this.invalid(pkt, E_IP4_HLEN);
    let ipLen = (b[off + 2] << 8) | b[off + 3];
    if (ipLen < hlen) return this.invalid(pkt, E_IP4_IPLEN);
    if (ipLen > len) {
      this.event(pkt, E_IP4_TRUNC);
      if (hlen > len) {
        this.bad = true;
        return false;
      }
      ipLen = len;
      this.clipped = true;
    }
    pkt.ipVersion = 4;
    pkt.l3Off = off;
    pkt.l3HdrLen = hlen;
    pkt.l3Len = ipLen;
    pkt.tos = b[off + 1];
    pkt.ipId = (b[off + 4] << 8) | b[off + 5];
    const fb = (b[off + 6] << 8) | b[off + 7];
    pkt.fragBits = fb;
    pkt.ttl = b[off + 8];
    const proto = b[off + 9];
    pkt.proto = proto;
    pkt.src4 = ((b[off + 12] << 24) | (b[off + 13] << 16) | (b[off + 14] << 8) | b[off + 15]) >>> 0;
    pkt.dst4 = ((b[off + 16] << 24) | (b[off + 17] << 16) | (b[off + 18] << 8) | b[off + 19]) >>> 0;
    if (hlen > 20) pkt.ipOpts = parseIpv4Options(this, pkt, b, off + 20, hlen - 20);
    if (this.csum) {
      const ok = fold(sum16(b, off, hlen, 0)) === 0;
      pkt.ipCsumOk = ok ? 1 : 0;
      if (!ok) this.event(pkt, E_IP4_CSUM);
    }
    // Bytes after ipLen (Ethernet padding of short frames) are not part of the datagram.
    if ((fb & 0x3fff) !== 0) return this.ipv4Fragment(pkt, b, off, hlen, ipLen);
    return this.l4(pkt, b, off + hlen, off + ipLen, proto, 4);
  }

  private ipv4Fragment(pkt: Packet, b: Buffer, off: number, hlen: number, ipLen: number): boolean {
    pkt.isFragment = true;
    this.c[C.DEFRAG4_FRAGMENTS]++;
    pkt.l4Off = off + hlen;
    pkt.payloadOff = off + hlen;
    pkt.payloadLen = ipLen - hlen;
    // A snapped fragment cannot be reassembled faithfully: pass it on as it is.
    if (!this.defragOn || this.clipped) return true;
    const d = this.defrag;
    const out = d.addIPv4(pkt, b, off, hlen, ipLen, pkt.time);
    this.defragEvents(pkt, d.flags, E_IP4_FRAG_OVERLAP, E_IP4_FRAG_LARGE, E_IP4_FRAG_IGNORED);
    if (out === null) return false;
    this.c[C.DEFRAG4_REASSEMBLED]++;
    return this.reassembled(pkt, out, 4);
  }

  private reassembled(pkt: Packet, out: Buffer, v: number): boolean {
    pkt.data = out;
    pkt.isFragment = false;
    pkt.reassembled = true;
    pkt.ipOpts = 0;
    return v === 4 ? this.ipv4(pkt, out, 0, out.length) : this.ipv6(pkt, out, 0, out.length);
  }

  private defragEvents(pkt: Packet, flags: number, overlap: number, large: number, ignored: number): void {
    if (flags === 0) return;
    if ((flags & DefragFlag.OVERLAP) !== 0) this.event(pkt, overlap);
    if ((flags & DefragFlag.TOO_LARGE) !== 0) this.invalid(pkt, large);
    if ((flags & DefragFlag.TOO_MANY_FRAGMENTS) !== 0) this.event(pkt, ignored);
    this.syncDefragCounters();
  }

  private syncDefragCounters(): void {
    const d = this.defrag;
    const c = this.c;
    c[C.DEFRAG_TIMEOUTS] = d.timeouts;
    c[C.DEFRAG_MAX_TRACKERS] = d.maxTrackersReached;
    c[C.DEFRAG_MEMCAP_DROPS] = d.memcapDrops;
  }

  // ---- IPv6 --------------------------------------------------------------

  private ipv6(pkt: Packet, b: Buffer, off: number, end: number): boolean {
    if (!this.layer(pkt)) return false;
    this.c[C.IPV6]++;
    const len = end - off;
    if (len < 40) return this.invalid(pkt, E_IP6_SMALL);
    const b0 = b[off];
    if (b0 >> 4 !== 6) return this.invalid(pkt, E_IP6_VERSION);
    let ipEnd = off + 40 + ((b[off + 4] << 8) | b[off + 5]);
    if (ipEnd > end) {
      this.event(pkt, E_IP6_TRUNC);
      ipEnd = end;
      this.clipped = true;
    }
    const b1 = b[off + 1];
    pkt.ipVersion = 6;
    pkt.l3Off = off;
    pkt.l3Len = ipEnd - off;
    pkt.tos = ((b0 & 15) << 4) | (b1 >> 4);
    pkt.flowLabel = ((b1 & 15) << 16) | (b[off + 2] << 8) | b[off + 3];
    pkt.ttl = b[off + 7];
    const s = pkt.src6;
    const d = pkt.dst6;
    for (let i = 0, p = off + 8; i < 4; i++, p += 4) {
      s[i] = ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
      d[i] = ((b[p + 16] << 24) | (b[p + 17] << 16) | (b[p + 18] << 8) | b[p + 19]) >>> 0;
    }
    let nh = b[off + 6];
    // Fast path: no extension headers.
    if (nh === 6 || nh === 17 || nh === 58) {
      pkt.l3HdrLen = 40;
      pkt.proto = nh;
      return this.l4(pkt, b, off + 40, ipEnd, nh, 6);
    }
    return this.ipv6Ext(pkt, b, off, ipEnd, nh);
  }

  /**
   * Walk IPv6 extension headers (RFC 8200 §4) from off+40, then hand on to L4
   * or defrag. Follows Suricata's DecodeIPV6ExtHdrs: any header after the
   * first needs two bytes (else trunc_exthdr, even TCP/UDP); a repeated
   * hop-by-hop, routing, fragment or AH header (or a third destination
   * options header) raises its exthdr_dupl_* event and is skipped unparsed;
   * an atomic fragment header (offset 0, no more fragments) is "useless" and
   * the walk goes on; an upper layer Harrier does not know raises
   * unknown_next_header. Unlike Suricata, IPv6-in-IPv6 and GRE after
   * extension headers are still decoded (Suricata only does so right after
   * the fixed header).
   */
  private ipv6Ext(pkt: Packet, b: Buffer, off: number, ipEnd: number, nh: number): boolean {
    let p = off + 40;
    let nhPos = off + 6;
    let seen = 0;
    let dstopts = 0;
    for (;;) {
      if (nh !== 59 && p > off + 40 && ipEnd - p < 2) return this.extTrunc(pkt, p, off, nh);
      switch (nh) {
        case 0: // hop-by-hop
        case 60: // destination options
        case 43: // routing
        case 135: // mobility
        case 139: // HIP
        case 140: {
          // shim6
          if (ipEnd - p < 8) return this.extTrunc(pkt, p, off, nh);
          const hlen = (b[p + 1] + 1) << 3;
          if (p + hlen > ipEnd) return this.extTrunc(pkt, p, off, nh);
          if (nh === 0) {
            if ((seen & X_HH) !== 0) this.event(pkt, E_IP6_DUPL_HH);
            else {
              seen |= X_HH;
              this.ipv6Options(pkt, b, p + 2, p + hlen, true);
            }
          } else if (nh === 60) {
            // Two are legal (before a routing header and before the upper layer); a third is not.
            if (dstopts >= 2) this.event(pkt, E_IP6_DUPL_DH);
            else {
              dstopts++;
              this.ipv6Options(pkt, b, p + 2, p + hlen, false);
            }
          } else if (nh === 43) {
            if ((seen & X_RH) !== 0) this.event(pkt, E_IP6_DUPL_RH);
            else {
              seen |= X_RH;
              if (b[p + 2] === 0) this.event(pkt, E_IP6_RH0);
            }
          }
          nhPos = p;
          nh = b[p];
          p += hlen;
          continue;
        }
        case 44: {
          // fragment header: next(1) reserved(1) offset(13) res(2) M(1) id(4)
          if (ipEnd - p < 8) return this.extTrunc(pkt, p, off, nh);
          if (b[p + 1] !== 0) this.event(pkt, E_IP6_FH_RESERVED);
          if ((seen & X_FH) !== 0) {
            this.event(pkt, E_IP6_DUPL_FH);
            nhPos = p;
            nh = b[p];
            p += 8;
            continue;
          }
          seen |= X_FH;
          const fw = (b[p + 2] << 8) | b[p + 3];
          if ((fw & 0xfff9) === 0) {
            // An atomic fragment (offset 0, no more): a whole datagram; keep walking.
            this.event(pkt, E_IP6_USELESS_FH);
            nhPos = p;
            nh = b[p];
            p += 8;
            continue;
          }
          pkt.l3HdrLen = p + 8 - off;
          pkt.proto = b[p];
          return this.ipv6Fragment(pkt, b, off, p, nhPos, ipEnd, fw);
        }
        case 51: {
          // AH (RFC 4302): next(1) len(1, in 4-byte units minus 2) reserved(2) …
          if (ipEnd - p < 12) return this.extTrunc(pkt, p, off, nh);
          const hlen = (b[p + 1] + 2) << 2;
          if (p + hlen > ipEnd) return this.extTrunc(pkt, p, off, nh);
          if (b[p + 2] !== 0 || b[p + 3] !== 0) this.event(pkt, E_IP6_AH_RES);
          if ((seen & X_AH) !== 0) this.event(pkt, E_IP6_DUPL_AH);
          seen |= X_AH;
          nhPos = p;
          nh = b[p];
          p += hlen;
          continue;
        }
        case 59: // no next header
          if (p < ipEnd) this.event(pkt, E_IP6_DATA_AFTER_NONE);
          pkt.l3HdrLen = p - off;
          pkt.proto = 59;
          pkt.l4Off = p;
          pkt.payloadOff = p;
          return true;
        default:
          // ESP (opaque) and every upper-layer protocol end the chain.
          pkt.l3HdrLen = p - off;
          pkt.proto = nh;
          if (!IP6_KNOWN_UPPER[nh]) this.event(pkt, E_IP6_UNKNOWN_NH);
          return this.l4(pkt, b, p, ipEnd, nh, 6);
      }
    }
  }

  private extTrunc(pkt: Packet, p: number, off: number, nh: number): boolean {
    pkt.l3HdrLen = p - off;
    pkt.proto = nh;
    pkt.l4Off = p;
    pkt.payloadOff = p;
    pkt.payloadLen = 0;
    this.invalid(pkt, E_IP6_TRUNC_EXT);
    // The IP layer itself is good: the packet can still be tracked by address.
    return true;
  }

  /**
   * Hop-by-hop / destination options TLVs in b[p, end) (RFC 8200 §4.2), with
   * Suricata's checks: an option whose length runs past the header, or a
   * router alert / jumbo / home address option too short for its value, is
   * exthdr_invalid_optlen and ends the walk of this header's options. Only
   * those three and the paddings are known (the tunnel encapsulation limit
   * Linux ip6 tunnels send is "unknown" to Suricata, and so here); a jumbo
   * option does not count against "only padding", as in Suricata.
   */
  private ipv6Options(pkt: Packet, b: Buffer, p: number, end: number, hop: boolean): void {
    let padding = 0;
    let other = 0;
    while (p < end) {
      const type = b[p];
      if (type === 0) {
        padding++;
        p++;
        continue;
      }
      if (p + 1 >= end) {
        this.invalid(pkt, E_IP6_INVALID_OPTLEN);
        break;
      }
      const olen = b[p + 1];
      // Suricata's bound (offset + 1 + len > optslen) is one byte laxer than the TLV's own end.
      if (p + 1 + olen > end) {
        this.invalid(pkt, E_IP6_INVALID_OPTLEN);
        break;
      }
      if (type === 1) {
        padding++;
        if (olen === 0) this.event(pkt, E_IP6_ZERO_PADN);
      } else if (type === 0x05 || type === 0xc2 || type === 0xc9) {
        // router alert (2-byte value), jumbo payload (4), home address (16)
        if (olen < (type === 0x05 ? 2 : type === 0xc2 ? 4 : 16)) {
          this.invalid(pkt, E_IP6_INVALID_OPTLEN);
          break;
        }
        if (type !== 0xc2) other++;
      } else {
        other++;
        this.event(pkt, hop ? E_IP6_HOP_UNKNOWN : E_IP6_DST_UNKNOWN);
      }
      p += 2 + olen;
    }
    if (padding > 0 && other === 0) this.event(pkt, hop ? E_IP6_HOP_PADDING : E_IP6_DST_PADDING);
  }

  private ipv6Fragment(pkt: Packet, b: Buffer, off: number, fh: number, nhPos: number, ipEnd: number, fw: number): boolean {
    pkt.isFragment = true;
    pkt.fragBits = fw;
    pkt.ipId = ((b[fh + 4] << 24) | (b[fh + 5] << 16) | (b[fh + 6] << 8) | b[fh + 7]) >>> 0;
    this.c[C.DEFRAG6_FRAGMENTS]++;
    pkt.l4Off = fh + 8;
    pkt.payloadOff = fh + 8;
    pkt.payloadLen = ipEnd - fh - 8;
    // Every fragment but the last carries a multiple of 8 bytes (RFC 8200 §4.5).
    if ((fw & 1) !== 0 && (ipEnd - fh - 8) % 8 !== 0) return this.invalid(pkt, E_IP6_FRAG_LEN);
    if (!this.defragOn || this.clipped) return true;
    const d = this.defrag;
    const out = d.addIPv6(pkt, b, off, fh, nhPos, ipEnd, pkt.time);
    this.defragEvents(pkt, d.flags, E_IP6_FRAG_OVERLAP, E_IP6_FRAG_LARGE, E_IP6_FRAG_IGNORED);
    if (out === null) return false;
    this.c[C.DEFRAG6_REASSEMBLED]++;
    return this.reassembled(pkt, out, 6);
  }

  // ---- transport -----------------------------------------------------------

  /** Hand the IP payload b[off, end) to the protocol's decoder. Returns true: the IP layer is there. */
  private l4(pkt: Packet, b: Buffer, off: number, end: number, proto: number, v: number): boolean {
    pkt.l4Off = off;
    pkt.payloadOff = off;
    pkt.payloadLen = end - off;
    switch (proto) {
      case 6:
        return this.tcp(pkt, b, off, end, v);
      case 17:
        return this.udp(pkt, b, off, end, v);
      case 1:
        if (v === 6) this.event(pkt, E_IP6_ICMPV4);
        this.icmpv4(pkt, b, off, end);
        return true;
      case 58:
        if (v === 4) this.event(pkt, E_IP4_ICMPV6);
        this.icmpv6(pkt, b, off, end);
        return true;
      case 4:
        return this.ipInIp(pkt, b, off, end, v, 4);
      case 41:
        return this.ipInIp(pkt, b, off, end, v, 6);
      case 47:
        return this.gre(pkt, b, off, end);
      default:
        return this.l4Other(pkt, b, off, end, proto);
    }
  }

  /**
   * ESP, SCTP and unknown protocols, apart from l4() so that l4() stays under
   * V8's 460-byte inlining limit (the ESP case took it to 496 bytes and ipv4()
   * stopped inlining it; see etherType()).
   */
  private l4Other(pkt: Packet, b: Buffer, off: number, end: number, proto: number): boolean {
    switch (proto) {
      case 50:
        // ESP: only the SPI is readable; Suricata keys ESP flows by it (flow record `spi`)
        if (end - off >= 8) pkt.espSpi = ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
        return true;
      case 132:
        this.c[C.SCTP]++;
        if (end - off >= 4) {
          pkt.sport = (b[off] << 8) | b[off + 1];
          pkt.dport = (b[off + 2] << 8) | b[off + 3];
        }
        return true;
      default:
        return true;
    }
  }

  private tcp(pkt: Packet, b: Buffer, off: number, end: number, v: number): boolean {
    this.c[C.TCP]++;
    const len = end - off;
    if (len < 20) return this.invalid(pkt, E_TCP_SMALL);
    const hlen = (b[off + 12] >> 4) << 2;
    if (hlen < 20 || hlen > len) return this.invalid(pkt, E_TCP_HLEN);
    pkt.sport = (b[off] << 8) | b[off + 1];
    pkt.dport = (b[off + 2] << 8) | b[off + 3];
    pkt.tcpSeq = ((b[off + 4] << 24) | (b[off + 5] << 16) | (b[off + 6] << 8) | b[off + 7]) >>> 0;
    pkt.tcpAck = ((b[off + 8] << 24) | (b[off + 9] << 16) | (b[off + 10] << 8) | b[off + 11]) >>> 0;
    pkt.tcpFlags = b[off + 13];
    pkt.tcpWin = (b[off + 14] << 8) | b[off + 15];
    pkt.tcpUrgPtr = (b[off + 18] << 8) | b[off + 19];
    if (hlen > 20) parseTcpOptions(this, pkt, b, off + 20, hlen - 20);
    pkt.l4HdrLen = hlen;
    pkt.payloadOff = off + hlen;
    pkt.payloadLen = len - hlen;
    if (this.csum && !this.clipped) {
      const acc = v === 4 ? pseudo4(pkt.src4, pkt.dst4, 6, len) : pseudo6(pkt.src6, pkt.dst6, 6, len);
      const ok = fold(sum16(b, off, len, acc)) === 0;
      pkt.l4CsumOk = ok ? 1 : 0;
      if (!ok) this.event(pkt, E_TCP_CSUM);
    }
    return true;
  }

  private udp(pkt: Packet, b: Buffer, off: number, end: number, v: number): boolean {
    this.c[C.UDP]++;
    const len = end - off;
    if (len < 8) return this.invalid(pkt, E_UDP_HLEN_SMALL);
    pkt.sport = (b[off] << 8) | b[off + 1];
    const dport = (b[off + 2] << 8) | b[off + 3];
    pkt.dport = dport;
    pkt.l4HdrLen = 8;
    pkt.payloadOff = off + 8;
    let ulen = (b[off + 4] << 8) | b[off + 5];
    if (ulen < 8) {
      pkt.payloadLen = 0;
      return this.invalid(pkt, E_UDP_LEN_INVALID);
    }
    if (ulen > len) {
      if (!this.clipped) this.invalid(pkt, E_UDP_SMALL);
      ulen = len;
    } else if (ulen < len) {
      this.event(pkt, E_UDP_HLEN_INVALID);
    }
    pkt.payloadLen = ulen - 8;
    if (this.csum && !this.clipped && ulen === len) {
      const cs = (b[off + 6] << 8) | b[off + 7];
      if (cs !== 0 || v === 6) {
        // IPv4 may omit the checksum (0); IPv6 may not (RFC 8200 §8.1).
        const acc = v === 4 ? pseudo4(pkt.src4, pkt.dst4, 17, len) : pseudo6(pkt.src6, pkt.dst6, 17, len);
        const ok = cs !== 0 && fold(sum16(b, off, len, acc)) === 0;
        pkt.l4CsumOk = ok ? 1 : 0;
        if (!ok) this.event(pkt, E_UDP_CSUM);
      }
    }
    // Teredo first, as Suricata's DecodeUDP does; a payload that is not a whole IPv6 packet stays plain UDP.
    if ((this.udpTeredo[pkt.sport] | this.udpTeredo[dport]) !== 0) {
      const r = this.teredo(pkt, b, off + 8, off + ulen);
      if (r >= 0) return r === 1;
    }
    const tun = this.udpTunnel[dport];
    if (tun !== Port.NONE) {
      const r = tun === Port.VXLAN ? this.vxlan(pkt, b, off + 8, off + ulen) : this.geneve(pkt, b, off + 8, off + ulen);
      if (r >= 0) return r === 1;
    }
    return true;
  }

  private icmpv4(pkt: Packet, b: Buffer, off: number, end: number): void {
    this.c[C.ICMPV4]++;
    const len = end - off;
    if (len < 8) {
      this.invalid(pkt, E_ICMP4_SMALL);
      return;
    }
    const type = b[off];
    const code = b[off + 1];
    pkt.icmpType = type;
    pkt.icmpCode = code;
    pkt.l4HdrLen = 8;
    pkt.payloadOff = off + 8;
    pkt.payloadLen = len - 8;
    const max = ICMP4_MAX_CODE[type];
    if (max < 0) this.event(pkt, E_ICMP4_TYPE);
    else if (code > max) this.event(pkt, E_ICMP4_CODE);
    if (icmp4HasIdSeq(type)) {
      pkt.icmpId = (b[off + 4] << 8) | b[off + 5];
      pkt.icmpSeq = (b[off + 6] << 8) | b[off + 7];
    } else if (icmp4IsError(type)) {
      this.icmpInner4(pkt, b, off + 8, end);
    }
    if (this.csum && !this.clipped) {
      const ok = fold(sum16(b, off, len, 0)) === 0;
      pkt.l4CsumOk = ok ? 1 : 0;
      if (!ok) this.event(pkt, E_ICMP4_CSUM);
    }
  }

  /** The datagram embedded in an ICMPv4 error: IP header + at least 8 bytes (RFC 792). */
  private icmpInner4(pkt: Packet, b: Buffer, p: number, end: number): void {
    if (end - p < 20) {
      this.event(pkt, E_ICMP4_INNER_TRUNC);
      return;
    }
    if (b[p] >> 4 !== 4) {
      this.event(pkt, E_ICMP4_INNER_VER);
      return;
    }
    const hlen = (b[p] & 15) << 2;
    pkt.icmpInnerValid = true;
    pkt.icmpInnerIpVersion = 4;
    const proto = b[p + 9];
    pkt.icmpInnerProto = proto;
    pkt.icmpInnerSrc4 = ((b[p + 12] << 24) | (b[p + 13] << 16) | (b[p + 14] << 8) | b[p + 15]) >>> 0;
    pkt.icmpInnerDst4 = ((b[p + 16] << 24) | (b[p + 17] << 16) | (b[p + 18] << 8) | b[p + 19]) >>> 0;
    const q = p + (hlen < 20 ? 20 : hlen);
    if ((proto === 6 || proto === 17 || proto === 132) && q + 4 <= end) {
      pkt.icmpInnerSport = (b[q] << 8) | b[q + 1];
      pkt.icmpInnerDport = (b[q + 2] << 8) | b[q + 3];
    }
  }

  private icmpv6(pkt: Packet, b: Buffer, off: number, end: number): void {
    this.c[C.ICMPV6]++;
    const len = end - off;
    if (len < 8) {
      this.invalid(pkt, E_ICMP6_SMALL);
      return;
    }
    const type = b[off];
    const code = b[off + 1];
    pkt.icmpType = type;
    pkt.icmpCode = code;
    pkt.l4HdrLen = 8;
    pkt.payloadOff = off + 8;
    pkt.payloadLen = len - 8;
    const max = ICMP6_MAX_CODE[type];
    if (max >= 0) {
      if (code > max) this.event(pkt, E_ICMP6_CODE);
    } else if (max === ICMP6_UNASSIGNED) this.event(pkt, E_ICMP6_UNASSIGNED);
    else if (max === ICMP6_EXPERIMENT) this.event(pkt, E_ICMP6_EXPERIMENT);
    else this.event(pkt, E_ICMP6_TYPE);
    if (type === 128 || type === 129) {
      pkt.icmpId = (b[off + 4] << 8) | b[off + 5];
      pkt.icmpSeq = (b[off + 6] << 8) | b[off + 7];
    } else if (icmp6IsError(type)) {
      this.icmpInner6(pkt, b, off + 8, end);
    } else if (icmp6IsMld(type) && pkt.ttl !== 1) {
      this.event(pkt, E_ICMP6_MLD_HL);
    }
    if (this.csum && !this.clipped && pkt.ipVersion === 6) {
      const acc = pseudo6(pkt.src6, pkt.dst6, 58, len);
      const ok = fold(sum16(b, off, len, acc)) === 0;
      pkt.l4CsumOk = ok ? 1 : 0;
      if (!ok) this.event(pkt, E_ICMP6_CSUM);
    }
  }

  private icmpInner6(pkt: Packet, b: Buffer, p: number, end: number): void {
    if (end - p < 40) {
      this.event(pkt, E_ICMP6_INNER_TRUNC);
      return;
    }
    if (b[p] >> 4 !== 6) {
      this.event(pkt, E_ICMP6_INNER_VER);
      return;
    }
    pkt.icmpInnerValid = true;
    pkt.icmpInnerIpVersion = 6;
    const proto = b[p + 6];
    pkt.icmpInnerProto = proto;
    const s = pkt.icmpInnerSrc6;
    const d = pkt.icmpInnerDst6;
    for (let i = 0, q = p + 8; i < 4; i++, q += 4) {
      s[i] = ((b[q] << 24) | (b[q + 1] << 16) | (b[q + 2] << 8) | b[q + 3]) >>> 0;
      d[i] = ((b[q + 16] << 24) | (b[q + 17] << 16) | (b[q + 18] << 8) | b[q + 19]) >>> 0;
    }
    const q = p + 40;
    if ((proto === 6 || proto === 17 || proto === 132) && q + 4 <= end) {
      pkt.icmpInnerSport = (b[q] << 8) | b[q + 1];
      pkt.icmpInnerDport = (b[q + 2] << 8) | b[q + 3];
    }
  }

  // ---- tunnels ---------------------------------------------------------------

  /**
   * Record the outer endpoints (outermost tunnel only) and clear L3/L4 for the
   * inner packet. `start`..`end` is what Suricata's tunnel pseudo-packet holds
   * (its flow byte counters count that, not the outer frame): kept, innermost
   * tunnel last, in pkt.tunnelLen.
   */
  private enterTunnel(pkt: Packet, kind: TunnelKind, id: number, start: number, end: number): void {
    pkt.tunnelLen = end > start ? end - start : 0;
    if (pkt.tunnel === TunnelKind.NONE) {
      pkt.tunnel = kind;
      pkt.tunnelId = id;
      pkt.tunnelIpVersion = pkt.ipVersion;
      if (pkt.ipVersion === 4) {
        pkt.tunnelSrc4 = pkt.src4;
        pkt.tunnelDst4 = pkt.dst4;
      } else {
        pkt.tunnelSrc6.set(pkt.src6);
        pkt.tunnelDst6.set(pkt.dst6);
      }
    }
    const reassembled = pkt.reassembled;
    pkt.resetNetwork();
    pkt.reassembled = reassembled;
    // Inner checksums are verified afresh; the outer datagram was complete if we got here.
    this.clipped = false;
  }

  /** IPv4-in-IP (proto 4) and IPv6-in-IP (proto 41), over IPv4 or IPv6 (RFC 2003, 4213, 2473). */
  private ipInIp(pkt: Packet, b: Buffer, off: number, end: number, outer: number, inner: number): boolean {
    const len = end - off;
    const need = inner === 4 ? 20 : 40;
    if (len < need) {
      const e = outer === 4 ? (inner === 4 ? E_IPIP_SMALL : E_6IN4_SMALL) : inner === 4 ? E_4IN6_SMALL : E_6IN6_SMALL;
      this.invalid(pkt, e);
      return true; // the outer IP layer stands
    }
    if (b[off] >> 4 !== inner) {
      const e = outer === 4 ? (inner === 4 ? E_IP4_VERSION : E_6IN4_VERSION) : inner === 4 ? E_4IN6_VERSION : E_6IN6_VERSION;
      this.invalid(pkt, e);
      return true;
    }
    const c = this.c;
    if (outer === 4) c[inner === 4 ? C.IPV4_IN_IPV4 : C.IPV6_IN_IPV4]++;
    else c[inner === 4 ? C.IPV4_IN_IPV6 : C.IPV6_IN_IPV6]++;
    this.enterTunnel(pkt, TunnelKind.IPIP, 0, off, end);
    return inner === 4 ? this.ipv4(pkt, b, off, end) : this.ipv6(pkt, b, off, end);
  }

  /** GRE (RFC 2784/2890 version 0; RFC 2637 enhanced GRE version 1 for PPTP). */
  private gre(pkt: Packet, b: Buffer, off: number, end: number): boolean {
    if (!this.layer(pkt)) return true;
    this.c[C.GRE]++;
    const len = end - off;
    if (len < 4) return !this.invalid(pkt, E_GRE_SMALL);
    const f0 = b[off];
    const f1 = b[off + 1];
    const proto = (b[off + 2] << 8) | b[off + 3];
    const hasC = (f0 & 0x80) !== 0;
    const hasR = (f0 & 0x40) !== 0;
    const hasK = (f0 & 0x20) !== 0;
    const hasS = (f0 & 0x10) !== 0;
    let hlen = 4;
    let key = 0;
    switch (f1 & 7) {
      case 0: {
        if ((f0 & 0x07) !== 0) return !this.invalid(pkt, E_GRE0_RECUR);
        if ((f1 & 0xf8) !== 0) return !this.invalid(pkt, E_GRE0_FLAGS);
        if (hasC || hasR) hlen += 4;
        if (hasK) {
          if (off + hlen + 4 <= end) key = ((b[off + hlen] << 24) | (b[off + hlen + 1] << 16) | (b[off + hlen + 2] << 8) | b[off + hlen + 3]) >>> 0;
          hlen += 4;
        }
        if (hasS) hlen += 4;
        if (hlen > len) return !this.invalid(pkt, E_GRE0_HDR_BIG);
        if (hasR) {
          // Source route entries (RFC 1701): af(2) offset(1) length(1) data, ended by af 0 length 0.
          for (;;) {
            if (hlen + 4 > len) return !this.invalid(pkt, E_GRE0_SRE);
            const af = (b[off + hlen] << 8) | b[off + hlen + 1];
            const sreLen = b[off + hlen + 3];
            hlen += 4 + sreLen;
            if (af === 0 && sreLen === 0) break;
            if (hlen > len) return !this.invalid(pkt, E_GRE0_SRE);
          }
        }
        break;
      }
      case 1: {
        if (hasC) return !this.invalid(pkt, E_GRE1_CSUM);
        if (hasR) return !this.invalid(pkt, E_GRE1_ROUTE);
        if ((f0 & 0x08) !== 0) return !this.invalid(pkt, E_GRE1_SSR);
        if ((f0 & 0x07) !== 0) return !this.invalid(pkt, E_GRE1_RECUR);
        if ((f1 & 0x78) !== 0) return !this.invalid(pkt, E_GRE1_FLAGS);
        if (!hasK) return !this.invalid(pkt, E_GRE1_NO_KEY);
        if (proto !== EtherType.PPP) return !this.invalid(pkt, E_GRE1_PROTO);
        hlen = 8 + (hasS ? 4 : 0) + ((f1 & 0x80) !== 0 ? 4 : 0);
        if (hlen > len) return !this.invalid(pkt, E_GRE1_HDR_BIG);
        key = (b[off + 6] << 8) | b[off + 7]; // PPTP call id
        break;
      }
      default:
        return !this.invalid(pkt, E_GRE_VERSION);
    }
    const p = off + hlen;
    switch (proto) {
      case EtherType.IPV4:
        this.enterTunnel(pkt, TunnelKind.GRE, key, p, end);
        return this.ipv4(pkt, b, p, end);
      case EtherType.IPV6:
        this.enterTunnel(pkt, TunnelKind.GRE, key, p, end);
        return this.ipv6(pkt, b, p, end);
      case EtherType.TEB:
        this.enterTunnel(pkt, TunnelKind.GRE, key, p, end);
        return this.ethernet(pkt, b, p, end);
      case EtherType.PPP:
        this.enterTunnel(pkt, TunnelKind.GRE, key, p, end);
        return this.ppp(pkt, b, p, end);
      case EtherType.ERSPAN2:
      case EtherType.ERSPAN3:
        return this.erspan(pkt, b, p, end, proto, hasS, key);
      default:
        // Other payloads (MPLS, WCCP, …) are not decoded: the outer packet stands.
        return true;
    }
  }

  /** ERSPAN type I (no header, no GRE sequence), II (8-byte header) and III (12, + 8 with O flag). */
  private erspan(pkt: Packet, b: Buffer, p: number, end: number, proto: number, seq: boolean, greKey: number): boolean {
    this.c[C.ERSPAN]++;
    if (proto === EtherType.ERSPAN2 && !seq) {
      this.enterTunnel(pkt, TunnelKind.GRE, greKey, p, end);
      return this.ethernet(pkt, b, p, end);
    }
    const need = proto === EtherType.ERSPAN2 ? 8 : 12;
    if (end - p < need) return !this.invalid(pkt, E_ERSPAN_SMALL);
    const ver = b[p] >> 4;
    if (ver !== (proto === EtherType.ERSPAN2 ? 1 : 2)) return !this.invalid(pkt, E_ERSPAN_VERSION);
    const session = ((b[p + 2] & 0x03) << 8) | b[p + 3];
    // Type II/III carry the mirrored frame's VLAN (12 bits after the version); Suricata records it as a VLAN layer.
    const vid = ((b[p] << 8) | b[p + 1]) & 0x0fff;
    if (proto === EtherType.ERSPAN2 && vid !== 0) {
      if (pkt.vlanCount === 0) pkt.vlan0 = vid;
      else if (pkt.vlanCount === 1) pkt.vlan1 = vid;
      else return !this.invalid(pkt, E_VLAN_TOO_MANY);
      pkt.vlanCount++;
    }
    let hlen = need;
    if (proto === EtherType.ERSPAN3 && (b[p + 11] & 1) !== 0) hlen += 8;
    if (end - p < hlen) return !this.invalid(pkt, E_ERSPAN_SMALL);
    // Suricata's GRE hands the ERSPAN header on as the tunnel packet: flow bytes count it too
    this.enterTunnel(pkt, TunnelKind.GRE, session, p, end);
    return this.ethernet(pkt, b, p + hlen, end);
  }

  /**
   * Teredo (RFC 4380 §5.1): IPv6 carried directly in a UDP payload, maybe
   * after an 8-byte origin indication (0x0000, port, address). Decoded as
   * Suricata's DecodeTeredo does, since nothing marks a datagram as Teredo
   * but its port: only when what follows is an IPv6 header whose payload
   * length ends exactly at the datagram's end, hop limit not 0, and not a
   * hop-by-hop header with under 8 bytes. A datagram starting with the
   * authentication indicator (0x0001, qualification traffic) is left as
   * plain UDP, as Suricata leaves it.
   * Returns -1 when not Teredo (plain UDP), else 0/1 for the inner decode.
   */
  private teredo(pkt: Packet, b: Buffer, off: number, end: number): number {
    const len = end - off;
    if (len < 40) return -1;
    let p = off;
    if (b[p] === 0) {
      if (b[p + 1] !== 0 || len < 48) return -1; // authentication, or not Teredo
      p += 8; // origin indication
    }
    if (b[p] >> 4 !== 6 || b[p + 7] === 0) return -1;
    const plen = (b[p + 4] << 8) | b[p + 5];
    if (b[p + 6] === 0 && plen < 8) return -1;
    if (end - p !== 40 + plen) return -1;
    if (!this.layer(pkt)) return -1;
    this.c[C.TEREDO]++;
    this.enterTunnel(pkt, TunnelKind.TEREDO, 0, p, end);
    return this.ipv6(pkt, b, p, end) ? 1 : 0;
  }

  /**
   * VXLAN (RFC 7348): flags(1, I bit 0x08) reserved(3) VNI(3) reserved(1), then Ethernet.
   * Returns -1 when the datagram is not VXLAN (the caller treats it as plain UDP), else 0/1.
   */
  private vxlan(pkt: Packet, b: Buffer, off: number, end: number): number {
    if (end - off < 8 || (b[off] & 0x08) === 0) return -1;
    if (end - off < 8 + 14) {
      this.event(pkt, E_VXLAN_SMALL);
      return -1;
    }
    if (!this.layer(pkt)) return -1; // past maxLayers: the outer datagram stands, like GRE
    this.c[C.VXLAN]++;
    this.enterTunnel(pkt, TunnelKind.VXLAN, (b[off + 4] << 16) | (b[off + 5] << 8) | b[off + 6], off + 8, end);
    return this.ethernet(pkt, b, off + 8, end) ? 1 : 0;
  }

  /**
   * Geneve (RFC 8926): ver(2) optlen(6, 4-byte units) O C rsvd(6) protocol(2) VNI(3) rsvd(1), options.
   * Returns -1 when not Geneve (version other than 0): plain UDP.
   */
  private geneve(pkt: Packet, b: Buffer, off: number, end: number): number {
    if (end - off < 8 || b[off] >> 6 !== 0) return -1;
    const hlen = 8 + ((b[off] & 0x3f) << 2);
    if (end - off < hlen) {
      this.event(pkt, E_GENEVE_SMALL);
      return -1;
    }
    if (!this.layer(pkt)) return -1;
    const proto = (b[off + 2] << 8) | b[off + 3];
    const vni = (b[off + 4] << 16) | (b[off + 5] << 8) | b[off + 6];
    const p = off + hlen;
    switch (proto) {
      case EtherType.TEB:
        this.c[C.GENEVE]++;
        this.enterTunnel(pkt, TunnelKind.GENEVE, vni, p, end);
        return this.ethernet(pkt, b, p, end) ? 1 : 0;
      case EtherType.IPV4:
        this.c[C.GENEVE]++;
        this.enterTunnel(pkt, TunnelKind.GENEVE, vni, p, end);
        return this.ipv4(pkt, b, p, end) ? 1 : 0;
      case EtherType.IPV6:
        this.c[C.GENEVE]++;
        this.enterTunnel(pkt, TunnelKind.GENEVE, vni, p, end);
        return this.ipv6(pkt, b, p, end) ? 1 : 0;
      default:
        this.event(pkt, E_GENEVE_TYPE);
        return -1;
    }
  }
}
