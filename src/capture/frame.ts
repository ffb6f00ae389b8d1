/**
 * What a capture reader hands to the pipeline for each record.
 *
 * Readers are push-based: they are fed bytes (from a file or a pipe) and call
 * `FrameSink.frame` synchronously for every complete record, passing the
 * buffer and an offset rather than a sliced copy, so reading costs no
 * allocation per packet. The sink must not keep `data` beyond the call unless
 * it copies the bytes: the reader may reuse or drop the chunk afterwards.
 */
export interface FrameSink {
  frame(
    data: Buffer,
    off: number,
    capLen: number,
    origLen: number,
    tsSec: number,
    tsNsec: number,
    linkType: number,
    ifIndex: number,
  ): void;
}

/** LINKTYPE_* values (tcpdump.org link-layer header types). */
export const enum LinkType {
  NULL = 0, // BSD loopback: 4-byte host-order address family
  ETHERNET = 1,
  PPP = 9,
  RAW = 101, // raw IPv4/IPv6, version from the first nibble
  PPP_HDLC = 50,
  LOOP = 108, // OpenBSD loopback: 4-byte network-order address family
  LINUX_SLL = 113,
  IPV4 = 228,
  IPV6 = 229,
  LINUX_SLL2 = 276,
}

/** Link types the decoder handles; any other is refused with a clear message. */
export const SUPPORTED_LINK_TYPES: ReadonlySet<number> = new Set([
  LinkType.NULL,
  LinkType.ETHERNET,
  LinkType.PPP,
  LinkType.PPP_HDLC,
  LinkType.RAW,
  LinkType.LOOP,
  LinkType.LINUX_SLL,
  LinkType.IPV4,
  LinkType.IPV6,
  LinkType.LINUX_SLL2,
  12, // LINKTYPE_RAW on OpenBSD (DLT 12/14 in some writers): raw IP
  14,
]);

/** Human names for link types, used in messages refusing a capture. */
export const LINK_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'NULL (BSD loopback)',
  1: 'ETHERNET',
  9: 'PPP',
  50: 'PPP_HDLC',
  101: 'RAW',
  105: 'IEEE802_11 (802.11 Wi-Fi)',
  108: 'LOOP',
  113: 'LINUX_SLL',
  119: 'IEEE802_11_PRISM',
  127: 'IEEE802_11_RADIOTAP (radiotap 802.11)',
  163: 'IEEE802_11_AVS',
  192: 'PPI',
  195: 'IEEE802_15_4',
  201: 'BLUETOOTH_HCI_H4_WITH_PHDR',
  220: 'USB_LINUX_MMAPPED',
  228: 'IPV4',
  229: 'IPV6',
  249: 'USBPCAP',
  276: 'LINUX_SLL2',
};

export function linkTypeName(lt: number): string {
  return LINK_TYPE_NAMES[lt] ?? `link type ${lt}`;
}
