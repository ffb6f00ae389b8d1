/**
 * Micro-benchmark of the flow table plus TCP reassembly on synthetic packets
 * (not a test; run after building):
 *   node dist/test/stream/bench-flow-stream.js [connections] [segments-per-direction]
 *
 * Connections run interleaved round-robin: handshake, then 1448-byte data
 * segments client→server and server→client with an ACK every other segment,
 * and a FIN exchange. Variant "ooo" swaps every 50th pair of segments.
 * Reports packets/s and MB/s of frame bytes (payload + 66 B headers), in CPU
 * time of this process, which is steadier than wall time on a shared machine.
 */
import { Packet } from '../../src/decode/packet.js';
import { FlowTable } from '../../src/flow/table.js';
import { TcpReassembler } from '../../src/stream/reassembler.js';

const CONNS = Number(process.argv[2] ?? 2000);
const SEGS = Number(process.argv[3] ?? 200);
const MSS = 1448;
const HDR = 66;

function run(label: string, ooo: boolean): void {
  let delivered = 0;
  const reasm = new TcpReassembler(
    {},
    {
      data(_f, _d, _b, _o, len) {
        delivered += len;
      },
      gap() {},
    },
  );
  const table = new FlowTable({}, { onFlowEnd: (f) => reasm.flowEnded(f) });
  table.addMemorySource(() => reasm.memuse);
  const frame = Buffer.alloc(HDR + MSS, 0x61);
  const p = new Packet();
  p.data = frame;
  p.ipVersion = 4;
  p.proto = 6;
  p.payloadOff = HDR;
  let pkts = 0;
  let bytes = 0;
  let ts = 1_700_000_000;
  const send = (i: number, dir: number, flags: number, seq: number, ack: number, len: number): void => {
    p.src4 = dir === 0 ? 0x0a000000 + i : 0x0b000001;
    p.dst4 = dir === 0 ? 0x0b000001 : 0x0a000000 + i;
    p.sport = dir === 0 ? 10000 + (i & 0x7fff) : 443;
    p.dport = dir === 0 ? 443 : 10000 + (i & 0x7fff);
    p.tcpFlags = flags;
    p.tcpSeq = seq >>> 0;
    p.tcpAck = ack >>> 0;
    p.payloadLen = len;
    p.capLen = HDR + len;
    ts += 1e-6;
    p.tsSec = Math.floor(ts);
    p.tsNsec = Math.floor((ts - p.tsSec) * 1e9);
    const f = table.handle(p);
    if (f !== null) reasm.handle(f, table.lastDirection as 0 | 1, p);
    pkts++;
    bytes += p.capLen;
  };
  const isnC = (i: number): number => Math.imul(i + 1, 0x9e3779b1) >>> 0;
  const isnS = (i: number): number => Math.imul(i + 7, 0x85ebca6b) >>> 0;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < CONNS; i++) {
    send(i, 0, 0x02, isnC(i), 0, 0);
    send(i, 1, 0x12, isnS(i), isnC(i) + 1, 0);
    send(i, 0, 0x10, isnC(i) + 1, isnS(i) + 1, 0);
  }
  for (let k = 0; k < SEGS; k++) {
    for (let i = 0; i < CONNS; i++) {
      const dir = k & 1;
      const n = k >> 1;
      let idx = n;
      // out-of-order variant: swap segments n and n+1 every 50 segments
      if (ooo && n % 50 === 0) idx = n + 1;
      else if (ooo && n % 50 === 1) idx = n - 1;
      if (dir === 0) send(i, 0, 0x18, isnC(i) + 1 + idx * MSS, isnS(i) + 1 + n * MSS, MSS);
      else send(i, 1, 0x18, isnS(i) + 1 + idx * MSS, isnC(i) + 1 + (n + 1) * MSS, MSS);
    }
    if ((k & 63) === 0) table.expire(Math.floor(ts));
  }
  for (let i = 0; i < CONNS; i++) {
    const n = SEGS >> 1;
    send(i, 0, 0x11, isnC(i) + 1 + n * MSS, isnS(i) + 1 + n * MSS, 0);
    send(i, 1, 0x11, isnS(i) + 1 + n * MSS, isnC(i) + 2 + n * MSS, 0);
    send(i, 0, 0x10, isnC(i) + 2 + n * MSS, isnS(i) + 2 + n * MSS, 0);
  }
  table.flushAll();
  const c = process.cpuUsage(cpu0);
  const sec = (c.user + c.system) / 1e6;
  console.log(
    `${label}: ${pkts} packets, ${(bytes / 1e6).toFixed(0)} MB frames, delivered ${(delivered / 1e6).toFixed(0)} MB; ` +
      `${(pkts / sec / 1e6).toFixed(2)} Mpps, ${(bytes / sec / 1e6).toFixed(0)} MB/s (CPU ${sec.toFixed(2)} s)`,
  );
  const st = reasm.stats();
  if (st['tcp.reassembly_gap'] !== 0 || st['tcp.segment_memcap_drop'] !== 0) {
    // Expected only when every connection holds a segment at once beyond the stream memcap.
    console.log(`  gaps ${st['tcp.reassembly_gap']}, segment memcap drops ${st['tcp.segment_memcap_drop']}`);
  }
}

for (let r = 0; r < 2; r++) {
  run(`in order, ${CONNS} conns`, false);
  run(`2% out of order, ${CONNS} conns`, true);
}
