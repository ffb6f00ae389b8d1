/**
 * BitTorrent recognition.
 *  - `bittorrent` over TCP: the peer handshake (BEP 3), both peers open
 *    with byte 19 and "BitTorrent protocol".
 *  - `bittorrent` over UDP: Local Service Discovery (BEP 14)
 *    `BT-SEARCH * HTTP/1.1`, and uTP control packets (BEP 29).
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

/**
 * One datagram: LSD search, or a uTP control packet (BEP 29): version 1 with
 * type ST_FIN/ST_STATE/ST_RESET/ST_SYN (1–4), no extension and no payload,
 * i.e. exactly the 20-byte header. Data packets (type 0) carry arbitrary
 * payload after a 20-byte header and are too weak a sign alone.
 */
export function probeBittorrentUdp(_dir: Direction, b: Buffer, off: number, len: number): Probe {
  const end = off + len;
  if (bytesAt(b, off, end, 'BT-SEARCH * HTTP/1.1\r\n')) return Probe.YES;
  const t = b[off]!;
  if (len === 20 && (t & 0x0f) === 1 && t >= 0x11 && t <= 0x41 && b[off + 1] === 0) return Probe.YES;
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
