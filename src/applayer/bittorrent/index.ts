/**
 * BitTorrent recognition.
 *  - `bittorrent` over TCP: the peer handshake (BEP 3), both peers open
 *    with byte 19 and "BitTorrent protocol".
 *  - `bittorrent` over UDP: Local Service Discovery (BEP 14)
 *    `BT-SEARCH * HTTP/1.1`, and a uTP connection's ST_SYN (BEP 29).
 *  - `bittorrent-dht` over UDP (Suricata's name): KRPC messages (BEP 5),
 *    bencoded dictionaries whose sorted keys begin `1:a` (query), `1:r`
 *    (response), `1:e` (error) or `2:ip` (a response carrying the
 *    requester's address), e.g. `d1:ad2:id20:`.
 */
import { Probe, type Direction } from '../parser.js';
import { bytesAt, prefixAt, recogniser } from '../recognition.js';

const HANDSHAKE = '\x13BitTorrent protocol';

export function probeBittorrent(_dir: Direction, b: Buffer, off: number, len: number): Probe {
  const end = off + len;
  if (len < HANDSHAKE.length) return prefixAt(b, off, end, HANDSHAKE) ? Probe.NEED_MORE : Probe.NO;
  return bytesAt(b, off, end, HANDSHAKE) ? Probe.YES : Probe.NO;
}

/** One datagram: LSD search or a uTP SYN (type 4, version 1, header 20 bytes + extensions). */
export function probeBittorrentUdp(dir: Direction, b: Buffer, off: number, len: number): Probe {
  const end = off + len;
  if (bytesAt(b, off, end, 'BT-SEARCH * HTTP/1.1\r\n')) return Probe.YES;
  // uTP ST_SYN opens a connection: no payload, extension 0 (or 1/2 with its block), ack_nr 0.
  if (dir === 0 && b[off] === 0x41 && len >= 20 && b[off + 1]! <= 2 && b.readUInt16BE(off + 18) === 0) {
    return b[off + 1] === 0 ? (len === 20 ? Probe.YES : Probe.NO) : Probe.YES;
  }
  return Probe.NO;
}

export function probeBittorrentDht(_dir: Direction, b: Buffer, off: number, len: number): Probe {
  const end = off + len;
  if (len < 12 || b[off] !== 0x64) return Probe.NO; // 'd'
  if (bytesAt(b, off, end, 'd1:ad2:id20:') || bytesAt(b, off, end, 'd1:rd2:id20:')) return Probe.YES;
  if (bytesAt(b, off, end, 'd1:eli') || bytesAt(b, off, end, 'd2:ip6:') || bytesAt(b, off, end, 'd2:ip18:')) return Probe.YES;
  return Probe.NO;
}

export const bittorrentParser = recogniser('bittorrent', 'tcp', [6881, 6882, 6883, 6884, 6885, 6886, 6887, 6888, 6889, 51413], probeBittorrent);
export const bittorrentUdpParser = recogniser('bittorrent', 'udp', [6771, 6881], probeBittorrentUdp);
export const bittorrentDhtParser = recogniser('bittorrent-dht', 'udp', [6881, 6882, 6883, 6884, 6885, 6886, 6887, 6888, 6889], probeBittorrentDht);
