/**
 * Builders of decoded Packets for flow and stream unit tests: the fields the
 * decoder would set, filled in directly (no frame bytes beyond the payload,
 * which sits after a fake header so offsets are exercised).
 */
import { Packet } from '../../src/decode/packet.js';

export const HDR = 54; // bytes of fake link+IP+TCP header before the payload

export interface PktSpec {
  v6?: boolean;
  src?: number;
  dst?: number;
  src6?: number[];
  dst6?: number[];
  proto?: number;
  sport?: number;
  dport?: number;
  flags?: number;
  seq?: number;
  ack?: number;
  payload?: Buffer | string;
  ts?: number;
  vlan0?: number;
  vlan1?: number;
  tunnel?: number;
  tunnelId?: number;
  icmpType?: number;
  icmpId?: number;
  inner?: { src: number; dst: number; proto: number; sport: number; dport: number };
}

export const A = 0x0a000001; // 10.0.0.1
export const B = 0x0a000002; // 10.0.0.2
export const C = 0x0a000003;

export const F = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

export function mkPacket(s: PktSpec, into?: Packet): Packet {
  const p = into ?? new Packet();
  p.reset();
  const payload = typeof s.payload === 'string' ? Buffer.from(s.payload, 'latin1') : (s.payload ?? Buffer.alloc(0));
  const data = Buffer.alloc(HDR + payload.length, 0xee);
  payload.copy(data, HDR);
  p.data = data;
  p.frameOff = 0;
  p.capLen = data.length;
  p.origLen = data.length;
  const ts = s.ts ?? 1000;
  p.tsSec = Math.floor(ts);
  p.tsNsec = Math.round((ts - Math.floor(ts)) * 1e9);
  p.ipVersion = s.v6 ? 6 : 4;
  if (s.v6) {
    p.src6.set(s.src6 ?? [0x20010db8, 0, 0, 1]);
    p.dst6.set(s.dst6 ?? [0x20010db8, 0, 0, 2]);
  } else {
    p.src4 = s.src ?? A;
    p.dst4 = s.dst ?? B;
  }
  p.proto = s.proto ?? 6;
  p.sport = s.sport ?? 40000;
  p.dport = s.dport ?? 80;
  p.tcpFlags = s.flags ?? (p.proto === 6 ? F.ACK : 0);
  p.tcpSeq = (s.seq ?? 0) >>> 0;
  p.tcpAck = (s.ack ?? 0) >>> 0;
  p.payloadOff = HDR;
  p.payloadLen = payload.length;
  p.l3Len = 40 + payload.length;
  p.vlan0 = s.vlan0 ?? 0;
  p.vlan1 = s.vlan1 ?? 0;
  p.vlanCount = (p.vlan0 ? 1 : 0) + (p.vlan1 ? 1 : 0);
  p.tunnel = s.tunnel ?? 0;
  p.tunnelId = s.tunnelId ?? 0;
  if (s.icmpType !== undefined) {
    p.icmpType = s.icmpType;
    p.icmpCode = 0;
    p.icmpId = s.icmpId ?? -1;
    p.sport = 0;
    p.dport = 0;
  }
  if (s.inner) {
    p.icmpInnerValid = true;
    p.icmpInnerIpVersion = 4;
    p.icmpInnerSrc4 = s.inner.src;
    p.icmpInnerDst4 = s.inner.dst;
    p.icmpInnerProto = s.inner.proto;
    p.icmpInnerSport = s.inner.sport;
    p.icmpInnerDport = s.inner.dport;
  }
  return p;
}
