/**
 * Decoder events: named, counted anomalies found while decoding a packet.
 *
 * Names follow Suricata's dotted scheme (`decoder.ipv4.trunc_pkt`) so that
 * Suricata's `decode-events.rules` (`decode-event:ipv4.trunc_pkt`) and
 * dashboards keyed on those names keep working. Each name has a stable
 * numeric id (its index in DECODER_EVENT_NAMES); a packet records the ids it
 * raised in `Packet.events`, and the stats counter for each id counts them.
 *
 * Add a new event by appending its name to the list (never reorder: ids are
 * positions and tests and stats refer to them by name, not number).
 */
export const DECODER_EVENT_NAMES = [
  // capture / link layer
  'decoder.ethernet.pkt_too_small',
  'decoder.vlan.header_too_small',
  'decoder.vlan.unknown_type',
  'decoder.vlan.too_many_layers',
  'decoder.sll.pkt_too_small',
  'decoder.sll2.pkt_too_small',
  'decoder.null.pkt_too_small',
  'decoder.null.unsupported_type',
  'decoder.ppp.pkt_too_small',
  'decoder.ppp.unsup_proto',
  'decoder.ltnull.pkt_too_small',
  'decoder.unknown_ethertype',
  // IPv4
  'decoder.ipv4.pkt_too_small',
  'decoder.ipv4.hlen_too_small',
  'decoder.ipv4.iplen_smaller_than_hlen',
  'decoder.ipv4.trunc_pkt',
  'decoder.ipv4.wrong_ip_version',
  'decoder.ipv4.opt_invalid',
  'decoder.ipv4.opt_invalid_len',
  'decoder.ipv4.opt_malformed',
  'decoder.ipv4.opt_pad_required',
  'decoder.ipv4.opt_eol_required',
  'decoder.ipv4.opt_duplicate',
  'decoder.ipv4.opt_unknown',
  'decoder.ipv4.frag_pkt_too_large',
  'decoder.ipv4.frag_overlap',
  'decoder.ipv4.frag_ignored',
  'decoder.ipv4.csum_invalid',
  'decoder.ipv4.ipv6_in_ipv4_too_small',
  'decoder.ipv4.ipv6_in_ipv4_wrong_version',
  // IPv6
  'decoder.ipv6.pkt_too_small',
  'decoder.ipv6.trunc_pkt',
  'decoder.ipv6.trunc_exthdr',
  'decoder.ipv6.exthdr_dupl_fh',
  'decoder.ipv6.exthdr_useless_fh',
  'decoder.ipv6.exthdr_dupl_rh',
  'decoder.ipv6.exthdr_dupl_hh',
  'decoder.ipv6.exthdr_dupl_dh',
  'decoder.ipv6.exthdr_dupl_ah',
  'decoder.ipv6.exthdr_dupl_eh',
  'decoder.ipv6.exthdr_invalid_optlen',
  'decoder.ipv6.wrong_ip_version',
  'decoder.ipv6.exthdr_ah_res_not_null',
  'decoder.ipv6.hopopts_unknown_opt',
  'decoder.ipv6.hopopts_only_padding',
  'decoder.ipv6.dstopts_unknown_opt',
  'decoder.ipv6.dstopts_only_padding',
  'decoder.ipv6.rh_type_0',
  'decoder.ipv6.zero_len_padn',
  'decoder.ipv6.fh_non_zero_reserved_field',
  'decoder.ipv6.data_after_none_header',
  'decoder.ipv6.unknown_next_header',
  'decoder.ipv6.icmpv4',
  'decoder.ipv6.frag_pkt_too_large',
  'decoder.ipv6.frag_overlap',
  'decoder.ipv6.frag_invalid_length',
  'decoder.ipv6.frag_ignored',
  'decoder.ipv6.ipv4_in_ipv6_too_small',
  'decoder.ipv6.ipv4_in_ipv6_wrong_version',
  'decoder.ipv6.ipv6_in_ipv6_too_small',
  'decoder.ipv6.ipv6_in_ipv6_wrong_version',
  // TCP
  'decoder.tcp.pkt_too_small',
  'decoder.tcp.hlen_too_small',
  'decoder.tcp.invalid_optlen',
  'decoder.tcp.opt_invalid_len',
  'decoder.tcp.opt_duplicate',
  'decoder.tcp.csum_invalid',
  // UDP
  'decoder.udp.pkt_too_small',
  'decoder.udp.hlen_too_small',
  'decoder.udp.hlen_invalid',
  'decoder.udp.len_invalid',
  'decoder.udp.csum_invalid',
  // ICMP
  'decoder.icmpv4.pkt_too_small',
  'decoder.icmpv4.unknown_type',
  'decoder.icmpv4.unknown_code',
  'decoder.icmpv4.ipv4_trunc_pkt',
  'decoder.icmpv4.ipv4_unknown_ver',
  'decoder.icmpv4.csum_invalid',
  'decoder.icmpv6.unknown_type',
  'decoder.icmpv6.unknown_code',
  'decoder.icmpv6.pkt_too_small',
  'decoder.icmpv6.ipv6_unknown_version',
  'decoder.icmpv6.ipv6_trunc_pkt',
  'decoder.icmpv6.mld_message_with_invalid_hl',
  'decoder.icmpv6.unassigned_type',
  'decoder.icmpv6.experimentation_type',
  'decoder.icmpv6.csum_invalid',
  // GRE and the Kubernetes overlays
  'decoder.gre.pkt_too_small',
  'decoder.gre.wrong_version',
  'decoder.gre.version0_recur',
  'decoder.gre.version0_flags',
  'decoder.gre.version0_hdr_too_big',
  'decoder.gre.version0_malformed_sre_hdr',
  'decoder.gre.version1_chksum',
  'decoder.gre.version1_route',
  'decoder.gre.version1_ssr',
  'decoder.gre.version1_recur',
  'decoder.gre.version1_flags',
  'decoder.gre.version1_no_key',
  'decoder.gre.version1_wrong_protocol',
  'decoder.gre.version1_malformed_sre_hdr',
  'decoder.gre.version1_hdr_too_big',
  'decoder.vxlan.unknown_payload_type',
  'decoder.vxlan.pkt_too_small',
  'decoder.geneve.unknown_payload_type',
  'decoder.geneve.pkt_too_small',
  'decoder.ipip.pkt_too_small',
  // general
  'decoder.too_many_layers',
  'decoder.unsupported_proto',
  // appended for the decoder of issue 2 (Suricata's names)
  'decoder.ipv4.icmpv6',
  'decoder.ipraw.invalid_ip_version',
  'decoder.ltnull.unsupported_type',
  'decoder.ppp.ip4_pkt_too_small',
  'decoder.ppp.ip6_pkt_too_small',
  'decoder.ppp.wrong_type',
  'decoder.erspan.header_too_small',
  'decoder.erspan.unsupported_version',
  'decoder.pppoe.pkt_too_small',
  'decoder.pppoe.wrong_code',
  'decoder.mpls.header_too_small',
  'decoder.mpls.unknown_payload_type',
  // appended for Suricata's decoder-events.rules (every name it uses loads; ids stay put)
  'decoder.dce.pkt_too_small',
  'decoder.vntag.header_too_small',
  'decoder.vntag.unknown_type',
  'decoder.nsh.header_too_small',
  'decoder.nsh.unsupported_version',
  'decoder.nsh.bad_header_length',
  'decoder.nsh.reserved_type',
  'decoder.nsh.unsupported_type',
  'decoder.nsh.unknown_payload',
  'decoder.ethernet.unknown_ethertype',
  'decoder.ipv4.unknown_protocol',
  'decoder.afpacket.trunc_pkt',
  'decoder.chdlc.pkt_too_small',
  'decoder.erspan.too_many_vlan_layers',
  'decoder.etag.header_too_small',
  'decoder.etag.unknown_type',
  'decoder.ieee8021ah.header_too_small',
  'decoder.igmp.malformed',
  'decoder.igmp.pkt_too_small',
  'decoder.igmp.v3_pkt_too_small',
  'decoder.mpls.bad_label_implicit_null',
  'decoder.mpls.bad_label_reserved',
  'decoder.mpls.bad_label_router_alert',
  'decoder.mpls.pkt_too_small',
  'decoder.ppp.vju_pkt_too_small',
  'decoder.pppoe.malformed_tags',
] as const;

export type DecoderEventName = (typeof DECODER_EVENT_NAMES)[number];

/** The most events one packet records; further ones are still counted in stats. */
export const MAX_PACKET_EVENTS = 8;

const ids = new Map<string, number>(DECODER_EVENT_NAMES.map((n, i) => [n, i]));

/** Numeric id of a decoder event name (throws on an unknown name: a programming error). */
export function decoderEventId(name: DecoderEventName): number {
  const id = ids.get(name);
  if (id === undefined) throw new Error(`unknown decoder event ${name}`);
  return id;
}

/** Look an id up by name without throwing (for rule keywords naming events). */
export function findDecoderEvent(name: string): number | undefined {
  return ids.get(name.startsWith('decoder.') ? name : `decoder.${name}`);
}

export const DECODER_EVENT_COUNT = DECODER_EVENT_NAMES.length;
