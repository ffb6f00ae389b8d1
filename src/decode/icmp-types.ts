/**
 * ICMPv4 and ICMPv6 type/code tables (IANA registries), for the
 * unknown_type / unknown_code / unassigned_type events and for knowing which
 * messages embed the offending datagram (errors) or carry an echo id/seq.
 *
 * Tables are typed arrays indexed by type: one load per packet.
 */

/** Highest valid code per ICMPv4 type; -1 unknown type, 255 any code. */
export const ICMP4_MAX_CODE = (() => {
  const t = new Int16Array(256).fill(-1);
  t[0] = 0; // echo reply
  t[3] = 15; // destination unreachable
  t[4] = 0; // source quench (deprecated, still seen)
  t[5] = 3; // redirect
  t[8] = 0; // echo request
  t[9] = 16; // router advertisement (0 or 16)
  t[10] = 0; // router solicitation
  t[11] = 1; // time exceeded
  t[12] = 2; // parameter problem
  t[13] = 0; // timestamp
  t[14] = 0; // timestamp reply
  t[15] = 0; // information request
  t[16] = 0; // information reply
  t[17] = 0; // address mask request
  t[18] = 0; // address mask reply
  t[30] = 255; // traceroute (RFC 1393)
  t[40] = 5; // photuris
  t[42] = 0; // extended echo request
  t[43] = 4; // extended echo reply
  return t;
})();

/** ICMPv4 types that embed the original datagram's header and first 8 bytes. */
export function icmp4IsError(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/** ICMPv4 types whose bytes 4..7 are an identifier and a sequence number. */
export function icmp4HasIdSeq(type: number): boolean {
  return type === 0 || type === 8 || (type >= 13 && type <= 18) || type === 42 || type === 43;
}

/**
 * ICMPv6 classes: highest code per type, or one of the negative markers
 * (unknown / unassigned / experimentation) Suricata distinguishes.
 */
export const ICMP6_UNKNOWN = -1;
export const ICMP6_UNASSIGNED = -2;
export const ICMP6_EXPERIMENT = -3;

export const ICMP6_MAX_CODE = (() => {
  const t = new Int16Array(256).fill(ICMP6_UNASSIGNED);
  t[0] = ICMP6_UNKNOWN; // reserved
  t[127] = ICMP6_UNKNOWN; // reserved for expansion of error messages
  t[255] = ICMP6_UNKNOWN; // reserved for expansion of informational messages
  t[100] = t[101] = t[200] = t[201] = ICMP6_EXPERIMENT; // private experimentation
  t[1] = 8; // destination unreachable
  t[2] = 0; // packet too big
  t[3] = 1; // time exceeded
  t[4] = 10; // parameter problem
  t[128] = 0; // echo request
  t[129] = 0; // echo reply
  t[130] = t[131] = t[132] = 0; // MLD query / report / done
  for (let i = 133; i <= 137; i++) t[i] = 0; // neighbour discovery
  t[138] = 255; // router renumbering (0, 1, 255)
  t[139] = t[140] = 2; // node information
  t[141] = t[142] = 0; // inverse ND
  t[143] = 0; // MLDv2 report
  for (let i = 144; i <= 149; i++) t[i] = 0; // mobile IPv6, SEND
  t[150] = 255; // seamoby experimental
  for (let i = 151; i <= 153; i++) t[i] = 0; // multicast router discovery
  t[154] = 255; // FMIPv6
  t[155] = 255; // RPL control
  t[156] = 255; // ILNPv6 locator update
  t[157] = t[158] = 255; // duplicate address request / confirmation
  t[159] = 255; // MPL control
  t[160] = 0; // extended echo request
  t[161] = 4; // extended echo reply
  return t;
})();

/** MLD messages: must be sent with hop limit 1 (RFC 2710 §3, RFC 3810 §5). */
export function icmp6IsMld(type: number): boolean {
  return type === 130 || type === 131 || type === 132 || type === 143;
}

/** ICMPv6 error messages (types 1..4) embed as much of the original datagram as fits. */
export function icmp6IsError(type: number): boolean {
  return type >= 1 && type <= 4;
}
