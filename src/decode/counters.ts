/**
 * Decoder statistics: fixed counter ids over one Float64Array.
 *
 * The decoder bumps `c[id]++` per packet and layer, so the hot path touches
 * no strings and no Map; `counterRecord()` builds the Suricata-style name →
 * value record only when stats are asked for. Float64 rather than Uint32 so
 * byte counters do not wrap after 4 GiB.
 *
 * Decoder events get one counter each, at `EVENT_BASE + eventId`, reported as
 * `decoder.event.<name without "decoder.">` like Suricata's stats.
 */
import { DECODER_EVENT_COUNT, DECODER_EVENT_NAMES } from './events.js';

/**
 * Plain counters, in id order (ids are positions; append only). Meanings that
 * the name does not make obvious:
 *   decoder.bytes          captured bytes (capLen) of all frames;
 *   decoder.invalid        frames where a check stopped the decoding of some layer
 *                          (the layers above it were kept when they were whole);
 *   decoder.ipv4/ipv6      IP headers decoded, outer and inner, reassembled ones included;
 *   decoder.not_ip         frames whose link layer carries no IP (ARP, LLDP, STP, PPP control);
 *   decoder.unknown_ethertype  frames with an EtherType the decoder does not know (also in not_ip);
 *   decoder.max_pkt_size   the largest capLen seen (a maximum, not a count);
 *   defrag.timeouts        datagrams dropped unfinished after `timeout`;
 *   defrag.memcap_drops    fragments refused because the memcap was reached;
 * and, added by Decoder.stats(): defrag.trackers and defrag.memuse (gauges).
 */
export const COUNTER_NAMES = [
  'decoder.pkts',
  'decoder.bytes',
  'decoder.invalid',
  'decoder.ipv4',
  'decoder.ipv6',
  'decoder.ethernet',
  'decoder.vlan',
  'decoder.vlan_qinq',
  'decoder.sll',
  'decoder.sll2',
  'decoder.raw',
  'decoder.null',
  'decoder.ppp',
  'decoder.tcp',
  'decoder.udp',
  'decoder.icmpv4',
  'decoder.icmpv6',
  'decoder.sctp',
  'decoder.gre',
  'decoder.erspan',
  'decoder.vxlan',
  'decoder.geneve',
  'decoder.ipv4_in_ipv4',
  'decoder.ipv6_in_ipv4',
  'decoder.ipv4_in_ipv6',
  'decoder.ipv6_in_ipv6',
  'decoder.arp',
  'decoder.not_ip',
  'decoder.unknown_linktype',
  'decoder.too_many_layers',
  'decoder.max_pkt_size',
  'defrag.ipv4.fragments',
  'defrag.ipv4.reassembled',
  'defrag.ipv6.fragments',
  'defrag.ipv6.reassembled',
  'defrag.timeouts',
  'defrag.max_trackers_reached',
  'defrag.memcap_drops',
  'decoder.pppoe',
  'decoder.mpls',
  'decoder.unknown_ethertype',
  'decoder.vntag',
  'decoder.nsh',
  'decoder.teredo',
] as const;

export type CounterName = (typeof COUNTER_NAMES)[number];

/** Counter ids (positions in COUNTER_NAMES); a const enum so uses inline to numbers. */
export const enum C {
  PKTS,
  BYTES,
  INVALID,
  IPV4,
  IPV6,
  ETHERNET,
  VLAN,
  VLAN_QINQ,
  SLL,
  SLL2,
  RAW,
  NULL,
  PPP,
  TCP,
  UDP,
  ICMPV4,
  ICMPV6,
  SCTP,
  GRE,
  ERSPAN,
  VXLAN,
  GENEVE,
  IPV4_IN_IPV4,
  IPV6_IN_IPV4,
  IPV4_IN_IPV6,
  IPV6_IN_IPV6,
  ARP,
  NOT_IP,
  UNKNOWN_LINKTYPE,
  TOO_MANY_LAYERS,
  MAX_PKT_SIZE,
  DEFRAG4_FRAGMENTS,
  DEFRAG4_REASSEMBLED,
  DEFRAG6_FRAGMENTS,
  DEFRAG6_REASSEMBLED,
  DEFRAG_TIMEOUTS,
  DEFRAG_MAX_TRACKERS,
  DEFRAG_MEMCAP_DROPS,
  PPPOE,
  MPLS,
  UNKNOWN_ETHERTYPE,
  VNTAG,
  NSH,
  TEREDO,
  COUNT,
}

/** Index of the first decoder-event counter. */
export const EVENT_BASE = COUNTER_NAMES.length;
export const TOTAL_COUNTERS = EVENT_BASE + DECODER_EVENT_COUNT;

/** Suricata's stats name for an event counter: decoder.ipv4.trunc_pkt → decoder.event.ipv4.trunc_pkt. */
export function eventStatName(eventName: string): string {
  return 'decoder.event.' + (eventName.startsWith('decoder.') ? eventName.slice(8) : eventName);
}

/**
 * Name → value record of the counters. Plain counters are always present
 * (zeros included, so dashboards see every series); event counters only
 * when non-zero.
 */
export function counterRecord(c: Float64Array): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < COUNTER_NAMES.length; i++) out[COUNTER_NAMES[i]] = c[i];
  for (let i = 0; i < DECODER_EVENT_COUNT; i++) {
    const v = c[EVENT_BASE + i];
    if (v !== 0) out[eventStatName(DECODER_EVENT_NAMES[i])] = v;
  }
  return out;
}
