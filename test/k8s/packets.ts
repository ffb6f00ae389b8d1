/**
 * Hand-built Ethernet/IPv4/TCP/UDP frames for driving the real Pipeline in
 * identity tests (checksums are left zero: the pipeline does not validate
 * them by default). A TCP conversation is a full handshake, the payloads in
 * order, and a FIN exchange, so the reassembler and app layer see a normal
 * session and the flow ends with a flow record.
 */
import type { Pipeline } from '../../src/sensor/pipeline.js';

function ip4(s: string): Buffer {
  return Buffer.from(s.split('.').map(Number));
}

function eth(payload: Buffer): Buffer {
  const h = Buffer.alloc(14);
  h.writeUIntBE(0x020000000001, 0, 6);
  h.writeUIntBE(0x020000000002, 6, 6);
  h.writeUInt16BE(0x0800, 12);
  return Buffer.concat([h, payload]);
}

function ipv4(proto: number, src: string, dst: string, l4: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + l4.length, 2);
  h.writeUInt16BE(0x4000, 6); // DF
  h[8] = 64;
  h[9] = proto;
  ip4(src).copy(h, 12);
  ip4(dst).copy(h, 16);
  return Buffer.concat([h, l4]);
}

export function udpFrame(src: string, sport: number, dst: string, dport: number, payload: Buffer): Buffer {
  const u = Buffer.alloc(8);
  u.writeUInt16BE(sport, 0);
  u.writeUInt16BE(dport, 2);
  u.writeUInt16BE(8 + payload.length, 4);
  return eth(ipv4(17, src, dst, Buffer.concat([u, payload])));
}

const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x08;
const FIN = 0x01;

function tcpFrame(src: string, sport: number, dst: string, dport: number, seq: number, ack: number, flags: number, payload: Buffer): Buffer {
  const t = Buffer.alloc(20);
  t.writeUInt16BE(sport, 0);
  t.writeUInt16BE(dport, 2);
  t.writeUInt32BE(seq >>> 0, 4);
  t.writeUInt32BE(ack >>> 0, 8);
  t[12] = 5 << 4;
  t[13] = flags;
  t.writeUInt16BE(65535, 14);
  return eth(ipv4(6, src, dst, Buffer.concat([t, payload])));
}

export interface TimedFrame {
  frame: Buffer;
  t: number;
}

/** A complete TCP session from client to server starting at `t` (seconds): handshake, request, response, FIN/ACKs. */
export function tcpSession(client: string, cport: number, server: string, sport: number, t: number, request: Buffer | string = Buffer.alloc(0), response: Buffer | string = Buffer.alloc(0)): TimedFrame[] {
  const req = typeof request === 'string' ? Buffer.from(request, 'latin1') : request;
  const res = typeof response === 'string' ? Buffer.from(response, 'latin1') : response;
  let cs = 1000;
  let ss = 5000;
  const out: TimedFrame[] = [];
  let dt = 0;
  const push = (f: Buffer): void => {
    out.push({ frame: f, t: t + dt });
    dt += 0.001;
  };
  push(tcpFrame(client, cport, server, sport, cs, 0, SYN, Buffer.alloc(0)));
  cs++;
  push(tcpFrame(server, sport, client, cport, ss, cs, SYN | ACK, Buffer.alloc(0)));
  ss++;
  push(tcpFrame(client, cport, server, sport, cs, ss, ACK, Buffer.alloc(0)));
  if (req.length > 0) {
    push(tcpFrame(client, cport, server, sport, cs, ss, PSH | ACK, req));
    cs += req.length;
    push(tcpFrame(server, sport, client, cport, ss, cs, ACK, Buffer.alloc(0)));
  }
  if (res.length > 0) {
    push(tcpFrame(server, sport, client, cport, ss, cs, PSH | ACK, res));
    ss += res.length;
    push(tcpFrame(client, cport, server, sport, cs, ss, ACK, Buffer.alloc(0)));
  }
  push(tcpFrame(client, cport, server, sport, cs, ss, FIN | ACK, Buffer.alloc(0)));
  cs++;
  push(tcpFrame(server, sport, client, cport, ss, cs, FIN | ACK, Buffer.alloc(0)));
  ss++;
  push(tcpFrame(client, cport, server, sport, cs, ss, ACK, Buffer.alloc(0)));
  return out;
}

/** Feeds frames (any order given; sorted by time) into a pipeline as a capture would. */
export function feed(p: Pipeline, frames: TimedFrame[]): void {
  const sorted = [...frames].sort((a, b) => a.t - b.t);
  for (const { frame, t } of sorted) {
    const sec = Math.floor(t);
    const nsec = Math.round((t - sec) * 1e9);
    p.frame(frame, 0, frame.length, frame.length, sec, nsec, 1, 0);
  }
}

/** A minimal TLS ClientHello record carrying `sni`. */
export function clientHello(sni: string): Buffer {
  const name = Buffer.from(sni, 'ascii');
  const sniList = Buffer.alloc(5 + name.length);
  sniList.writeUInt16BE(3 + name.length, 0);
  sniList[2] = 0;
  sniList.writeUInt16BE(name.length, 3);
  name.copy(sniList, 5);
  const ext = Buffer.alloc(4);
  ext.writeUInt16BE(0, 0);
  ext.writeUInt16BE(sniList.length, 2);
  const exts = Buffer.concat([ext, sniList]);
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]),
    Buffer.alloc(32, 7), // random
    Buffer.from([0]), // session id
    Buffer.from([0x00, 0x02, 0x13, 0x01]), // cipher suites
    Buffer.from([0x01, 0x00]), // compression
    Buffer.from([exts.length >> 8, exts.length & 0xff]),
    exts,
  ]);
  const hs = Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01, hs.length >> 8, hs.length & 0xff]), hs]);
}
