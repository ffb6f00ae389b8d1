/**
 * DNS application-layer parser declarations.
 *
 * Two declarations share the name `dns` because the framing differs and a
 * parser is not told its transport: `dnsParser` for UDP (one message per
 * datagram) and `dnsTcpParser` for TCP (length-prefixed messages). The
 * registry lists both; everything else (codec, EVE, answer table) is shared.
 */
import type { AppParserDecl, Direction } from '../parser.js';
import { probeDnsTcp, probeDnsUdp } from './probe.js';
import { DnsFlowState, gapTcp, parseTcp, parseUdp } from './parser.js';

export { DnsFlowState, DnsTx } from './parser.js';
export { DnsAnswerTable } from './answers.js';
export type { DnsResolution, DnsAnswerTableOptions } from './answers.js';
export { decodeDnsMessage, encodeDnsMessage, isDnsDecodeError, DnsDecodeError } from './codec.js';
export type { DnsMessage, DnsRecord, DnsQuestion, DnsRdata } from './codec.js';

export const dnsParser: AppParserDecl<DnsFlowState> = {
  name: 'dns',
  transport: 'udp',
  ports: [53],
  probe: (_dir: Direction, buf: Buffer, off: number, len: number) => probeDnsUdp(buf, off, len),
  create: (ctx) => new DnsFlowState(ctx, false),
  parse: parseUdp,
};

export const dnsTcpParser: AppParserDecl<DnsFlowState> = {
  name: 'dns',
  transport: 'tcp',
  ports: [53],
  probe: (_dir: Direction, buf: Buffer, off: number, len: number) => probeDnsTcp(buf, off, len),
  create: (ctx) => new DnsFlowState(ctx, true),
  parse: parseTcp,
  gap: (st, dir) => gapTcp(st, dir),
};
