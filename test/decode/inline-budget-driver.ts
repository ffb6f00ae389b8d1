// Child process of inline-budget.test.ts: runs one TCP/IPv4 and one UDP/IPv6
// frame through the decoder and the flow table, so that V8 compiles the
// per-packet functions the test asks it to print the bytecode of.
import { Decoder } from '../../src/decode/decoder.js';
import { Packet } from '../../src/decode/packet.js';
import { FlowTable } from '../../src/flow/table.js';
import { eth, ipv4, ipv6, tcp, udp } from './build.js';

const dec = new Decoder();
const table = new FlowTable();
const pkt = new Packet();
const a4 = { src: '192.0.2.1', dst: '192.0.2.2' };
const a6 = { v: 6 as const, src: '2001:db8::1', dst: '2001:db8::2' };
const frames = [
  eth(0x0800, ipv4({ ...a4, proto: 6, payload: tcp({ ...a4, flags: 0x02 }) })),
  eth(0x86dd, ipv6({ ...a6, nh: 17, payload: udp({ ...a6, payload: Buffer.from('x') }) })),
];
let flows = 0;
for (const f of frames) {
  pkt.load(f, 0, f.length, f.length, 1000, 0, 1);
  if (dec.decode(pkt) && table.handle(pkt) !== null) flows++;
}
if (flows !== frames.length) throw new Error(`expected ${frames.length} flows, got ${flows}`);
