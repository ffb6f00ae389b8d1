/**
 * Packet and flow checks (PacketCheck of the AST) compiled to predicates.
 *
 * A check either needs the packet (dsize, ttl, flags, …: the rule is then
 * inspected on packets only, never on stream data, as Suricata's
 * SIG_FLAG_REQUIRE_PACKET) or only the flow (app-layer-protocol,
 * stream_size), which also holds on stream and transaction inspection.
 */
import type { Packet } from '../../decode/packet.js';
import type { Flow } from '../../flow/flow.js';
import type { IntCompare, PacketCheck } from '../rules/ast.js';
import { appProtoMatches } from './buffers.js';
import { findDecoderEvent } from '../../decode/events.js';

export type CheckFn = (pkt: Packet | null, flow: Flow | null, dir: 0 | 1) => boolean;

export interface CompiledCheck {
  fn: CheckFn;
  /** Needs the packet's header fields. */
  needsPacket: boolean;
}

export function intCmp(c: IntCompare, v: number): boolean {
  switch (c.op) {
    case '=': return v === c.value;
    case '!=': return v !== c.value;
    case '<': return v < c.value;
    case '<=': return v <= c.value;
    case '>': return v > c.value;
    case '>=': return v >= c.value;
    case '<>': return v > c.value && v < (c.hi ?? c.value);
    case '-': return v >= c.value && v <= (c.hi ?? c.value);
  }
}

function bitsMode(mode: 'exact' | '+' | '*' | '!', have: number, bits: number): boolean {
  switch (mode) {
    case 'exact': return have === bits;
    case '+': return (have & bits) === bits;
    case '*': return bits === 0 ? have === 0 : (have & bits) !== 0;
    case '!': return (have & bits) === 0;
  }
}

/** IPv4 option bits as decode/ipv4.ts records them (bit = option type number & 31). */
const IPOPT_TYPES: Record<string, number> = { eol: 0, nop: 1, rr: 7, ts: 68, sec: 130, esec: 133, lsrr: 131, ssrr: 137, satid: 136 };

const pktOnly = (fn: (p: Packet, f: Flow | null, d: 0 | 1) => boolean): CompiledCheck => ({
  fn: (p, f, d) => p !== null && fn(p, f, d),
  needsPacket: true,
});
const flowOnly = (fn: (f: Flow | null, d: 0 | 1) => boolean): CompiledCheck => ({ fn: (_p, f, d) => fn(f, d), needsPacket: false });

/** Compile one check; throws an Error with the reason when the engine cannot evaluate it. */
export function compileCheck(c: PacketCheck): CompiledCheck {
  switch (c.kind) {
    // Suricata gives `dsize:!N` its payload requirement (the signature mask), so
    // a packet without payload never matches it; `<` and `<=` do match empty packets.
    case 'dsize': return c.cmp.op === '!=' ? pktOnly((p) => p.payloadLen > 0 && p.payloadLen !== c.cmp.value) : pktOnly((p) => intCmp(c.cmp, p.payloadLen));
    case 'ttl': return pktOnly((p) => p.ipVersion !== 0 && intCmp(c.cmp, p.ttl));
    case 'tos': return pktOnly((p) => intCmp(c.cmp, p.tos) !== c.negated);
    case 'id': return pktOnly((p) => p.ipVersion === 4 && p.ipId === c.value);
    case 'ip_proto': return pktOnly((p) => intCmp(c.cmp, p.proto));
    case 'window': return pktOnly((p) => p.proto === 6 && (p.tcpWin === c.value) !== c.negated);
    case 'seq': return pktOnly((p) => p.proto === 6 && p.tcpSeq >>> 0 === c.value >>> 0);
    case 'ack': return pktOnly((p) => p.proto === 6 && p.tcpAck >>> 0 === c.value >>> 0);
    case 'flags': {
      const keep = ~c.ignore & 0xff;
      return pktOnly((p) => p.proto === 6 && bitsMode(c.mode, p.tcpFlags & keep, c.bits & keep));
    }
    case 'itype': return pktOnly((p) => p.icmpType >= 0 && intCmp(c.cmp, p.icmpType));
    case 'icode': return pktOnly((p) => p.icmpCode >= 0 && intCmp(c.cmp, p.icmpCode));
    case 'icmp_id': return pktOnly((p) => p.icmpId >= 0 && p.icmpId === c.value);
    case 'icmp_seq': return pktOnly((p) => p.icmpSeq >= 0 && p.icmpSeq === c.value);
    case 'sameip':
      return pktOnly((p) => (p.ipVersion === 4 ? p.src4 === p.dst4 : p.ipVersion === 6 && p.src6.every((w, i) => w === p.dst6[i])));
    case 'ipopts': {
      if (c.option === 'any') return pktOnly((p) => p.ipVersion === 4 && p.ipOpts !== 0);
      const t = IPOPT_TYPES[c.option];
      if (t === undefined) throw new Error(`ipopts: unknown option ${c.option}`);
      const bit = 1 << (t & 31);
      return pktOnly((p) => p.ipVersion === 4 && (p.ipOpts & bit) !== 0);
    }
    case 'fragbits': {
      // Rule bits: M=1, D=2, R=4 (front end); header bits: R 0x8000, D 0x4000, M 0x2000.
      return pktOnly((p) => {
        if (p.ipVersion !== 4) return false;
        const fb = p.fragBits;
        const have = ((fb & 0x2000) !== 0 ? 1 : 0) | ((fb & 0x4000) !== 0 ? 2 : 0) | ((fb & 0x8000) !== 0 ? 4 : 0);
        return bitsMode(c.mode, have, c.bits);
      });
    }
    case 'fragoffset': return pktOnly((p) => p.ipVersion === 4 && intCmp(c.cmp, (p.fragBits & 0x1fff) * 8) !== c.negated);
    case 'stream_size':
      return flowOnly((f, d) => {
        if (f === null || f.proto !== 6) return false;
        // Bytes sent by each side so far (frame bytes stand in for stream bytes; Suricata counts sequence space).
        const client = f.bytesToServer;
        const server = f.bytesToClient;
        void d;
        switch (c.side) {
          case 'client': return intCmp(c.cmp, client);
          case 'server': return intCmp(c.cmp, server);
          case 'both': return intCmp(c.cmp, client) && intCmp(c.cmp, server);
          case 'either': return intCmp(c.cmp, client) || intCmp(c.cmp, server);
        }
      });
    case 'app_layer_protocol': {
      const name = c.proto;
      return flowOnly((f) => {
        const ap = f?.appProto ?? null;
        // As Suricata: until the protocol is known no protocol test matches, negated ones included
        // (`app-layer-protocol:!http` must not fire on the handshake of an HTTP flow).
        if (ap === null && name !== 'unknown') return false;
        let r: boolean;
        if (name === 'unknown') r = ap === null;
        else if (name === 'failed') r = ap === 'failed';
        else r = appProtoMatches(name, ap);
        return r !== c.negated;
      });
    }
    case 'decode_event': {
      // Suricata's decode-event: the decoder raised the named event on this packet (ids: decode/events.ts).
      const id = findDecoderEvent(c.event);
      if (id === undefined) throw new Error(`decode-event: unknown decoder event "${c.event}"`);
      return pktOnly((p) => {
        const ev = p.events;
        for (let i = 0; i < p.eventCount; i++) if (ev[i] === id) return true;
        return false;
      });
    }
    case 'icmpv6_mtu':
      // The MTU field (bytes 4-7) of an ICMPv6 Packet Too Big (type 2, code 0), as Suricata's icmpv6.mtu.
      return pktOnly((p) => {
        if (p.ipVersion !== 6 || p.proto !== 58 || p.icmpType !== 2 || p.icmpCode !== 0 || p.l4HdrLen !== 8) return false;
        const b = p.data;
        const o = p.l4Off + 4;
        return intCmp(c.cmp, ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0);
      });
    case 'ignored': return flowOnly(() => true);
    default:
      throw new Error(`${c.kind} is not supported by the engine`);
  }
}
