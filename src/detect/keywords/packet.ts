/**
 * Packet header keywords: checks on IP/TCP/ICMP fields and on the payload
 * size, evaluated per packet without a buffer.
 */
import type { IntCompare } from '../rules/ast.js';
import { fail } from '../rules/errors.js';
import { clip } from '../rules/lexer.js';
import type { KeywordDecl } from './types.js';
import { commaList, expectValue, intCompare, uint } from './types.js';

function cmpKeyword(name: 'dsize' | 'ttl' | 'itype' | 'icode', doc: string, max: number, aliases?: string[]): KeywordDecl {
  return {
    name,
    ...(aliases ? { aliases } : {}),
    value: 'required',
    doc,
    parse(v, b) {
      b.checks.push({ kind: name, cmp: intCompare(v, name, max) });
    },
  };
}

const PROTO_NUMBERS: Record<string, number> = {
  ip: 0, hopopt: 0, icmp: 1, igmp: 2, ggp: 3, ipip: 4, tcp: 6, egp: 8, igp: 9, udp: 17, ipv6: 41, 'ipv6-route': 43, 'ipv6-frag': 44,
  rsvp: 46, gre: 47, esp: 50, ah: 51, 'ipv6-icmp': 58, icmpv6: 58, 'ipv6-nonxt': 59, 'ipv6-opts': 60, eigrp: 88, ospf: 89, pim: 103, vrrp: 112, l2tp: 115, sctp: 132,
};

export const ipProto: KeywordDecl = {
  name: 'ip_proto',
  value: 'required',
  doc: '`[!<>]<number|name>`: IP protocol number',
  parse(v, b) {
    let t = expectValue(v, 'ip_proto').trim();
    let op: IntCompare['op'] = '=';
    if (/^[!<>]/.test(t)) {
      op = t[0] === '!' ? '!=' : (t[0] as '<' | '>');
      t = t.slice(1).trim();
    }
    const num = /^\d+$/.test(t) ? uint(t, 'ip_proto', 0, 255) : PROTO_NUMBERS[t.toLowerCase()];
    if (num === undefined) fail(`ip_proto: unknown protocol "${clip(t)}"`);
    b.checks.push({ kind: 'ip_proto', cmp: { op, value: num } });
  },
};

export const window: KeywordDecl = {
  name: 'window',
  aliases: ['tcp.window'],
  value: 'required',
  doc: '`[!]<n>`: TCP window size',
  parse(v, b) {
    let t = expectValue(v, 'window').trim();
    const negated = t.startsWith('!');
    if (negated) t = t.slice(1);
    b.checks.push({ kind: 'window', value: uint(t, 'window', 0, 65535), negated });
  },
};

function plain(name: 'seq' | 'ack' | 'icmp_id' | 'icmp_seq' | 'id', doc: string, max: number, aliases?: string[]): KeywordDecl {
  return {
    name,
    ...(aliases ? { aliases } : {}),
    value: 'required',
    doc,
    parse(v, b) {
      b.checks.push({ kind: name, value: uint(expectValue(v, name), name, 0, max) });
    },
  };
}

const TCP_FLAG_BITS: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10, U: 0x20, E: 0x40, C: 0x80, '2': 0x40, '1': 0x80 };

function flagBits(s: string, what: string): number {
  let bits = 0;
  for (const ch of s.toUpperCase()) {
    if (ch === '0') continue;
    const bit = TCP_FLAG_BITS[ch];
    if (bit === undefined) fail(`${what}: unknown flag "${ch}"`);
    bits |= bit;
  }
  return bits;
}

export const flags: KeywordDecl = {
  name: 'flags',
  aliases: ['tcp.flags'],
  value: 'required',
  doc: '`[!+*]<FSRPAUCE0>[,<ignore>]`: TCP flags (exact by default; + all of these plus any; * any of; ! none of)',
  parse(v, b) {
    const parts = commaList(expectValue(v, 'flags'));
    if (parts.length > 2) fail('flags: too many parts');
    let main = parts[0]!;
    let mode: 'exact' | '+' | '*' | '!' = 'exact';
    const mods = main.replace(/[^+*!]/g, '');
    if (mods.length > 1) fail(`flags: more than one modifier in "${clip(main)}"`);
    if (mods.length === 1) {
      mode = mods as '+' | '*' | '!';
      main = main.replace(/[+*!]/, '');
    }
    if (main === '') fail('flags: no flags given');
    const bits = flagBits(main, 'flags');
    const ignore = parts[1] === undefined ? 0 : flagBits(parts[1], 'flags ignore mask');
    b.checks.push({ kind: 'flags', bits, mode, ignore });
  },
};

export const sameip: KeywordDecl = {
  name: 'sameip',
  value: 'none',
  doc: 'source and destination address are the same',
  parse(_v, b) {
    b.checks.push({ kind: 'sameip' });
  },
};

const IPOPTS = new Set(['rr', 'eol', 'nop', 'ts', 'sec', 'esec', 'lsrr', 'lsrre', 'ssrr', 'satid', 'any']);

export const ipopts: KeywordDecl = {
  name: 'ipopts',
  value: 'required',
  doc: 'one IPv4 option present: rr eol nop ts sec esec lsrr lsrre ssrr satid any',
  parse(v, b) {
    const o = expectValue(v, 'ipopts').trim().toLowerCase();
    if (!IPOPTS.has(o)) fail(`ipopts: unknown option "${clip(o)}"`);
    b.checks.push({ kind: 'ipopts', option: o });
  },
};

export const fragbits: KeywordDecl = {
  name: 'fragbits',
  value: 'required',
  doc: '`[+*!]<MDR>`: IPv4 fragment bits (M more fragments, D don\'t fragment, R reserved)',
  parse(v, b) {
    let t = expectValue(v, 'fragbits').trim();
    let mode: 'exact' | '+' | '*' | '!' = 'exact';
    const m = /[+*!]/.exec(t);
    if (m !== null) {
      mode = m[0] as '+' | '*' | '!';
      t = t.replace(/[+*!]/, '');
    }
    let bits = 0;
    for (const ch of t.toUpperCase()) {
      if (ch === 'M') bits |= 0x2000;
      else if (ch === 'D') bits |= 0x4000;
      else if (ch === 'R') bits |= 0x8000;
      else fail(`fragbits: unknown bit "${ch}"`);
    }
    if (bits === 0) fail('fragbits: no bits given');
    b.checks.push({ kind: 'fragbits', bits, mode });
  },
};

export const fragoffset: KeywordDecl = {
  name: 'fragoffset',
  value: 'required',
  doc: '`[!<>]<n>`: IP fragment offset',
  parse(v, b) {
    let t = expectValue(v, 'fragoffset').trim();
    const negated = t.startsWith('!');
    if (negated) t = t.slice(1);
    b.checks.push({ kind: 'fragoffset', cmp: intCompare(t, 'fragoffset', 65535), negated });
  },
};

export const tos: KeywordDecl = {
  name: 'tos',
  value: 'required',
  doc: '`[!]<n>`: IP type of service',
  parse(v, b) {
    let t = expectValue(v, 'tos').trim();
    const negated = t.startsWith('!');
    if (negated) t = t.slice(1);
    b.checks.push({ kind: 'tos', cmp: { op: '=', value: uint(t, 'tos', 0, 255) }, negated });
  },
};

export const streamSize: KeywordDecl = {
  name: 'stream_size',
  value: 'required',
  doc: '`server|client|both|either, <op>, <n>`: bytes seen on the stream',
  parse(v, b) {
    const parts = commaList(expectValue(v, 'stream_size'));
    if (parts.length !== 3) fail('stream_size needs side, operator and value');
    const side = parts[0]!;
    if (side !== 'server' && side !== 'client' && side !== 'both' && side !== 'either') fail(`stream_size: unknown side "${clip(side)}"`);
    const op = parts[1]!;
    if (!['<', '>', '=', '!=', '<=', '>='].includes(op)) fail(`stream_size: unknown operator "${clip(op)}"`);
    b.checks.push({ kind: 'stream_size', side, cmp: { op: op as IntCompare['op'], value: uint(parts[2]!, 'stream_size value') } });
  },
};

export const icmpv6Mtu: KeywordDecl = {
  name: 'icmpv6.mtu',
  value: 'required',
  doc: 'MTU of an ICMPv6 packet-too-big message (integer comparison)',
  parse(v, b) {
    b.checks.push({ kind: 'icmpv6_mtu', cmp: intCompare(v, 'icmpv6.mtu') });
  },
};

export const PACKET_KEYWORDS: readonly KeywordDecl[] = [
  cmpKeyword('dsize', 'payload size of the packet (integer comparison)', 65535),
  cmpKeyword('ttl', 'IP TTL / hop limit (integer comparison)', 255),
  cmpKeyword('itype', 'ICMP type (integer comparison)', 255),
  cmpKeyword('icode', 'ICMP code (integer comparison)', 255),
  ipProto,
  window,
  plain('seq', 'TCP sequence number', 0xffffffff, ['tcp.seq']),
  plain('ack', 'TCP acknowledgement number', 0xffffffff, ['tcp.ack']),
  plain('icmp_id', 'ICMP echo id', 65535),
  plain('icmp_seq', 'ICMP echo sequence', 65535),
  plain('id', 'IPv4 identification', 65535),
  flags,
  sameip,
  ipopts,
  fragbits,
  fragoffset,
  tos,
  streamSize,
  icmpv6Mtu,
];
