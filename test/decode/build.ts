/**
 * Hand-built packets for the decoder tests. Checksums are computed here with
 * a deliberately plain implementation (not src/decode/checksum.ts), so a bug
 * there cannot hide itself.
 */
import { DECODER_EVENT_NAMES } from '../../src/decode/events.js';
import { Packet } from '../../src/decode/packet.js';
import type { Decoder } from '../../src/decode/decoder.js';

export function ip4(s: string): number {
  const p = s.split('.').map(Number);
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}

export function ip4Bytes(s: string): Buffer {
  return Buffer.from(s.split('.').map(Number));
}

/** IPv6 text (with ::) to 16 bytes. */
export function ip6Bytes(s: string): Buffer {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, ''];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const words = [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t].map((w) => parseInt(w, 16));
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

export function ip6Words(s: string): number[] {
  const b = ip6Bytes(s);
  return [0, 4, 8, 12].map((i) => b.readUInt32BE(i));
}

/** RFC 1071 checksum, written the slow obvious way. */
export function inetChecksum(...parts: Buffer[]): number {
  const all = Buffer.concat(parts);
  let sum = 0;
  for (let i = 0; i < all.length; i += 2) {
    const hi = all[i];
    const lo = i + 1 < all.length ? all[i + 1] : 0;
    sum += hi * 256 + lo;
    sum = (sum % 65536) + Math.floor(sum / 65536);
  }
  return ~sum & 0xffff;
}

export const MAC_A = Buffer.from('020000000001', 'hex');
export const MAC_B = Buffer.from('020000000002', 'hex');

export function eth(type: number, payload: Buffer, tags: Array<[number, number]> = []): Buffer {
  const parts: Buffer[] = [MAC_B, MAC_A];
  for (const [tpid, vid] of tags) {
    const t = Buffer.alloc(4);
    t.writeUInt16BE(tpid, 0);
    t.writeUInt16BE(vid, 2);
    parts.push(t);
  }
  const ty = Buffer.alloc(2);
  ty.writeUInt16BE(type, 0);
  parts.push(ty, payload);
  return Buffer.concat(parts);
}

export interface Ip4Opts {
  src?: string;
  dst?: string;
  proto: number;
  id?: number;
  ttl?: number;
  /** flags (3 bits, DF=2 MF=1) */
  flags?: number;
  /** fragment offset in bytes (multiple of 8) */
  fragOff?: number;
  options?: Buffer;
  payload: Buffer;
  totalLen?: number;
  badCsum?: boolean;
}

export function ipv4(o: Ip4Opts): Buffer {
  const opts = o.options ?? Buffer.alloc(0);
  const hlen = 20 + opts.length;
  const h = Buffer.alloc(hlen);
  h[0] = 0x40 | (hlen >> 2);
  h.writeUInt16BE(o.totalLen ?? hlen + o.payload.length, 2);
  h.writeUInt16BE(o.id ?? 0x1234, 4);
  h.writeUInt16BE(((o.flags ?? 0) << 13) | ((o.fragOff ?? 0) >> 3), 6);
  h[8] = o.ttl ?? 64;
  h[9] = o.proto;
  ip4Bytes(o.src ?? '10.0.0.1').copy(h, 12);
  ip4Bytes(o.dst ?? '10.0.0.2').copy(h, 16);
  opts.copy(h, 20);
  let cs = inetChecksum(h);
  if (o.badCsum) cs ^= 0x5555;
  h.writeUInt16BE(cs, 10);
  return Buffer.concat([h, o.payload]);
}

export interface Ip6Opts {
  src?: string;
  dst?: string;
  nh: number;
  hlim?: number;
  payload: Buffer;
  payloadLen?: number;
}

export function ipv6(o: Ip6Opts): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000 | 0x12345, 0);
  h.writeUInt16BE(o.payloadLen ?? o.payload.length, 4);
  h[6] = o.nh;
  h[7] = o.hlim ?? 64;
  ip6Bytes(o.src ?? 'fd00::1').copy(h, 8);
  ip6Bytes(o.dst ?? 'fd00::2').copy(h, 24);
  return Buffer.concat([h, o.payload]);
}

function pseudo(v: 4 | 6, src: string, dst: string, proto: number, len: number): Buffer {
  if (v === 4) {
    const p = Buffer.alloc(12);
    ip4Bytes(src).copy(p, 0);
    ip4Bytes(dst).copy(p, 4);
    p[9] = proto;
    p.writeUInt16BE(len, 10);
    return p;
  }
  const p = Buffer.alloc(40);
  ip6Bytes(src).copy(p, 0);
  ip6Bytes(dst).copy(p, 16);
  p.writeUInt32BE(len, 32);
  p[39] = proto;
  return p;
}

export interface L4Addr {
  v?: 4 | 6;
  src?: string;
  dst?: string;
}

function addrs(a: L4Addr): { v: 4 | 6; src: string; dst: string } {
  const v = a.v ?? 4;
  return { v, src: a.src ?? (v === 4 ? '10.0.0.1' : 'fd00::1'), dst: a.dst ?? (v === 4 ? '10.0.0.2' : 'fd00::2') };
}

export interface TcpOpts extends L4Addr {
  sport?: number;
  dport?: number;
  seq?: number;
  ack?: number;
  flags?: number;
  win?: number;
  options?: Buffer;
  payload?: Buffer;
  badCsum?: boolean;
  dataOffset?: number;
}

export function tcp(o: TcpOpts): Buffer {
  const a = addrs(o);
  const opts = o.options ?? Buffer.alloc(0);
  const hlen = 20 + opts.length;
  const h = Buffer.alloc(hlen);
  h.writeUInt16BE(o.sport ?? 40000, 0);
  h.writeUInt16BE(o.dport ?? 80, 2);
  h.writeUInt32BE(o.seq ?? 1000, 4);
  h.writeUInt32BE(o.ack ?? 0, 8);
  h[12] = (o.dataOffset ?? hlen >> 2) << 4;
  h[13] = o.flags ?? 0x02;
  h.writeUInt16BE(o.win ?? 65535, 14);
  opts.copy(h, 20);
  const seg = Buffer.concat([h, o.payload ?? Buffer.alloc(0)]);
  let cs = inetChecksum(pseudo(a.v, a.src, a.dst, 6, seg.length), seg);
  if (o.badCsum) cs ^= 0x1111;
  seg.writeUInt16BE(cs, 16);
  return seg;
}

/**
 * Ethernet frames of a whole IPv4 TCP conversation: handshake, then per
 * round the client's segment and the server's (each acknowledging the
 * other), then FIN from both and the last ACK. Strings are sent as latin1.
 */
export function tcpConversation(client: string, server: string, sport: number, dport: number, toServer: readonly (string | Buffer)[], toClient: readonly (string | Buffer)[] = []): Buffer[] {
  const frames: Buffer[] = [];
  const c = (o: TcpOpts) => eth(0x0800, ipv4({ src: client, dst: server, proto: 6, payload: tcp({ ...o, src: client, dst: server, sport, dport }) }));
  const s = (o: TcpOpts) => eth(0x0800, ipv4({ src: server, dst: client, proto: 6, payload: tcp({ ...o, src: server, dst: client, sport: dport, dport: sport }) }));
  const bytes = (x: string | Buffer): Buffer => (typeof x === 'string' ? Buffer.from(x, 'latin1') : x);
  let cs = 1000;
  let ss = 5000;
  frames.push(c({ seq: cs, flags: 0x02 }));
  frames.push(s({ seq: ss, ack: cs + 1, flags: 0x12 }));
  cs++;
  ss++;
  frames.push(c({ seq: cs, ack: ss, flags: 0x10 }));
  for (let i = 0; i < Math.max(toServer.length, toClient.length); i++) {
    const a = toServer[i];
    if (a !== undefined) {
      const b = bytes(a);
      frames.push(c({ seq: cs, ack: ss, flags: 0x18, payload: b }));
      cs += b.length;
    }
    const r = toClient[i];
    if (r !== undefined) {
      const b = bytes(r);
      frames.push(s({ seq: ss, ack: cs, flags: 0x18, payload: b }));
      ss += b.length;
    }
  }
  frames.push(c({ seq: cs, ack: ss, flags: 0x11 }));
  frames.push(s({ seq: ss, ack: cs + 1, flags: 0x11 }));
  frames.push(c({ seq: cs + 1, ack: ss + 1, flags: 0x10 }));
  return frames;
}

export interface UdpOpts extends L4Addr {
  sport?: number;
  dport?: number;
  payload?: Buffer;
  len?: number;
  badCsum?: boolean;
  noCsum?: boolean;
}

export function udp(o: UdpOpts): Buffer {
  const a = addrs(o);
  const payload = o.payload ?? Buffer.alloc(0);
  const h = Buffer.alloc(8);
  h.writeUInt16BE(o.sport ?? 5353, 0);
  h.writeUInt16BE(o.dport ?? 53, 2);
  h.writeUInt16BE(o.len ?? 8 + payload.length, 4);
  const seg = Buffer.concat([h, payload]);
  if (!o.noCsum) {
    let cs = inetChecksum(pseudo(a.v, a.src, a.dst, 17, seg.length), seg);
    if (cs === 0) cs = 0xffff;
    if (o.badCsum) cs ^= 0x1111;
    seg.writeUInt16BE(cs, 6);
  }
  return seg;
}

export function icmp4(type: number, code: number, rest: Buffer, badCsum = false): Buffer {
  const m = Buffer.concat([Buffer.from([type, code, 0, 0]), rest]);
  let cs = inetChecksum(m);
  if (badCsum) cs ^= 0x0101;
  m.writeUInt16BE(cs, 2);
  return m;
}

export function icmp6(type: number, code: number, rest: Buffer, a: L4Addr = { v: 6 }): Buffer {
  const ad = addrs({ ...a, v: 6 });
  const m = Buffer.concat([Buffer.from([type, code, 0, 0]), rest]);
  m.writeUInt16BE(inetChecksum(pseudo(6, ad.src, ad.dst, 58, m.length), m), 2);
  return m;
}

/** Decode one frame with `dec` into a fresh Packet; returns the packet and decode's result. */
export function decodeFrame(dec: Decoder, frame: Buffer, linkType = 1, tsSec = 1000): { pkt: Packet; ok: boolean } {
  const pkt = new Packet();
  const ok = decodeInto(dec, pkt, frame, linkType, tsSec);
  return { pkt, ok };
}

export function decodeInto(dec: Decoder, pkt: Packet, frame: Buffer, linkType = 1, tsSec = 1000): boolean {
  pkt.load(frame, 0, frame.length, frame.length, tsSec, 0, linkType);
  return dec.decode(pkt);
}

/** Names of the events recorded on the packet. */
export function events(pkt: Packet): string[] {
  return Array.from(pkt.events.subarray(0, pkt.eventCount), (id) => DECODER_EVENT_NAMES[id]);
}

export function ipv4Text(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}
